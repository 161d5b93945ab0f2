"""ASE's effective-medium theory: a fast, dependency-free reference for metals."""

from __future__ import annotations

from ase.calculators.emt import EMT, parameters
from ase.data import atomic_numbers

from compute.checkpoints import Checkpoint


def load(checkpoint: Checkpoint, *, device: str, asap_cutoff: bool = False) -> EMT:
    """EMT has no weights, so ``checkpoint`` and ``device`` are unused."""
    return EMT(asap_cutoff=asap_cutoff)


def supported_numbers(calculator: EMT) -> set[int]:
    """The elements of ASE's EMT parameter table: H, C, N, O, Al, Ni, Cu, Pd, Ag, Pt, Au."""
    return {atomic_numbers[symbol] for symbol in parameters}
