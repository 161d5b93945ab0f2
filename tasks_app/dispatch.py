"""Run a benchmark run's jobs, on RQ queues (REDIS_URL set) or in this process.

The database is the source of truth. A job row is queued, running (only while the
process running it renews its lease), interrupted, done or failed, and the job function
claims the row before it computes (``services.job_start``), so a job delivered twice
runs once. RQ only delivers jobs; whatever happens to a worker, to Redis or to the
process following the run, every job ends or is run again:

- a worker that dies mid-job stops sending heartbeats (``tasks_app.worker``); RQ's
  abandoned-job handling (``StartedJobRegistry.cleanup``, run by workers and by
  ``follow``) re-runs the job with RQ's retries, and ``job_abandoned`` puts its row back
  in line, or fails it when no retry is left;
- an unfinished job whose RQ job vanished (Redis lost its data, or the process that
  planned it died before sending it) is sent again from its row (``reconcile``);
- a run interrupted in-process leaves its jobs interrupted, and a re-run of the same
  keys or ``run_benchmark --resume`` takes them up.

The seams: ``run_jobs`` picks the mode; ``run_in_process`` is one runner taking the
run's jobs one at a time (runners in other processes may share the run, as the local
workers of ``tasks_app.local_workers`` do); ``reconcile``
and ``enqueue`` are the RQ side, which ``follow`` and the workers' maintenance call.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, MutableSequence
from dataclasses import dataclass, field

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
from tasks_app.jobs import execute_job
from tasks_app.models import UNFINISHED, BenchmarkRun, Job, JobStatus
from tasks_app.selectors import (
    job_status,
    lease_held,
    next_claimable_job,
    run_status_counts,
    unfinished_jobs,
)
from tasks_app.services import job_enqueued, job_fail, job_requeue, jobs_interrupt
from tasks_app.time_limits import RQ_GRACE_S, RunTimeUp, job_time_limit_s, time_limit

Progress = Callable[[int], None]  # called with the number of finished jobs so far
Say = Callable[[str], None]  # one line about what the run is waiting for
POLL_S = 0.5
RQ_CHECK_S = 2.0  # how often ``follow`` brings RQ in line with the rows
LIVE_RQ_STATES = {RQStatus.QUEUED, RQStatus.STARTED, RQStatus.SCHEDULED, RQStatus.DEFERRED}
LOST_RQ_STATES = {RQStatus.FAILED, RQStatus.STOPPED, RQStatus.CANCELED}
RECONCILE_LOCK = "arena:reconcile"
RECONCILE_LOCK_S = 10  # a turn takes milliseconds; a holder that died frees it after this


def uses_rq() -> bool:
    return bool(settings.REDIS_URL)


def run_jobs(
    run: BenchmarkRun,
    *,
    progress: Progress,
    say: Say,
    timeout_s: float | None = None,
    workers: int = 1,
) -> None:
    """Run every unfinished job of ``run``; return when all have ended or time ran out.

    Without Redis, ``workers`` local processes share the jobs (this one among them).
    """
    if uses_rq():
        follow(run, progress=progress, say=say, timeout_s=timeout_s)
    elif workers > 1:
        from tasks_app.local_workers import run_with_workers

        run_with_workers(run, workers=workers, progress=progress, say=say, timeout_s=timeout_s)
    else:
        run_in_process(run, progress=progress, say=say, timeout_s=timeout_s)


class Waiting:
    """Says a line when what the run waits for changes, not on every poll."""

    def __init__(self, say: Say) -> None:
        self.said = ""
        self.say = say

    def __call__(self, reason: str, line: str) -> None:
        if reason != self.said:
            self.said = reason
            if line:
                self.say(line)


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


def finished_count(run: BenchmarkRun) -> int:
    """Jobs of the run in a final state (any state but the unfinished ones)."""
    counts = run_status_counts(run=run)
    return sum(n for state, n in counts.items() if state not in UNFINISHED)


def _deadline(timeout_s: float | None) -> float:
    return time.monotonic() + timeout_s if timeout_s else float("inf")


# In-process --------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """This process's place among a run's local workers (``run_benchmark --workers``).

    ``held`` is shared memory with the job each worker holds (0: none), so that no
    worker waits, or says it waits, for its siblings' jobs as for another process's;
    ``models_first`` spreads the workers over the run's models, so that each loads few.
    """

    index: int = 0
    held: MutableSequence[int] = field(default_factory=lambda: [0])
    models_first: tuple[int, ...] = ()

    def hold(self, job_id: int) -> None:
        self.held[self.index] = job_id

    def siblings_hold(self) -> set[int]:
        return {job for i, job in enumerate(self.held) if job and i != self.index}


def run_in_process(
    run: BenchmarkRun,
    *,
    progress: Progress,
    say: Say,
    timeout_s: float | None = None,
    share: Share | None = None,
) -> None:
    """Take the run's jobs one at a time in this process until none is left unfinished.

    Jobs another process is running (a concurrent run of the same keys, or a sibling
    worker of this run) are waited for, and taken over once that process stops
    renewing their lease. Interrupted (Ctrl-C, SIGTERM) or out of time, the job in hand
    and the run's own queued jobs are marked interrupted, so that nothing reads as
    running or waiting for this process, and a re-run takes them up.
    """
    share = share or Share()
    deadline = _deadline(timeout_s)
    waiting = Waiting(say)
    current = None
    try:
        while True:
            if time.monotonic() > deadline:
                interrupt(run, None)
                return
            current = next_claimable_job(run=run, models_first=share.models_first)
            if current is not None:
                share.hold(current)  # before the claim, so siblings never see it unheld
                try:
                    with time_limit(_left(deadline), error=RunTimeUp):
                        execute_job(current)
                except Exception:
                    if job_status(job_id=current) in UNFINISHED:
                        raise  # not the job's failure (it would be recorded): a database error
                share.hold(0)
                current = None
                progress(finished_count(run))
                continue
            pending = unfinished_jobs(run=run)
            if not pending:
                return
            ids = [job.pk for job in pending if job.pk not in share.siblings_hold()]
            waiting(
                str(ids),
                f"waiting for {len(ids)} jobs another process is running (job {ids[0]}, ...)"
                if ids
                else "",
            )
            time.sleep(POLL_S)
    except RunTimeUp:
        interrupt(run, current)
        say(f"--timeout passed: job {current} stopped and left interrupted")
    except BaseException:
        interrupt(run, current)
        raise


def _left(deadline: float) -> float | None:
    """Seconds until ``deadline`` (at least a millisecond), None when there is none."""
    return None if math.isinf(deadline) else max(deadline - time.monotonic(), 1e-3)


def interrupt(run: BenchmarkRun, current: int | None) -> int:
    """Mark the job this process was running, and the run's own queued jobs, interrupted."""
    queued = [j.pk for j in unfinished_jobs(run=run) if j.run_id == run.pk and j.queue == "inline"]
    return jobs_interrupt(
        job_ids=[*queued, *([current] if current else [])],
        reason=f"run {run.pk} was interrupted; run_benchmark --resume {run.pk} goes on",
    )


# RQ ----------------------------------------------------------------------------------


def rq_connection() -> Redis:
    return django_rq.get_connection("default")


def rq_job_id(job: Job) -> str:
    """One RQ job id per job row, so that sending a job twice enqueues the same RQ job."""
    return f"arena-job-{job.pk}"


def follow(
    run: BenchmarkRun, *, progress: Progress, say: Say, timeout_s: float | None = None
) -> None:
    """Send the run's jobs to RQ and wait until all have ended (or ``timeout_s`` passed).

    Every ``RQ_CHECK_S`` it brings RQ in line with the rows (``reconcile``). Redis going
    away is waited out and said; so are a queue that no worker listens on and a job put
    back in line (its worker died).
    """
    deadline = _deadline(timeout_s)
    waiting = Waiting(say)
    redis_lost_at = None
    next_check = 0.0
    news = JobNews(say)
    while True:
        progress(finished_count(run))
        pending = unfinished_jobs(run=run)
        if not pending or time.monotonic() > deadline:
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
    rows = list(
        Job.objects.filter(pk__in=ids, status__in=UNFINISHED)
        .exclude(lease_held())
        .select_related("model", "task")
    )
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
            job_timeout=math.ceil(job_time_limit_s(job.task.function)) + RQ_GRACE_S,
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
