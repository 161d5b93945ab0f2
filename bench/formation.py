"""The formation task on the WBM crystals: wall time, relaxation steps per crystal, the
share of time outside the calculator, and whether batching small crystals would pay.

Usage: .venv/bin/python bench/formation.py [--model CHGNet] [--limit N] [--workers 2]
       [--batch 8]

Runs ``run_benchmark formation --force`` (in a scratch SQLite database unless
DATABASE_URL is set) on the first ``--limit`` of the 972 crystals (default: all). With
one worker the model's ``calculate`` is wrapped in this process to add up the time
inside it; everything else is "outside" (jobs, database, FIRE, the MP2020 correction,
StructureMatcher, spglib). With ``--workers 2`` the calculators live in the workers, so
the wall time and the jobs' own seconds are printed. The elemental references the
crystals need are relaxed inside the first jobs that need them, and counted apart.

``--batch K`` then times one energy/forces/stress evaluation of K small crystals one at
a time and in one batched call of the model (CHGNet's ``predict_structure``): the cost
of one step of a batched relaxation (torch-sim's batched FIRE, say) against K steps of
ours, the best a batched relaxation could gain on this machine's CPUs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_arena  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="CHGNet")
    parser.add_argument("--limit", type=int, help="the first N crystals (default: all 972)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=8, help="crystals per batched call; 0: skip")
    options = parser.parse_args()
    vendor = scratch_arena()
    import torch

    print(
        f"database: {vendor}, {options.workers} worker(s), {os.cpu_count()} cores, "
        f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}"
    )
    measure_run(options.model, options.limit, options.workers)
    if options.batch:
        measure_batching(options.model, options.batch)


def measure_run(name: str, limit: int | None, workers: int) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from models_app.loading import calculator_for
    from models_app.models import MLIP
    from models_app.selectors import model_spec
    from tasks_app.models import BenchmarkRun, Job, JobStatus, Result

    calculator = calculator_for(model_spec(MLIP.objects.get(name=name)))
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
    options = {"models": name, "force": True, "stdout": quiet, "workers": workers}
    if limit:
        options["limit"] = limit
    started = time.perf_counter()
    with contextlib.suppress(CommandError), contextlib.redirect_stderr(quiet):
        call_command("run_benchmark", "formation", **options)
    wall = time.perf_counter() - started
    calculator.calculate = calculate
    run = BenchmarkRun.objects.latest("created_at")
    jobs = Job.objects.filter(run=run)
    crystals = jobs.filter(structure__structure_set=run.structure_set)
    references = jobs.exclude(structure__structure_set=run.structure_set)
    steps = [
        r.output["steps"]
        for r in Result.objects.filter(job__in=crystals).only("output")
        if "steps" in r.output
    ]
    counts = {s: crystals.filter(status=s).count() for s in JobStatus.values}
    # A crystal's own seconds hold the references it relaxed first; theirs are apart.
    job_seconds = sum(j.compute_seconds or 0 for j in crystals)
    reference_seconds = sum(j.compute_seconds or 0 for j in references)
    print(
        f"{name}: {crystals.count()} crystals ({counts['done']} done, {counts['failed']} "
        f"failed, {counts['n/a']} n/a) and {references.count()} elemental references "
        f"in {wall:.1f} s wall, {wall / max(crystals.count(), 1):.2f} s per crystal"
    )
    if steps:
        print(
            f"relaxation steps per crystal: median {statistics.median(steps):.0f}, mean "
            f"{statistics.mean(steps):.1f}, max {max(steps)}; "
            f"{sum(s >= 500 for s in steps)} stopped at the 500-step bound"
        )
    print(
        f"the crystals' jobs (all workers): {job_seconds:.1f} s, of which the elemental "
        f"references they relaxed: {reference_seconds:.1f} s"
    )
    if workers == 1 and inside["calls"]:
        outside = wall - inside["seconds"]
        print(
            f"inside the calculator: {inside['seconds']:.1f} s in {inside['calls']} calls "
            f"({1000 * inside['seconds'] / inside['calls']:.1f} ms each); outside: "
            f"{outside:.1f} s = {outside / wall:.1%} of the wall time"
        )


def measure_batching(name: str, batch: int, repeats: int = 5) -> None:
    """One evaluation of ``batch`` small crystals: one at a time against one batched call."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from compute.tasks.formation.references import wbm_structures
    from models_app.loading import calculator_for
    from models_app.models import MLIP
    from models_app.selectors import model_spec

    calculator = calculator_for(model_spec(MLIP.objects.get(name=name)))
    model = getattr(calculator, "model", None)
    if model is None or not hasattr(model, "predict_structure"):
        print(f"batching: {name}'s model has no batched predict_structure; skipped")
        return
    small = sorted(wbm_structures(), key=lambda s: len(s[1]))[:batch]
    structures = [AseAtomsAdaptor.get_structure(atoms) for _, atoms, _ in small]
    natoms = sum(len(s) for s in structures)

    def best_of(call) -> float:
        times = []
        for _ in range(repeats):
            begin = time.perf_counter()
            call()
            times.append(time.perf_counter() - begin)
        return min(times)

    with contextlib.redirect_stdout(io.StringIO()):
        model.predict_structure(structures, batch_size=batch)  # warm up
        single = best_of(lambda: [model.predict_structure(s) for s in structures])
        batched = best_of(lambda: model.predict_structure(structures, batch_size=batch))
    print(
        f"batching {batch} crystals ({natoms} atoms), energy+forces+stress, best of "
        f"{repeats}: one at a time {1000 * single:.0f} ms, one batched call "
        f"{1000 * batched:.0f} ms: {single / batched:.2f}x"
    )


if __name__ == "__main__":
    main()
