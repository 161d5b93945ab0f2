"""What a failing task hands over: the points it had, the last structure, in plain JSON.
A calculator that breaks down after a few EMT calls stands for a model that raises
mid-scan; the points kept are EMT's own, recomputed here."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from compute.errors import TaskFailed
from compute.failure_evidence import LAST_STEPS, collecting, evidence, note, note_step
from compute.tasks import run_task
from compute.tasks.diatomics.protocol import distance_grid


class BreaksAfter(EMT):
    """EMT that raises on its call number ``calls + 1``."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.left = calls

    def calculate(self, *args, **kwargs):
        if self.left == 0:
            raise RuntimeError("the model broke down")
        self.left -= 1
        super().calculate(*args, **kwargs)


def test_an_ev_scan_that_breaks_keeps_its_points_and_last_cell():
    copper = bulk("Cu", "fcc", a=3.6)
    with pytest.raises(TaskFailed, match="broke down at strain -0.120") as caught:
        run_task("ev", copper, BreaksAfter(4), {})
    kept = caught.value.failure_evidence
    json.dumps(kept, allow_nan=False)  # plain JSON as a job row stores it
    strains = np.linspace(-0.2, 0.2, 21)[:4]
    by_hand = []
    for strain in strains:
        cell = copper.copy()
        cell.set_cell(copper.cell * (1 + strain), scale_atoms=True)
        cell.calc = EMT()
        by_hand.append((cell.get_volume(), cell.get_potential_energy()))
    assert kept["volumes_a3"] == pytest.approx([v for v, _ in by_hand], rel=1e-12)
    assert kept["energies_ev"] == pytest.approx([e for _, e in by_hand], rel=1e-12)
    fifth = copper.cell * (1 + np.linspace(-0.2, 0.2, 21)[4])
    np.testing.assert_allclose(kept["last_structure"]["cell"], fifth, atol=1e-9)


def test_a_diatomic_scan_that_breaks_keeps_the_distances_it_reached():
    from ase import Atoms

    with pytest.raises(RuntimeError) as caught:
        run_task("diatomics", Atoms("Cu2"), BreaksAfter(3), {})
    kept = caught.value.failure_evidence
    assert len(kept["distances_a"]) == len(kept["energies_ev"]) == 3
    assert kept["distances_a"] == pytest.approx(distance_grid(29, 0.01)[:3].tolist(), abs=1e-12)
    dimer = Atoms("Cu2", positions=[[0, 0, 0], [kept["distances_a"][2], 0, 0]])
    dimer.calc = EMT()
    assert kept["energies_ev"][2] == pytest.approx(dimer.get_potential_energy(), rel=1e-9)


def test_notes_outside_a_run_go_nowhere_and_steps_keep_the_last_ones():
    note(volumes_a3=[1.0])  # no run collecting: nothing happens, nothing fails
    atoms = bulk("Cu")
    with collecting() as notes:
        for step in range(LAST_STEPS + 5):
            note_step(atoms, step, -float(step), float("nan") if step == 3 else 0.1)
    kept = evidence(notes)
    assert [s["step"] for s in kept["optimizer_steps"]] == list(range(5, LAST_STEPS + 5))
    assert kept["last_structure"]["numbers"] == [29]
    with collecting() as notes:
        note_step(atoms, 3, 1.0, float("nan"))
    assert evidence(notes)["optimizer_steps"][0]["fmax_ev_per_a"] is None
