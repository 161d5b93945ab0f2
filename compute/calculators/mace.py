"""MACE: a checkpoint URL (e.g. the MACE-MP release files) or a saved torch model file."""

from __future__ import annotations

import torch
from ase.calculators.calculator import Calculator

from compute.checkpoints import Checkpoint
from compute.torch_compat import e3nn_import_allowed, weights_only_default_kept

with e3nn_import_allowed(), weights_only_default_kept():
    from mace.calculators import MACECalculator


def load(
    checkpoint: Checkpoint,
    *,
    device: str,
    default_dtype: str = "float64",
    head: str | None = None,
) -> MACECalculator:
    """``default_dtype``: "float64" (relaxations) or "float32"; ``head``: multi-head output."""
    # MACE files are whole pickled modules: only trusted or pinned files are unpickled.
    path = checkpoint.pickle_file()
    model = torch.load(path, map_location=device, weights_only=False)
    # MACECalculator extends ``self.implemented_properties``, which is ASE's class-level
    # list until then: every calculator that inherits it (SinglePointCalculator, ...)
    # would claim MACE's properties, stress included, for the rest of the process.
    shared = Calculator.implemented_properties
    before = list(shared)
    calculator = MACECalculator(models=model, device=device, default_dtype=default_dtype, head=head)
    calculator.implemented_properties = list(calculator.implemented_properties)
    shared[:] = before
    return calculator


def supported_numbers(calculator: MACECalculator) -> set[int]:
    """The atomic numbers of the model's element table."""
    return {int(z) for z in calculator.z_table.zs}
