"""A failed job keeps what it had computed: EMT's EOS of compressed copper scanned where
E(V) only falls has no minimum to fit, and the job keeps its 7 points, the last structure
and the optimiser's last steps; the job page draws them. The points are EMT's own energies
at those cells, recomputed here with ASE."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from django.urls import reverse

from compute.failure_evidence import LAST_STEPS
from models_app.models import MLIP
from tasks_app.execution.job import execute_job
from tasks_app.models import Job, JobStatus, Task
from tasks_app.services import run_create
from tasks_app.structure_sets import store_structure_set

pytestmark = pytest.mark.django_db
# No relaxation (steps 0: the input cell scaled), 7 volumes within ±2 % of a cell 15 %
# smaller than EMT's: the energy falls over the whole scan.
SQUEEZED = {"steps": 0, "npoints": 7, "min_volume_factor": 0.98, "max_volume_factor": 1.02}
A_SQUEEZED = 3.0  # Å; EMT's fcc Cu minimum is near 3.59 Å


@pytest.fixture
def failed_eos(seeded, inline_jobs) -> Job:
    atoms = bulk("Cu", "fcc", a=A_SQUEEZED)
    structure_set, _ = store_structure_set(
        name="squeezed", description="", structures=[("Cu squeezed", atoms, {})]
    )
    _, (job,) = run_create(
        task=Task.objects.get(slug="eos"),
        models=[MLIP.objects.get(name="EMT")],
        structure_set=structure_set,
        structures=list(structure_set.structures.all()),
        params=SQUEEZED,
    )
    execute_job(job.id)
    return Job.objects.get(pk=job.pk)


def test_a_failed_eos_keeps_its_points_its_last_structure_and_optimiser_steps(failed_eos):
    assert failed_eos.status == JobStatus.FAILED
    assert failed_eos.error == "EOS curve has no energy minimum inside the sampled volumes"
    evidence = failed_eos.failure_evidence
    cell = bulk("Cu", "fcc", a=A_SQUEEZED)
    volumes, energies = [], []
    for factor in np.linspace(0.98, 1.02, 7):  # the protocol's cells, by hand
        strained = cell.copy()
        strained.set_cell(cell.cell * factor ** (1 / 3), scale_atoms=True)
        strained.calc = EMT()
        volumes.append(strained.get_volume())
        energies.append(strained.get_potential_energy())
    assert evidence["volumes_a3"] == pytest.approx(volumes, rel=1e-12)
    assert evidence["energies_ev"] == pytest.approx(energies, rel=1e-10)
    assert all(np.diff(energies) < 0)  # no minimum: the reason it failed
    assert evidence["last_structure"]["numbers"] == [29]
    last = np.abs(np.linalg.det(evidence["last_structure"]["cell"]))
    assert last == pytest.approx(volumes[-1], rel=1e-9)
    # One optimiser check per point (steps 0): the last LAST_STEPS of them, in order, with
    # the energies above (one atom: no force, so fmax 0).
    steps = evidence["optimizer_steps"]
    assert len(steps) == min(7 + 1, LAST_STEPS)  # the first relaxation, then 7 points
    assert [s["energy_ev"] for s in steps[-7:]] == pytest.approx(energies, rel=1e-10)
    assert max(s["fmax_ev_per_a"] for s in steps) < 1e-10


def test_the_job_page_draws_what_the_failed_job_had_computed(client, failed_eos):
    html = client.get(reverse("leaderboard:job", args=[failed_eos.pk])).content.decode()
    assert 'id="failure-evidence"' in html
    assert "Cu, 1 atoms" in html and "Its volume" in html
    figure = json.loads(html.split('id="failure-curves" type="application/json">')[1].split("<")[0])
    (trace,) = [t for t in figure["data"] if t["name"] == "EMT"]
    assert len(trace["x"]) == 7
    steps = json.loads(
        html.split('id="failure-steps-energy_ev" type="application/json">')[1].split("<")[0]
    )
    assert steps["data"][0]["y"][-7:] == pytest.approx(
        failed_eos.failure_evidence["energies_ev"], rel=1e-6
    )
