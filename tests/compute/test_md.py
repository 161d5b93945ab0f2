"""MD tasks against physics and hand computations: energy conservation, LAMBench's fit,
each failure rule, and checkpoints that resume to the same state."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ase import units
from ase.build import bulk
from ase.calculators.emt import EMT

from compute.md import NVE, NVT, MDProtocol, run_md
from compute.run_context import CheckpointFile, RunContext
from compute.tasks import TASKS, run_task
from compute.tasks.heating.protocol import run as heating
from compute.tasks.nve.drift import energy_drift, lambench_instability
from compute.tasks.nve.protocol import run as nve
from tests.compute.md_calculators import BreaksAt, NoisyEMT


def copper(repeat: int = 3):
    return bulk("Cu", "fcc", a=3.61, cubic=True).repeat(repeat)  # 4 × 27 = 108 atoms


@pytest.fixture(scope="module")
def emt_drift():
    return nve(copper(), EMT(), steps=400, sample_every=10)


def test_emt_conserves_energy_on_108_copper_atoms(emt_drift):
    # EMT's forces are the exact gradient of its energy, so velocity Verlet at 1 fs only
    # oscillates around the conserved energy; 0.01 meV/atom/ps is the bound and
    # 15× what 400 steps give (6e-4).
    assert emt_drift["natoms"] == 108 and emt_drift["completed"]
    assert emt_drift["drift_mev_per_atom_ps"] < 0.01
    assert emt_drift["lambench_instability"] == 0.0
    # The start removed net momentum, and velocity Verlet with pair-symmetric forces keeps
    # it zero (an unremoved drift would be ~1e-2 amu·Å/fs for 108 atoms at 300 K).
    assert np.abs(np.sum(emt_drift["final_frame"]["momenta"], axis=0)).max() < 1e-9


def test_noisy_forces_leak_energy(emt_drift):
    # Gaussian force noise of σ kicks each momentum by dt·σ a step: total energy rises by
    # 3 dt² σ² / 2m per atom per step, 0.57 meV/atom/ps for Cu at σ = 0.05 eV/Å, 1 fs.
    noisy = nve(copper(), NoisyEMT(0.05), steps=400, sample_every=10)
    assert noisy["completed"]
    assert noisy["signed_drift_mev_per_atom_ps"] > 0  # noise heats, never cools on average
    assert noisy["drift_mev_per_atom_ps"] > 0.05
    assert noisy["drift_mev_per_atom_ps"] > 20 * emt_drift["drift_mev_per_atom_ps"]


def test_drift_fit_matches_lambench_formula_by_hand():
    # A line E = 3 + 0.002 t(ps) eV on 10 atoms, with a spike inside the dropped 20 %.
    steps = list(range(0, 1001, 10))
    energies = [3.0 + 0.002 * s / 1000 for s in steps]
    energies[5] += 1.0  # step 50 < 200: dropped
    drift = energy_drift(steps, energies, natoms=10, timestep_fs=1.0)
    assert drift.meV_per_atom_per_ps == pytest.approx(0.2, rel=1e-9)  # 1000 × 0.002 / 10
    assert drift.points == 81  # steps 200..1000
    # LAMBench: times = steps × timestep × units.fs (ASE time), 1000 × |slope| / natoms.
    kept = np.array(steps[20:], dtype=float)
    times = kept * 1.0 * units.fs
    design = np.vstack([times, np.ones(len(times))]).T
    slope = np.linalg.lstsq(design, np.array(energies[20:]), rcond=None)[0][0]
    assert drift.lambench_slope == pytest.approx(1000 * abs(slope) / 10, rel=1e-9)
    # The factor between LAMBench's number and the true eV/atom/ps is 1 / units.fs = 10.18.
    assert drift.lambench_slope / (drift.meV_per_atom_per_ps / 1000) == pytest.approx(10.1805, 1e-4)


@pytest.mark.parametrize(
    ("slope", "completed", "score"),
    [(5e-4, True, 0.0), (5e-2, True, 2.0), (1e-5, True, 0.0), (50.0, True, 5.0),
     (49.0, True, math.log10(49 / 5e-4)), (1e-3, False, 5.0), (None, True, 5.0)],
)  # fmt: skip
def test_lambench_instability_by_hand(slope, completed, score):
    assert lambench_instability(slope, completed=completed) == pytest.approx(score)


def crafted(kind: str):
    atoms = copper()
    if kind == "close":  # 0.4 Å from its neighbour
        atoms.positions[0] = atoms.positions[1] + [0.4, 0, 0]
    elif kind == "squeezed":  # 0.9 Å: EMT's repulsion is ~300 eV/Å
        atoms.positions[0] = atoms.positions[1] + [0.9, 0, 0]
    elif kind == "rattled":  # 0.25 Å displacements release ~1 eV/atom into heat
        atoms.rattle(0.25, seed=1)
    return atoms


@pytest.mark.parametrize(
    ("rule", "atoms", "calculator", "params"),
    [
        ("non_finite_energy", "perfect", lambda: BreaksAt(5, "nan"), {}),
        ("calculator_error", "perfect", lambda: BreaksAt(5, "raise"), {}),
        ("force_above_limit", "squeezed", EMT, {}),
        ("atoms_too_close", "close", EMT, {"max_force_ev_per_a": 1e9}),
        ("temperature_above_target", "rattled", EMT, {}),
    ],
)
def test_each_failure_rule_fires_and_is_recorded(rule, atoms, calculator, params):
    output = heating(crafted(atoms), calculator(), total_time_fs=40.0, sample_every=5, **params)
    failure = output["failure"]
    assert not output["completed"] and failure["rule"] == rule
    assert output["failure_rule"] == rule and output["steps_done"] == failure["step"]
    assert output["valid_fraction"] == failure["step"] / 20
    if rule in ("non_finite_energy", "calculator_error"):
        assert failure["step"] == 5  # one call a step: call 6 is the force at step 5
    if rule != "calculator_error":
        assert failure["temperature_k"] > 0
    if rule == "temperature_above_target":  # 2 × the ramp's target at that step
        assert failure["temperature_k"] > 2 * (300 + 2700 * failure["step"] / 20)


def test_hydrogen_halves_and_quarters_the_step():
    # MLIP Arena: 2 fs, or 0.5 fs when the cell holds hydrogen.
    assert TASKS["heating"].default_params()["timestep_fs"] is None
    h = heating(crafted("perfect"), EMT(), total_time_fs=4.0)
    assert h["timestep_fs"] == 2.0 and h["steps_total"] == 2
    atoms = copper(2)
    atoms.symbols[0] = "H"
    h = heating(atoms, EMT(), total_time_fs=4.0)
    assert h["timestep_fs"] == 0.5 and h["steps_total"] == 8


def run_to(
    atoms,
    steps: int,
    checkpoints: CheckpointFile | None = None,
    total: int = 60,
    ensemble: str = NVE,
):
    """Run ``total`` steps, or stop after ``steps`` by a calculator error (a 'crash')."""
    calculator = EMT() if steps >= total else BreaksAt(steps, "raise")
    context = RunContext(checkpoints=checkpoints, checkpoint_seconds=0.0)
    protocol = MDProtocol(
        ensemble=ensemble,
        steps=total,
        timestep_fs=2.0,
        temperature_k=300.0,
        final_temperature_k=1500.0 if ensemble == NVT else None,
    )
    return run_md(atoms, calculator, protocol, context)


def test_a_resumed_heating_run_restores_its_thermostat(tmp_path):
    # The Nose–Hoover chain's variables travel in the checkpoint too; without them the
    # resumed run would be thermostatted from rest and end elsewhere.
    unbroken = run_to(copper(2), 40, ensemble=NVT, total=40)
    checkpoints = CheckpointFile(tmp_path / "state.json")
    run_to(copper(2), 20, checkpoints, ensemble=NVT, total=40)
    resumed = run_to(copper(2), 40, checkpoints, ensemble=NVT, total=40)
    assert resumed["resumed_from_step"] == 19
    final, expected = resumed["final_frame"], unbroken["final_frame"]
    assert np.abs(np.subtract(final["momenta"], expected["momenta"])).max() < 1e-8


def test_a_resumed_run_restores_the_cell_and_ends_where_an_unbroken_one_does(tmp_path):
    squeezed = copper()
    squeezed.set_cell(squeezed.cell * 0.98, scale_atoms=True)
    unbroken = run_to(squeezed, 60)
    checkpoints = CheckpointFile(tmp_path / "state.json")
    crashed = run_to(squeezed, 30, checkpoints)
    assert crashed["failure"]["rule"] == "calculator_error"
    # Resume from atoms with the *original* cell: the checkpoint's cell must win.
    resumed = run_to(copper(), 60, checkpoints)
    assert resumed["resumed_from_step"] == 29  # the last step checkpointed before the crash
    final, expected = resumed["final_frame"], unbroken["final_frame"]
    assert np.allclose(final["cell"], squeezed.cell.array, rtol=0, atol=1e-12)
    assert np.abs(np.subtract(final["positions"], expected["positions"])).max() < 1e-8
    assert np.abs(np.subtract(final["momenta"], expected["momenta"])).max() < 1e-8
    # The series so far travels in the checkpoint. Not bitwise: EMT's fresh neighbour
    # list sums in another order (differences of 1e-14 eV).
    assert [p["step"] for p in resumed["series"]] == [p["step"] for p in unbroken["series"]]
    assert np.allclose(
        [p["etot_ev"] for p in resumed["series"]],
        [p["etot_ev"] for p in unbroken["series"]],
        rtol=0,
        atol=1e-10,
    )


def test_variants_are_named_in_results_and_unknown_ones_refused():
    spec = TASKS["nve"]
    assert spec.variant_of({}) == "protocol"
    assert spec.variant_of(spec.variant_params("short")) == "short"
    assert spec.variant_of({"steps": 7}) == "custom"
    output = run_task("nve", copper(2), EMT(), {"steps": 4, "sample_every": 2})
    assert output["variant"] == "custom"
    with pytest.raises(Exception, match="no variant 'long'; known: protocol, hot, short"):
        spec.variant_params("long")
    # The protocols are the upstream ones, not the short CPU runs.
    assert spec.default_params()["steps"] == 10000 and spec.default_params()["timestep_fs"] == 1.0
    heat = TASKS["heating"].default_params()
    assert (heat["start_k"], heat["end_k"], heat["total_time_fs"]) == (300.0, 3000.0, 10000.0)


def test_progress_is_throttled_by_time_and_always_reports_the_end():
    reported, now = [], [0.0]
    context = RunContext(
        on_progress=lambda done, total: reported.append(done),
        progress_seconds=5.0,
        clock=lambda: now[0],
    )
    for step in range(11):
        now[0] = step * 2.0  # 2 s a step
        context.progress(step, 10)
    assert reported == [0, 3, 6, 9, 10]  # first, then every 5 s, then the end
