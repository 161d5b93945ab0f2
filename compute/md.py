"""Molecular dynamics for the dynamics tasks: integration, failure rules, checkpoints, drift.

``run_md`` integrates NVE (velocity Verlet) or NVT (a Nose–Hoover chain with a linear
temperature ramp) step by step, samples a summary series every ``sample_every`` steps,
stops at the first failure rule that fires, and saves checkpoints (positions, momenta,
cell, step, RNG and thermostat state, the series so far) through a ``RunContext``, so
that a run resumed after its process died ends in the same state as one never stopped.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator
from ase.io import Trajectory
from ase.md.md import MolecularDynamics
from ase.md.nose_hoover_chain import NoseHooverChainNVT
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary, ZeroRotation
from ase.md.verlet import VelocityVerlet
from ase.neighborlist import neighbor_list

from compute.errors import TaskFailed, one_line
from compute.failure_evidence import note
from compute.run_context import RunContext, State

NVE, NVT = "nve", "nvt"
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
    """One MD run: ensemble, length, step, temperatures (a linear ramp for NVT), seed."""

    ensemble: str
    steps: int
    timestep_fs: float
    temperature_k: float
    final_temperature_k: float | None = None  # NVT ramp end; None: constant
    tdamp_fs: float = 25.0  # Nose–Hoover damping time (MLIP Arena's ttime)
    seed: int = 0
    sample_every: int = 10
    trajectory_every: int = 0  # 0: no full trajectory
    limits: FailureLimits = FailureLimits()

    def __post_init__(self) -> None:
        if self.ensemble not in (NVE, NVT):
            raise TaskFailed(f"ensemble must be {NVE} or {NVT}, not {self.ensemble!r}")
        if self.steps < 1 or self.sample_every < 1 or self.timestep_fs <= 0:
            raise TaskFailed("steps and sample_every must be at least 1, timestep_fs above 0")
        if self.temperature_k <= 0:
            raise TaskFailed(f"temperature_k must be above 0, not {self.temperature_k}")

    def target_k(self, step: int) -> float:
        end = self.final_temperature_k
        if end is None:
            return self.temperature_k
        return self.temperature_k + (end - self.temperature_k) * step / self.steps


def initial_momenta(atoms: Atoms, *, temperature_k: float, rng: np.random.Generator) -> None:
    """Maxwell–Boltzmann at ``temperature_k``, then net momentum and rotation removed."""
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_k, rng=rng)
    Stationary(atoms)
    with warnings.catch_warnings():  # LAMBench removes rotation from periodic cells too
        warnings.filterwarnings("ignore", "Periodic boundary conditions are ignored")
        ZeroRotation(atoms)


def _dynamics(atoms: Atoms, protocol: MDProtocol) -> MolecularDynamics:
    dt = protocol.timestep_fs * units.fs
    if protocol.ensemble == NVE:
        return VelocityVerlet(atoms, timestep=dt)
    return NoseHooverChainNVT(
        atoms, timestep=dt, temperature_K=protocol.temperature_k, tdamp=protocol.tdamp_fs * units.fs
    )


def set_target_temperature(dynamics: MolecularDynamics, temperature_k: float) -> None:
    """Move a Nose–Hoover chain's target, keeping its damping time (masses scale with kT)."""
    thermostat = dynamics._thermostat  # ASE gives no setter; the chain keeps kT and masses here
    scale = units.kB * temperature_k / thermostat._kT
    thermostat._kT *= scale
    thermostat._Q *= scale


def _thermostat_state(dynamics: MolecularDynamics) -> dict[str, Any]:
    thermostat = getattr(dynamics, "_thermostat", None)
    if thermostat is None:
        return {}
    return {"eta": thermostat._eta.tolist(), "p_eta": thermostat._p_eta.tolist()}


def _restore_thermostat(dynamics: MolecularDynamics, state: dict[str, Any]) -> None:
    thermostat = getattr(dynamics, "_thermostat", None)
    if thermostat is not None and state:
        thermostat._eta = np.array(state["eta"], dtype=float)
        thermostat._p_eta = np.array(state["p_eta"], dtype=float)


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
        "volume_a3": float(atoms.get_volume()) if atoms.cell.rank == 3 else None,
        "pressure_gpa": None,
    }
    if atoms.cell.rank == 3 and "stress" in getattr(atoms.calc, "implemented_properties", ()):
        stress = atoms.get_stress(include_ideal_gas=True)
        point["pressure_gpa"] = float(-stress[:3].mean() / units.GPa)
    return {k: _finite_or_none(v) for k, v in point.items()}


def run_md(
    atoms: Atoms, calculator: Calculator, protocol: MDProtocol, context: RunContext | None = None
) -> dict[str, Any]:
    """Integrate ``protocol`` from ``atoms`` (or from the context's checkpoint).

    Returns the series, the final frame (positions, momenta, cell), ``completed`` and
    ``steps_done``; a failure rule that fires ends the run early and is returned as
    ``failure`` (rule, step, temperature), not raised.
    """
    context = context or RunContext()
    atoms = atoms.copy()
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
    dynamics = _dynamics(atoms, protocol)
    if state is not None:
        _restore_thermostat(dynamics, state.get("thermostat", {}))
    trajectory = _trajectory(context, protocol, append=state is not None)

    def current_state() -> State:
        return md_state(
            atoms, step=step, rng=rng, series=series, thermostat=_thermostat_state(dynamics)
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
                series.append(sample(atoms, step=step, protocol=protocol))
            if trajectory is not None and step % protocol.trajectory_every == 0:
                trajectory.write(atoms)
            context.progress(step, protocol.steps)
            if step >= protocol.steps:
                break
            context.checkpoint(current_state)
            if protocol.ensemble == NVT:
                set_target_temperature(dynamics, protocol.target_k(step))
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


# Energy drift -----------------------------------------------------------------------

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
