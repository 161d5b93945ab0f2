"""NVE's analysis: LAMBench's energy-drift fit and its per-system instability score."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ase import units

from compute.md import FS_PER_PS

LAMBENCH_LAMBDA0 = 5e-4  # LAMBench's reference slope, in its own units
LAMBENCH_FAILED_SCORE = 5.0
LAMBENCH_MAX_SLOPE = 50.0  # LAMBench drops runs whose slope (its units) reaches this


@dataclass(frozen=True)
class Drift:
    """A linear fit of total energy against time, after the first ``drop_fraction``."""

    meV_per_atom_per_ps: float  # |slope|  # noqa: N815 (the unit's spelling)
    signed_meV_per_atom_per_ps: float  # noqa: N815
    lambench_slope: float  # LAMBench's number: |slope| in meV/atom per ASE time unit
    points: int


def energy_drift(
    steps: list[int],
    energies_ev: list[float],
    *,
    natoms: int,
    timestep_fs: float,
    drop_fraction: float = 0.2,
) -> Drift | None:
    """LAMBench's fit: drop samples before ``drop_fraction`` of the last step, fit the rest
    by least squares. None when fewer than two samples remain."""
    if not steps:
        return None
    cut = drop_fraction * steps[-1]
    kept = [(s, e) for s, e in zip(steps, energies_ev, strict=True) if s >= cut]
    if len(kept) < 2:
        return None
    step_array = np.array([s for s, _ in kept], dtype=float)
    energy = np.array([e for _, e in kept], dtype=float)
    times_ps = step_array * timestep_fs / FS_PER_PS
    slope_ev_per_ps = float(np.polyfit(times_ps, energy, 1)[0])
    signed = 1000.0 * slope_ev_per_ps / natoms
    # LAMBench fits against time in ASE units (1 ASE unit = 1 / units.fs fs) and reports
    # 1000 × |slope| / natoms: meV/atom per ASE time unit.
    ase_units_per_ps = FS_PER_PS * units.fs
    lambench = abs(signed) / ase_units_per_ps
    return Drift(abs(signed), signed, lambench, len(kept))


def lambench_instability(lambench_slope: float | None, *, completed: bool) -> float:
    """LAMBench's per-system instability error: log10(slope / λ0) clipped at 0, and 5 for
    a run that did not complete or whose slope is 10⁵ λ0 or more."""
    if not completed or lambench_slope is None or not math.isfinite(lambench_slope):
        return LAMBENCH_FAILED_SCORE
    if lambench_slope <= 0:
        return 0.0
    score = math.log10(lambench_slope / LAMBENCH_LAMBDA0)
    return LAMBENCH_FAILED_SCORE if score >= 5 else max(score, 0.0)
