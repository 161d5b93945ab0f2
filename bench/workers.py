"""Throughput of two workers over one: CHGNet EOS on 12 Delta crystals.

Usage: .venv/bin/python bench/workers.py [--redis] [--local] [--mlip-arena PYTHON]

- ``--redis``: through a private redis-server (a free port) and ``rqworker`` processes
  (ArenaWorker), one and then two, each taking its share of the cores;
- ``--local``: ``run_benchmark --workers 1`` (one process, today's in-process path)
  and ``--workers 2`` (two local processes, no Redis);
- ``--mlip-arena PYTHON``: MLIP Arena's own EOS on the same structures and model, with
  the python of a virtualenv that has mlip-arena (``bench/mlip_arena_eos.py``), against
  the two local runs.

Without options: ``--redis --local``. Every run is a ``run_benchmark ... --force`` child
process timed from its start to its exit (Django start, model loading, every job, the
summary). The database is DATABASE_URL, or a scratch SQLite file (WAL).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STRUCTURES = "Al,Cu,Si,Ag,W,Au,Pd,Pt,Ni,Mo,Ta,Ge"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("--local", action="store_true")
    parser.add_argument("--mlip-arena", metavar="PYTHON")
    parser.add_argument("--structures", default=STRUCTURES, help="Delta labels, comma-separated")
    options = parser.parse_args()
    structures = options.structures
    args = ("eos", "--models", "CHGNet", "--structures", structures, "--force")
    if not (options.redis or options.local or options.mlip_arena):
        options.redis = options.local = True
    os.environ.setdefault("SQLITE_PATH", str(Path(tempfile.mkdtemp()) / "bench.sqlite3"))
    os.environ.update(HF_HUB_OFFLINE="1", DJANGO_SETTINGS_MODULE="arena_site.settings")
    os.environ["REDIS_URL"] = ""

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("seed_registry", stdout=io.StringIO())
    count = len(structures.split(","))
    print(
        f"CHGNet EOS, {count} Delta crystals ({structures}); {connection.vendor}, {cores()} cores"
    )
    print(f"{'case':<40}{'wall s':>9}{'done':>6}{'load':>6}{'2 over 1':>10}")
    walls = {}
    if options.redis:
        one, two = redis_runs(args)
        print_pair("RQ", one, two)
    if options.local or options.mlip_arena:
        walls[1] = timed_run(*args, "--workers", "1")
        walls[2] = timed_run(*args, "--workers", "2")
        print_pair("run_benchmark", walls[1], walls[2])
    if options.mlip_arena:
        compare_with_mlip_arena(options.mlip_arena, structures, walls)


def cores() -> int:
    from compute.threads import usable_cores

    return usable_cores()


def load() -> float:
    return os.getloadavg()[0]


def timed_run(*args: str, env: dict[str, str] | None = None) -> tuple[float, int, float]:
    """Wall seconds of one ``run_benchmark`` child process, its done jobs, the load before."""
    from tasks_app.models import BenchmarkRun, JobStatus

    before = load()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "run_benchmark", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - started
    run = BenchmarkRun.objects.latest("pk")
    return wall, run.jobs.filter(status=JobStatus.DONE).count(), before


def redis_runs(args: tuple[str, ...]) -> tuple[tuple[float, int, float], ...]:
    """One rqworker, then two, on a private redis-server; each run timed as a whole."""
    from tests.faults.harness import RedisServer, wait_for, worker

    server = RedisServer(Path(tempfile.mkdtemp()), persistent=False)
    server.start()
    try:
        return tuple(redis_run(args, server.url, count, wait_for, worker) for count in (1, 2))
    finally:
        server.stop()


def redis_run(args, url: str, count: int, wait_for, worker) -> tuple[float, int, float]:
    import redis
    from rq.worker import Worker

    env = {
        **os.environ,
        "REDIS_URL": url,
        "ARENA_WORKERS_PER_HOST": str(count),
        "PYTHONUNBUFFERED": "1",
    }
    workers = [worker(env) for _ in range(count)]
    try:
        connection = redis.Redis.from_url(url)
        wait_for(lambda: Worker.count(connection=connection) == count, 120, "rqworkers")
        return timed_run(*args, env={"REDIS_URL": url})
    finally:
        for process in workers:
            process.stop()


def print_pair(kind: str, one: tuple[float, int, float], two: tuple[float, int, float]) -> None:
    for label, (wall, done, before) in (("1 worker", one), ("2 workers", two)):
        ratio = f"{one[0] / wall:.2f}x" if label == "2 workers" else ""
        print(f"{kind + ', ' + label:<40}{wall:>9.1f}{done:>6}{before:>6.1f}{ratio:>10}")


def compare_with_mlip_arena(
    python: str, structures: str, walls: dict[int, tuple[float, int, float]]
) -> None:
    """MLIP Arena's EOS (under Prefect) on the same structures; ratios of wall times."""
    from tasks_app.models import Result

    before = load()
    started = time.perf_counter()
    done = subprocess.run(
        [python, str(ROOT / "bench" / "mlip_arena_eos.py"), "--structures", structures],
        cwd=tempfile.mkdtemp(),
        env={**os.environ, "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180"},
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    arena = json.loads(done.stdout.strip().splitlines()[-1])
    ours = dict(
        Result.objects.filter(model__name="CHGNet", task__slug="eos").values_list(
            "structure__label", "headline__b0_gpa"
        )
    )
    differences = [abs(ours[k] - v) / v for k, v in arena["b0_gpa"].items() if k in ours]
    print(
        f"MLIP Arena EOS (Prefect): {wall:.1f} s wall, {arena['seconds_compute']:.1f} s "
        f"in its tasks (load {before:.1f}); B0 against ours: median "
        f"{statistics.median(differences):.1%} apart"
    )
    for workers, (ours_wall, _, _) in sorted(walls.items()):
        print(
            f"ours, --workers {workers}: {ours_wall:.1f} s = {ours_wall / wall:.2f} of MLIP "
            f"Arena's wall, {ours_wall / arena['seconds_compute']:.2f} of its task time"
        )


if __name__ == "__main__":
    main()
