"""MatGL: a pretrained name on Hugging Face (materialyze/<name>) or a saved Potential folder."""

from __future__ import annotations

from pathlib import Path

import matgl
from ase.data import atomic_numbers
from matgl.ext.ase import PESCalculator

from compute.checkpoints import Checkpoint
from compute.errors import CalculatorLoadError

# What Potential.save(folder) writes and matgl.load_model(folder) reads.
MODEL_FILES = ("model.json", "model.pt", "state.pt")
HUB_ORG = "materialyze"


def load(checkpoint: Checkpoint, *, device: str) -> PESCalculator:
    """matgl reads its tensors weights-only, but imports and calls the classes a folder's
    model.json and model.pt name (any module, any arguments): a folder is code, so it must
    be trusted like a pickle. A bare name is fetched from the official org into
    ~/.cache/matgl; another Hub repo (``owner/name``) is refused."""
    name = checkpoint.name
    folder = Path(name).expanduser()
    if folder.is_dir():
        missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
        if missing:
            raise CalculatorLoadError(
                f"matgl folder {name!r} lacks {', '.join(missing)}; "
                "write one with matgl's Potential.save(folder)"
            )
        folder = checkpoint.pickle_file()
    elif "/" in name or "\\" in name:
        raise CalculatorLoadError(
            f"matgl checkpoint {name!r} is neither a folder here nor a model name of "
            f"{HUB_ORG}; download the repo's {', '.join(MODEL_FILES)} into a folder and use it"
        )
    try:
        potential = matgl.load_model(folder if folder.is_dir() else name)
    except Exception as exc:
        raise CalculatorLoadError(_unavailable_message(name, exc)) from exc
    # ASE expects stress in eV/Å^3; PESCalculator defaults to GPa.
    return PESCalculator(potential.to(device), stress_unit="eV/A3")


def _unavailable_message(checkpoint: str, exc: Exception) -> str:
    # load_model hides the real reason behind a generic "Bad serialized model" error.
    cause = exc.__cause__ or exc
    reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    repo = checkpoint if "/" in checkpoint else f"{HUB_ORG}/{checkpoint}"
    return (
        f"cannot load matgl model {checkpoint!r} ({reason}); without network access, "
        f"download {', '.join(MODEL_FILES)} from https://huggingface.co/{repo} into a "
        "folder and use that folder as the checkpoint"
    )


def supported_numbers(calculator: PESCalculator) -> set[int]:
    """The element types the model's graphs are built over."""
    return {atomic_numbers[symbol] for symbol in calculator.element_types}
