"""Run a run's jobs the way this deployment runs them: on RQ queues (REDIS_URL set),
in local worker processes, or in this process."""

from __future__ import annotations

from tasks_app.execution.in_process import run_in_process
from tasks_app.execution.local_workers import run_with_workers
from tasks_app.execution.progress import Progress, Say
from tasks_app.execution.rq import follow, uses_rq
from tasks_app.models import BenchmarkRun


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
        run_with_workers(run, workers=workers, progress=progress, say=say, timeout_s=timeout_s)
    else:
        run_in_process(run, progress=progress, say=say, timeout_s=timeout_s)
