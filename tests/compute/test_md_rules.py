"""compute/md.py piece by piece against hand computations and ASE's own integrators:
each failure rule at its threshold, the protocol's checks and ramp, the starting
momenta, one summary point, and the loop's steps against ASE's VelocityVerlet and
Nose–Hoover chain run by hand."""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pytest
from ase import Atoms, units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.morse import MorsePotential
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import Trajectory
from ase.md.nose_hoover_chain import NoseHooverChainNVT
from ase.md.verlet import VelocityVerlet

from compute.errors import TaskFailed
from compute.md import (
    NVE,
    NVT,
    Failure,
    FailureLimits,
    MDProtocol,
    check_failure,
    initial_momenta,
    restore_state,
    run_md,
    sample,
)
from compute.md_dynamics import set_target_temperature
from compute.run_context import CheckpointFile, RunContext
from compute.tasks.heating.protocol import run as heating
from compute.tasks.nve import evaluate as nve_evaluate
from compute.tasks.nve.drift import energy_drift, lambench_instability
from compute.tasks.nve.protocol import run as nve
from compute.tasks.stability import evaluate as heating_evaluate
from tests.compute.md_calculators import BreaksAt, NoForces, NoisyEMT

CU_MASS = 63.546  # amu, ASE's atomic_masses for Cu


def pair(distance_a: float, temperature_k: float = 300.0) -> Atoms:
    """Two Cu atoms in vacuum whose kinetic temperature is ``temperature_k`` by hand:
    each atom's momentum sqrt(3 m kB T) along x carries 3/2 kB T, so T = 2 Ekin / (3 N kB)."""
    atoms = Atoms("Cu2", positions=[[0, 0, 0], [distance_a, 0, 0]])
    p = math.sqrt(3 * CU_MASS * units.kB * temperature_k)
    atoms.set_momenta([[p, 0, 0], [-p, 0, 0]])
    return atoms


def with_results(atoms: Atoms, energy: float, forces) -> np.ndarray:
    forces = np.asarray(forces, dtype=float)
    atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
    return forces


def failure_of(atoms: Atoms, forces, *, energy=-1.0, target_k=300.0, limits=None, **kw):
    forces = with_results(atoms, energy, forces)
    return check_failure(
        atoms, forces, step=7, target_k=target_k, limits=limits or FailureLimits(), **kw
    )


QUIET = [[0, 0, 0], [0, 0, 0]]


def test_the_pair_has_the_temperature_by_hand():
    # The helper's own check: ASE's kinetic temperature equals the hand one (rounding only).
    assert pair(3.0, 600.0).get_temperature() == pytest.approx(600.0, rel=1e-12)


def test_a_force_of_exactly_50_ev_per_a_passes_and_just_above_fails():
    # |(30, 40, 0)| = 50 exactly in floating point: the rule is "above", not "at".
    assert failure_of(pair(3.0), [[30, 40, 0], [0, 0, 0]]) is None
    failure = failure_of(pair(3.0), [[30, 40.001, 0], [0, 0, 1]])
    assert (failure.rule, failure.step, failure.limit) == ("force_above_limit", 7, 50.0)
    assert failure.value == pytest.approx(math.hypot(30, 40.001), rel=1e-12)  # the largest
    assert failure.temperature_k == pytest.approx(300.0, rel=1e-12)
    assert failure.message == "a force of 50 eV/Å, above 50.0 eV/Å"


def test_one_non_finite_force_component_or_energy_fails_first():
    # Before the force rule: a NaN beside a force of 1000 eV/Å is reported as NaN.
    for energy, forces, value in [
        (-1.0, [[np.nan, 0, 0], [1000, 0, 0]], -1.0),  # the value reported is the energy
        (np.inf, QUIET, None),  # not finite: None in the stored dict
    ]:
        failure = failure_of(pair(3.0), forces, energy=energy)
        assert (failure.rule, failure.step, failure.limit) == ("non_finite_energy", 7, None)
        assert failure.message == "energy or force NaN"
        assert failure.temperature_k == pytest.approx(300.0, rel=1e-12)
        assert failure.as_dict()["value"] == value


def test_atoms_closer_than_half_an_angstrom_fail_and_the_closest_pair_is_reported():
    assert failure_of(pair(0.51), QUIET) is None
    failure = failure_of(pair(0.49), QUIET)
    assert (failure.rule, failure.limit) == ("atoms_too_close", 0.5)
    assert failure.value == pytest.approx(0.49, abs=1e-12)
    assert failure.message == "two atoms 0.490 Å apart, closer than 0.5 Å"
    # Three atoms 0.3 and 0.4 Å apart: the shortest distance is the value.
    trio = Atoms("Cu3", positions=[[0, 0, 0], [0.3, 0, 0], [0.7, 0, 0]])
    assert failure_of(trio, [[0, 0, 0]] * 3, target_k=1e9).value == pytest.approx(0.3, abs=1e-12)
    # Skipped on steps that do not sample (a neighbour list each step costs too much).
    assert failure_of(pair(0.49), QUIET, check_distances=False) is None
    # Periodic images count: one atom in a 0.45 Å cubic cell is 0.45 Å from its images.
    lone = Atoms("Cu", cell=[0.45] * 3, pbc=True)
    assert failure_of(lone, [[0, 0, 0]], target_k=1e9).value == pytest.approx(0.45, abs=1e-12)


def test_the_temperature_rule_fires_just_above_ratio_times_target():
    hot = pair(3.0, 600.0)
    temperature = hot.get_temperature()
    twice = FailureLimits(max_temperature_ratio=2.0)  # 2 × (T / 2) is T exactly
    assert failure_of(hot, QUIET, target_k=temperature / 2, limits=twice) is None
    failure = failure_of(hot, QUIET, target_k=300.0 * (1 - 1e-9), limits=twice)
    assert failure.rule == "temperature_above_target"
    assert failure.value == failure.temperature_k == pytest.approx(600.0, rel=1e-12)
    assert failure.limit == pytest.approx(600.0 * (1 - 1e-9), rel=1e-12)
    assert failure.message == "600 K, above 2.0 × 300 K"
    # The default ceiling is 5 × the target (LAMBench's runs use it).
    assert failure_of(pair(3.0, 1500.0), QUIET, target_k=1500.0 / 5 * (1 + 1e-9)) is None
    assert failure_of(pair(3.0, 1500.0), QUIET, target_k=1500.0 / 5 * (1 - 1e-9)) is not None


def test_a_failure_as_a_dict_holds_none_for_non_finite_numbers():
    failure = Failure("non_finite_energy", 3, 310.5, float("nan"), float("inf"), "m")
    assert failure.as_dict() == {
        "rule": "non_finite_energy",
        "step": 3,
        "temperature_k": 310.5,
        "value": None,
        "limit": None,
        "message": "m",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ensemble": "nph"}, "ensemble must be nve, nvt or npt, not 'nph'"),
        ({"steps": 0}, "steps and sample_every must be at least 1, timestep_fs above 0"),
        ({"sample_every": 0}, "steps and sample_every must be at least 1, timestep_fs above 0"),
        ({"timestep_fs": 0.0}, "steps and sample_every must be at least 1, timestep_fs above 0"),
        ({"temperature_k": 0.0}, "temperature_k must be above 0, not 0.0"),
    ],
)
def test_a_protocol_refuses_what_cannot_run(change, message):
    valid = {"ensemble": NVE, "steps": 1, "timestep_fs": 1.0, "temperature_k": 1.0}
    with pytest.raises(TaskFailed) as refused:
        MDProtocol(**{**valid, **change})
    assert str(refused.value) == message


def test_the_smallest_valid_protocol_is_accepted():
    protocol = MDProtocol(NVE, steps=1, timestep_fs=1e-3, temperature_k=1e-3, sample_every=1)
    assert protocol.target_k(1) == 1e-3


def test_the_ramp_target_by_hand():
    ramp = MDProtocol(
        NVT, steps=20, timestep_fs=2.0, temperature_k=300.0, final_temperature_k=3000.0
    )
    # 300 K + (3000 − 300) K × step / 20
    assert [ramp.target_k(s) for s in (0, 5, 20)] == pytest.approx(
        [300.0, 975.0, 3000.0], abs=1e-12
    )
    flat = MDProtocol(NVT, steps=20, timestep_fs=2.0, temperature_k=300.0)
    assert flat.target_k(13) == 300.0


def test_the_starting_momenta_are_maxwell_boltzmann_without_drift_or_rotation():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(10)  # 4000 atoms
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # ZeroRotation's periodic-cell one is silenced
        initial_momenta(atoms, temperature_k=300.0, rng=np.random.default_rng(0))
    p = atoms.get_momenta()
    # Hand temperature over 3N − 6 degrees of freedom; a draw of 3N Gaussians has a
    # relative spread sqrt(2 / 3N) = 1.3 %, so 5 % is four sigma.
    temperature = (p**2).sum() / CU_MASS / ((3 * len(atoms) - 6) * units.kB)
    assert temperature == pytest.approx(300.0, rel=0.05)
    assert np.abs(p.sum(axis=0)).max() < 1e-9  # net momentum: rounding of 4000 terms
    com = atoms.get_center_of_mass()
    angular = np.cross(atoms.positions - com, p).sum(axis=0)
    assert np.abs(angular).max() < 1e-7  # amu·Å²/fs scale ~1e3 before removal
    # The seed decides the draw: the same seed, the same momenta; another, others.
    again = atoms.copy()
    initial_momenta(again, temperature_k=300.0, rng=np.random.default_rng(0))
    assert np.array_equal(again.get_momenta(), p)
    initial_momenta(again, temperature_k=300.0, rng=np.random.default_rng(1))
    assert not np.allclose(again.get_momenta(), p)


def test_moving_the_target_gives_the_chain_ase_builds_for_that_temperature():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    dynamics = NoseHooverChainNVT(
        atoms, timestep=units.fs, temperature_K=300.0, tdamp=25 * units.fs
    )
    set_target_temperature(dynamics, 900.0)
    fresh = NoseHooverChainNVT(atoms, timestep=units.fs, temperature_K=900.0, tdamp=25 * units.fs)
    assert dynamics._thermostat._kT == pytest.approx(fresh._thermostat._kT, rel=1e-12)
    assert np.allclose(dynamics._thermostat._Q, fresh._thermostat._Q, rtol=1e-12, atol=0)


def copper_state(tmp_path, *, seed: int = 3) -> tuple[Atoms, CheckpointFile]:
    """32 rattled Cu atoms with Gaussian momenta, saved as a step-0 checkpoint."""
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=seed)
    atoms.set_momenta(np.random.default_rng(seed).normal(0, 0.5, (len(atoms), 3)))
    checkpoints = CheckpointFile(tmp_path / "start.json")
    checkpoints.save(
        {
            "step": 0,
            "positions": atoms.positions.tolist(),
            "momenta": atoms.get_momenta().tolist(),
            "cell": atoms.cell.array.tolist(),
            "pbc": [True] * 3,
            "rng": np.random.default_rng(0).bit_generator.state,
            "series": [],
        }
    )
    return atoms, checkpoints


def test_nve_steps_are_ases_velocity_verlet(tmp_path):
    atoms, checkpoints = copper_state(tmp_path)
    protocol = MDProtocol(NVE, steps=12, timestep_fs=2.0, temperature_k=300.0, sample_every=4)
    output = run_md(atoms, EMT(), protocol, RunContext(checkpoints=checkpoints))
    reference = atoms.copy()
    reference.calc = EMT()
    VelocityVerlet(reference, timestep=2.0 * units.fs).run(12)
    # Same arithmetic in the same order; 1e-10 allows EMT's neighbour-list rebuilds.
    assert np.allclose(output["final_frame"]["positions"], reference.positions, rtol=0, atol=1e-10)
    assert np.allclose(
        output["final_frame"]["momenta"], reference.get_momenta(), rtol=0, atol=1e-10
    )
    assert output["resumed_from_step"] == 0 and output["steps_done"] == 12
    # Velocity Verlet with exact forces: the total energy of 32 atoms moves by µeV, not meV.
    energies = [p["etot_ev"] for p in output["series"]]
    assert np.ptp(energies) < 1e-3


def test_nvt_steps_are_ases_nose_hoover_chain_with_the_target_moved_each_step(tmp_path):
    atoms, checkpoints = copper_state(tmp_path)
    protocol = MDProtocol(
        NVT,
        steps=10,
        timestep_fs=2.0,
        temperature_k=300.0,
        final_temperature_k=1300.0,
        tdamp_fs=20.0,
    )
    output = run_md(atoms, EMT(), protocol, RunContext(checkpoints=checkpoints))
    reference = atoms.copy()
    reference.calc = EMT()
    dt, tdamp = 2.0 * units.fs, 20.0 * units.fs
    chain = NoseHooverChainNVT(reference, timestep=dt, temperature_K=300.0, tdamp=tdamp)
    for step in range(10):  # before step k: the target 300 + 1000 × k / 10 K, ASE's masses
        target = NoseHooverChainNVT(
            reference.copy(), dt, temperature_K=300.0 + 100.0 * step, tdamp=tdamp
        )
        chain._thermostat._kT = target._thermostat._kT
        chain._thermostat._Q = target._thermostat._Q.copy()
        chain.step()
    assert np.allclose(output["final_frame"]["momenta"], reference.get_momenta(), rtol=0, atol=1e-9)
    assert [p["target_k"] for p in output["series"]] == pytest.approx([300.0, 1300.0], abs=1e-9)


def test_one_summary_point_by_hand():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=2)
    momenta = np.random.default_rng(2).normal(0, 0.5, (len(atoms), 3))
    atoms.set_momenta(momenta)
    atoms.calc = EMT()
    protocol = MDProtocol(
        NVT, steps=10, timestep_fs=2.0, temperature_k=300.0, final_temperature_k=400.0
    )
    point = sample(atoms, step=7, protocol=protocol)
    ekin = (momenta**2).sum() / (2 * CU_MASS)
    volume = 7.22**3
    static = EMT().get_stress(atoms)  # no kinetic part
    # Pressure: minus the mean normal stress plus the ideal-gas term 2 Ekin / 3V.
    pressure = (-static[:3].mean() + 2 * ekin / (3 * volume)) / units.GPa
    epot = EMT().get_potential_energy(atoms)
    expected = {
        "step": 7,
        "time_ps": 0.014,
        "epot_ev": epot,
        "ekin_ev": ekin,
        "etot_ev": epot + ekin,
        "temperature_k": 2 * ekin / (3 * 32 * units.kB),
        "target_k": 370.0,
        "target_pressure_gpa": None,  # NVT: no barostat
        "volume_a3": volume,
        "pressure_gpa": pressure,
    }
    assert point.keys() == expected.keys()
    for key, value in expected.items():
        assert point[key] == (value if value is None else pytest.approx(value, rel=1e-10)), key


def test_no_volume_without_a_cell_and_no_pressure_without_stress():
    protocol = MDProtocol(NVE, steps=10, timestep_fs=1.0, temperature_k=300.0)
    dimer = pair(2.5)
    dimer.calc = MorsePotential()
    point = sample(dimer, step=0, protocol=protocol)
    assert point["volume_a3"] is None and point["pressure_gpa"] is None
    cell = bulk("Cu", "fcc", a=3.61, cubic=True)
    cell.calc = NoisyEMT(0.0)  # energy and forces only
    point = sample(cell, step=0, protocol=protocol)
    assert point["volume_a3"] == pytest.approx(3.61**3, rel=1e-12) and point["pressure_gpa"] is None
    cell.calc = SinglePointCalculator(cell, energy=np.inf, forces=np.zeros((4, 3)))
    assert sample(cell, step=0, protocol=protocol)["epot_ev"] is None


def test_the_series_samples_every_nth_step_and_the_last_and_writes_the_trajectory(tmp_path):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    reported = []
    context = RunContext(on_progress=lambda d, t: reported.append((d, t)), file_store=tmp_path)
    protocol = MDProtocol(
        NVE, steps=7, timestep_fs=1.0, temperature_k=300.0, sample_every=3, trajectory_every=2
    )
    started = time.perf_counter()
    output = run_md(atoms, EMT(), protocol, context)
    assert 0 < output["wall_seconds"] <= time.perf_counter() - started
    assert [p["step"] for p in output["series"]] == [0, 3, 6, 7]
    assert output["completed"] and output["failure"] is None and output["resumed_from_step"] is None
    assert output["steps_done"] == output["steps_total"] == 7 and output["ensemble"] == NVE
    assert output["steps_per_second"] == pytest.approx(7 / output["wall_seconds"], rel=1e-12)
    assert reported[0] == (0, 7) and reported[-1] == (7, 7)
    frame = output["final_frame"]
    assert frame["numbers"] == [29] * 32 and frame["pbc"] == [True] * 3
    assert np.allclose(frame["cell"], atoms.cell.array, rtol=0, atol=0)
    assert output["trajectory_file"] == "nve-trajectory.traj"
    with Trajectory(str(tmp_path / "nve-trajectory.traj")) as frames:
        assert len(frames) == 4  # steps 0, 2, 4, 6
        assert np.allclose(frames[0].positions, atoms.positions, rtol=0, atol=0)
    without_store = run_md(atoms, EMT(), protocol, RunContext())
    assert without_store["trajectory_file"] is None
    # A fresh run replaces an old file; every=1 writes every step.
    every_step = MDProtocol(NVE, steps=5, timestep_fs=1.0, temperature_k=300.0, trajectory_every=1)
    again = run_md(atoms, EMT(), every_step, RunContext(file_store=tmp_path))
    assert again["trajectory_file"] == "nve-trajectory.traj"
    with Trajectory(str(tmp_path / "nve-trajectory.traj")) as frames:
        assert len(frames) == 6  # steps 0 … 5, none of the earlier run's 4


def test_a_resumed_run_appends_to_its_trajectory(tmp_path):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    protocol = MDProtocol(NVE, steps=60, timestep_fs=2.0, temperature_k=300.0, trajectory_every=10)

    reported = []

    def context():
        checkpoints = CheckpointFile(tmp_path / "state.json")
        return RunContext(
            checkpoints=checkpoints,
            checkpoint_seconds=0.0,
            file_store=tmp_path,
            on_progress=lambda done, total: reported.append((done, total)),
        )

    crashed = run_md(atoms, BreaksAt(30, "raise"), protocol, context())  # the force at step 30
    assert crashed["failure"]["step"] == 30 and crashed["failure"]["temperature_k"] is None
    assert crashed["failure"]["message"] == "the model gave up"
    assert reported[-1] == (30, 60)  # the step it stopped at, inside the 5 s throttle
    resumed = run_md(atoms, EMT(), protocol, context())
    assert resumed["resumed_from_step"] == 29
    # Speed counts the steps this process made: 31 from 29 to 60.
    assert resumed["steps_per_second"] == pytest.approx(31 / resumed["wall_seconds"], rel=1e-12)
    with Trajectory(str(tmp_path / "nve-trajectory.traj")) as frames:
        assert len(frames) == 7  # 0, 10, 20 before the crash; 30 … 60 after


def test_a_checkpoint_of_another_structure_is_refused():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    state = {"positions": [[0, 0, 0]] * 5}
    with pytest.raises(TaskFailed, match="the checkpoint holds 5 atoms, the structure 4"):
        restore_state(atoms, state, np.random.default_rng(0))


def test_drift_needs_two_kept_samples_and_keeps_its_sign():
    assert energy_drift([], [], natoms=1, timestep_fs=1.0) is None
    # Steps 0, 10: the cut is at 2, so one sample is left.
    assert energy_drift([0, 10], [0.0, 1.0], natoms=1, timestep_fs=1.0) is None
    # Steps 0, 10, 20: the cut is at 4, two samples are left: 0.5 eV in 10 fs on one atom.
    two = energy_drift([0, 10, 20], [9.0, 1.0, 1.5], natoms=1, timestep_fs=1.0)
    assert two.points == 2 and two.signed_meV_per_atom_per_ps == pytest.approx(5e4, rel=1e-9)
    with pytest.raises(ValueError):  # a step without its energy is an error, not cut off
        energy_drift([0, 10, 20], [1.0, 2.0], natoms=1, timestep_fs=1.0)
    # E = 5 − 0.004 t(ps) eV on 4 atoms at 0.5 fs: −1 meV/atom/ps; drop none.
    steps = [0, 200, 400, 600]
    energies = [5.0 - 0.004 * s * 0.5 / 1000 for s in steps]
    drift = energy_drift(steps, energies, natoms=4, timestep_fs=0.5, drop_fraction=0.0)
    assert drift.points == 4
    assert drift.signed_meV_per_atom_per_ps == pytest.approx(-1.0, rel=1e-9)
    assert drift.meV_per_atom_per_ps == pytest.approx(1.0, rel=1e-9)
    # LAMBench's unit: per ASE time unit, 1/units.fs fs = 1e-3/units.fs ps.
    assert drift.lambench_slope == pytest.approx(1.0 * 1e-3 / units.fs, rel=1e-9)


@pytest.mark.parametrize(
    ("slope", "score"),
    # Slopes 100 and 5000 are 2e5 and 1e7 λ0: log10 5.3 and 7, both reported as 5.
    [(0.0, 0.0), (float("nan"), 5.0), (float("inf"), 5.0), (5e-3, 1.0), (100.0, 5.0), (5e3, 5.0)],
)
def test_lambench_instability_at_its_edges(slope, score):
    assert lambench_instability(slope, completed=True) == pytest.approx(score, abs=1e-12)


def test_an_nve_run_that_fails_scores_five_and_has_no_drift():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    output = nve(atoms, BreaksAt(5, "nan"), steps=20, sample_every=2)
    assert output["failure"]["rule"] == "non_finite_energy" and not output["completed"]
    assert output["completed_fraction"] == 5 / 20 and output["natoms"] == 32
    assert output["lambench_instability"] == 5.0
    assert nve_evaluate(output, None) == {
        "drift_mev_per_atom_ps": None,
        "lambench_instability": 5.0,
        "completed": 0.0,
    }


def test_a_completed_heating_run_follows_the_ramp_by_hand():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    output = heating(atoms, EMT(), total_time_fs=40.0, sample_every=5)
    assert output["timestep_fs"] == 2.0 and output["steps_total"] == 20  # 40 fs / 2 fs
    assert output["valid_fraction"] == 1.0 and output["failure_rule"] is None
    assert output["failure_step"] is None and output["failure_temperature_k"] is None
    # The target by hand: 300 K + 2700 K × step / 20.
    targets = [p["target_k"] for p in output["series"]]
    assert targets == pytest.approx([300 + 2700 * s / 20 for s in (0, 5, 10, 15, 20)], abs=1e-9)
    assert output["final_temperature_k"] == output["series"][-1]["temperature_k"]


def test_a_model_that_fails_on_its_first_call_ends_the_run_at_step_zero():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    protocol = MDProtocol(NVE, steps=10, timestep_fs=1.0, temperature_k=300.0)
    output = run_md(atoms, BreaksAt(0, "raise"), protocol)
    assert output["failure"] == {
        "rule": "calculator_error",
        "step": 0,
        "temperature_k": None,
        "value": None,
        "limit": None,
        "message": "the model gave up",  # the error's own words
    }
    assert output["steps_done"] == 0 and output["series"] == [] and not output["completed"]


def test_distances_are_checked_on_sampled_steps_only(tmp_path):
    # Two Cu atoms 1 Å apart fly at each other with no forces, 0.04 Å/fs each: the gap is
    # |1 − 0.08 s| Å at step s, under 0.5 Å for steps 7 … 18. Sampled every 10 steps, the
    # rule fires at step 10 (0.2 Å), not 7.
    atoms = Atoms("Cu2", positions=[[0, 0, 0], [1.0, 0, 0]])
    speed = 0.04 / units.fs  # Å per ASE time unit
    checkpoints = CheckpointFile(tmp_path / "start.json")
    checkpoints.save(
        {
            "step": 0,
            "positions": atoms.positions.tolist(),
            "momenta": [[CU_MASS * speed, 0, 0], [-CU_MASS * speed, 0, 0]],
            "cell": np.zeros((3, 3)).tolist(),
            "pbc": [False] * 3,
            "rng": np.random.default_rng(0).bit_generator.state,
            "series": [],
        }
    )
    protocol = MDProtocol(
        NVE,
        steps=30,
        timestep_fs=1.0,
        temperature_k=300.0,
        limits=FailureLimits(max_temperature_ratio=1e9),
    )
    output = run_md(atoms, NoForces(), protocol, RunContext(checkpoints=checkpoints))
    failure = output["failure"]
    assert (failure["rule"], failure["step"]) == ("atoms_too_close", 10)
    assert failure["value"] == pytest.approx(0.2, abs=1e-9)  # straight lines: rounding only


def lambench_start(atoms: Atoms, temperature_k: float, seed: int) -> Atoms:
    """LAMBench's start built from ASE directly: Maxwell–Boltzmann from default_rng(seed),
    then net momentum and rotation removed."""
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary, ZeroRotation

    start = atoms.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MaxwellBoltzmannDistribution(
            start, temperature_K=temperature_k, rng=np.random.default_rng(seed)
        )
        Stationary(start)
        ZeroRotation(start)
    return start


def test_an_nve_run_uses_every_parameter_it_is_given(tmp_path):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    reported = []
    context = RunContext(file_store=tmp_path, on_progress=lambda d, t: reported.append((d, t)))
    output = nve(
        atoms, EMT(), steps=20, timestep_fs=2.0, temperature_k=500.0, seed=5, sample_every=2,
        drop_fraction=0.5, trajectory_every=10, context=context,
    )  # fmt: skip
    series = output["series"]
    start = lambench_start(atoms, 500.0, 5)
    assert series[0]["ekin_ev"] == pytest.approx(start.get_kinetic_energy(), rel=1e-12)
    assert [p["step"] for p in series] == list(range(0, 21, 2))
    assert series[1]["time_ps"] == pytest.approx(0.004, rel=1e-12)  # step 2 at 2 fs
    # The drift by hand over the samples from step 10 (half of 20) on: 6 points.
    kept = [p for p in series if p["step"] >= 10]
    times_ps = [p["step"] * 2.0 / 1000 for p in kept]
    slope = np.polyfit(times_ps, [p["etot_ev"] for p in kept], 1)[0]
    assert output["signed_drift_mev_per_atom_ps"] == pytest.approx(1000 * slope / 32, rel=1e-9)
    # LAMBench: 1000 × |slope| / N per ASE time unit, 1e-3 / units.fs ps.
    assert output["lambench_slope"] == pytest.approx(abs(slope) / 32 / units.fs, rel=1e-9)
    assert output["natoms"] == 32 and output["completed_fraction"] == 1.0
    assert reported[-1] == (20, 20)
    with Trajectory(str(tmp_path / "nve-trajectory.traj")) as frames:
        assert len(frames) == 3  # steps 0, 10, 20
    assert nve_evaluate(output, None) == {
        "drift_mev_per_atom_ps": output["drift_mev_per_atom_ps"],
        "lambench_instability": output["lambench_instability"],
        "completed": 1.0,
    }


def test_an_nve_run_too_short_for_a_line_has_no_drift_and_scores_five():
    output = nve(bulk("Cu", "fcc", a=3.61, cubic=True), EMT(), steps=1, sample_every=1)
    assert output["completed"] and [p["step"] for p in output["series"]] == [0, 1]
    assert output["drift_mev_per_atom_ps"] is None and output["lambench_slope"] is None
    assert output["signed_drift_mev_per_atom_ps"] is None
    assert output["lambench_instability"] == 5.0


def test_a_heating_run_is_the_nvt_protocol_it_describes(tmp_path):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    reported = []
    context = RunContext(file_store=tmp_path, on_progress=lambda d, t: reported.append((d, t)))
    output = heating(
        atoms, EMT(), total_time_fs=20.0, tdamp_fs=10.0, seed=5, sample_every=2,
        trajectory_every=5, context=context,
    )  # fmt: skip
    assert lambench_start(atoms, 300.0, 5).get_kinetic_energy() == pytest.approx(
        output["series"][0]["ekin_ev"], rel=1e-12
    )
    # The same run spelt out as an MDProtocol: 10 steps of 2 fs, 300 → 3000 K, 10 fs damping.
    spelt = MDProtocol(
        NVT, steps=10, timestep_fs=2.0, temperature_k=300.0, final_temperature_k=3000.0,
        tdamp_fs=10.0, seed=5, sample_every=2,
    )  # fmt: skip
    reference = run_md(atoms, EMT(), spelt)
    assert np.allclose(
        output["final_frame"]["momenta"], reference["final_frame"]["momenta"], rtol=0, atol=1e-12
    )
    assert output["natoms"] == 32 and reported[-1] == (10, 10)
    with Trajectory(str(tmp_path / "nvt-trajectory.traj")) as frames:
        assert len(frames) == 3  # steps 0, 5, 10
    assert heating_evaluate(output, None) == {"valid_fraction": 1.0, "completed": 1.0}
    # Shorter than one step: still one step.
    assert heating(atoms, EMT(), total_time_fs=0.5)["steps_total"] == 1


def test_a_failed_heating_run_reports_where_and_how_hot():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    output = heating(atoms, BreaksAt(4, "nan"), total_time_fs=20.0)
    assert (output["failure_rule"], output["failure_step"]) == ("non_finite_energy", 4)
    assert output["failure_temperature_k"] == output["failure"]["temperature_k"] > 0
    assert output["valid_fraction"] == 4 / 10
    assert heating_evaluate(output, None) == {"valid_fraction": 0.4, "completed": 0.0}
