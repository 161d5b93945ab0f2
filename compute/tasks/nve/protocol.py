"""NVE energy drift: LAMBench's ``nve_md`` protocol.

Velocity Verlet at 1 fs for 10 000 steps from a Maxwell–Boltzmann start at 300 K
(seed 0), net momentum and rotation removed; the total energy sampled every 1 % of the
run, the first 20 % dropped, a least-squares line through the rest.
"""

from __future__ import annotations

from typing import Any

from ase import Atoms
from ase.calculators.calculator import Calculator

from compute.md import NVE, MDProtocol, run_md
from compute.run_context import RunContext
from compute.tasks.nve.drift import energy_drift, lambench_instability


def run(
    atoms: Atoms,
    calculator: Calculator,
    *,
    steps: int = 10000,
    timestep_fs: float = 1.0,
    temperature_k: float = 300.0,
    seed: int = 0,
    sample_every: int = 100,
    drop_fraction: float = 0.2,
    trajectory_every: int = 0,
    context: RunContext | None = None,
) -> dict[str, Any]:
    """Drift in meV/atom/ps (true units), LAMBench's slope and instability, the series."""
    protocol = MDProtocol(
        ensemble=NVE,
        steps=steps,
        timestep_fs=timestep_fs,
        temperature_k=temperature_k,
        seed=seed,
        sample_every=sample_every,
        trajectory_every=trajectory_every,
    )
    output = run_md(atoms, calculator, protocol, context)
    series = output["series"]
    drift = energy_drift(
        [p["step"] for p in series],
        [p["etot_ev"] for p in series],
        natoms=len(atoms),
        timestep_fs=timestep_fs,
        drop_fraction=drop_fraction,
    )
    completed = output["completed"]
    return {
        **output,
        "natoms": len(atoms),
        "drift_mev_per_atom_ps": drift.meV_per_atom_per_ps if drift else None,
        "signed_drift_mev_per_atom_ps": drift.signed_meV_per_atom_per_ps if drift else None,
        "lambench_slope": drift.lambench_slope if drift else None,
        "lambench_instability": lambench_instability(
            drift.lambench_slope if drift else None, completed=completed
        ),
        "completed_fraction": output["steps_done"] / steps,
    }
