"""The order workers take a run's jobs in: longest first (LPT), so that two workers do
not end with one of them alone on the run's longest job. Hand-made runs, orders by hand."""

from __future__ import annotations

import pytest
from ase.build import bulk

from models_app.models import MLIP
from tasks_app.models import Task
from tasks_app.selectors import next_claimable_job, unheld_unfinished_jobs
from tasks_app.services import job_fail, job_finish, job_start, run_create
from tasks_app.structure_sets import store_structure_set

pytestmark = pytest.mark.django_db

# In the set's order: 1, 4 and 8 atoms.
CELLS = {
    "Cu": bulk("Cu", "fcc", a=3.6),
    "Al": bulk("Al", "fcc", a=4.05, cubic=True),
    "Ni": bulk("Ni", "fcc", a=3.52, cubic=True).repeat((2, 1, 1)),
}


@pytest.fixture
def plan(seeded, inline_jobs):
    """``plan(force)``: an EMT eos run on the three cells; its jobs by label."""
    structure_set, _ = store_structure_set(
        name="sizes", description="", structures=[(k, a, {}) for k, a in CELLS.items()]
    )

    def planned(force: bool = False):
        run, jobs = run_create(
            task=Task.objects.get(slug="eos"),
            models=[MLIP.objects.get(name="EMT")],
            structure_set=structure_set,
            structures=list(structure_set.structures.all()),
            force=force,
        )
        return run, {job.structure.label: job for job in jobs}

    return planned


def claim_order(run) -> list[str]:
    """Labels in the order one worker claims them."""
    labels = []
    while (job_id := next_claimable_job(run=run)) is not None:
        job_start(job_id=job_id)
        labels.append(run.jobs.get(pk=job_id).structure.label)
    return labels


def sent_order(jobs: dict) -> list[str]:
    """Labels in the order RQ is sent them."""
    sent = unheld_unfinished_jobs(job_ids=[job.pk for job in jobs.values()])
    return [job.structure.label for job in sent]


def test_jobs_never_done_go_largest_cell_first(plan):
    run, jobs = plan()
    assert sent_order(jobs) == ["Ni", "Al", "Cu"]  # what RQ is sent first
    assert claim_order(run) == ["Ni", "Al", "Cu"]


def test_a_rerun_goes_by_the_seconds_each_job_took_last_and_unknown_work_first(plan):
    _, first = plan()
    for label, seconds in (("Cu", 30.0), ("Al", 2.0)):
        job_start(job_id=first[label].pk)
        job_finish(job_id=first[label].pk, output={}, metrics={}, compute_seconds=seconds)
    job_start(job_id=first["Ni"].pk)  # Ni failed: no time of a whole job to go by
    job_fail(job_id=first["Ni"].pk, error="planted", traceback="", compute_seconds=99.0)
    run, again = plan(force=True)
    assert sent_order(again) == ["Ni", "Cu", "Al"]
    assert claim_order(run) == ["Ni", "Cu", "Al"]


def test_the_latest_done_job_of_a_key_counts(plan):
    _, first = plan()
    for label, seconds in (("Cu", 30.0), ("Al", 2.0), ("Ni", 10.0)):
        job_start(job_id=first[label].pk)
        job_finish(job_id=first[label].pk, output={}, metrics={}, compute_seconds=seconds)
    _, second = plan(force=True)
    for label, seconds in (("Cu", 1.0), ("Al", 5.0), ("Ni", 3.0)):  # Cu was slow once
        job_start(job_id=second[label].pk)
        job_finish(job_id=second[label].pk, output={}, metrics={}, compute_seconds=seconds)
    run, third = plan(force=True)
    assert sent_order(third) == ["Al", "Ni", "Cu"]
    assert claim_order(run) == ["Al", "Ni", "Cu"]
