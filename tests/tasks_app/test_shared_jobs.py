"""Two runs sharing jobs, one of them interrupted: a key is computed once, interrupting
one run never takes jobs away from the other, and the other can finish what it reuses.

Run 1 plans Cu and Al; run 2 plans Cu, Al and Ni, so it reuses run 1's two unfinished
jobs and adds Ni. Each process's interrupt (what Ctrl-C or a time limit does) goes
through ``interrupt``, the function run_benchmark calls.
"""

from __future__ import annotations

import pytest
from ase.build import bulk

from models_app.models import MLIP
from tasks_app.execution.in_process import interrupt
from tasks_app.models import BenchmarkRun, Job, JobStatus, Result, Task
from tasks_app.selectors import next_claimable_job, run_status_counts
from tasks_app.services import job_finish, job_start, run_create, seed_tasks
from tasks_app.structure_sets import store_structure_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_runs() -> tuple[BenchmarkRun, BenchmarkRun, dict[str, Job]]:
    seed_tasks()
    structure_set, _ = store_structure_set(
        name="three",
        description="",
        structures=[(e, bulk(e, "fcc", a=3.8), {}) for e in ("Cu", "Al", "Ni")],
    )
    model = MLIP.objects.create(name="EMT", family="emt", cpu_tasks=["ev"])
    task = Task.objects.get(slug="ev")
    structures = list(structure_set.structures.order_by("position"))

    def plan(chosen):
        return run_create(task=task, models=[model], structure_set=structure_set, structures=chosen)

    first, _ = plan(structures[:2])
    second, new = plan(structures)
    assert [j.structure.label for j in new] == ["Ni"]  # Cu and Al are reused, not planned again
    jobs = {j.structure.label: j for j in Job.objects.select_related("structure")}
    return first, second, jobs


def counts(run: BenchmarkRun) -> dict[str, int]:
    return {state: n for state, n in run_status_counts(run=run).items() if n}


def finish(job: Job) -> None:
    job_finish(job_id=job.pk, output={}, metrics={"tortuosity": 1.0}, compute_seconds=1.0)


def test_interrupting_the_reusing_run_leaves_the_other_runs_jobs_queued(two_runs):
    first, second, jobs = two_runs
    assert interrupt(second, []) == 1  # its own Ni only
    assert counts(first) == {JobStatus.QUEUED: 2}
    assert counts(second) == {JobStatus.QUEUED: 2, JobStatus.INTERRUPTED: 1}
    # Run 1 goes on untouched and its results count for run 2 as well.
    for label in ("Cu", "Al"):
        assert job_start(job_id=jobs[label].pk)
        finish(jobs[label])
    assert counts(first) == {JobStatus.DONE: 2}
    assert counts(second) == {JobStatus.DONE: 2, JobStatus.INTERRUPTED: 1}


def test_the_reusing_run_finishes_jobs_whose_own_run_was_interrupted(two_runs):
    first, second, jobs = two_runs
    assert job_start(job_id=jobs["Cu"].pk)  # run 1's process takes Cu, then is stopped
    assert interrupt(first, [jobs["Cu"].pk]) == 2
    assert counts(first) == {JobStatus.INTERRUPTED: 2}
    assert counts(second) == {JobStatus.INTERRUPTED: 2, JobStatus.QUEUED: 1}
    # Run 2's process takes every job it shows, its own and the reused ones, once each.
    taken = []
    while (job_id := next_claimable_job(run=second)) is not None:
        assert job_start(job_id=job_id)
        finish(Job.objects.get(pk=job_id))
        taken.append(Job.objects.get(pk=job_id).structure.label)
    assert sorted(taken) == ["Al", "Cu", "Ni"]
    assert counts(second) == {JobStatus.DONE: 3}
    assert counts(first) == {JobStatus.DONE: 2}  # the same rows, seen from run 1
    assert Job.objects.count() == 3 and Result.objects.count() == 3
    assert Job.objects.get(pk=jobs["Cu"].pk).attempts == 2  # once by each process


def test_interrupting_the_reusing_run_stops_the_reused_job_in_its_hand(two_runs):
    """The job in hand is another run's (a reused key): interrupted too, the rest of that
    run left queued."""
    first, second, jobs = two_runs
    assert job_start(job_id=jobs["Cu"].pk)  # run 2's process holds run 1's Cu
    assert interrupt(second, [jobs["Cu"].pk]) == 2  # Cu and run 2's own Ni
    assert counts(first) == {JobStatus.INTERRUPTED: 1, JobStatus.QUEUED: 1}
    assert Job.objects.get(pk=jobs["Al"].pk).status == JobStatus.QUEUED
