"""Real processes for fault tests and bench/faults.py: a private Redis, RQ workers,
run_benchmark, and what the database holds afterwards.

Nothing here is mocked: a Redis server on its own port (never the shared one), workers
and run_benchmark as ``manage.py`` child processes sharing one PostgreSQL database.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from tests.serving import free_port

ROOT = Path(__file__).resolve().parents[2]
SLOW_SUPERCELL = 4  # Cu 4×4×4 cubic (256 atoms): an EMT EOS job of several seconds


def arena_env(database_url: str, redis_url: str = "", heartbeat_s: float = 1.0) -> dict[str, str]:
    """The environment of every arena process in a scenario."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ARENA_HEARTBEAT_S": str(heartbeat_s),
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str, poll_s: float = 0.1):
    """Poll ``condition`` until it returns something true; return it or raise naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll_s)
    raise TimeoutError(f"{what}: not within {timeout_s:.0f} s")


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Process:
    """A ``manage.py`` child process with its output in a temporary file."""

    def __init__(self, args: Sequence[str], env: dict[str, str]) -> None:
        self.args = list(args)
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by stop)
        self.popen = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            # A suite started in the background (``&``, CI with no terminal) ignores
            # SIGINT, and the child would inherit that: Ctrl-C must reach it.
            preexec_fn=_default_sigint,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def signal(self, sig: int) -> None:
        if self.popen.poll() is None:
            os.kill(self.popen.pid, sig)

    def wait(self, timeout_s: float) -> int:
        return self.popen.wait(timeout=timeout_s)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        """Stop the process; always reaped. See ``stop_process``."""
        stop_process(self.popen)
        self.log.close()


def stop_process(popen: subprocess.Popen) -> None:
    """SIGTERM; a second SIGTERM after 3 s (an RQ worker busy with a job waits for it on
    the first, and stops at once, its work horse killed, on the second); SIGKILL after 15 s.

    A test's teardown has no use for the job a busy worker is running: waiting for it
    cost 20 s per busy worker."""
    for sig, wait_s in ((signal.SIGTERM, 3), (signal.SIGTERM, 12)):
        if popen.poll() is not None:
            return
        popen.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=wait_s)
    if popen.poll() is None:
        popen.kill()
        popen.wait()


def worker(env: dict[str, str]) -> Process:
    return Process(["rqworker", "gpu.main", "cpu.main"], env)


def run_benchmark(*args: str, env: dict[str, str]) -> Process:
    return Process(["run_benchmark", *args], env)


class RedisServer:
    """A redis-server of our own on a free port; ``persistent`` keeps its data in an
    append-only file across restarts."""

    def __init__(self, directory: Path, *, persistent: bool) -> None:
        self.directory = directory
        self.persistent = persistent
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.directory),
                "--save", "",
                "--appendonly", "yes" if self.persistent else "no",
                "--appendfsync", "always",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port)
        wait_for(lambda: _answers(client), 20, f"redis-server on port {self.port}")

    def stop(self) -> None:
        """Shut the server down (SIGTERM: it writes its append-only file if it keeps one)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)

    def restart(self, down_s: float) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.exceptions.ConnectionError:
        return False


def slow_structures(count: int) -> list[tuple[str, Any, dict]]:
    """``count`` rattled Cu supercells, each an EMT EOS job of several seconds."""
    from ase.build import bulk

    structures = []
    for index in range(count):
        atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(SLOW_SUPERCELL)
        atoms.rattle(0.05, seed=index)
        structures.append((f"Cu256-{index}", atoms, {}))
    return structures


@dataclass(frozen=True)
class Outcome:
    """What the database holds for a scenario's keys once it is over."""

    planned: int  # distinct keys the runs asked for
    results: int  # results stored for them
    duplicates: int  # keys computed more than once
    stuck: int  # jobs still queued, running or interrupted
    attempts: int  # job starts, a killed one included


def outcome(model_name: str, set_name: str) -> Outcome:
    """Keys of ``model_name`` on ``set_name``: results, duplicates and stuck jobs."""
    from django.db.models import Count

    from tasks_app.models import UNFINISHED, Job, JobStatus, Result

    jobs = Job.objects.filter(model__name=model_name, structure__structure_set__name=set_name)
    keys = set(jobs.values_list("key", flat=True))
    done = jobs.filter(status=JobStatus.DONE).values("key").annotate(n=Count("id"))
    return Outcome(
        planned=len(keys),
        results=Result.objects.filter(key__in=keys).count(),
        duplicates=sum(row["n"] - 1 for row in done),
        stuck=jobs.filter(status__in=UNFINISHED).count(),
        attempts=sum(jobs.values_list("attempts", flat=True)),
    )


def worker_running(connection: redis.Redis, rq_job_id: str) -> int | None:
    """The pid of the live RQ worker executing ``rq_job_id``, if any."""
    from rq.worker import Worker

    for candidate in Worker.all(connection=connection):
        if candidate.get_current_job_id() == rq_job_id:
            return candidate.pid
    return None
