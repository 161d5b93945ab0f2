"""Hydrogen combustion: MLIP Arena's ``tasks/combustion/flow.py``.

NVT with a Nose–Hoover chain (damping time 25 fs, their ``ttime``) on 256 H and 128 O
atoms in a 30 Å box, for 1 ns at 0.5 fs (2 million steps); the target temperature runs
300 → 3000 → 3000 → 300 K in three equal thirds (heat, hold, cool). Every 1000 steps
(their trajectory interval) a frame of the series counts the water made
(``products.py``) and records the centre of mass. The run stops early where a failure
rule of the stability tasks fires (``compute.tasks.stability``).
"""

from __future__ import annotations

from typing import Any

from ase import Atoms
from ase.calculators.calculator import Calculator

from compute.md import NVT, FailureLimits, MDProtocol, run_md
from compute.run_context import RunContext
from compute.tasks.combustion.metrics import (
    com_drift_a,
    reaction_enthalpy_error_kcal_per_mol,
    reaction_enthalpy_kcal_per_mol,
)
from compute.tasks.combustion.products import most_water, water_count
from compute.tasks.stability import LIMITS, default_timestep_fs


def run(
    atoms: Atoms,
    calculator: Calculator,
    *,
    total_time_fs: float = 1_000_000.0,
    timestep_fs: float | None = None,
    start_k: float = 300.0,
    peak_k: float = 3000.0,
    end_k: float = 300.0,
    tdamp_fs: float = 25.0,
    seed: int = 0,
    sample_every: int = 1000,
    max_force_ev_per_a: float = LIMITS.max_force_ev_per_a,
    min_distance_a: float = LIMITS.min_distance_a,
    max_temperature_ratio: float = LIMITS.max_temperature_ratio,
    trajectory_every: int = 0,
    context: RunContext | None = None,
) -> dict[str, Any]:
    """The water made (count and yield), the reaction enthalpy and its error, the COM drift."""
    timestep = timestep_fs or default_timestep_fs(atoms)
    protocol = MDProtocol(
        ensemble=NVT,
        steps=max(int(round(total_time_fs / timestep)), 1),
        timestep_fs=timestep,
        temperature_k=start_k,
        via_k=(peak_k, peak_k),
        final_temperature_k=end_k,
        tdamp_fs=tdamp_fs,
        seed=seed,
        sample_every=sample_every,
        trajectory_every=trajectory_every,
        limits=FailureLimits(max_force_ev_per_a, min_distance_a, max_temperature_ratio),
    )
    most = most_water(atoms)
    output = run_md(
        atoms, calculator, protocol, context, observe=lambda frame: frame_record(frame, most)
    )
    return {**output, "natoms": len(atoms), "timestep_fs": timestep, **scores(output, most)}


def frame_record(frame: Atoms, most: int) -> dict[str, Any]:
    """What a frame of the series adds: the water, its yield, the centre of mass (Å)."""
    water = water_count(frame)
    return {
        "water": water,
        "water_yield": water / most if most else None,
        "com_a": frame.get_center_of_mass().tolist(),
    }


def scores(output: dict[str, Any], most: int) -> dict[str, Any]:
    """From the first and the last frame of the series: water, enthalpy, COM drift. The
    enthalpy only for a completed run (cooled back to the start temperature)."""
    series = output["series"]
    if not series:
        return {"water_formed": None, "water_yield": None, "com_drift_a": None,
                "reaction_enthalpy_kcal_per_mol": None,
                "reaction_enthalpy_error_kcal_per_mol": None}  # fmt: skip
    first, last = series[0], series[-1]
    enthalpy = error = None
    if output["completed"] and most:
        energies = (first["epot_ev"], last["epot_ev"])
        enthalpy = reaction_enthalpy_kcal_per_mol(*energies, most_water=most)
        error = reaction_enthalpy_error_kcal_per_mol(*energies, most_water=most)
    return {
        "water_formed": last["water"],
        "water_yield": last["water_yield"],
        "com_drift_a": com_drift_a(first["com_a"], last["com_a"]),
        "reaction_enthalpy_kcal_per_mol": enthalpy,
        "reaction_enthalpy_error_kcal_per_mol": error,
    }
