"""Throughput of two workers over one: CHGNet EOS on the first 36 Delta crystals.

Usage: .venv/bin/python bench/workers.py [--redis] [--local] [--ceiling] [--mlip-arena PYTHON]
       [--count N | --structures Al,Cu,...]

The workload is long enough that the jobs, not process start-up, model loading and a
worker's join window, decide the ratio: with batched EOS, 12 crystals took one worker
6 s of jobs against ~10 s of start-up, and the ratio measured start-up.

- ``--redis``: through a private redis-server (a free port) and ``rqworker`` processes
  (ArenaWorker) that find their share of the cores themselves (no
  ARENA_WORKERS_PER_HOST), two of them started at the same instant (as systemd,
  supervisord or a Procfile start them) and, case ``2s``, one after another;
- ``--local``: ``run_benchmark --workers 1`` (one process) and ``--workers 2`` (two
  local processes, no Redis);
- ``--ceiling``: what the machine itself allows: the bare ASE loop (``compute`` only, no
  Django, no database, one torch thread) over the same structures, alone and as two
  processes at once; two processes over one is the best any two workers can reach here
  (cores that share memory bandwidth, or that turbo down when both are busy, give less
  than 2x);
- ``--mlip-arena PYTHON``: MLIP Arena's own EOS on the same structures and model, with
  the python of a virtualenv that has mlip-arena (``bench/mlip_arena_eos.py``), against
  the two local runs.

Each with the ``--cases`` (default all): one worker with every core (its torch threads
as many as the cores), one worker with one thread (OMP_NUM_THREADS=1), and two
workers with a core each (RQ: started together, and one after another). The last
columns are the throughput of two workers started together over that one-worker row,
over the whole run's wall time and over the jobs' span (first job started to last job
finished: the steady throughput, without process start-up and model loading); a line
after the table gives each way of starting two workers over each one-worker row. Without
options: ``--redis --local``. Every run is a ``run_benchmark ... --force`` child process
timed from its start to its exit (Django start, model loading, every job, the summary).
The database is DATABASE_URL, or a scratch SQLite file (WAL).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STRUCTURES = "Al,Cu,Si,Ag,W,Au,Pd,Pt,Ni,Mo,Ta,Ge"  # the 12 of --mlip-arena's comparison
COUNT = 36


# One worker with its share of the cores (all of them), one worker on one core, and
# two workers on one core each.
CASES = {
    "1": ("1 worker, all cores", 1, {}),
    "1t": ("1 worker, 1 thread", 1, {"OMP_NUM_THREADS": "1"}),
    "2": ("2 workers started together", 2, {}),
    "2s": ("2 workers started one after another", 2, {}),  # RQ only
}
# wall seconds, done jobs, load average before, seconds from the first job's start to the
# last job's end (the throughput once workers are up: no process start or model loading)
Measured = tuple[float, int, float, float]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("--local", action="store_true")
    parser.add_argument("--ceiling", action="store_true")
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mlip-arena", metavar="PYTHON")
    parser.add_argument("--structures", help="Delta labels, comma-separated")
    parser.add_argument("--count", type=int, help=f"the first N Delta crystals (default {COUNT})")
    parser.add_argument("--cases", default="1,1t,2,2s", help=f"of {', '.join(CASES)}")
    options = parser.parse_args()
    structures = options.structures or first_delta_labels(options.count or COUNT)
    if options.mlip_arena and not options.structures:
        structures = STRUCTURES
    args = ("eos", "--models", "CHGNet", "--structures", structures, "--force")
    cases = options.cases.split(",")
    if options.bare:
        return bare_loop(structures)
    if not (options.redis or options.local or options.ceiling or options.mlip_arena):
        options.redis = options.local = True
    os.environ.setdefault("SQLITE_PATH", str(Path(tempfile.mkdtemp()) / "bench.sqlite3"))
    os.environ.update(HF_HUB_OFFLINE="1", DJANGO_SETTINGS_MODULE="arena_site.settings")
    os.environ["REDIS_URL"] = ""
    os.environ.pop("OMP_NUM_THREADS", None)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("seed_registry", stdout=io.StringIO())
    count = len(structures.split(","))
    print(f"CHGNet EOS, {count} Delta crystals ({structures})")
    print(f"{connection.vendor}, {cores()} cores; load: 1-minute load average before the run")
    print(
        f"{'case':<48}{'wall s':>8}{'span s':>8}{'done':>6}{'load':>6}"
        f"{'2 workers over it: wall':>25}{'span':>7}"
    )
    if options.ceiling:
        ceiling(structures)
    if options.redis:
        print_cases("RQ", redis_runs(args, cases))
    local = {}
    if options.local or options.mlip_arena:
        for case in (case for case in cases if case != "2s"):
            label, workers, env = CASES[case]
            local[case] = timed_run(*args, "--workers", str(workers), env=env)
        print_cases("run_benchmark --workers", local)
    if options.mlip_arena:
        compare_with_mlip_arena(options.mlip_arena, structures, local)


def first_delta_labels(count: int) -> str:
    from compute.structure_sets.delta import delta_structures

    return ",".join(label for label, _, _ in delta_structures()[:count])


def cores() -> int:
    from compute.threads import usable_cores

    return usable_cores()


def bare_loop(structures: str) -> None:
    """Print the seconds of the bare ASE EOS loop over ``structures``, after model load."""
    from compute.calculators import load_calculator
    from compute.errors import TaskFailed
    from compute.model_spec import ModelSpec
    from compute.structure_sets.delta import delta_structures
    from compute.tasks.eos.protocol import run

    calculator = load_calculator(ModelSpec("CHGNet", "chgnet", "0.3.0"), device="cpu")
    crystals = {label: atoms for label, atoms, _ in delta_structures()}
    started = time.perf_counter()
    for label in structures.split(","):
        with contextlib.suppress(TaskFailed):  # a failed job in a run: its time counts
            run(crystals[label], calculator)
    print(time.perf_counter() - started)


def ceiling(structures: str) -> None:
    """The bare loop alone, then two at once: the machine's own two-over-one."""
    command = [sys.executable, __file__, "--bare", "--structures", structures]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def start() -> subprocess.Popen:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)

    def seconds(process: subprocess.Popen) -> float:
        return float(process.communicate()[0].strip().splitlines()[-1])

    alone = seconds(start())
    pair = [start(), start()]
    both = [seconds(process) for process in pair]
    ratio = 2 * alone / max(both)
    print(
        f"ceiling: bare ASE loop, 1 thread: alone {alone:.1f} s, two at once "
        f"{both[0]:.1f} and {both[1]:.1f} s: two over one {ratio:.2f}x"
    )


def timed_run(*args: str, env: dict[str, str] | None = None) -> Measured:
    """Wall seconds of one ``run_benchmark`` child process, its done jobs, the load before,
    and the span of its jobs."""
    from django.db.models import Max, Min

    from tasks_app.models import BenchmarkRun, JobStatus

    before = os.getloadavg()[0]
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "run_benchmark", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - started
    done = BenchmarkRun.objects.latest("pk").jobs.filter(status=JobStatus.DONE)
    bounds = done.aggregate(first=Min("started_at"), last=Max("finished_at"))
    span = (bounds["last"] - bounds["first"]).total_seconds() if done else float("nan")
    return wall, done.count(), before, span


def redis_runs(args: tuple[str, ...], cases: list[str]) -> dict[str, Measured]:
    """Each case's rqworkers on a private redis-server; each run timed as a whole."""
    from tests.faults.harness import RedisServer

    server = RedisServer(Path(tempfile.mkdtemp()), persistent=False)
    server.start()
    try:
        return {case: redis_run(args, server.url, case) for case in cases}
    finally:
        server.stop()


def redis_run(args, url: str, case: str) -> Measured:
    """``run_benchmark`` once the case's workers have registered; the workers count each
    other (ARENA_WORKERS_PER_HOST unset), started together or, ``2s``, one by one."""
    import redis
    from rq.worker import Worker

    from tasks_app.execution.rq_worker import JOIN_S
    from tests.faults.harness import wait_for, worker

    _, count, env = CASES[case]
    env = {**os.environ, **env, "REDIS_URL": url}
    env.pop("ARENA_WORKERS_PER_HOST", None)
    connection = redis.Redis.from_url(url)
    workers = []
    try:
        for started in range(1, count + 1):
            workers.append(worker(env))
            if case == "2s":
                wait_for(
                    lambda n=started: Worker.count(connection=connection) == n, 120, "rqworker"
                )
        wait_for(lambda: Worker.count(connection=connection) == count, 120, "rqworkers")
        time.sleep(JOIN_S)  # each takes no job this long after registering
        measured = timed_run(*args, env={"REDIS_URL": url})
        for process in workers:
            print(f"  {CASES[case][0]}: {', '.join(shares(process.output()))}")
        return measured
    finally:
        for process in workers:
            process.stop()


def shares(log: str) -> list[str]:
    """Each share of the cores a worker's log states."""
    return re.findall(r"compute threads: \d+ \(\d+ cores, \d+ workers on this host\)", log)


def print_cases(kind: str, measured: dict[str, Measured]) -> None:
    two = measured.get("2")
    for case, (wall, done, before, span) in measured.items():
        alone = two and CASES[case][1] == 1
        ratio = f"{wall / two[0]:.2f}x" if alone else ""
        steady = f"{span / two[3]:.2f}x" if alone else ""
        label = f"{kind}, {CASES[case][0]}"
        print(f"{label:<48}{wall:>8.1f}{span:>8.1f}{done:>6}{before:>6.1f}{ratio:>25}{steady:>7}")
    for case in ("2", "2s"):
        for alone in ("1", "1t"):
            if case in measured and alone in measured:
                wall, _, _, span = measured[case]
                print(
                    f"{kind}: {CASES[case][0]} over {CASES[alone][0]}: "
                    f"wall {measured[alone][0] / wall:.2f}x, span {measured[alone][3] / span:.2f}x"
                )


def compare_with_mlip_arena(python: str, structures: str, local: dict[str, Measured]) -> None:
    """MLIP Arena's EOS (under Prefect) on the same structures; ratios of wall times."""
    from tasks_app.models import Result

    before = os.getloadavg()[0]
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
    for case, (ours_wall, *_) in local.items():
        print(
            f"ours, {CASES[case][0]}: {ours_wall:.1f} s = {ours_wall / wall:.2f} of MLIP "
            f"Arena's wall, {ours_wall / arena['seconds_compute']:.2f} of its task time"
        )


if __name__ == "__main__":
    main()
