"""Torch loading shared by the families: e3nn's import workaround and weights-only loads."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy._core.multiarray import _reconstruct

from compute.errors import CalculatorLoadError

# numpy arrays and dtypes, which checkpoints store beside tensors (SevenNet's shift and
# scale); their pickles name numpy.core, the pre-2.0 module.
NUMPY_SAFE_GLOBALS = [
    (_reconstruct, "numpy.core.multiarray._reconstruct"),
    np.ndarray,
    np.dtype,
    np.dtypes.Float32DType,
    np.dtypes.Float64DType,
    np.dtypes.Int32DType,
    np.dtypes.Int64DType,
]


@contextlib.contextmanager
def e3nn_import_allowed() -> Iterator[None]:
    """Let e3nn 0.4.4 torch.load its constants under torch>=2.6, and mute import chatter."""
    with torch.serialization.safe_globals([slice]), contextlib.redirect_stdout(io.StringIO()):
        yield


@contextlib.contextmanager
def weights_only_default_kept() -> Iterator[None]:
    """Undo what importing mace does: it sets TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1, which
    turns every later ``torch.load`` without an explicit ``weights_only`` into a pickle."""
    before = os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
        else:
            os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = before


def load_weights(path: Path, *, name: str) -> Any:
    """``torch.load(path, weights_only=True)``: tensors, plain data and numpy arrays only.

    Anything else in the file (a pickled class, a function to call) is refused before
    it runs; ``name`` is the checkpoint as the registry writes it, for the message.
    """
    try:
        with torch.serialization.safe_globals(NUMPY_SAFE_GLOBALS):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CalculatorLoadError(
            f"checkpoint {name!r} holds more than weights and plain data, so it was not "
            "loaded (it could run code); save its state dict, or use a checkpoint from the "
            "model's authors"
        ) from exc
