"""SevenNet: a shipped name ("7net-0", "7net-0_22May2024", "7net-l3i5") or a checkpoint file."""

from __future__ import annotations

from compute.checkpoints import Checkpoint
from compute.torch_compat import e3nn_import_allowed, load_weights

with e3nn_import_allowed():
    from sevenn.calculator import SevenNetCalculator
    from sevenn.util import model_from_checkpoint, pretrained_name_to_path


def load(
    checkpoint: Checkpoint, *, device: str, file_type: str = "checkpoint"
) -> SevenNetCalculator:
    """``file_type`` is "checkpoint" (a .pth from training) or "torchscript" (deployed).

    A training checkpoint is a dict of a config, numpy arrays and state dicts, read here
    weights-only; a TorchScript file is code, so it must be trusted like a pickle.
    """
    try:
        shipped = pretrained_name_to_path(checkpoint.name)
    except ValueError:  # not a shipped name, so a path or URL
        shipped = None
    if shipped is not None:
        return SevenNetCalculator(model=shipped, file_type=file_type, device=device)
    if file_type == "torchscript":
        path = str(checkpoint.pickle_file())
        return SevenNetCalculator(model=path, file_type=file_type, device=device)
    state = load_weights(checkpoint.local_file(), name=checkpoint.name)
    with e3nn_import_allowed():
        model, _ = model_from_checkpoint(state)
    return SevenNetCalculator(model=model, file_type="model_instance", device=device)


def supported_numbers(calculator: SevenNetCalculator) -> set[int]:
    """The atomic numbers of the checkpoint's type map (its chemical species)."""
    return set(calculator.type_map)
