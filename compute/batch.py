"""Many structures per model call, behind one function.

A family's calculator may offer ``calculate_batch(atoms_list, properties)``: one model
call over a list of Atoms that returns, per structure, a dict of ASE's results (energy
in eV, forces in eV/Å, stress in eV/Å³ as Voigt 6). ``evaluate_batch`` uses it where it
exists and loops over ASE's calculator interface otherwise, so tasks call one function
either way. A structure that fails inside a batch fails alone, with its reason.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.stress import full_3x3_to_voigt_6_stress

from compute.errors import TaskFailed, first_line

# Memory one atom takes in a batched forward and backward pass. Measured as the growth of
# peak RSS over one call on 64 cubic Si cells (512 atoms, energy, forces and stress, CPU):
# CHGNet 4.8 MB, SevenNet-0 3.7 MB per atom; denser cells have more edges per atom.
BYTES_PER_ATOM = 8 * 2**20
MEMORY_FRACTION = 0.5  # of the free memory a batch may take
MAX_BATCH = 64  # bounds the retries, one by one, of a batch that one structure failed
# On a CPU the cost per structure is flat from ~15 to ~100 atoms a batch and rises beyond
# (the joined graph outgrows the caches). CHGNet, one thread, the Delta set's first ten
# crystals and Cu strained over 21 volumes (~5 atoms a cell): 24-26 ms a cell from 15
# to 160 atoms, 28 ms alone, 34 ms at 320 atoms, 40 ms at 1155; its boron (12 atoms,
# up to 5832 angles a cell): 154 ms alone, 163 ms at 48 atoms, 174 ms at 96.
# SevenNet-0: 61 ms at 20 atoms, 69 ms alone, 75 ms at 160, 78 ms at 320.
CPU_ATOMS_PER_BATCH = 50


@dataclass(frozen=True)
class Evaluation:
    """One structure's results: ``energy`` (eV), ``forces`` (eV/Å), ``stress`` (eV/Å³, Voigt)
    where asked for; ``error`` instead where the structure failed."""

    energy: float = np.nan
    forces: np.ndarray | None = None
    stress: np.ndarray | None = None
    error: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.error)


def evaluate_batch(
    atoms_list: Sequence[Atoms],
    calculator: Calculator,
    *,
    properties: Sequence[str] = ("energy", "forces"),
    batch_size: int | None = None,
) -> list[Evaluation]:
    """Evaluate each structure of ``atoms_list``, batched where the calculator can.

    ``batch_size``: structures per model call; by default the calculator's own
    ``batch_size`` attribute (set per model in the registry) or what memory allows.
    """
    if not has_batch_call(calculator):
        return [_evaluate_one(atoms, calculator, properties) for atoms in atoms_list]
    size = batch_size or default_batch_size(calculator, atoms_list)
    evaluations: list[Evaluation] = []
    for start in range(0, len(atoms_list), size):
        evaluations += _evaluate_chunk(
            list(atoms_list[start : start + size]), calculator, properties
        )
    return evaluations


def default_batch_size(calculator: Calculator, atoms_list: Sequence[Atoms]) -> int:
    """The calculator's ``batch_size`` if set, else as many structures as fit in memory
    were each as large as the largest; on a CPU, at most ``CPU_ATOMS_PER_BATCH`` atoms."""
    chosen = getattr(calculator, "batch_size", None)
    if chosen:
        return max(1, int(chosen))
    largest = max((len(atoms) for atoms in atoms_list), default=1)
    fitting = int(free_memory_bytes(calculator) * MEMORY_FRACTION / (BYTES_PER_ATOM * largest))
    if not on_gpu(calculator):
        fitting = min(fitting, CPU_ATOMS_PER_BATCH // largest)
    return max(1, min(MAX_BATCH, fitting))


def on_gpu(calculator: Calculator) -> bool:
    return str(getattr(calculator, "device", "cpu")).startswith("cuda")


def free_memory_bytes(calculator: Calculator) -> int:
    """Free memory of the calculator's GPU, or the RAM available to this machine."""
    if on_gpu(calculator):
        import torch

        free, _ = torch.cuda.mem_get_info(torch.device(str(calculator.device)))
        return int(free)
    with contextlib.suppress(OSError):  # Linux: free memory plus cache it can reclaim
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def has_batch_call(calculator: Calculator) -> bool:
    return hasattr(calculator, "calculate_batch")


def raise_first_failure(evaluations: Sequence[Evaluation], labels: Sequence[str]) -> None:
    """For a task whose result needs every structure: TaskFailed naming the first failure."""
    for evaluation, label in zip(evaluations, labels, strict=True):
        if evaluation.failed:
            raise TaskFailed(f"{evaluation.error} at {label}")


def _evaluate_chunk(
    chunk: list[Atoms], calculator: Calculator, properties: Sequence[str]
) -> list[Evaluation]:
    try:
        results = calculator.calculate_batch(chunk, properties)
    except Exception:  # find which structure failed: each alone, with its own reason
        if len(chunk) == 1:
            return [_evaluate_one(chunk[0], calculator, properties)]
        return [
            item for atoms in chunk for item in _evaluate_chunk([atoms], calculator, properties)
        ]
    return [_checked(result, properties) for result in results]


def _evaluate_one(atoms: Atoms, calculator: Calculator, properties: Sequence[str]) -> Evaluation:
    """ASE's own path: a copy of ``atoms`` with the calculator attached."""
    atoms = atoms.copy()
    try:
        atoms.calc = calculator
        calculator.reset()
        calculator.calculate(atoms, list(properties))
        return _checked(calculator.results, properties)
    except Exception as exc:  # a library error inside one structure fails it alone
        return Evaluation(error=first_line(exc))


def _checked(result: dict, properties: Sequence[str]) -> Evaluation:
    values = {name: np.asarray(result[name], dtype=float) for name in properties}
    if not all(np.all(np.isfinite(value)) for value in values.values()):
        return Evaluation(error="non-finite " + " or ".join(properties))
    stress = values.get("stress")
    if stress is not None and stress.shape == (3, 3):
        stress = full_3x3_to_voigt_6_stress(stress)
    return Evaluation(
        energy=float(values["energy"]) if "energy" in values else np.nan,
        forces=values.get("forces"),
        stress=stress,
    )
