"""Send a run's jobs to RQ queues (REDIS_URL set) or run them in-process, and follow them."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import django_rq
from django.conf import settings
from rq import Retry
from rq.job import Job as RQJob
from rq.job import JobStatus as RQStatus

from tasks_app.jobs import execute_job
from tasks_app.models import BenchmarkRun, Job, JobStatus
from tasks_app.selectors import run_status_counts, unfinished_jobs
from tasks_app.services import job_fail

Progress = Callable[[int], None]  # called with the number of finished jobs so far
LOST_RQ_STATES = {RQStatus.FAILED, RQStatus.STOPPED, RQStatus.CANCELED}


def uses_rq() -> bool:
    return bool(settings.REDIS_URL)


def run_jobs(
    run: BenchmarkRun, jobs: list[Job], *, progress: Progress, timeout_s: float | None
) -> None:
    """Execute every job of ``run`` and return when all have finished (or time ran out)."""
    if uses_rq():
        enqueue(jobs)
        wait(run, progress=progress, timeout_s=timeout_s)
    else:
        for finished, job in enumerate(jobs, start=1):
            with contextlib.suppress(Exception):  # already recorded as the job's failure
                execute_job(job.id)
            progress(finished)


def enqueue(jobs: list[Job]) -> None:
    retry = Retry(max=settings.ARENA_JOB_RETRIES) if settings.ARENA_JOB_RETRIES else None
    for job in jobs:
        rq_job = django_rq.get_queue(job.queue).enqueue(
            execute_job, job.id, retry=retry, description=str(job)
        )
        Job.objects.filter(pk=job.pk).update(rq_job_id=rq_job.id)


def wait(
    run: BenchmarkRun, *, progress: Progress, timeout_s: float | None, poll_s: float = 0.5
) -> None:
    deadline = time.monotonic() + timeout_s if timeout_s else None
    while True:
        counts = run_status_counts(run=run)
        progress(sum(counts.values()) - counts[JobStatus.QUEUED] - counts[JobStatus.RUNNING])
        pending = unfinished_jobs(run=run)
        if not pending or (deadline and time.monotonic() > deadline):
            return
        record_lost_jobs(pending)
        time.sleep(poll_s)


def record_lost_jobs(pending: list[Job]) -> None:
    """Jobs RQ gave up on without our job function recording it (killed worker, timeout)."""
    with_ids = [j for j in pending if j.rq_job_id]
    if not with_ids:
        return
    connection = django_rq.get_connection("default")
    rq_jobs = RQJob.fetch_many([j.rq_job_id for j in with_ids], connection)
    for job, rq_job in zip(with_ids, rq_jobs, strict=True):
        if rq_job is None:
            continue
        status = rq_job.get_status(refresh=False)
        if status in LOST_RQ_STATES and not rq_job.retries_left:
            outcome = rq_job.latest_result()
            job_fail(
                job_id=job.id,
                error=f"RQ marked the job {RQStatus(status).value}",
                traceback=(outcome.exc_string or "") if outcome else "",
            )
