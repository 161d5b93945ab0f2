"""MACE: a checkpoint URL (e.g. the MACE-MP release files) or a saved torch model file."""

from __future__ import annotations

from pathlib import Path

import torch

from compute.checkpoints import resolve_checkpoint
from compute.torch_compat import e3nn_import_allowed

with e3nn_import_allowed():
    from mace.calculators import MACECalculator


def load(
    checkpoint: str,
    *,
    device: str,
    cache_dir: Path,
    default_dtype: str = "float64",
    head: str | None = None,
) -> MACECalculator:
    """``default_dtype``: "float64" (relaxations) or "float32"; ``head``: multi-head output."""
    path = resolve_checkpoint(checkpoint, cache_dir)
    # MACE files are whole pickled modules, which torch>=2.6 refuses by default.
    model = torch.load(path, map_location=device, weights_only=False)
    return MACECalculator(models=model, device=device, default_dtype=default_dtype, head=head)


def supported_numbers(calculator: MACECalculator) -> set[int]:
    """The atomic numbers of the model's element table."""
    return {int(z) for z in calculator.z_table.zs}
