"""ASE's effective-medium theory: a fast, dependency-free reference for metals."""

from __future__ import annotations

from pathlib import Path

from ase.calculators.emt import EMT


def load(checkpoint: str, *, device: str, cache_dir: Path, asap_cutoff: bool = False) -> EMT:
    """EMT has no weights, so ``checkpoint``, ``device`` and ``cache_dir`` are unused."""
    return EMT(asap_cutoff=asap_cutoff)
