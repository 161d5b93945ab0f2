"""ASE's effective-medium theory: a fast, dependency-free reference for metals."""

from __future__ import annotations

from ase.calculators.emt import EMT

from compute.checkpoints import Checkpoint


def load(checkpoint: Checkpoint, *, device: str, asap_cutoff: bool = False) -> EMT:
    """EMT has no weights, so ``checkpoint`` and ``device`` are unused."""
    return EMT(asap_cutoff=asap_cutoff)
