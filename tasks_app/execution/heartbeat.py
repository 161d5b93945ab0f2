"""Heartbeats: a background thread that calls ``beat`` every few seconds while work runs.

A running job's database lease and an RQ worker's heartbeats both ride on it, so that a
process that dies stops vouching for its job within one lease (three heartbeats).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import connection

from tasks_app.services import jobs_renew_lease

log = logging.getLogger(__name__)


@contextlib.contextmanager
def every(period_s: float, beat: Callable[[], object], *, name: str) -> Iterator[None]:
    """Call ``beat`` every ``period_s`` seconds in a daemon thread until the block ends.

    A beat that raises is logged and the next one tried: a heartbeat must outlive a
    short outage of what it reports to (Redis restarting, a database failover).
    """
    stop = threading.Event()

    def loop() -> None:
        try:
            while not stop.wait(period_s):
                try:
                    beat()
                except Exception as exc:
                    log.warning("%s heartbeat failed: %s", name, exc)
        finally:
            connection.close()  # this thread's own database connection, if it opened one

    thread = threading.Thread(target=loop, name=f"{name} heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def job_lease(*job_ids: int) -> contextlib.AbstractContextManager[None]:
    """Renew the jobs' leases while the block runs: they read as running only meanwhile."""
    return every(
        settings.ARENA_HEARTBEAT_S,
        lambda: jobs_renew_lease(job_ids=list(job_ids)),
        name=f"job {', '.join(map(str, job_ids))}",
    )
