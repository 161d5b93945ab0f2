"""Reads that runners, workers and the summary rely on, each against rows written by hand:
which run an id names, which jobs no process holds, which jobs RQ owes, counts per task."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ase.build import bulk
from django.conf import settings
from django.utils import timezone

from arena_site.errors import ArenaError
from models_app.models import MLIP
from tasks_app.execution.in_process import Share
from tasks_app.execution.progress import Waiting
from tasks_app.models import BenchmarkRun, Job, JobStatus, Result, Task
from tasks_app.selectors import (
    job_status,
    results_by_id,
    results_by_key,
    run_by_id,
    run_model_ids,
    structures_by_id,
    task_overview,
    unfinished_rq_jobs,
    unheld_unfinished_jobs,
)
from tasks_app.services import job_finish, job_start, run_create
from tasks_app.structure_sets import store_structure_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_models(seeded, inline_jobs):
    """One eos run of two models on Cu and Al: four queued jobs, by model then structure."""
    structure_set, _ = store_structure_set(
        name="pair",
        description="",
        structures=[("Cu", bulk("Cu", "fcc", a=3.6), {}), ("Al", bulk("Al", "fcc", a=4.05), {})],
    )
    models = list(MLIP.objects.exclude(name="EMT").order_by("name")[:1]) + [
        MLIP.objects.get(name="EMT")
    ]
    return run_create(
        task=Task.objects.get(slug="eos"),
        models=models,
        structure_set=structure_set,
        structures=list(structure_set.structures.all()),
    )


def test_run_by_id_names_the_latest_run_when_the_id_is_unknown(db):
    with pytest.raises(ArenaError) as none_yet:
        run_by_id(1)
    assert str(none_yet.value) == "no run 1; there are no runs yet"


def test_run_by_id_finds_the_run_or_points_at_the_latest(two_models):
    run, _ = two_models
    assert run_by_id(run.pk) == run
    with pytest.raises(ArenaError) as unknown:
        run_by_id(run.pk + 10)
    assert str(unknown.value) == f"no run {run.pk + 10}; the latest is run {run.pk}"


def test_job_status_reads_the_stored_state_and_none_for_no_job(two_models):
    _, jobs = two_models
    job_start(job_id=jobs[0].pk)
    assert job_status(job_id=jobs[0].pk) == JobStatus.RUNNING
    assert job_status(job_id=jobs[1].pk) == JobStatus.QUEUED
    assert job_status(job_id=max(j.pk for j in jobs) + 1) is None


def test_run_model_ids_are_each_model_once_by_name(two_models):
    run, jobs = two_models
    by_name = sorted({j.model for j in jobs}, key=lambda m: m.name)
    assert run_model_ids(run=run) == [m.pk for m in by_name]


def test_unheld_unfinished_jobs_leave_out_done_jobs_and_jobs_with_a_live_lease(two_models):
    _, jobs = two_models
    done, held, lapsed, queued = jobs
    for job in (done, held, lapsed):
        job_start(job_id=job.pk)
    job_finish(job_id=done.pk, output={}, metrics={}, compute_seconds=1.0)
    Job.objects.filter(pk=lapsed.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    found = unheld_unfinished_jobs(job_ids=[j.pk for j in jobs])
    assert sorted(j.pk for j in found) == sorted([lapsed.pk, queued.pk])
    assert unheld_unfinished_jobs(job_ids=[queued.pk]) == [queued]


def test_unfinished_rq_jobs_are_the_unfinished_jobs_on_rq_queues(two_models):
    _, jobs = two_models
    on_rq, done_on_rq, inline, interrupted_on_rq = jobs
    queue = settings.ARENA_QUEUES[0]
    Job.objects.filter(pk__in=[on_rq.pk, done_on_rq.pk]).update(queue=queue)
    Job.objects.filter(pk=interrupted_on_rq.pk).update(queue=queue, status=JobStatus.INTERRUPTED)
    Job.objects.filter(pk=done_on_rq.pk).update(status=JobStatus.DONE)
    assert inline.queue == "inline"
    assert sorted(j.pk for j in unfinished_rq_jobs()) == sorted([on_rq.pk, interrupted_on_rq.pk])


def test_task_overview_counts_results_and_the_models_that_have_them(two_models):
    _, jobs = two_models
    first_model = [j for j in jobs if j.model == jobs[0].model]
    for job in [*first_model, jobs[-1]]:
        job_start(job_id=job.pk)
        job_finish(job_id=job.pk, output={}, metrics={}, compute_seconds=1.0)
    counts = {t.slug: (t.result_count, t.model_count) for t in task_overview()}
    assert counts["eos"] == (3, 2)
    assert counts["relax"] == (0, 0)
    assert len(counts) == Task.objects.count()


def test_results_by_key_holds_only_stored_keys_with_their_run(two_models):
    run, jobs = two_models
    job_start(job_id=jobs[0].pk)
    job_finish(job_id=jobs[0].pk, output={}, metrics={}, compute_seconds=1.0)
    found = results_by_key(keys=[jobs[0].key, jobs[1].key, "no-such-key"])
    assert list(found) == [jobs[0].key]
    assert found[jobs[0].key].job.run == run


def test_a_worker_sees_what_its_siblings_hold_not_itself_nor_empty_slots():
    held = [5, 0, 7]
    assert Share(index=0, held=held).siblings_hold() == {7}
    assert Share(index=1, held=held).siblings_hold() == {5, 7}
    Share(index=1, held=held).hold(9)
    assert held == [5, 9, 7]


def test_waiting_says_a_line_once_per_change_and_stays_quiet_for_an_empty_one():
    said: list[str] = []
    waiting = Waiting(said.append)
    waiting("[1]", "waiting for job 1")
    waiting("[1]", "waiting for job 1")
    waiting("[]", "")
    waiting("[1]", "waiting for job 1 again")
    assert said == ["waiting for job 1", "waiting for job 1 again"]


def test_the_run_rows_these_reads_use_are_the_runs_own(two_models):
    """Guards the fixture: four jobs, two models, one run."""
    run, jobs = two_models
    assert BenchmarkRun.objects.count() == 1 and len(jobs) == 4
    assert [j.structure.label for j in jobs] == ["Cu", "Al", "Cu", "Al"]


def test_results_and_structures_by_id_come_with_what_an_export_reads_in_one_query(
    two_models, django_assert_num_queries
):
    _, jobs = two_models
    for job in jobs:
        job_start(job_id=job.pk)
        job_finish(job_id=job.pk, output={}, metrics={}, compute_seconds=1.0)
    result_ids = list(Result.objects.values_list("pk", flat=True))
    with django_assert_num_queries(1):
        read = [
            (r.model.name, r.task.slug, r.structure.structure_set.name, r.job.status)
            for r in results_by_id(result_ids=result_ids)
        ]
    assert sorted(read) == sorted((j.model.name, "eos", "pair", JobStatus.DONE) for j in jobs)
    structure_ids = [j.structure_id for j in jobs]
    with django_assert_num_queries(1):
        sets = {s.structure_set.name for s in structures_by_id(structure_ids=structure_ids)}
    assert sets == {"pair"}
