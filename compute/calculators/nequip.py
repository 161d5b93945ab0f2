"""NequIP and Allegro (nequip, nequip-allegro): a nequip.net model ID
("nequip.net:mir-group/NequIP-OAM-L:0.1"), a package file (.nequip.zip), a training
checkpoint (.ckpt) or a compiled model (.nequip.pth, .nequip.pt2)."""

from __future__ import annotations

from nequip.integrations.ase import NequIPCalculator

from compute.checkpoints import Checkpoint
from compute.errors import CalculatorLoadError, first_line

NEQUIP_NET = "nequip.net:"
COMPILED_SUFFIXES = (".nequip.pth", ".nequip.pt2")


def load(checkpoint: Checkpoint, *, device: str) -> NequIPCalculator:
    """nequip's calculator converts the model's energy and length units to eV and Å."""
    if checkpoint.name.startswith(NEQUIP_NET):
        try:
            return NequIPCalculator._from_saved_model(checkpoint.name, device=device)
        except Exception as exc:
            raise CalculatorLoadError(
                f"cannot fetch {checkpoint.name} ({first_line(exc)}); without network, download "
                "the .nequip.zip package once and use its path as the checkpoint"
            ) from exc
    # Packages are torch.package archives, checkpoints pickles, compiled models code.
    path = checkpoint.pickle_file()
    if path.name.endswith(COMPILED_SUFFIXES):
        return NequIPCalculator.from_compiled_model(path, device=device)
    return NequIPCalculator._from_saved_model(path, device=device)
