"""Heating stability: MLIP Arena's NVT heating run (``benchmarks/stability``).

A Nose–Hoover chain thermostat (damping time 25 fs) whose target rises linearly from
300 K to 3000 K over 10 ps; time step 2 fs, or 0.5 fs when the cell holds hydrogen.
The run is valid up to the first step where a failure rule fires
(``compute.md.check_failure``); the score is the share of the run that was valid.
"""

from __future__ import annotations

from typing import Any

from ase import Atoms
from ase.calculators.calculator import Calculator

from compute.md import NVT, FailureLimits, MDProtocol, run_md
from compute.run_context import RunContext
from compute.tasks.stability import LIMITS, default_timestep_fs, scored


def run(
    atoms: Atoms,
    calculator: Calculator,
    *,
    total_time_fs: float = 10000.0,
    timestep_fs: float | None = None,
    start_k: float = 300.0,
    end_k: float = 3000.0,
    tdamp_fs: float = 25.0,
    seed: int = 0,
    sample_every: int = 10,
    max_force_ev_per_a: float = LIMITS.max_force_ev_per_a,
    min_distance_a: float = LIMITS.min_distance_a,
    max_temperature_ratio: float = LIMITS.max_temperature_ratio,
    trajectory_every: int = 0,
    context: RunContext | None = None,
) -> dict[str, Any]:
    """The valid share of the heating run, the failure (rule, step, temperature) if any."""
    timestep = timestep_fs or default_timestep_fs(atoms)
    protocol = MDProtocol(
        ensemble=NVT,
        steps=max(int(round(total_time_fs / timestep)), 1),
        timestep_fs=timestep,
        temperature_k=start_k,
        final_temperature_k=end_k,
        tdamp_fs=tdamp_fs,
        seed=seed,
        sample_every=sample_every,
        trajectory_every=trajectory_every,
        limits=FailureLimits(max_force_ev_per_a, min_distance_a, max_temperature_ratio),
    )
    return scored(run_md(atoms, calculator, protocol, context), protocol, natoms=len(atoms))
