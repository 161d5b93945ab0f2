"""ANI (torchani): a model name of ``torchani.models`` such as "ANI2x" or "ANI1ccx".

torchani fetches the named model's state dict from the Hugging Face Hub (repos
roitberg-group/*) into its own cache and reads it weights-only.
"""

from __future__ import annotations

import torch
import torchani
from ase.calculators.calculator import Calculator

from compute.checkpoints import Checkpoint
from compute.errors import CalculatorLoadError, first_line

MODEL_NAMES = ("ANI1x", "ANI1ccx", "ANI2x", "ANImbis", "ANI2xr", "ANI2dr", "ANI1xnr")


def load(checkpoint: Checkpoint, *, device: str, stress_kind: str = "scaling") -> Calculator:
    """``stress_kind``: "scaling" or "fdotr", torchani's two ways to the stress."""
    if checkpoint.name not in MODEL_NAMES:
        raise CalculatorLoadError(
            f"ANI checkpoint {checkpoint.name!r} is not a torchani model; "
            f"use one of {', '.join(MODEL_NAMES)}"
        )
    try:
        model = getattr(torchani.models, checkpoint.name)(device=device, dtype=None)
    except Exception as exc:
        raise CalculatorLoadError(
            f"cannot fetch the weights of torchani's {checkpoint.name} ({first_line(exc)}); "
            "run once with network access so torchani caches them"
        ) from exc
    return calculator_for_model(model, stress_kind=stress_kind)


def calculator_for_model(model: torch.nn.Module, *, stress_kind: str = "scaling") -> Calculator:
    """torchani's ASE calculator: it turns Hartree into eV, and gives eV/Å and eV/Å³."""
    return model.to(torch.float64).ase(stress_kind=stress_kind)
