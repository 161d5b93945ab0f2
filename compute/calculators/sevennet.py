"""SevenNet: a shipped name ("7net-0", "7net-0_22May2024", "7net-l3i5") or a checkpoint file."""

from __future__ import annotations

from pathlib import Path

from compute.checkpoints import resolve_checkpoint
from compute.torch_compat import e3nn_import_allowed

with e3nn_import_allowed():
    from sevenn.calculator import SevenNetCalculator
    from sevenn.util import pretrained_name_to_path


def load(
    checkpoint: str, *, device: str, cache_dir: Path, file_type: str = "checkpoint"
) -> SevenNetCalculator:
    """``file_type`` is "checkpoint" (a .pth from training) or "torchscript" (deployed)."""
    try:
        path = pretrained_name_to_path(checkpoint)
    except ValueError:  # not a shipped name, so a path or URL
        path = str(resolve_checkpoint(checkpoint, cache_dir))
    return SevenNetCalculator(model=path, file_type=file_type, device=device)


def supported_numbers(calculator: SevenNetCalculator) -> set[int]:
    """The atomic numbers of the checkpoint's type map (its chemical species)."""
    return set(calculator.type_map)
