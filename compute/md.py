"""Molecular dynamics for the dynamics tasks: integration, failure rules, checkpoints.

``run_md`` integrates NVE (velocity Verlet), NVT (a Nose–Hoover chain) or NPT (ASE's
Melchionna NPT) step by step, the targets following a piecewise-linear schedule in
time (MLIP Arena's), samples a summary series every ``sample_every`` steps,
stops at the first failure rule that fires, and saves checkpoints (positions, momenta,
cell, step, RNG and thermostat state, the series so far) through a ``RunContext``, so
that a run resumed after its process died ends in the same state as one never stopped.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator
from ase.io import Trajectory
from ase.md.md import MolecularDynamics
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary, ZeroRotation
from ase.neighborlist import neighbor_list

from compute.errors import TaskFailed, one_line
from compute.failure_evidence import note
from compute.md_dynamics import (
    NPT,
    NVE,
    NVT,
    dynamics_for,
    integrator_state,
    prepare,
    restore_integrator,
    set_targets,
    upper_triangular_cell,
)
from compute.run_context import RunContext, State

RULES = (
    "non_finite_energy",
    "calculator_error",
    "force_above_limit",
    "atoms_too_close",
    "temperature_above_target",
)
FS_PER_PS = 1000.0


@dataclass(frozen=True)
class FailureLimits:
    """When a run stops counting as valid; see ``check_failure``."""

    max_force_ev_per_a: float = 50.0
    min_distance_a: float = 0.5
    max_temperature_ratio: float = 5.0  # of the target (NVT) or starting (NVE) temperature


@dataclass(frozen=True)
class Failure:
    """The first rule that fired: its name, the step, the temperature then, and the value."""

    rule: str
    step: int
    temperature_k: float | None
    value: float | None
    limit: float | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {k: _finite_or_none(v) for k, v in asdict(self).items()}


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def min_distance_a(atoms: Atoms, cutoff_a: float) -> float | None:
    """The shortest interatomic distance below ``cutoff_a`` (periodic images too), else None."""
    distances = neighbor_list("d", atoms, cutoff_a)
    return float(distances.min()) if len(distances) else None


def check_failure(
    atoms: Atoms,
    forces: np.ndarray,
    *,
    step: int,
    target_k: float,
    limits: FailureLimits,
    check_distances: bool = True,
) -> Failure | None:
    """The first failure rule ``atoms`` (with its calculator's results) breaks, else None.

    In order: a non-finite energy or force; a force above ``max_force_ev_per_a``; two
    atoms closer than ``min_distance_a`` (checked only when ``check_distances``, as it
    needs a neighbour list); the temperature above ``max_temperature_ratio`` × target.
    """
    energy = atoms.get_potential_energy()
    temperature = float(atoms.get_temperature())
    if not (math.isfinite(energy) and np.all(np.isfinite(forces))):
        return Failure("non_finite_energy", step, temperature, energy, None, "energy or force NaN")
    fmax = float(np.sqrt((forces**2).sum(axis=1).max()))
    if fmax > limits.max_force_ev_per_a:
        return Failure(
            "force_above_limit",
            step,
            temperature,
            fmax,
            limits.max_force_ev_per_a,
            f"a force of {fmax:.3g} eV/Å, above {limits.max_force_ev_per_a} eV/Å",
        )
    if check_distances:
        closest = min_distance_a(atoms, limits.min_distance_a)
        if closest is not None:
            return Failure(
                "atoms_too_close",
                step,
                temperature,
                closest,
                limits.min_distance_a,
                f"two atoms {closest:.3f} Å apart, closer than {limits.min_distance_a} Å",
            )
    ceiling = limits.max_temperature_ratio * target_k
    if temperature > ceiling:
        return Failure(
            "temperature_above_target",
            step,
            temperature,
            temperature,
            ceiling,
            f"{temperature:.0f} K, above {limits.max_temperature_ratio} × {target_k:.0f} K",
        )
    return None


@dataclass(frozen=True)
class MDProtocol:
    """One MD run: ensemble, length, step, the schedule of targets, seed.

    The target temperature runs linearly through ``temperature_k``, ``via_k`` and
    ``final_temperature_k``, evenly spaced in time (MLIP Arena's schedule: 300, 3000,
    3000, 300 heats, holds and cools in thirds); the NPT target pressure linearly from
    ``pressure_gpa`` to ``final_pressure_gpa``. The barostat's mass parameter is
    ``ptime_fs``² × ``barostat_modulus_gpa`` (ASE's pfactor; MLIP Arena: 75 fs, 100 GPa).
    """

    ensemble: str
    steps: int
    timestep_fs: float
    temperature_k: float
    final_temperature_k: float | None = None  # the ramp's end; None: constant
    via_k: tuple[float, ...] = ()  # targets on the way, evenly spaced in time
    tdamp_fs: float = 25.0  # Nose–Hoover damping time (MLIP Arena's ttime)
    pressure_gpa: float = 0.0
    final_pressure_gpa: float | None = None
    ptime_fs: float = 75.0
    barostat_modulus_gpa: float = 100.0
    seed: int = 0
    sample_every: int = 10
    trajectory_every: int = 0  # 0: no full trajectory
    limits: FailureLimits = FailureLimits()

    def __post_init__(self) -> None:
        if self.ensemble not in (NVE, NVT, NPT):
            raise TaskFailed(f"ensemble must be {NVE}, {NVT} or {NPT}, not {self.ensemble!r}")
        if self.steps < 1 or self.sample_every < 1 or self.timestep_fs <= 0:
            raise TaskFailed("steps and sample_every must be at least 1, timestep_fs above 0")
        if self.temperature_k <= 0:
            raise TaskFailed(f"temperature_k must be above 0, not {self.temperature_k}")

    def target_k(self, step: int) -> float:
        end = self.final_temperature_k
        if end is None:
            return self.temperature_k
        return _on_schedule((self.temperature_k, *self.via_k, end), step / self.steps)

    def target_pressure_gpa(self, step: int) -> float | None:
        if self.ensemble != NPT:
            return None
        end = self.final_pressure_gpa
        if end is None:
            return self.pressure_gpa
        return _on_schedule((self.pressure_gpa, end), step / self.steps)

    def dynamics(self, atoms: Atoms) -> MolecularDynamics:
        pfactor = (self.ptime_fs * units.fs) ** 2 * self.barostat_modulus_gpa * units.GPa
        return dynamics_for(
            atoms,
            ensemble=self.ensemble,
            timestep_fs=self.timestep_fs,
            temperature_k=self.temperature_k,
            tdamp_fs=self.tdamp_fs,
            pressure_gpa=self.pressure_gpa,
            pfactor=pfactor,
        )


def _on_schedule(points: tuple[float, ...], fraction: float) -> float:
    """The value at ``fraction`` of the run of a line through ``points`` evenly spaced."""
    if len(points) == 2:  # the plain ramp, in the arithmetic earlier runs used
        return points[0] + (points[1] - points[0]) * fraction
    spots = np.linspace(0.0, 1.0, len(points))
    return float(np.interp(fraction, spots, points))


def initial_momenta(atoms: Atoms, *, temperature_k: float, rng: np.random.Generator) -> None:
    """Maxwell–Boltzmann at ``temperature_k``, then net momentum and rotation removed."""
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_k, rng=rng)
    Stationary(atoms)
    with warnings.catch_warnings():  # LAMBench removes rotation from periodic cells too
        warnings.filterwarnings("ignore", "Periodic boundary conditions are ignored")
        ZeroRotation(atoms)


def md_state(atoms: Atoms, *, step: int, rng: np.random.Generator, **extra: Any) -> State:
    """A JSON-safe checkpoint: positions, momenta and cell exactly, the step, the RNG."""
    return {
        "step": step,
        "positions": atoms.get_positions().tolist(),
        "momenta": atoms.get_momenta().tolist(),
        "cell": atoms.get_cell().array.tolist(),
        "pbc": [bool(p) for p in atoms.pbc],
        "rng": rng.bit_generator.state,
        **extra,
    }


def restore_state(atoms: Atoms, state: State, rng: np.random.Generator) -> None:
    """Put a checkpoint back: the cell first (not scaling atoms), then positions, momenta."""
    if len(state["positions"]) != len(atoms):
        raise TaskFailed(
            f"the checkpoint holds {len(state['positions'])} atoms, the structure {len(atoms)}"
        )
    atoms.set_cell(np.array(state["cell"], dtype=float), scale_atoms=False)
    atoms.set_pbc(state["pbc"])
    atoms.set_positions(np.array(state["positions"], dtype=float))
    atoms.set_momenta(np.array(state["momenta"], dtype=float))
    rng.bit_generator.state = state["rng"]


def sample(atoms: Atoms, *, step: int, protocol: MDProtocol) -> dict[str, float | None]:
    """One point of the summary series; pressure where the calculator gives stress."""
    epot = float(atoms.get_potential_energy())
    ekin = float(atoms.get_kinetic_energy())
    point = {
        "step": step,
        "time_ps": step * protocol.timestep_fs / FS_PER_PS,
        "epot_ev": epot,
        "ekin_ev": ekin,
        "etot_ev": epot + ekin,
        "temperature_k": float(atoms.get_temperature()),
        "target_k": protocol.target_k(step),
        "target_pressure_gpa": protocol.target_pressure_gpa(step),
        "volume_a3": float(atoms.get_volume()) if atoms.cell.rank == 3 else None,
        "pressure_gpa": None,
    }
    if atoms.cell.rank == 3 and "stress" in getattr(atoms.calc, "implemented_properties", ()):
        stress = atoms.get_stress(include_ideal_gas=True)
        point["pressure_gpa"] = float(-stress[:3].mean() / units.GPa)
    return {k: _finite_or_none(v) for k, v in point.items()}


Observer = Callable[[Atoms], dict[str, Any]]


def run_md(
    atoms: Atoms,
    calculator: Calculator,
    protocol: MDProtocol,
    context: RunContext | None = None,
    *,
    observe: Observer | None = None,
) -> dict[str, Any]:
    """Integrate ``protocol`` from ``atoms`` (or from the context's checkpoint).

    ``observe(atoms)`` adds fields of its own to each point of the series (a task's
    product count, say). Returns the series, the final frame (positions, momenta,
    cell), ``completed`` and ``steps_done``; a failure rule that fires ends the run
    early and is returned as ``failure`` (rule, step, temperature), not raised.
    """
    context = context or RunContext()
    atoms = atoms.copy()
    if protocol.ensemble == NPT:
        upper_triangular_cell(atoms)
    atoms.calc = calculator
    rng = np.random.default_rng(protocol.seed)
    state = context.restored()
    if state is None:
        initial_momenta(atoms, temperature_k=protocol.temperature_k, rng=rng)
        step, series, resumed_from = 0, [], None
    else:
        restore_state(atoms, state, rng)
        step, series, resumed_from = int(state["step"]), list(state["series"]), int(state["step"])
    note(natoms=len(atoms), series=series, last_structure=atoms)
    dynamics = protocol.dynamics(atoms)
    if state is not None:
        restore_integrator(dynamics, state.get("thermostat", {}))
        atoms.set_momenta(np.array(state["momenta"], dtype=float))  # NPT zeroed their sum
    trajectory = _trajectory(context, protocol, append=state is not None)

    def current_state() -> State:
        return md_state(
            atoms, step=step, rng=rng, series=series, thermostat=integrator_state(dynamics)
        )

    failure = None
    started = time.perf_counter()
    first_step = step
    try:
        while True:
            try:
                forces = atoms.get_forces(md=True)
            except Exception as exc:  # a model that cannot go on: the run ends there
                failure = Failure("calculator_error", step, None, None, None, one_line(exc))
                break
            sampling = step % protocol.sample_every == 0 or step == protocol.steps
            failure = check_failure(
                atoms,
                forces,
                step=step,
                target_k=protocol.target_k(step),
                limits=protocol.limits,
                check_distances=sampling,
            )
            if failure is not None:
                break
            if sampling and (not series or series[-1]["step"] != step):
                point = sample(atoms, step=step, protocol=protocol)
                series.append({**point, **observe(atoms)} if observe else point)
            if trajectory is not None and step % protocol.trajectory_every == 0:
                trajectory.write(atoms)
            context.progress(step, protocol.steps)
            if step >= protocol.steps:
                break
            context.checkpoint(current_state)
            set_targets(
                dynamics, protocol.target_k(step), protocol.target_pressure_gpa(step) or 0.0
            )
            prepare(dynamics)
            step += 1
            try:
                dynamics.step()  # the forces at the new positions are computed here
            except Exception as exc:
                failure = Failure("calculator_error", step, None, None, None, one_line(exc))
                break
    finally:
        if trajectory is not None:
            trajectory.close()
    context.progress(step, protocol.steps, force=True)  # where a failure stopped it
    seconds = time.perf_counter() - started
    return {
        "ensemble": protocol.ensemble,
        "steps_total": protocol.steps,
        "steps_done": step,
        "completed": failure is None,
        "failure": failure.as_dict() if failure else None,
        "resumed_from_step": resumed_from,
        "series": series,
        "final_frame": {
            "numbers": [int(z) for z in atoms.numbers],
            "positions": atoms.get_positions().tolist(),
            "momenta": atoms.get_momenta().tolist(),
            "cell": atoms.get_cell().array.tolist(),
            "pbc": [bool(p) for p in atoms.pbc],
        },
        "wall_seconds": seconds,
        "steps_per_second": (step - first_step) / seconds if seconds > 0 else None,
        "trajectory_file": trajectory_name(protocol) if trajectory is not None else None,
    }


def trajectory_name(protocol: MDProtocol) -> str:
    return f"{protocol.ensemble}-trajectory.traj"


def _trajectory(context: RunContext, protocol: MDProtocol, *, append: bool) -> Trajectory | None:
    if protocol.trajectory_every < 1:
        return None
    path = context.file_path(trajectory_name(protocol))
    if path is None:
        return None
    return Trajectory(str(path), "a" if append and path.exists() else "w")
