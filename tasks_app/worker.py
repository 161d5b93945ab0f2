"""The RQ worker the arena runs: a SimpleWorker that takes its share of the host's cores.

SimpleWorker runs each job in the worker process itself, so a model's calculator is
loaded once and reused. Before its first job the worker limits its compute threads to
ARENA_WORKER_THREADS, or to the host's cores divided by the workers on the host
(ARENA_WORKERS_PER_HOST, else the live workers Redis knows on this host), and logs it.
"""

from __future__ import annotations

import socket

from django.conf import settings
from rq.worker import SimpleWorker

from compute.threads import apply_threads, threads_per_worker, usable_cores


class ArenaWorker(SimpleWorker):
    def work(self, *args, **kwargs) -> bool:
        self.configure_threads()
        return super().work(*args, **kwargs)

    def configure_threads(self) -> None:
        cores = usable_cores()
        workers = settings.ARENA_WORKERS_PER_HOST or 1 + self.other_workers_on_host()
        threads = settings.ARENA_WORKER_THREADS or threads_per_worker(cores=cores, workers=workers)
        chosen = apply_threads(threads)
        self.log.info(
            "compute threads: %d (%d cores, %d workers on this host): %s",
            threads,
            cores,
            workers,
            ", ".join(f"{pool} {n}" for pool, n in chosen.items()),
        )

    def other_workers_on_host(self) -> int:
        host = socket.gethostname()
        return sum(
            1
            for worker in self.all(connection=self.connection)
            if worker.hostname == host and worker.name != self.name
        )
