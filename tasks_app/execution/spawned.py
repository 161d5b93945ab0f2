"""The entry point of a local worker process (``run_benchmark --workers``).

A spawned process imports this module before Django is set up, so it imports nothing
of Django at the top.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
from collections.abc import MutableSequence

PR_SET_PDEATHSIG = 1  # prctl(2)


def work(
    database: dict,
    run_id: int,
    index: int,
    held: MutableSequence[int],
    models_first: tuple[int, ...],
    threads: int,
    grows: bool,
    timeout_s: float | None,
) -> None:
    """Take run ``run_id``'s jobs until none is left, as worker ``index`` of the run's
    local workers, on the command's ``database`` (its connection settings), with
    ``threads`` compute threads (more while its siblings are idle, where it ``grows``);
    SIGINT or SIGTERM interrupts it as Ctrl-C does the command, also while it is still
    starting."""
    _begin()
    try:
        # Imported here, not at the top: a spawned process starts bare, and Django (with
        # the command's database) must be set up before any model is imported.
        import django
        from django.conf import settings

        settings.DATABASES["default"] = database
        django.setup()
        from django.db import connection

        from compute.threads import apply_threads
        from tasks_app.execution.in_process import Share, run_in_process
        from tasks_app.selectors import run_by_id

        apply_threads(threads)
        try:
            run_in_process(
                run_by_id(run_id),
                progress=lambda _: None,
                say=lambda _: None,
                timeout_s=timeout_s,
                share=Share(index, held, models_first, threads, grows),
            )
        finally:
            connection.close()
    except KeyboardInterrupt:
        sys.exit(130)
    # Every job has ended and the connection is closed: leave at once. Tearing down torch
    # and a model takes the interpreter about a second, which the command would wait out.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _begin() -> None:
    """What a worker sets up before Django: its signals, its parent's death, tqdm's lock."""
    signal.signal(signal.SIGINT, _interrupted)
    signal.signal(signal.SIGTERM, _interrupted)
    _stop_with_parent()
    _thread_lock_for_progress_bars()


def _thread_lock_for_progress_bars() -> None:
    """Give tqdm a thread lock, before any library draws a bar (e3nn does, building
    SevenNet): its default lock includes a multiprocessing semaphore, which this worker's
    ``os._exit`` would leave for the resource tracker to report as leaked. Nothing else
    writes bars to this process's output, so no other process needs the lock."""
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())


def _stop_with_parent() -> None:
    """SIGTERM this worker when the command dies (Linux), even by SIGKILL: the command's
    run stops as a whole, and a re-run or ``--resume`` takes up its jobs."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the command died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _interrupted(signum, frame) -> None:
    """The first SIGINT or SIGTERM interrupts; later ones (Ctrl-C reaches every process of
    the terminal, then the command stops its workers too) let the interrupt finish."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt
