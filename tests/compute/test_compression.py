"""Compression: the NPT ramp on EMT copper follows its pressure schedule, a resumed NPT
run ends where an unbroken one does, and the protocol is MLIP Arena's."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms, units
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT

from compute.md import NPT, MDProtocol, run_md
from compute.run_context import CheckpointFile, RunContext
from compute.tasks import TASKS, evaluate, run_task
from compute.tasks.compression.protocol import run as compression


def copper(n: int = 1) -> Atoms:
    return bulk("Cu", "fcc", a=3.61, cubic=True).repeat(n)


def test_the_mean_pressure_follows_the_ramp_within_its_noise():
    # 4 Cu atoms at 100 K, the target rising 0 → 20 GPa over 400 fs (200 steps of 2 fs).
    # Melchionna's barostat has no damping: the pressure oscillates about the target
    # (period ≈ 80 fs here), and an undamped oscillator driven by a ramp lags it by
    # nothing on average. So the mean of P − P target over the run is 0 within the
    # oscillation's standard deviation over √(periods) ≈ √5.
    output = compression(
        copper(),
        EMT(),
        total_time_fs=400.0,
        start_k=100.0,
        end_k=100.0,
        end_gpa=20.0,
        sample_every=5,
        max_temperature_ratio=10.0,  # 4 atoms: the temperature swings far
    )
    assert output["completed"]
    series = output["series"]
    pressure = np.array([p["pressure_gpa"] for p in series])
    target = np.array([p["target_pressure_gpa"] for p in series])
    assert target[[0, 20, 40]] == pytest.approx([0.0, 10.0, 20.0])  # linear, by hand
    deviation = pressure - target
    assert abs(deviation.mean()) < deviation.std() / np.sqrt(5)
    # and it did compress: EMT copper's bulk modulus is about 140 GPa
    assert output["final_volume_ratio"] < 0.95


class StressBreaksAt(Calculator):
    """EMT with stress until call ``calls``, then an error: a run that crashes."""

    implemented_properties = ["energy", "forces", "stress"]

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.emt, self.calls, self.made = EMT(), calls, 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.made += 1
        if self.made > self.calls:
            raise RuntimeError("the model gave up")
        self.emt.calculate(atoms, ["energy", "forces", "stress"], system_changes)
        self.results = dict(self.emt.results)


def npt_to(atoms: Atoms, calls: int, checkpoints: CheckpointFile | None = None) -> dict:
    protocol = MDProtocol(
        ensemble=NPT,
        steps=40,
        timestep_fs=2.0,
        temperature_k=300.0,
        final_temperature_k=900.0,
        pressure_gpa=0.0,
        final_pressure_gpa=30.0,
    )
    context = RunContext(checkpoints=checkpoints, checkpoint_seconds=0.0)
    return run_md(atoms, StressBreaksAt(calls), protocol, context)


def test_a_resumed_npt_run_restores_its_barostat_and_ends_where_an_unbroken_one_does(tmp_path):
    # The integrator keeps positions and cells of the step before, and the barostat's
    # and thermostat's variables; all travel in the checkpoint.
    atoms = copper()
    atoms.rattle(0.02, seed=1)
    unbroken = npt_to(atoms, 10**6)
    checkpoints = CheckpointFile(tmp_path / "state.json")
    crashed = npt_to(atoms, 20, checkpoints)
    assert crashed["failure"]["rule"] == "calculator_error"
    resumed = npt_to(atoms, 10**6, checkpoints)
    assert resumed["resumed_from_step"] == crashed["steps_done"] - 1
    final, expected = resumed["final_frame"], unbroken["final_frame"]
    assert unbroken["final_frame"]["cell"] != atoms.cell.tolist()  # the cell did move
    # Not bitwise: EMT's fresh neighbour list sums in another order (1e-14 eV).
    for key in ("cell", "positions", "momenta"):
        assert np.abs(np.subtract(final[key], expected[key])).max() < 1e-8, key


def test_the_protocol_is_mlip_arenas_and_scores_like_heating():
    defaults = TASKS["compression"].default_params()
    assert (defaults["total_time_fs"], defaults["start_gpa"], defaults["end_gpa"]) == (
        10000.0,
        0.0,
        500.0,
    )
    protocol = MDProtocol(
        ensemble=NPT, steps=5000, timestep_fs=2.0, temperature_k=300.0, final_pressure_gpa=500.0
    )
    assert protocol.target_pressure_gpa(2500) == 250.0
    dynamics = protocol.dynamics(copper())
    # MLIP Arena's pfactor: (75 fs)² × 100 GPa in ASE units; ttime 25 fs.
    assert dynamics.pfactor_given == pytest.approx((75 * units.fs) ** 2 * 1e2 * units.GPa)
    assert dynamics.ttime == pytest.approx(25 * units.fs)
    assert TASKS["compression"].evaluate is TASKS["heating"].evaluate  # one score, shared
    failed = run_task("compression", copper(), StressBreaksAt(7), {"total_time_fs": 40.0})
    # Call 8 is step 7's force: the run was valid for 7 of its 20 steps.
    assert (failed["steps_done"], failed["failure_rule"]) == (7, "calculator_error")
    assert evaluate("compression", failed, None) == {"valid_fraction": 0.35, "completed": 0.0}
