"""CHGNet: a shipped version name ("0.3.0", "0.2.0", "r2scan") or a model file."""

from __future__ import annotations

import contextlib
import io

from chgnet.model import CHGNet
from chgnet.model.dynamics import CHGNetCalculator

from compute.checkpoints import Checkpoint
from compute.torch_compat import load_weights

# Pretrained weights inside the chgnet wheel, loaded by CHGNet.load(model_name=...).
SHIPPED_VERSIONS = ("0.3.0", "0.2.0", "r2scan")


def load(
    checkpoint: Checkpoint, *, device: str, on_isolated_atoms: str = "warn"
) -> CHGNetCalculator:
    # CHGNet prints its parameter count and device on every load.
    with contextlib.redirect_stdout(io.StringIO()):
        if checkpoint.name in SHIPPED_VERSIONS:
            model = CHGNet.load(model_name=checkpoint.name, use_device=device, verbose=False)
        else:
            # A CHGNet file is a dict of model_args and a state dict: CHGNet.from_file
            # unpickles it fully, so read it weights-only and build from the dict.
            state = load_weights(checkpoint.local_file(), name=checkpoint.name)
            model = CHGNet.from_dict(state["model"])
        return CHGNetCalculator(model, use_device=device, on_isolated_atoms=on_isolated_atoms)


def supported_numbers(calculator: CHGNetCalculator) -> set[int]:
    """Z = 1 up to the size of CHGNet's atom embedding (94 rows: H to Pu)."""
    return set(range(1, calculator.model.atom_embedding.embedding.num_embeddings + 1))
