"""The formation task on the WBM crystals: wall time, relaxation steps per crystal, the
share of time outside the calculator, and batching several crystals per model call.

Usage: .venv/bin/python bench/formation.py [--model CHGNet] [--limit N | --smallest N]
       [--workers 2] [--jobs-per-batch B] [--compare [--batched-first]] [--batch 8]

Runs ``run_benchmark formation --force`` (in a scratch SQLite database unless
DATABASE_URL is set) on the first ``--limit`` of the 972 crystals (default: all), or on
the ``--smallest`` N, with ARENA_JOBS_PER_BATCH = ``--jobs-per-batch``. With one worker
the model's ``calculate`` and ``calculate_batch`` are wrapped in this process to add up
the time inside them; everything else is "outside" (jobs, database, FIRE, the MP2020
correction, StructureMatcher, spglib). With ``--workers 2`` the calculators live in the
workers, so the wall time and the jobs' own seconds are printed. The elemental
references the crystals need are relaxed inside the first jobs that need them, and
counted apart.

``--compare`` first relaxes the elemental references the crystals need (as results of
their own, so that neither timed run relaxes any), then runs the same crystals one job
at a time and ``--jobs-per-batch`` jobs per batched relaxation, and prints both.

``--batch K`` then times one energy/forces/stress evaluation of K small crystals one at
a time and in one batched call of the model (CHGNet's ``predict_structure``).
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
    parser.add_argument("--smallest", type=int, help="the N crystals of fewest atoms instead")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--jobs-per-batch", type=int, default=1)
    parser.add_argument("--compare", action="store_true", help="one at a time, then batched")
    parser.add_argument("--batched-first", action="store_true", help="--compare the other way")
    parser.add_argument("--batch", type=int, default=8, help="crystals per batched call; 0: skip")
    options = parser.parse_args()
    vendor = scratch_arena()
    import torch

    print(
        f"database: {vendor}, {options.workers} worker(s), {os.cpu_count()} cores, "
        f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}"
    )
    structures = smallest(options.smallest) if options.smallest else None
    if options.compare:
        relax_references(options.model, structures, options.limit)
        order = (1, options.jobs_per_batch)
        for per_batch in order[::-1] if options.batched_first else order:
            measure_run(options.model, structures, options.limit, options.workers, per_batch)
    else:
        measure_run(
            options.model, structures, options.limit, options.workers, options.jobs_per_batch
        )
    if options.batch:
        measure_batching(options.model, options.batch)


def smallest(count: int) -> list[str]:
    """Labels of the ``count`` WBM crystals of fewest atoms (ties in the file's order)."""
    from compute.tasks.formation.references import wbm_structures

    return [label for label, _, _ in sorted(wbm_structures(), key=lambda s: len(s[1]))[:count]]


def crystal_options(structures: list[str] | None, limit: int | None) -> dict:
    if structures:
        return {"structures": ",".join(structures)}
    return {"limit": limit} if limit else {}


def relax_references(name: str, structures: list[str] | None, limit: int | None) -> None:
    """The elemental references of the crystals, each a result of its own (as a crystal's
    job would store it), so that the timed runs reuse them."""
    from django.core.management import call_command

    from compute.tasks.formation.references import reference_label, wbm_structures

    chosen = set(structures) if structures else None
    crystals = [s for s in wbm_structures() if chosen is None or s[0] in chosen]
    crystals = crystals if chosen else crystals[: limit or None]
    elements = sorted({el for _, atoms, _ in crystals for el in atoms.get_chemical_symbols()})
    started, cpu = time.perf_counter(), time.process_time()
    with contextlib.suppress(Exception), contextlib.redirect_stderr(io.StringIO()):
        call_command(
            "run_benchmark",
            "formation",
            models=name,
            set_name="mp-elemental-references",
            structures=",".join(reference_label(el) for el in elements),
            stdout=io.StringIO(),
        )
    # One crystal more, untimed: the one-time costs of a process (pymatgen's tables for
    # MP2020, the model's first calls) fall on neither timed run.
    with contextlib.suppress(Exception), contextlib.redirect_stderr(io.StringIO()):
        call_command(
            "run_benchmark", "formation", models=name, structures=crystals[0][0], force=True,
            stdout=io.StringIO(),
        )  # fmt: skip
    print(
        f"{len(elements)} elemental references relaxed (or found) and one crystal to warm "
        f"up: {time.perf_counter() - started:.1f} s wall, {time.process_time() - cpu:.1f} s CPU"
    )


def measure_run(
    name: str, structures: list[str] | None, limit: int | None, workers: int, per_batch: int
) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from models_app.loading import calculator_for
    from models_app.models import MLIP
    from models_app.selectors import model_spec
    from tasks_app.models import BenchmarkRun, Job, JobStatus, Result

    settings.ARENA_JOBS_PER_BATCH = per_batch
    calculator = calculator_for(model_spec(MLIP.objects.get(name=name)))
    inside = {"seconds": 0.0, "cpu": 0.0, "calls": 0, "structures": 0}
    originals = {}
    for method in ("calculate", "calculate_batch"):
        if hasattr(calculator, method):
            originals[method] = getattr(calculator, method)
            setattr(calculator, method, timed(originals[method], inside, method))
    quiet = io.StringIO()
    options = {"models": name, "force": True, "stdout": quiet, "workers": workers}
    started, cpu = time.perf_counter(), time.process_time()
    with contextlib.suppress(CommandError), contextlib.redirect_stderr(quiet):
        call_command("run_benchmark", "formation", **options, **crystal_options(structures, limit))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    for method, original in originals.items():
        setattr(calculator, method, original)
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
        f"{name}, {per_batch} job(s) per batch: {crystals.count()} crystals ({counts['done']} "
        f"done, {counts['failed']} failed, {counts['n/a']} n/a) and {references.count()} "
        f"elemental references in {wall:.1f} s wall, {cpu:.1f} s CPU (this process), "
        f"{wall / max(crystals.count(), 1):.2f} s per crystal; load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    if steps:
        print(
            f"  relaxation steps per crystal: median {statistics.median(steps):.0f}, mean "
            f"{statistics.mean(steps):.1f}, max {max(steps)}, {sum(steps)} in all; "
            f"{sum(s >= 500 for s in steps)} stopped at the 500-step bound"
        )
    print(
        f"  the crystals' jobs (all workers): {job_seconds:.1f} s, of which the elemental "
        f"references they relaxed: {reference_seconds:.1f} s"
    )
    if workers == 1 and inside["calls"]:
        outside, outside_cpu = wall - inside["seconds"], cpu - inside["cpu"]
        print(
            f"  inside the calculator: {inside['seconds']:.1f} s wall, {inside['cpu']:.1f} s "
            f"CPU in {inside['calls']} calls of {inside['structures']} structures "
            f"({1000 * inside['cpu'] / inside['calls']:.1f} ms CPU a call); outside: "
            f"{outside:.1f} s = {outside / wall:.1%} of the wall time, "
            f"{outside_cpu:.1f} s = {outside_cpu / cpu:.1%} of the CPU time"
        )


def timed(method, inside: dict, name: str):
    """``method`` adding its seconds, calls and structures evaluated to ``inside``; a call
    inside another timed one (CHGNet's ``calculate`` calls ``calculate_batch``) is not
    counted again."""

    def call(*args, **kwargs):
        if inside.get("depth"):
            return method(*args, **kwargs)
        begin, begin_cpu = time.perf_counter(), time.process_time()
        inside["depth"] = 1
        try:
            return method(*args, **kwargs)
        finally:
            inside["depth"] = 0
            inside["seconds"] += time.perf_counter() - begin
            inside["cpu"] += time.process_time() - begin_cpu
            inside["calls"] += 1
            inside["structures"] += len(args[0]) if name == "calculate_batch" else 1

    return call


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
