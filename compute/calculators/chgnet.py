"""CHGNet: a shipped version name ("0.3.0", "0.2.0", "r2scan") or a model file."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from chgnet.model import CHGNet
from chgnet.model.dynamics import CHGNetCalculator

from compute.checkpoints import resolve_checkpoint

# Pretrained weights inside the chgnet wheel, loaded by CHGNet.load(model_name=...).
SHIPPED_VERSIONS = ("0.3.0", "0.2.0", "r2scan")


def load(
    checkpoint: str, *, device: str, cache_dir: Path, on_isolated_atoms: str = "warn"
) -> CHGNetCalculator:
    # CHGNet prints its parameter count and device on every load.
    with contextlib.redirect_stdout(io.StringIO()):
        if checkpoint in SHIPPED_VERSIONS:
            model = CHGNet.load(model_name=checkpoint, use_device=device, verbose=False)
        else:
            model = CHGNet.from_file(str(resolve_checkpoint(checkpoint, cache_dir)))
        return CHGNetCalculator(model, use_device=device, on_isolated_atoms=on_isolated_atoms)


def supported_numbers(calculator: CHGNetCalculator) -> set[int]:
    """Z = 1 up to the size of CHGNet's atom embedding (94 rows: H to Pu)."""
    return set(range(1, calculator.model.atom_embedding.embedding.num_embeddings + 1))
