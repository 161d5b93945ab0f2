"""Job rows as the source of truth: claims, leases, what readers see, reuse across runs."""

from datetime import timedelta

import pytest
from ase.build import bulk
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from models_app.models import MLIP
from tasks_app.models import BenchmarkRun, Job, JobStatus, Result, StructureSet, Task
from tasks_app.selectors import run_status_counts
from tasks_app.services import (
    job_fail,
    job_finish,
    job_start,
    jobs_interrupt,
    run_create,
)
from tasks_app.structure_sets import store_structure_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(seeded, inline_jobs) -> StructureSet:
    structure_set, _ = store_structure_set(
        name="pair",
        description="",
        structures=[("Cu", bulk("Cu", "fcc", a=3.6), {}), ("Al", bulk("Al", "fcc", a=4.05), {})],
    )
    return structure_set


@pytest.fixture
def planned(pair):
    """Two EMT jobs (Cu, Al) of one run, not started."""
    structure_set = pair
    return run_create(
        task=Task.objects.get(slug="eos"),
        models=[MLIP.objects.get(name="EMT")],
        structure_set=structure_set,
        structures=list(structure_set.structures.all()),
    )


def expire_lease(job: Job) -> None:
    """What a killed process leaves: a lease whose end has passed."""
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def test_a_job_is_claimed_once_and_again_only_after_its_lease_runs_out(planned):
    _, (job, _) = planned
    assert job_start(job_id=job.pk)
    assert not job_start(job_id=job.pk)  # a second delivery while the first runs
    expire_lease(job)
    assert job_start(job_id=job.pk)  # its process died: take it over
    assert Job.objects.get(pk=job.pk).attempts == 2
    job_finish(job_id=job.pk, output={}, metrics={}, compute_seconds=1.0)
    assert not job_start(job_id=job.pk)  # done stays done
    job_fail(job_id=job.pk, error="late")
    assert Job.objects.get(pk=job.pk).status == JobStatus.DONE


def test_a_running_job_whose_lease_ran_out_reads_interrupted_everywhere(planned, client):
    run, (running, waiting) = planned
    job_start(job_id=running.pk)
    assert run_status_counts(run=run)[JobStatus.RUNNING] == 1
    page = client.get(reverse("leaderboard:job", args=[running.pk])).content.decode()
    assert '<span class="badge running">running</span>' in page

    expire_lease(running)
    counts = run_status_counts(run=run)
    assert (counts[JobStatus.RUNNING], counts[JobStatus.INTERRUPTED]) == (0, 1)
    page = client.get(reverse("leaderboard:job", args=[running.pk])).content.decode()
    assert '<span class="badge interrupted">interrupted</span>' in page
    listed = client.get(reverse("leaderboard:jobs"), {"status": "interrupted", "format": "json"})
    assert [row["job"] for row in listed.json()] == [running.pk]
    listed = client.get(reverse("leaderboard:jobs"), {"status": "running", "format": "json"})
    assert listed.json() == []
    runs = client.get(reverse("leaderboard:runs"), {"format": "json"}).json()
    assert (runs[0]["running"], runs[0]["interrupted"], runs[0]["queued"]) == (0, 1, 1)


def test_interrupting_leaves_done_jobs_alone(planned):
    run, (first, second) = planned
    job_start(job_id=first.pk)
    job_finish(job_id=first.pk, output={}, metrics={}, compute_seconds=1.0)
    assert jobs_interrupt(job_ids=[first.pk, second.pk], reason="stop") == 1
    assert run_status_counts(run=run)[JobStatus.INTERRUPTED] == 1
    assert job_start(job_id=second.pk)  # a re-run takes an interrupted job


def test_a_second_run_of_unfinished_keys_reuses_their_jobs(planned):
    first_run, jobs = planned
    job_start(job_id=jobs[0].pk)
    structure_set = StructureSet.objects.get(name="pair")
    second_run, new = run_create(
        task=Task.objects.get(slug="eos"),
        models=[MLIP.objects.get(name="EMT")],
        structure_set=structure_set,
        structures=list(structure_set.structures.all()),
        force=True,
    )
    assert new == []
    assert set(second_run.reused_jobs.all()) == set(jobs)
    assert sum(run_status_counts(run=second_run).values()) == 2
    assert Job.objects.count() == 2


def test_repeated_structure_labels_make_one_job_and_a_whole_summary(pair, capsys):
    call_command("run_benchmark", "eos", models="EMT,EMT", set_name="pair", structures="Cu,Cu")
    out = capsys.readouterr().out
    assert ", 1 jobs (in-process)" in out
    assert out.splitlines()[-1].split()[:4] == ["EMT", "1", "0", "0"]
    assert Result.objects.count() == 1
    assert BenchmarkRun.objects.last().options["structures"] == ["Cu"]
