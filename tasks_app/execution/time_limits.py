"""A job's time limit: the task's ``time_limit_s`` (capped by ARENA_TIME_LIMIT_S), held by
the job's own real-time timer in-process, in local workers and on RQ alike; and a run's
``--timeout``, which stops the job in hand in-process."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

from compute.tasks.spec import TaskSpec


class TimeLimitExceeded(BaseException):
    """The job ran past its task's time limit; a re-run goes on from its last checkpoint.

    A BaseException, as KeyboardInterrupt is, so that no ``except Exception`` in a task
    or a model's code takes it for the model's error (an MD run would record it as a
    calculator failure). RQ's own timeout is such an Exception, hence this timer under
    RQ too, with RQ's as a later backstop (``RQ_GRACE_S``).
    """


class RunTimeUp(BaseException):
    """``run_benchmark --timeout`` passed while a job ran in this process: the job is left
    interrupted (not failed), for ``--resume``."""


RQ_GRACE_S = 60  # RQ's job timeout is the task's limit plus this


def job_time_limit_s(spec: TaskSpec) -> float:
    """Seconds a job of ``spec``'s task may run: the task's limit, capped by
    ARENA_TIME_LIMIT_S when that is set."""
    limit = spec.time_limit_s
    cap = settings.ARENA_TIME_LIMIT_S
    return min(limit, cap) if cap else limit


@contextmanager
def time_limit(
    seconds: float | None, error: type[BaseException] = TimeLimitExceeded
) -> Iterator[None]:
    """Raise ``error`` in this thread after ``seconds`` of real time; no limit for None,
    or off the main thread, where no signal lands.

    A timer that expires during a database query raises once the query has returned, so
    that no connection is left with half a protocol exchange or an aborted transaction.
    A timer already running (RQ's job timeout, a run's --timeout: the process has one
    real-time timer) still fires first when it is due first, and is put back after, less
    the time spent.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    message = f"time limit of {seconds:g} s exceeded"
    queries = 0  # queries under way in this thread
    expired = False
    previous = signal.getsignal(signal.SIGALRM)
    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    outer_first = bool(outer_left) and outer_left < seconds and callable(previous)

    def expire(signum: int, frame: object) -> None:
        nonlocal expired, outer_left, outer_first
        if outer_first:
            outer_left, outer_first = 0, False  # it fired: nothing to put back
            previous(signum, frame)  # raises, as a limit does; if not, ours goes on
            signal.setitimer(signal.ITIMER_REAL, max(seconds - (time.monotonic() - started), 1e-3))
            return
        expired = True
        if not queries:
            raise error(message)

    def around_query(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        nonlocal queries
        queries += 1
        try:
            return execute(sql, params, many, context)
        finally:
            queries -= 1
            if expired and not queries:
                raise error(message)

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, outer_left if outer_first else seconds)
    started = time.monotonic()
    try:
        with connection.execute_wrapper(around_query):
            yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:
            signal.setitimer(
                signal.ITIMER_REAL, max(outer_left - (time.monotonic() - started), 1e-3)
            )
