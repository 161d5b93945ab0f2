"""Tiny randomly initialised MACE and MatGL models, saved the way their users save them.

Their numbers mean nothing physically; they exercise the real loading and
evaluation code of each family in a second on a CPU. Both cover elements H to Pu.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from compute.torch_compat import e3nn_import_allowed, weights_only_default_kept

ATOMIC_NUMBERS = list(range(1, 95))


def build_tiny_mace(path: Path, seed: int = 0) -> Path:
    """Save a 16-channel ScaleShiftMACE with ``torch.save(model)`` at ``path``."""
    with e3nn_import_allowed(), weights_only_default_kept():
        from e3nn import o3
        from mace import modules

    torch.manual_seed(seed)
    interaction = modules.interaction_classes["RealAgnosticResidualInteractionBlock"]
    model = modules.ScaleShiftMACE(
        r_max=4.5,
        num_bessel=8,
        num_polynomial_cutoff=5,
        max_ell=2,
        interaction_cls=interaction,
        interaction_cls_first=interaction,
        num_interactions=2,
        num_elements=len(ATOMIC_NUMBERS),
        hidden_irreps=o3.Irreps("16x0e + 16x1o"),
        MLP_irreps=o3.Irreps("16x0e"),
        gate=torch.nn.functional.silu,
        atomic_energies=np.full(len(ATOMIC_NUMBERS), -3.0),
        avg_num_neighbors=12.0,
        atomic_numbers=ATOMIC_NUMBERS,
        correlation=3,
        atomic_inter_scale=1.0,
        atomic_inter_shift=0.0,
    ).double()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model, path)
    return path


def build_tiny_matgl(folder: Path) -> Path:
    """Save a small TensorNet Potential with ``Potential.save(folder)``; return ``folder``."""
    from ase.data import chemical_symbols
    from matgl.apps.pes import Potential
    from matgl.models import TensorNet

    torch.manual_seed(0)
    model = TensorNet(
        element_types=tuple(chemical_symbols[z] for z in ATOMIC_NUMBERS),
        units=16,
        nblocks=1,
        num_rbf=8,
        cutoff=4.5,
        is_intensive=False,
    )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    Potential(model=model).save(folder)
    return folder
