"""The RQ worker class of ``rqworker`` (settings.RQ["WORKER_CLASS"])."""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta

from django.conf import settings
from redis.client import Pipeline
from redis.exceptions import RedisError
from rq import worker_registration
from rq.job import Job as RQJob
from rq.queue import Queue
from rq.utils import as_text, now, utcparse
from rq.worker import SimpleWorker, WorkerStatus

from compute.calculators import pick_device
from compute.threads import (
    SHARE,
    apply_threads,
    physical_device,
    threads_per_worker,
    usable_cores,
)
from tasks_app.execution.heartbeat import every
from tasks_app.execution.progress import POLL_S
from tasks_app.execution.rq import reconcile
from tasks_app.selectors import lease_seconds, unfinished_rq_jobs

REDIS_RETRY_S = 2.0
# Workers whose starts are this close all count each other from their first job. Two
# started at once on a busy 2-core host registered 2.5 s apart; loading torch to find
# the device takes about as long, so the wait is mostly hidden.
JOIN_S = 5.0
DEVICE_FIELD = "arena_device"  # in RQ's hash of each worker
# How often the listener for RQ's commands (stop a job, shut down) wakes without one: a
# command still arrives at once; this bounds how long stopping the listener waits.
PUBSUB_WAKE_S = 1.0


def lease_ttl() -> int:
    """A lease in whole seconds, as Redis TTLs are."""
    return max(1, round(lease_seconds()))


class ArenaWorker(SimpleWorker):
    """RQ's SimpleWorker (jobs run in the worker process, so models stay loaded) that
    a dead worker cannot stall:

    - while a job runs, a thread renews RQ's heartbeats every ARENA_HEARTBEAT_S with a
      TTL of three heartbeats, so RQ's abandoned-job handling finds a job whose worker
      died within that TTL, not after the job timeout (6 h) as SimpleWorker leaves it;
    - between jobs, RQ's maintenance (which runs that handling) comes every three
      heartbeats instead of every 10 minutes, and also sends again jobs whose RQ job
      vanished;
    - Redis going away during a job does not end the worker: the job's outcome is in
      the database, and the worker waits for Redis as it does between jobs; if Redis
      comes back without its data, the worker registers again.

    Before each job it takes its share of the host's cores: ARENA_WORKER_THREADS, or
    the cores divided by the workers on the host (ARENA_WORKERS_PER_HOST, else the live
    workers registered in Redis on this host, itself included), and logs it when it
    changes; a worker that joins or leaves changes the others' share at their next job.
    While its job runs, it takes the cores of workers on the host that are idle (no job:
    the end of a run) and gives them back once one is busy again (``ThreadShare``).
    It registers, then takes no job for JOIN_S, so that workers started together (by
    systemd, supervisord, a Procfile) count each other from their first job.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("maintenance_interval", lease_ttl())
        super().__init__(*args, **kwargs)
        self.device = ""  # as the calculators are given it: cpu, cuda, cuda:1
        self.device_id = ""  # as this host knows it (physical_device)
        # threads, workers on the host, and on its GPU: as last taken
        self.share: tuple[int, int, int] | None = None

    def bootstrap(self, *args, **kwargs) -> None:
        super().bootstrap(*args, **kwargs)
        self.device = pick_device(settings.ARENA_DEVICE)
        self.device_id = physical_device(self.device)
        self.connection.hset(self.key, DEVICE_FIELD, self.device_id)

    def check_for_suspension(self, burst: bool) -> None:
        # RQ asks this before each dequeue; a stop request ends the wait.
        wait_s = JOIN_S - (now() - self.birth_date).total_seconds()
        if wait_s > 0:
            time.sleep(wait_s)
        super().check_for_suspension(burst)

    def subscribe(self) -> None:
        """RQ's, with a listener that wakes every PUBSUB_WAKE_S instead of 60 s.

        redis-py 8's ``PubSubWorkerThread.stop`` waits for the listener to end, and RQ's
        teardown unsubscribes first: a listener that read the confirmation before its
        stop flag was cleared then waited out its 60 s for a subscription, and a worker
        told to stop (SIGTERM, systemd, a test's teardown) took a minute to exit about one
        time in three.
        """
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_WAKE_S, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def serialize(self) -> dict:
        return {**super().serialize(), DEVICE_FIELD: self.device_id}

    def take_share(self) -> None:
        """Limit this process's compute threads to its share of the host's cores."""
        cores = usable_cores()
        devices = self.host_devices()
        workers = settings.ARENA_WORKERS_PER_HOST or len(devices)
        threads = settings.ARENA_WORKER_THREADS or threads_per_worker(cores=cores, workers=workers)
        sharing = devices.count(self.device_id) if self.device != "cpu" else 0
        share = (threads, workers, sharing)
        # The job may take the cores of idle workers on the host, where no setting fixes
        # the share and it computes on the CPU (ThreadShare).
        fixed = settings.ARENA_WORKER_THREADS or settings.ARENA_WORKERS_PER_HOST
        SHARE.start(threads, grows=not fixed and self.device == "cpu")
        if share == self.share:
            return
        self.share = share
        chosen = apply_threads(threads)
        self.log.info(
            "compute threads: %d (%d cores, %d workers on this host): %s",
            threads,
            cores,
            workers,
            ", ".join(f"{pool} {n}" for pool, n in chosen.items()),
        )
        if self.device != "cpu":
            self.log.info(
                "device %s (%s): %d workers on this host share it, each with its own copy "
                "of its models in the device's memory; their kernels take turns",
                self.device,
                self.device_id,
                sharing,
            )

    def host_devices(self) -> list[str]:
        """The device of each live worker registered on this host, this one included."""
        return [as_text(device or b"") for device, _ in self.host_workers()]

    def busy_on_host(self) -> int:
        """Live workers on this host running a job, this one included."""
        busy = sum(as_text(state or b"") == WorkerStatus.BUSY for _, state in self.host_workers())
        return max(1, busy)

    def host_workers(self) -> list[tuple[bytes | None, bytes | None]]:
        """(device, RQ state) of each live worker registered on this host.

        Live: a heartbeat within two leases and a join window (an idle worker sends one
        every lease), so a worker killed without deregistering stops counting within
        a minute, where RQ keeps an idle worker's key for eight.
        """
        keys = worker_registration.get_keys(connection=self.connection)
        with self.connection.pipeline() as pipeline:
            for key in keys:
                pipeline.hmget(key, "hostname", "last_heartbeat", DEVICE_FIELD, "state")
            fields = pipeline.execute()
        live = now() - timedelta(seconds=2 * lease_ttl() + JOIN_S)
        return [
            (device, state)
            for host, heartbeat, device, state in fields
            if host is not None
            and as_text(host) == self.hostname
            and utcparse(as_text(heartbeat)) >= live
        ]

    def report_peers(self) -> None:
        """Tell this process's ThreadShare how many workers on the host are busy (nothing
        while Redis is away: the heartbeat says so, and the share stays as it is)."""
        with contextlib.suppress(RedisError):
            SHARE.peers(busy=self.busy_on_host(), cores=usable_cores())

    @property
    def dequeue_timeout(self) -> int:
        # An idle worker wakes this often to run its maintenance (RQ's: worker_ttl - 15 s).
        return lease_ttl()

    def get_heartbeat_ttl(self, job: RQJob, working_time: float = 0.0) -> int:
        return lease_ttl()

    def execute_job(self, job: RQJob, queue: Queue) -> None:
        try:
            self.take_share()
            execution = self.prepare_execution(job)
            with (
                every(
                    settings.ARENA_HEARTBEAT_S,
                    lambda: self.maintain_heartbeats(job, execution),
                    name=f"RQ job {job.id}",
                ),
                every(POLL_S, self.report_peers, name="thread share"),
            ):
                self.perform_job(job, queue, execution)
            self.set_state(WorkerStatus.IDLE)
        except RedisError as exc:
            self.log.warning(
                "Redis went away around job %s (%s); its row holds the outcome", job.id, exc
            )
            self.wait_for_redis()

    def wait_for_redis(self) -> None:
        """Block until Redis answers again, as RQ's dequeue does between jobs: the next
        steps of RQ's loop (heartbeat, suspension check) would otherwise end the worker."""
        while True:
            try:
                self.connection.ping()
                return
            except RedisError:
                time.sleep(REDIS_RETRY_S)

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        if pipeline is not None:
            super().heartbeat(timeout, pipeline=pipeline)
            return
        try:
            if self.birth_date and not self.connection.sismember(self.redis_workers_keys, self.key):
                self.log.warning("Redis lost this worker's registration; registering again")
                self.last_heartbeat = now()
                self.connection.hset(self.key, mapping=self.serialize())
                worker_registration.register(self)
            super().heartbeat(timeout)
        except RedisError as exc:
            # After a job that ended while Redis was away; the dequeue that follows waits
            # for Redis (RQ retries it) instead of the worker quitting on this error.
            self.log.warning("heartbeat: Redis went away (%s)", exc)

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            for line in reconcile(unfinished_rq_jobs(), connection=self.connection):
                self.log.info("maintenance: %s", line)
        except RedisError as exc:
            self.log.warning("maintenance: Redis went away (%s)", exc)
