"""Faults under real processes: what each leaves behind, and how soon the work goes on.

Usage:
    DATABASE_URL=postgres://USER@HOST:PORT/NAME .venv/bin/python bench/faults.py
        [--heartbeat S] [--jobs N] [--only NAME]

Creates a scratch PostgreSQL database NAME_faults_bench (dropping an earlier one),
seeds the registry and a set of slow EMT jobs (EOS of rattled 256-atom Cu cells, several
seconds each), then runs each fault below against private redis-servers on free ports,
RQ workers (``manage.py rqworker``) and run_benchmark processes, with the production
heartbeat (ARENA_HEARTBEAT_S, default 10 s: a lease of 30 s). For each it prints the
jobs planned, results stored, duplicates (keys computed more than once), jobs stuck
(still queued, running or interrupted at the end), and the seconds from the fault to
recovery: until the job the fault hit is claimed again by a live process (worker
killed, run_benchmark interrupted or killed; the re-run or --resume starts at once),
or until a job starts after Redis is back (Redis restarted, down 5 s). Concurrent
runs have no fault time.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SET = "faults-bench"
REDIS_DOWN_S = 5.0


@dataclass
class Row:
    fault: str
    planned: int
    results: int
    duplicates: int
    stuck: int
    recovery_s: float | None
    wall_s: float


class Bench:
    """The scratch database's URL and the processes a scenario starts."""

    def __init__(self, database_url: str, heartbeat_s: float) -> None:
        self.database_url = database_url
        self.heartbeat_s = heartbeat_s
        self.processes: list = []
        self.servers: list = []
        self.folder = Path(tempfile.mkdtemp(prefix="faults-bench-"))

    def env(self, redis_url: str = "") -> dict[str, str]:
        from tests.faults.harness import arena_env

        return arena_env(self.database_url, redis_url, heartbeat_s=self.heartbeat_s)

    def redis(self, *, persistent: bool = False):
        from tests.faults.harness import RedisServer

        server = RedisServer(Path(tempfile.mkdtemp(dir=self.folder)), persistent=persistent)
        server.start()
        self.servers.append(server)
        return server

    def workers(self, count: int, redis_url: str) -> list:
        import redis

        from tests.faults.harness import wait_for, worker

        started = [self.track(worker(self.env(redis_url))) for _ in range(count)]
        connection = redis.Redis.from_url(redis_url)
        wait_for(lambda: connection.scard("rq:workers") >= count, 120, "workers registered")
        return started

    def run_benchmark(self, *args: str, redis_url: str = ""):
        from tests.faults.harness import run_benchmark

        return self.track(run_benchmark(*args, env=self.env(redis_url)))

    def track(self, process):
        self.processes.append(process)
        return process

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        for server in self.servers:
            server.stop()
        self.processes, self.servers = [], []


ARGS = ("eos", "--models", "EMT", "--set", SET)


def running_job(started_after: datetime | None = None):
    from tasks_app.models import Job, JobStatus

    jobs = Job.objects.filter(status=JobStatus.RUNNING)
    if started_after is not None:
        jobs = jobs.filter(started_at__gt=started_after)
    return jobs.order_by("started_at").first()


def claimed_again(job_id: int, since: datetime):
    from tasks_app.models import Job

    job = Job.objects.get(pk=job_id)
    return job if job.started_at and job.started_at > since and job.attempts > 1 else None


def all_ended() -> bool:
    from tasks_app.models import UNFINISHED, Job

    return not Job.objects.filter(status__in=UNFINISHED).exists()


def seconds(since: datetime, until: datetime) -> float:
    return (until - since).total_seconds()


def worker_killed(bench: Bench, *, followed: bool) -> float:
    import redis
    from django.utils import timezone

    from tests.faults.harness import wait_for, worker_running

    server = bench.redis()
    workers = bench.workers(2, server.url)
    extra = () if followed else ("--timeout", "1")
    first = bench.run_benchmark(*ARGS, *extra, redis_url=server.url)
    job = wait_for(running_job, 300, "a job started")
    connection = redis.Redis.from_url(server.url)
    pid = wait_for(lambda: worker_running(connection, job.rq_job_id), 30, "its worker")
    killed_at = timezone.now()
    next(w for w in workers if w.pid == pid).signal(signal.SIGKILL)
    again = wait_for(lambda: claimed_again(job.pk, killed_at), 600, "the job ran again")
    if followed:
        first.wait(1200)
    wait_for(all_ended, 1200, "every job ended")
    return seconds(killed_at, again.started_at)


def redis_restarted(bench: Bench, *, persistent: bool) -> float:
    from django.utils import timezone

    from tests.faults.harness import wait_for

    server = bench.redis(persistent=persistent)
    bench.workers(1, server.url)
    first = bench.run_benchmark(*ARGS, redis_url=server.url)
    wait_for(running_job, 300, "a job started")
    stopped_at = timezone.now()
    server.restart(down_s=REDIS_DOWN_S)
    after = wait_for(lambda: running_job(started_after=stopped_at), 600, "a job after Redis")
    first.wait(1200)
    return seconds(stopped_at, after.started_at)


def run_benchmark_stopped(bench: Bench, *, sig: int, then: tuple[str, ...]) -> float:
    from django.utils import timezone

    from tasks_app.models import BenchmarkRun
    from tests.faults.harness import wait_for

    first = bench.run_benchmark(*ARGS)
    job = wait_for(running_job, 300, "a job started")
    stopped_at = timezone.now()
    first.signal(sig)
    first.wait(120)
    run = BenchmarkRun.objects.order_by("-pk").first()
    again = bench.run_benchmark(*(a.format(run=run.pk) for a in then))
    claimed = wait_for(lambda: claimed_again(job.pk, stopped_at), 600, "the job ran again")
    again.wait(1200)
    return seconds(stopped_at, claimed.started_at)


def rq_follower_killed(bench: Bench) -> None:
    """The workers go on without the killed follower: no job is hit, --resume re-attaches."""
    from tasks_app.models import BenchmarkRun
    from tests.faults.harness import wait_for

    server = bench.redis()
    bench.workers(1, server.url)
    first = bench.run_benchmark(*ARGS, redis_url=server.url)
    wait_for(running_job, 300, "a job started")
    first.signal(signal.SIGKILL)
    first.wait(60)
    run = BenchmarkRun.objects.get()
    bench.run_benchmark("--resume", str(run.pk), redis_url=server.url).wait(1200)


def concurrent(bench: Bench, *, rq: bool) -> None:
    redis_url = ""
    if rq:
        redis_url = bench.redis().url
        bench.workers(2, redis_url)
    runs = [bench.run_benchmark(*ARGS, redis_url=redis_url) for _ in range(2)]
    for run in runs:
        run.wait(1200)


SCENARIOS: dict[str, Callable[[Bench], float | None]] = {  # fault -> seconds to recovery
    "worker SIGKILL, followed": lambda b: worker_killed(b, followed=True),
    "worker SIGKILL, nobody following": lambda b: worker_killed(b, followed=False),
    "Redis restart without data": lambda b: redis_restarted(b, persistent=False),
    "Redis restart, append-only file": lambda b: redis_restarted(b, persistent=True),
    "run_benchmark SIGINT, --resume": lambda b: run_benchmark_stopped(
        b, sig=signal.SIGINT, then=("--resume", "{run}")
    ),
    "run_benchmark SIGKILL, re-run": lambda b: run_benchmark_stopped(
        b, sig=signal.SIGKILL, then=ARGS
    ),
    "run_benchmark SIGKILL (RQ), --resume": rq_follower_killed,
    "two runs at once, in-process": lambda b: concurrent(b, rq=False),
    "two runs at once, RQ": lambda b: concurrent(b, rq=True),
}


def measure(bench: Bench, name: str) -> Row:
    from tasks_app.models import BenchmarkRun, Job, Result
    from tests.faults.harness import outcome

    Result.objects.all().delete()
    Job.objects.all().delete()
    BenchmarkRun.objects.all().delete()
    started = time.monotonic()
    try:
        recovery = SCENARIOS[name](bench)
    finally:
        bench.close()
    result = outcome("EMT", SET)
    return Row(
        name,
        result.planned,
        result.results,
        result.duplicates,
        result.stuck,
        recovery,
        time.monotonic() - started,
    )


def prepare(url: str, jobs: int) -> str:
    """A migrated scratch database with the registry and ``jobs`` slow structures."""
    import django
    from leaderboard_pages import scratch_database

    scratch = scratch_database(url, "faults_bench")
    os.environ.update(
        DATABASE_URL=scratch, REDIS_URL="", DJANGO_SETTINGS_MODULE="arena_site.settings"
    )
    django.setup()
    from django.core.management import call_command

    from tasks_app.structure_sets import store_structure_set
    from tests.faults.harness import slow_structures

    call_command("migrate", verbosity=0)
    call_command("seed_registry", stdout=io.StringIO())
    store_structure_set(name=SET, description="slow EMT jobs", structures=slow_structures(jobs))
    return scratch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heartbeat", type=float, default=10.0, help="ARENA_HEARTBEAT_S")
    parser.add_argument("--jobs", type=int, default=4, help="structures per run")
    parser.add_argument("--only", choices=list(SCENARIOS), help="one fault")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL, e.g. postgres://postgres@127.0.0.1:5432/x")
    sys.path.insert(0, str(ROOT / "bench"))
    bench = Bench(prepare(url, args.jobs), args.heartbeat)
    print(
        f"heartbeat {args.heartbeat:g} s (lease {3 * args.heartbeat:g} s), {args.jobs} EMT EOS "
        f"jobs of 256 atoms per run, 2 workers where RQ, Redis down {REDIS_DOWN_S:g} s"
    )
    header = f"{'fault':<40}{'planned':>8}{'results':>8}{'dups':>6}{'stuck':>6}"
    print(f"{header}{'recovery s':>12}{'wall s':>8}", flush=True)
    for name in [args.only] if args.only else SCENARIOS:
        row = measure(bench, name)
        recovery = f"{row.recovery_s:.1f}" if row.recovery_s is not None else "-"
        print(
            f"{row.fault:<40}{row.planned:>8}{row.results:>8}{row.duplicates:>6}{row.stuck:>6}"
            f"{recovery:>12}{row.wall_s:>8.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
