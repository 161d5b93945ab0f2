"""PET (upet): a released model name ("pet-mad-s", "pet-oam-xl", "pet-omat-l", ...) fetched from
the Hub repo lab-cosmo/upet by upet, or a metatrain checkpoint file, URL or hf:// file."""

from __future__ import annotations

import re

from upet.ase import UPETCalculator

from compute.checkpoints import Checkpoint
from compute.errors import CalculatorLoadError
from compute.hub import hub_error_message

HUB_REPO = "lab-cosmo/upet"
MODEL_NAME = re.compile(r"^pet-[a-z0-9]+-(xs|s|m|l|xl)$")


def load(
    checkpoint: Checkpoint,
    *,
    device: str,
    version: str = "latest",
    non_conservative: bool = False,
) -> UPETCalculator:
    """``version``: of a released model, e.g. "1.6.0"; ``non_conservative``: direct forces
    and stress (faster, not energy gradients)."""
    if MODEL_NAME.match(checkpoint.name):
        try:
            return UPETCalculator(
                model=checkpoint.name,
                version=version,
                device=device,
                non_conservative=non_conservative,
            )
        except Exception as exc:
            reason = hub_error_message(exc, what=f"PET model {checkpoint.name}", repo_id=HUB_REPO)
            raise CalculatorLoadError(reason) from exc
    # metatrain checkpoints are full pickles of the training state.
    path = checkpoint.pickle_file()
    return UPETCalculator(checkpoint_path=path, device=device, non_conservative=non_conservative)
