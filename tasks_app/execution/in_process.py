"""One runner taking a run's jobs one at a time in this process (or a few together,
where their task runs several structures in one batched call: ``execution.job``).

Runners in other processes may share the run, as the local workers of
``tasks_app.execution.local_workers`` do: each claims a job (``services.job_start``)
before it computes, so a job is computed once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import MutableSequence
from dataclasses import dataclass, field

from compute.threads import SHARE, usable_cores
from tasks_app.execution.heartbeat import every
from tasks_app.execution.job import claim_jobs, execute_claimed
from tasks_app.execution.progress import (
    POLL_S,
    Progress,
    Say,
    Waiting,
    deadline,
    finished_count,
    left,
)
from tasks_app.execution.time_limits import RunTimeUp, time_limit
from tasks_app.models import UNFINISHED, BenchmarkRun
from tasks_app.selectors import batch_mates, job_status, next_claimable_job, unfinished_jobs
from tasks_app.services import jobs_interrupt


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
    threads: int = 0  # its share of the cores (0: a lone process, threads left as they are)
    grows: bool = True  # into the cores of idle siblings (not with ARENA_WORKER_THREADS)

    def hold(self, job_id: int) -> None:
        self.held[self.index] = job_id

    def busy(self) -> int:
        """Workers of the run holding a job, this one included."""
        return max(1, sum(1 for job in self.held if job))

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
    renewing their lease. Interrupted (Ctrl-C, SIGTERM) or out of time, the jobs in hand
    and the run's own queued jobs are marked interrupted, so that nothing reads as
    running or waiting for this process, and a re-run takes them up.
    """
    share = share or Share()
    until = deadline(timeout_s)
    waiting = Waiting(say)
    current: list[int] = []  # the jobs this process holds
    try:
        while True:
            if time.monotonic() > until:
                interrupt(run, [])
                return
            first = next_claimable_job(run=run, models_first=share.models_first)
            if first is not None:
                share.hold(first)  # before the claim, so siblings never see it unheld
                current = [first, *batch_mates(job_id=first, run=run)]  # held while claimed
                current = claim_jobs(current)
                try:
                    with time_limit(left(until), error=RunTimeUp), cores_while_running(share):
                        if current:
                            execute_claimed(current)
                except Exception:
                    if any(job_status(job_id=job) in UNFINISHED for job in current):
                        raise  # not the jobs' failure (it would be recorded): a database error
                share.hold(0)
                current = []
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
        held = ", ".join(map(str, current))
        say(f"--timeout passed: job {held} stopped and left interrupted")
    except BaseException:
        interrupt(run, current)
        raise


def cores_while_running(share: Share) -> contextlib.AbstractContextManager:
    """While a job runs: its share of the cores, and the idle siblings' (``ThreadShare``)."""
    SHARE.start(share.threads, grows=share.grows)
    if not share.threads or len(share.held) < 2:
        return contextlib.nullcontext()
    cores = usable_cores()
    return every(POLL_S, lambda: SHARE.peers(busy=share.busy(), cores=cores), name="thread share")


def interrupt(run: BenchmarkRun, current: list[int]) -> int:
    """Mark the jobs this process was running, and the run's own queued jobs, interrupted."""
    queued = [j.pk for j in unfinished_jobs(run=run) if j.run_id == run.pk and j.queue == "inline"]
    return jobs_interrupt(
        job_ids=[*queued, *current],
        reason=f"run {run.pk} was interrupted; run_benchmark --resume {run.pk} goes on",
    )
