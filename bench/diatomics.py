"""Time for the whole periodic table of the diatomics task per model, and the share of it
spent outside the calculator.

Usage: .venv/bin/python bench/diatomics.py [--models EMT,CHGNet] [--structures H2,Cu2]

Runs ``run_benchmark diatomics --force`` in-process on all 118 dimers (those a model
does not cover become not-applicable jobs and count too), in a scratch SQLite database
unless DATABASE_URL is set. Each model's calculator is loaded first (its load time is
printed apart) and its ``calculate`` wrapped to add up the time inside it; everything
else is "outside": creating the run and its jobs, reading payloads, moving the dimer,
the metrics and the fit, and writing results and statuses.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_arena  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="EMT,CHGNet", help="comma-separated model names")
    parser.add_argument("--structures", help="comma-separated dimer labels (default: all)")
    options = parser.parse_args()
    vendor = scratch_arena()
    import torch

    print(
        f"database: {vendor}, jobs in-process, {os.cpu_count()} cores, "
        f"torch threads {torch.get_num_threads()}"
    )
    print(
        f"{'model':<12}{'load s':>8}{'jobs':>6}{'done':>6}{'n/a':>5}{'points':>8}{'wall s':>9}"
        f"{'calc s':>9}{'outside s':>11}{'outside':>9}{'ms/job':>8}{'ms/point':>10}"
    )
    for model in options.models.split(","):
        measure(model.strip(), options.structures)


def measure(name: str, structures: str | None) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from models_app.loading import calculator_for
    from models_app.models import MLIP
    from models_app.selectors import model_spec
    from tasks_app.models import BenchmarkRun, JobStatus

    started = time.perf_counter()
    calculator = calculator_for(model_spec(MLIP.objects.get(name=name)))
    load_s = time.perf_counter() - started
    inside = {"seconds": 0.0, "calls": 0}
    calculate = calculator.calculate

    def timed(*args, **kwargs):
        begin = time.perf_counter()
        try:
            return calculate(*args, **kwargs)
        finally:
            inside["seconds"] += time.perf_counter() - begin
            inside["calls"] += 1

    calculator.calculate = timed
    quiet = io.StringIO()
    options = {"models": name, "force": True, "stdout": quiet}
    if structures:
        options["structures"] = structures
    started = time.perf_counter()
    with contextlib.suppress(CommandError), contextlib.redirect_stderr(quiet):
        call_command("run_benchmark", "diatomics", **options)
    wall = time.perf_counter() - started
    calculator.calculate = calculate
    run = BenchmarkRun.objects.latest("created_at")
    jobs = run.jobs.count()
    done = run.jobs.filter(status=JobStatus.DONE).count()
    not_applicable = run.jobs.filter(status=JobStatus.NOT_APPLICABLE).count()
    outside = wall - inside["seconds"]
    per_point_ms = 1000 * inside["seconds"] / max(inside["calls"], 1)
    print(
        f"{name:<12}{load_s:>8.1f}{jobs:>6}{done:>6}{not_applicable:>5}{inside['calls']:>8}"
        f"{wall:>9.1f}{inside['seconds']:>9.1f}{outside:>11.2f}{outside / wall:>9.1%}"
        f"{1000 * outside / jobs:>8.1f}{per_point_ms:>10.2f}"
    )


if __name__ == "__main__":
    main()
