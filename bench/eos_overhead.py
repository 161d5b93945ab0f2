"""Framework overhead per EOS job: run_benchmark's wall time minus time inside compute.

Usage: .venv/bin/python bench/eos_overhead.py [--rq]

Runs in a scratch SQLite database unless DATABASE_URL is set. With --rq (needs
DATABASE_URL and REDIS_URL), jobs go through Redis to an RQ worker process that this
script starts, and the wall time includes queueing and polling. "Inside compute" is
each job's ``compute_seconds``: calculator loading, the optimizers, the calculator
calls and the metrics. What is left is the framework: creating runs and jobs,
reading payloads, writing results and statuses, and the progress bar.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_arena  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rq", action="store_true", help="through Redis and an RQ worker")
    use_rq = parser.parse_args().rq
    if use_rq and not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        sys.exit("--rq needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    vendor = scratch_arena(in_process=not use_rq)
    mode = "an RQ worker process" if use_rq else "jobs in-process"
    print(f"database: {vendor}, {mode}, {os.cpu_count()} cores")
    print(f"{'case':<34}{'jobs':>6}{'wall s':>9}{'compute s':>11}{'overhead ms/job':>17}")
    with worker_process() if use_rq else contextlib.nullcontext():
        measure("EMT, Delta set (71)", models="EMT")
        measure("CHGNet, 5 Delta crystals", models="CHGNet", structures="Al,Cu,Si,Ag,W")


@contextlib.contextmanager
def worker_process():
    """``manage.py rqworker gpu.main cpu.main``, started and warmed up before timing begins."""
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "rqworker", "gpu.main", "cpu.main"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(5)  # Django and RQ imports
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def measure(label: str, **options) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db.models import Sum

    from tasks_app.models import BenchmarkRun

    quiet = io.StringIO()
    started = time.perf_counter()
    # failed jobs (EMT lacks most elements) are part of the workload
    with contextlib.suppress(CommandError), contextlib.redirect_stderr(quiet):
        call_command("run_benchmark", "eos", force=True, stdout=quiet, **options)
    wall = time.perf_counter() - started
    run = BenchmarkRun.objects.latest("created_at")
    jobs = run.jobs.count()
    compute = run.jobs.aggregate(total=Sum("compute_seconds"))["total"] or 0.0
    overhead_ms = 1000 * (wall - compute) / jobs
    print(f"{label:<34}{jobs:>6}{wall:>9.2f}{compute:>11.2f}{overhead_ms:>17.1f}")


if __name__ == "__main__":
    main()
