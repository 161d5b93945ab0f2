"""Compression stability: the NPT half of MLIP Arena's ``flows/stability.py``.

ASE's Melchionna NPT (Nose–Hoover thermostat with a 25 fs damping time,
Parrinello–Rahman barostat with pfactor (75 fs)² × 100 GPa), the cell free in all six
components, for 10 ps while the target temperature rises linearly from 300 K to 3000 K
and the target pressure from 0 to 500 GPa; 2 fs steps (0.5 fs with hydrogen). The same
failure rules and valid-time score as heating (``compute.tasks.stability``).
"""

from __future__ import annotations

from typing import Any

from ase import Atoms
from ase.calculators.calculator import Calculator

from compute.md import NPT, FailureLimits, MDProtocol, run_md
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
    start_gpa: float = 0.0,
    end_gpa: float = 500.0,
    tdamp_fs: float = 25.0,
    ptime_fs: float = 75.0,
    barostat_modulus_gpa: float = 100.0,
    seed: int = 0,
    sample_every: int = 10,
    max_force_ev_per_a: float = LIMITS.max_force_ev_per_a,
    min_distance_a: float = LIMITS.min_distance_a,
    max_temperature_ratio: float = LIMITS.max_temperature_ratio,
    trajectory_every: int = 0,
    context: RunContext | None = None,
) -> dict[str, Any]:
    """The valid share of the compression run, the failure if any, and the last pressure
    and volume (the series holds both against their targets)."""
    timestep = timestep_fs or default_timestep_fs(atoms)
    protocol = MDProtocol(
        ensemble=NPT,
        steps=max(int(round(total_time_fs / timestep)), 1),
        timestep_fs=timestep,
        temperature_k=start_k,
        final_temperature_k=end_k,
        pressure_gpa=start_gpa,
        final_pressure_gpa=end_gpa,
        tdamp_fs=tdamp_fs,
        ptime_fs=ptime_fs,
        barostat_modulus_gpa=barostat_modulus_gpa,
        seed=seed,
        sample_every=sample_every,
        trajectory_every=trajectory_every,
        limits=FailureLimits(max_force_ev_per_a, min_distance_a, max_temperature_ratio),
    )
    output = scored(run_md(atoms, calculator, protocol, context), protocol, natoms=len(atoms))
    last = output["series"][-1] if output["series"] else {}
    return {
        **output,
        "final_pressure_gpa": last.get("pressure_gpa"),
        "final_volume_ratio": last["volume_a3"] / atoms.get_volume() if last else None,
    }
