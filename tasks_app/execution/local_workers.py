"""Local worker processes for in-process runs: ``run_benchmark --workers N`` without Redis.

This process is one of the N workers; the others are child processes started afresh
(``spawn``: no forked torch or database state), each with its share of the cores. All
of them take the run's jobs through the same claim and lease as any runner
(``in_process.run_in_process``), so a job is computed once, and a worker that dies leaves
its job to be taken over by another once its lease runs out. Each worker starts with a
different model of the run and stays with it while it has jobs, so that it loads few.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from multiprocessing.process import BaseProcess

from django.conf import settings
from django.db import connection

from compute.threads import apply_threads, threads_per_worker, usable_cores
from tasks_app.execution import spawned
from tasks_app.execution.heartbeat import every
from tasks_app.execution.in_process import Share, run_in_process
from tasks_app.execution.progress import POLL_S, Progress, Say, finished_count
from tasks_app.selectors import lease_seconds, run_model_ids, unfinished_jobs

STOP_S = 30.0  # how long an interrupted worker may take to mark its job interrupted


def default_workers() -> int:
    """ARENA_LOCAL_WORKERS, or one worker per usable core."""
    return settings.ARENA_LOCAL_WORKERS or usable_cores()


def local_worker_count(*, run, requested: int | None) -> tuple[int, str]:
    """How many local workers run ``run``'s jobs, and why fewer than ``requested`` when so.

    ``requested`` (None: ``default_workers``), but no more than the unfinished jobs, and
    one where other processes could not see the run's rows.
    """
    wanted = requested or default_workers()
    count = max(1, min(wanted, len(unfinished_jobs(run=run))))
    reason = why_not_shared() if count > 1 else ""
    if reason:
        return 1, f"one worker: {reason}"
    return count, ""


def why_not_shared() -> str:
    """Why processes started now could not see this process's rows; '' when they can."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return "the database is in memory"
    if connection.in_atomic_block:
        return "the run's rows are inside an open transaction"
    return ""


def worker_threads(workers: int) -> int:
    """Compute threads of each of ``workers`` processes: ARENA_WORKER_THREADS, or a share."""
    return settings.ARENA_WORKER_THREADS or threads_per_worker(
        cores=usable_cores(), workers=workers
    )


def run_with_workers(
    run, *, workers: int, progress: Progress, say: Say, timeout_s: float | None = None
) -> None:
    """Run the run's jobs in ``workers`` processes, this one included; return when none is
    left unfinished (or time ran out). A worker that dies is said; its job is run again
    by another once its lease runs out. Interrupted, every worker marks its job
    interrupted, as a single process does."""
    threads = worker_threads(workers)
    grows = not settings.ARENA_WORKER_THREADS  # into idle siblings' cores (ThreadShare)
    models = run_model_ids(run=run)
    context = multiprocessing.get_context("spawn")
    held = context.Array("q", workers, lock=False)
    database = dict(connection.settings_dict)  # as the command sees it (a test's database too)
    children = [
        context.Process(
            target=spawned.work,
            args=(
                database,
                run.pk,
                index,
                held,
                rotated(models, index),
                threads,
                grows,
                timeout_s,
            ),
            name=f"arena run {run.pk} worker {index}",
        )
        for index in range(1, workers)
    ]
    for child in children:
        child.start()
    apply_threads(threads)
    watch = Watch(run, children, held, progress, say)
    try:
        with every(POLL_S, watch, name=f"run {run.pk} workers"):
            run_in_process(
                run,
                progress=lambda _: None,
                say=say,
                timeout_s=timeout_s,
                share=Share(
                    index=0,
                    held=held,
                    models_first=rotated(models, 0),
                    threads=threads,
                    grows=grows,
                ),
            )
    finally:
        # Every job has ended, or this process was interrupted or ran out of time: the
        # others stop too (one still starting has nothing to do; one holding a job marks
        # it interrupted, as this process did).
        stop(children)
    progress(finished_count(run))


def rotated(models: list[int], index: int) -> tuple[int, ...]:
    """The run's models, starting with worker ``index``'s own."""
    if not models:
        return ()
    start = index % len(models)
    return tuple(models[start:] + models[:start])


def stop(children: list[BaseProcess]) -> None:
    """Stop the child workers (SIGTERM, SIGKILL after STOP_S) and reap them."""
    for child in children:
        if child.is_alive():
            with contextlib.suppress(ProcessLookupError):
                child.terminate()
    for child in children:
        child.join(STOP_S)
        if child.is_alive():
            child.kill()
            child.join()


class Watch:
    """The command's view of its workers, every POLL_S: the progress bar, and a line for
    each worker that died."""

    def __init__(self, run, children: list[BaseProcess], held, progress: Progress, say: Say):
        self.run = run
        self.children = children
        self.held = held
        self.progress = progress
        self.say = say
        self.said: set[int] = set()

    def __call__(self) -> None:
        self.progress(finished_count(self.run))
        for index, child in enumerate(self.children, start=1):
            if child.exitcode in (None, 0) or index in self.said:
                continue
            self.said.add(index)
            job, self.held[index] = self.held[index], 0
            killed = child.exitcode < 0  # no handler ran: its lease has to run out
            line = f"worker {index} (pid {child.pid}) stopped: "
            line += f"signal {-child.exitcode}" if killed else f"exit {child.exitcode}"
            if job:
                line += f"; job {job} goes to another worker"
                line += f" once its lease runs out ({lease_seconds():.0f} s)" if killed else ""
            self.say(line)
