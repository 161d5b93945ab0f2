"""The RQ side of running jobs (REDIS_URL set): send jobs to their queues, follow a
run until its jobs end, bring RQ in line with the rows, and RQ's failure callback.

The database is the source of truth. A job row is queued, running (only while the
process running it renews its lease), interrupted, done or failed, and the job function
claims the row before it computes (``services.job_start``), so a job delivered twice
runs once. RQ only delivers jobs; whatever happens to a worker, to Redis or to the
process following the run, every job ends or is run again:

- a worker that dies mid-job stops sending heartbeats (``execution.rq_worker``); RQ's
  abandoned-job handling (``StartedJobRegistry.cleanup``, run by workers and by
  ``follow``) re-runs the job with RQ's retries, and ``job_abandoned`` puts its row back
  in line, or fails it when no retry is left;
- an unfinished job whose RQ job vanished (Redis lost its data, or the process that
  planned it died before sending it) is sent again from its row (``reconcile``);
- a run interrupted in-process leaves its jobs interrupted, and a re-run of the same
  keys or ``run_benchmark --resume`` takes them up.
"""

from __future__ import annotations

import contextlib
import math
import time

import django_rq
from django.conf import settings
from redis import Redis
from redis.exceptions import LockError, RedisError
from rq import Callback, Retry
from rq.exceptions import AbandonedJobError
from rq.job import Job as RQJob
from rq.job import JobStatus as RQStatus
from rq.registry import StartedJobRegistry
from rq.worker import Worker

from compute.environments import missing_worker_message
from compute.errors import one_line
from compute.tasks import spec_or_placeholder
from tasks_app.execution.job import execute_job
from tasks_app.execution.progress import POLL_S, Progress, Say, Waiting, deadline, finished_count
from tasks_app.execution.time_limits import RQ_GRACE_S, job_time_limit_s
from tasks_app.models import BenchmarkRun, Job, JobStatus
from tasks_app.selectors import unfinished_jobs, unheld_unfinished_jobs
from tasks_app.services import job_enqueued, job_fail, job_requeue

RQ_CHECK_S = 2.0  # how often ``follow`` brings RQ in line with the rows
LIVE_RQ_STATES = {RQStatus.QUEUED, RQStatus.STARTED, RQStatus.SCHEDULED, RQStatus.DEFERRED}
LOST_RQ_STATES = {RQStatus.FAILED, RQStatus.STOPPED, RQStatus.CANCELED}
RECONCILE_LOCK = "arena:reconcile"
RECONCILE_LOCK_S = 10  # a turn takes milliseconds; a holder that died frees it after this


def uses_rq() -> bool:
    return bool(settings.REDIS_URL)


def rq_connection() -> Redis:
    return django_rq.get_connection("default")


def rq_job_id(job: Job) -> str:
    """One RQ job id per job row, so that sending a job twice enqueues the same RQ job."""
    return f"arena-job-{job.pk}"


class JobNews:
    """Says when a job is put back in line, and why, or starts again after a death."""

    def __init__(self, say: Say) -> None:
        self.say = say
        self.seen: dict[int, tuple[str, int]] = {}

    def __call__(self, jobs: list[Job]) -> None:
        for job in jobs:
            before_error, before_attempts = self.seen.get(job.pk, ("", job.attempts))
            if job.status == JobStatus.QUEUED and job.error and job.error != before_error:
                self.say(f"job {job.pk}: {job.error}")
            elif job.status == JobStatus.RUNNING and job.attempts > max(before_attempts, 1):
                self.say(f"job {job.pk} runs again (attempt {job.attempts}) on {job.worker_host}")
            self.seen[job.pk] = (job.error, job.attempts)


def follow(
    run: BenchmarkRun, *, progress: Progress, say: Say, timeout_s: float | None = None
) -> None:
    """Send the run's jobs to RQ and wait until all have ended (or ``timeout_s`` passed).

    Every ``RQ_CHECK_S`` it brings RQ in line with the rows (``reconcile``). Redis going
    away is waited out and said; so are a queue that no worker listens on and a job put
    back in line (its worker died).
    """
    until = deadline(timeout_s)
    waiting = Waiting(say)
    redis_lost_at = None
    next_check = 0.0
    news = JobNews(say)
    while True:
        progress(finished_count(run))
        pending = unfinished_jobs(run=run)
        if not pending or time.monotonic() > until:
            return
        news(pending)
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + RQ_CHECK_S
            try:
                connection = rq_connection()
                events = reconcile(pending, connection=connection)
                idle = idle_queues(pending, connection=connection)
            except RedisError as exc:
                redis_lost_at = redis_lost_at or time.monotonic()
                waiting(
                    "redis",
                    f"waiting for Redis at {_address(rq_connection())} ({one_line(exc)}); "
                    f"{len(pending)} jobs unfinished, sent again once it answers",
                )
                time.sleep(POLL_S)
                continue
            if redis_lost_at is not None:
                say(f"Redis answers again after {time.monotonic() - redis_lost_at:.0f} s")
                redis_lost_at = None
            for line in events:
                say(line)
            waiting(
                ",".join(idle),
                "; ".join(missing_worker_message(settings.ARENA_ENVS_DIR, q) for q in idle),
            )
        time.sleep(POLL_S)


def reconcile(pending: list[Job], *, connection: Redis) -> list[str]:
    """Bring RQ in line with the rows of unfinished jobs; returns what it did, a line each.

    Runs RQ's abandoned-job handling first. Then each job that no live process holds
    and RQ will not deliver (never sent, vanished, or finished without recording) is
    sent again, and one RQ gave up on is recorded as failed. The command following a
    run and every worker's maintenance reconcile; they take turns (``RECONCILE_LOCK``),
    since two sending the same job would have RQ deliver it twice.
    """
    lock = connection.lock(RECONCILE_LOCK, timeout=RECONCILE_LOCK_S)
    if not lock.acquire(blocking_timeout=RECONCILE_LOCK_S):
        return []  # another process has held it this long: its turn does the work
    try:
        return _reconcile(pending, connection=connection)
    finally:
        with contextlib.suppress(LockError):  # expired: nobody else's turn is cut short
            lock.release()


def _reconcile(pending: list[Job], *, connection: Redis) -> list[str]:
    events = []
    clean_abandoned(connection)
    ids = [job.pk for job in pending]
    rq_jobs = dict(
        zip(
            ids,
            RQJob.fetch_many([rq_job_id(job) for job in pending], connection=connection),
            strict=True,
        )
    )
    # Rows read after RQ (and after the abandoned-job handling, which may put some back
    # in line): a job that ended in between reads as ended, not as one RQ lost.
    rows = unheld_unfinished_jobs(job_ids=ids)
    unsent, vanished = [], []
    for job in rows:
        rq_job = rq_jobs[job.pk]
        state = rq_job.get_status(refresh=False) if rq_job else None
        if state in LIVE_RQ_STATES:
            continue
        if state in LOST_RQ_STATES:
            outcome = rq_job.latest_result()
            job_fail(
                job_id=job.pk,
                error=f"RQ marked the job {RQStatus(state).value}",
                traceback=(outcome.exc_string or "") if outcome else "",
            )
            events.append(f"job {job.pk}: RQ marked it {RQStatus(state).value}")
            continue
        (vanished if job.rq_job_id else unsent).append(job)
    enqueue(unsent + vanished, connection=connection)
    if unsent:
        events.append(f"sent {len(unsent)} jobs to RQ")
    if vanished:
        events.append(f"sent again {len(vanished)} jobs whose RQ job had vanished")
    return events


def enqueue(jobs: list[Job], *, connection: Redis | None = None) -> None:
    """Send jobs to the RQ queue their model names (device and worker environment)."""
    retry = Retry(max=settings.ARENA_JOB_RETRIES) if settings.ARENA_JOB_RETRIES else None
    for job in jobs:
        in_rq = job.queue in settings.ARENA_QUEUES
        name = job.queue if in_rq else job.model.queue_for(job.task.slug)
        django_rq.get_queue(name, connection=connection).enqueue(
            execute_job,
            job.pk,
            job_id=rq_job_id(job),
            job_timeout=math.ceil(job_time_limit_s(spec_or_placeholder(job.task.function)))
            + RQ_GRACE_S,
            retry=retry,
            on_failure=Callback(job_abandoned),
            description=str(job),
        )
        job_enqueued(job_id=job.pk, queue=name, rq_job_id=rq_job_id(job))


def clean_abandoned(connection: Redis) -> None:
    """Run RQ's abandoned-job handling on the arena's queues now.

    A job whose worker stopped sending heartbeats is re-run while RQ has retries left,
    else failed; ``job_abandoned`` records either on the row.
    """
    for name in settings.ARENA_QUEUES:
        StartedJobRegistry(name, connection=connection).cleanup()


def job_abandoned(rq_job: RQJob, connection: Redis, exc_type, exc_value, traceback) -> None:
    """RQ's failure callback: a job whose worker died goes back in line or fails.

    Other failures are the job function's, which recorded them itself.
    """
    if not (isinstance(exc_type, type) and issubclass(exc_type, AbandonedJobError)):
        return
    job_id = rq_job.args[0]
    if rq_job.retries_left:
        job_requeue(job_id=job_id, reason="its worker died; RQ runs it again")
    else:
        job_fail(job_id=job_id, error="its worker died, and RQ has no retries left")


def idle_queues(pending: list[Job], *, connection: Redis) -> list[str]:
    """Queues that hold some of ``pending`` but that no live worker listens on."""
    names = sorted({job.queue for job in pending if job.queue in settings.ARENA_QUEUES})
    listened = {q.name for worker in Worker.all(connection=connection) for q in worker.queues}
    return [name for name in names if name not in listened]


def _address(connection: Redis) -> str:
    kwargs = connection.connection_pool.connection_kwargs
    return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
