"""The integrators behind ``compute.md``: which ASE class runs each ensemble, how its
targets move during a run, and the internal state a checkpoint must keep to resume it.

NVE is velocity Verlet; NVT a Nose–Hoover chain; NPT ASE's Melchionna NPT (Nose–Hoover
and Parrinello–Rahman, the class MLIP Arena's compression run uses), whose cell must be
upper triangular.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms, units
from ase.md.md import MolecularDynamics
from ase.md.melchionna import MelchionnaNPT
from ase.md.nose_hoover_chain import NoseHooverChainNVT
from ase.md.verlet import VelocityVerlet
from scipy.linalg import schur

NVE, NVT, NPT = "nve", "nvt", "npt"
# MelchionnaNPT's state between steps: positions as scaled coordinates now, before and
# next (q), the cell now and before (h), the barostat (eta) and thermostat (zeta).
NPT_STATE = (
    "q", "q_past", "q_future", "h", "h_past", "eta", "eta_past", "zeta", "zeta_past",
    "zeta_integrated", "timeelapsed",
)  # fmt: skip


def upper_triangular_cell(atoms: Atoms) -> None:
    """Rotate the cell (atoms with it) to the upper-triangular form ASE's NPT needs, by
    the Schur decomposition, as MLIP Arena does; a rotation changes no distance."""
    triangular, _ = schur(atoms.get_cell(complete=True), output="complex")
    atoms.set_cell(triangular.real, scale_atoms=True)


def dynamics_for(
    atoms: Atoms,
    *,
    ensemble: str,
    timestep_fs: float,
    temperature_k: float,
    tdamp_fs: float,
    pressure_gpa: float = 0.0,
    pfactor: float | None = None,
) -> MolecularDynamics:
    """The ASE integrator of ``ensemble`` at its first targets; ``pfactor`` is NPT's
    barostat mass parameter in ASE units (eV·time²/Å³)."""
    dt = timestep_fs * units.fs
    if ensemble == NVE:
        return VelocityVerlet(atoms, timestep=dt)
    if ensemble == NVT:
        return NoseHooverChainNVT(
            atoms, timestep=dt, temperature_K=temperature_k, tdamp=tdamp_fs * units.fs
        )
    return MelchionnaNPT(
        atoms,
        timestep=dt,
        temperature_K=temperature_k,
        externalstress=pressure_gpa * units.GPa,
        ttime=tdamp_fs * units.fs,
        pfactor=pfactor,
    )


def set_targets(dynamics: MolecularDynamics, temperature_k: float, pressure_gpa: float) -> None:
    """Move the thermostat's (and barostat's) targets; NVE has none."""
    if isinstance(dynamics, MelchionnaNPT):
        dynamics.set_temperature(temperature_K=temperature_k)
        dynamics.set_stress(pressure_gpa * units.GPa)
    elif isinstance(dynamics, NoseHooverChainNVT):
        set_target_temperature(dynamics, temperature_k)


def set_target_temperature(dynamics: MolecularDynamics, temperature_k: float) -> None:
    """Move a Nose–Hoover chain's target, keeping its damping time (masses scale with kT)."""
    thermostat = dynamics._thermostat  # ASE gives no setter; the chain keeps kT and masses here
    scale = units.kB * temperature_k / thermostat._kT
    thermostat._kT *= scale
    thermostat._Q *= scale


def prepare(dynamics: MolecularDynamics) -> None:
    """NPT takes a step backwards before its first (ASE does it in ``run``; we call
    ``step`` ourselves); a restored run is already prepared."""
    if isinstance(dynamics, MelchionnaNPT) and not dynamics.initialized:
        dynamics.initialize()


def integrator_state(dynamics: MolecularDynamics) -> dict[str, Any]:
    """The integrator's own state, JSON-safe (floats exactly); none for an NPT not yet
    prepared (a run saved at its start), which is prepared afresh when resumed."""
    if isinstance(dynamics, MelchionnaNPT):
        if not dynamics.initialized:
            return {}
        return {name: np.asarray(getattr(dynamics, name)).tolist() for name in NPT_STATE}
    thermostat = getattr(dynamics, "_thermostat", None)
    if thermostat is None:
        return {}
    return {"eta": thermostat._eta.tolist(), "p_eta": thermostat._p_eta.tolist()}


def restore_integrator(dynamics: MolecularDynamics, state: dict[str, Any]) -> None:
    """Put ``integrator_state`` back into a freshly built integrator."""
    if not state:
        return
    if isinstance(dynamics, MelchionnaNPT):
        for name in NPT_STATE:
            value = np.array(state[name], dtype=float)
            setattr(dynamics, name, value if value.ndim else float(value))
        dynamics.inv_h = np.linalg.inv(dynamics.h)
        dynamics.initialized = 1
        return
    thermostat = getattr(dynamics, "_thermostat", None)
    if thermostat is not None:
        thermostat._eta = np.array(state["eta"], dtype=float)
        thermostat._p_eta = np.array(state["p_eta"], dtype=float)
