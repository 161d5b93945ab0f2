"""Speed: single energy, force and stress calls on growing cells, after warm-up.

The structure's cell is repeated n × n × n for growing n, up to the largest size that
fits (memory) or that one call takes no more than ``max_seconds_per_call``. Each size
is called ``warmup`` times untimed, then ``repeats`` times timed; the exponent n in
steps/s ∝ N^-n comes from a least-squares line in log–log.
"""

from __future__ import annotations

import importlib.metadata
import math
import platform
import statistics
import sys
import time
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from compute.errors import TaskFailed
from compute.failure_evidence import note
from compute.run_context import RunContext
from compute.threads import ran_with

PROPERTIES = ["energy", "forces", "stress"]


def _out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or "out of memory" in str(exc).lower()


def time_calls(atoms: Atoms, calculator: Calculator, *, warmup: int, repeats: int) -> list[float]:
    """Seconds of each timed ``calculate`` call (energy, forces, stress), the cache bypassed."""
    properties = [p for p in PROPERTIES if p in calculator.implemented_properties]
    for _ in range(warmup):
        calculator.calculate(atoms, properties, all_changes)
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        calculator.calculate(atoms, properties, all_changes)
        seconds.append(time.perf_counter() - started)
    return seconds


def scaling_exponent(natoms: list[int], steps_per_second: list[float]) -> float | None:
    """n in steps/s ∝ N^-n, by least squares in log–log; None with fewer than two sizes."""
    if len(natoms) < 2:
        return None
    slope = np.polyfit(np.log(natoms), np.log(steps_per_second), 1)[0]
    return float(-slope)


def environment(calculator: Calculator) -> dict[str, Any]:
    """Device, torch threads and package versions, stored beside every figure."""
    torch = sys.modules.get("torch")
    packages = {"ase", "numpy", "torch"}
    packages.add(type(calculator).__module__.split(".")[0])
    versions = {}
    for name in sorted(packages):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return {
        **ran_with(calculator),
        "cuda_device": (
            torch.cuda.get_device_name() if torch and torch.cuda.is_available() else None
        ),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "versions": versions,
    }


def run(
    atoms: Atoms,
    calculator: Calculator,
    *,
    repeats_per_side: list[int] | None = None,
    warmup: int = 3,
    repeats: int = 10,
    max_seconds_per_call: float = 20.0,
    max_natoms: int = 20000,
    context: RunContext | None = None,
) -> dict[str, Any]:
    """µs/atom/step and steps/s per size, the scaling exponent and the environment."""
    sides = repeats_per_side or [2, 3, 4, 5, 6, 8, 10, 13, 16]
    if warmup < 0 or repeats < 1 or any(n < 1 for n in sides):
        raise TaskFailed("warmup must be at least 0, repeats and every side at least 1")
    context = context or RunContext()
    sizes, stopped = [], "every size ran"
    note(sizes=sizes)
    for index, side in enumerate(sides):
        cell = atoms.repeat(side)
        if len(cell) > max_natoms:
            stopped = f"{len(cell)} atoms is above max_natoms {max_natoms}"
            break
        try:
            seconds = time_calls(cell, calculator, warmup=warmup, repeats=repeats)
        except Exception as exc:
            if not _out_of_memory(exc):
                raise
            stopped = f"{len(cell)} atoms did not fit in memory"
            break
        per_call = statistics.median(seconds)
        sizes.append(
            {
                "natoms": len(cell),
                "seconds_per_call": per_call,
                "seconds_min": min(seconds),
                "steps_per_second": 1.0 / per_call,
                "us_per_atom_step": 1e6 * per_call / len(cell),
            }
        )
        context.progress(index + 1, len(sides))
        if per_call > max_seconds_per_call:
            stopped = f"one call on {len(cell)} atoms took {per_call:.1f} s"
            break
    if not sizes:
        raise TaskFailed(f"no size ran: {stopped}")
    largest = sizes[-1]
    exponent = scaling_exponent(
        [s["natoms"] for s in sizes], [s["steps_per_second"] for s in sizes]
    )
    return {
        "sizes": sizes,
        "largest_natoms": largest["natoms"],
        "us_per_atom_step": largest["us_per_atom_step"],
        "steps_per_second_largest": largest["steps_per_second"],
        "scaling_exponent": exponent if exponent is None or math.isfinite(exponent) else None,
        "stopped": stopped,
        "environment": environment(calculator),
    }
