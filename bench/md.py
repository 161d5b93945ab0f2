"""MD speed: steps/s for EMT and CHGNet at 32, 108 and 256 atoms, and what progress
reporting and checkpointing cost per step; then combustion and compression on 384 atoms
with the time their full protocols would take at that speed.

Each figure is an NVE run of ``compute.md.run_md`` on fcc Cu (2×2×2, 3×3×3, 4×4×4 cubic
cells), best of three. The overhead is measured inside the same runs, so that other
load on the machine cancels: the time spent in the RunContext's calls (the throttle
checks, the progress callback and the checkpoint writes, JSON with fsync) as a share of
the rest of the step. Two settings: the job defaults (progress every 5 s, a checkpoint
every 60 s) and the worst case, both at every step.

The reactive tasks run their own protocol functions on 384 atoms: combustion on MLIP
Arena's H256O128 box (NVT, 0.5 fs), compression on fcc Cu 4×4×6 (NPT, 2 fs). The full
protocol is 2 000 000 steps for combustion and 5 000 per structure for compression.
On a shared machine wall time measures the other jobs too, so beside steps/s (wall)
each row gives the process's CPU seconds a step (``time.process_time``, torch on
``--threads`` threads, one by default) and the overhead as a share of CPU time; the full
protocol is projected from both, and the load average is printed before and after.
The checkpoint share at the job defaults is projected as one checkpoint's time every
60 s, plus the throttle checks measured. A GPU projection needs a run on a GPU
(``--device cuda``); on a CPU run the GPU column says unknown.

    .venv/bin/python bench/md.py [--steps-emt 200] [--steps-chgnet 20] [--models EMT,CHGNet]
        [--only sizes|reactive] [--reactive-steps-emt 40] [--reactive-steps-chgnet 6]
        [--device cpu] [--threads 1] [--repeats-chgnet 1] [--tasks combustion,compression]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402

from compute.md import NVE, MDProtocol, run_md  # noqa: E402
from compute.run_context import CheckpointFile, RunContext  # noqa: E402
from compute.tasks.combustion import combustion_start  # noqa: E402
from compute.tasks.combustion.protocol import run as combustion  # noqa: E402
from compute.tasks.compression.protocol import run as compression  # noqa: E402

SIZES = (2, 3, 4)  # 32, 108, 256 atoms


class TimedContext(RunContext):
    """A RunContext that times the run from its first progress call (step 0, after the
    model's first call) to its last, and the wall and CPU seconds of its own calls."""

    begun: tuple[float, float] | None = None
    latest: tuple[float, float] = (0.0, 0.0)
    spent = 0.0
    spent_cpu = 0.0
    saved = 0

    def progress(self, steps_done: int, steps_total: int, *, force: bool = False) -> None:
        started, started_cpu = time.perf_counter(), time.process_time()
        self.begun = self.begun or (started, started_cpu)
        super().progress(steps_done, steps_total, force=force)
        self._spent(started, started_cpu)
        self.latest = (time.perf_counter(), time.process_time())

    def checkpoint(self, state, *, force: bool = False) -> bool:
        started, started_cpu = time.perf_counter(), time.process_time()
        saved = super().checkpoint(state, force=force)
        self._spent(started, started_cpu)
        self.saved += saved
        return saved

    def _spent(self, started: float, started_cpu: float) -> None:
        self.spent += time.perf_counter() - started
        self.spent_cpu += time.process_time() - started_cpu


def nve_run(atoms, calculator, steps: int):
    protocol = MDProtocol(
        ensemble=NVE, steps=steps, timestep_fs=1.0, temperature_k=300.0, sample_every=10
    )
    return lambda context: run_md(atoms, calculator, protocol, context)


@dataclass(frozen=True)
class Speed:
    """One timed run: steps/s by the wall clock and CPU seconds a step, both without the
    context's calls; those calls' share of the rest (wall, CPU); checkpoints written."""

    rate: float
    cpu_per_step: float
    share: float
    cpu_share: float
    saved: int


def measure(
    run, steps: int, folder: Path, progress_s: float, checkpoint_s: float, repeats: int = 3
) -> Speed:
    """The fastest of ``repeats`` runs by CPU time; ``run(context=...)`` integrates
    ``steps`` steps, timed from step 0 so that loading and the first call stay out."""
    best = None
    for _ in range(repeats):
        path = folder / "state.json"
        path.unlink(missing_ok=True)  # each run starts afresh, not from the last one
        context = TimedContext(
            on_progress=lambda done, total: None,
            checkpoints=CheckpointFile(path),
            progress_seconds=progress_s,
            checkpoint_seconds=checkpoint_s,
        )
        run(context=context)
        rest = context.latest[0] - context.begun[0] - context.spent
        rest_cpu = context.latest[1] - context.begun[1] - context.spent_cpu
        speed = Speed(
            steps / rest, rest_cpu / steps, context.spent / rest, context.spent_cpu / rest_cpu,
            context.saved,
        )  # fmt: skip
        best = speed if best is None or speed.cpu_per_step < best.cpu_per_step else best
    return best


REACTIVE = {  # task: (its run, the structure, steps of the full protocol, step in fs)
    "combustion": (combustion, lambda: combustion_start()[0][1], 2_000_000, 0.5),
    "compression": (
        compression,
        lambda: bulk("Cu", "fcc", a=3.61, cubic=True).repeat((4, 4, 6)),
        5_000,
        2.0,
    ),
}


def sizes_table(models, folder: Path) -> None:
    print(
        f"{'model':<8}{'atoms':>6}{'steps':>7}{'steps/s':>10}{'CPU ms/step':>13}"
        f"{'overhead (5 s, 60 s)':>23}{'overhead (every step)':>24}{'ms a checkpoint':>17}"
    )
    for name, (calculator, steps, _) in models.items():
        for n in SIZES:
            atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(n)
            run = nve_run(atoms, calculator, steps)
            default = measure(run, steps, folder, 5.0, 60.0)
            worst = measure(run, steps, folder, 0.0, 0.0)
            per_checkpoint_ms = 1000 * worst.share * steps / worst.rate / max(worst.saved, 1)
            print(
                f"{name:<8}{len(atoms):>6}{steps:>7}{default.rate:>10.3g}"
                f"{1000 * default.cpu_per_step:>13.3g}"
                f"{100 * default.share:>22.3f}%{100 * worst.share:>23.1f}%"
                f"{per_checkpoint_ms:>17.2f}",
                flush=True,
            )


def reactive_table(models, folder: Path, tasks: list[str], repeats: dict[str, int]) -> None:
    """One row per task and model. A checkpoint's cost is the state's (positions, momenta,
    cell, thermostat, samples), not the model's: it is measured once per task, with the
    first model, checkpointing every step."""
    print(
        f"\n{'task':<12}{'model':<8}{'device':>7}{'atoms':>6}{'steps':>6}{'steps/s':>9}"
        f"{'CPU s/step':>12}{'full, wall':>12}{'full, CPU':>12}{'full, GPU':>11}"
        f"{'ms a checkpoint':>17}{'overhead at defaults (wall, CPU)':>34}"
    )
    for task in tasks:
        run_task, build, full_steps, step_fs = REACTIVE[task]
        atoms = build()
        checkpoint = None  # (wall s, CPU s) of one checkpoint
        for name, (calculator, _, steps) in models.items():
            # sample_every as the protocol's: combustion counts water every 1000 steps
            run = partial(run_task, atoms, calculator, total_time_fs=steps * step_fs)
            default = measure(run, steps, folder, 5.0, 60.0, repeats[name])
            if checkpoint is None:
                worst = measure(run, steps, folder, 0.0, 0.0, repeats[name])
                checkpoint = (
                    worst.share * steps / worst.rate / max(worst.saved, 1),
                    worst.cpu_share * steps * worst.cpu_per_step / max(worst.saved, 1),
                )
            # one checkpoint per 60 s of the run's own time (wall, or CPU on idle cores)
            wall_share = default.share + checkpoint[0] / 60.0
            cpu_share = default.cpu_share + checkpoint[1] / 60.0
            device = str(getattr(calculator, "device", "cpu"))
            hours = full_steps / default.rate / 3600
            cpu_hours = full_steps * default.cpu_per_step / 3600
            gpu = f"{hours:>9.3g} h" if device.startswith("cuda") else f"{'unknown':>11}"
            print(
                f"{task:<12}{name:<8}{device:>7}{len(atoms):>6}{steps:>6}{default.rate:>9.3g}"
                f"{default.cpu_per_step:>12.3g}{hours:>10.3g} h{cpu_hours:>10.3g} h{gpu}"
                f"{1000 * checkpoint[0]:>17.1f}"
                f"{100 * wall_share:>23.3f}%, {100 * cpu_share:.3f}%",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps-emt", type=int, default=200)
    parser.add_argument("--steps-chgnet", type=int, default=20)
    parser.add_argument("--reactive-steps-emt", type=int, default=40)
    parser.add_argument("--reactive-steps-chgnet", type=int, default=6)
    parser.add_argument("--models", default="EMT,CHGNet")
    parser.add_argument("--only", choices=("sizes", "reactive"), default=None)
    parser.add_argument("--device", default="cpu", help="CHGNet's device: cpu or cuda")
    parser.add_argument("--threads", type=int, default=1, help="torch's CPU threads")
    parser.add_argument("--repeats-chgnet", type=int, default=1, help="reactive runs, best of")
    parser.add_argument("--tasks", default=",".join(REACTIVE), help="of the reactive table")
    options = parser.parse_args()
    models = {}  # name: (calculator, steps for the size table, steps on 384 atoms)
    for name in options.models.split(","):
        if name == "EMT":
            models[name] = (EMT(), options.steps_emt, options.reactive_steps_emt)
        else:
            import torch  # noqa: PLC0415
            from chgnet.model.dynamics import CHGNetCalculator  # noqa: PLC0415

            torch.set_num_threads(options.threads)
            calculator = CHGNetCalculator(use_device=options.device)
            models[name] = (calculator, options.steps_chgnet, options.reactive_steps_chgnet)
    print(f"{os.cpu_count()} cores, load average {load()}; torch threads {options.threads}")
    with tempfile.TemporaryDirectory() as tmp:
        if options.only in (None, "sizes"):
            sizes_table(models, Path(tmp))
        if options.only in (None, "reactive"):
            repeats = {name: 3 if name == "EMT" else options.repeats_chgnet for name in models}
            reactive_table(models, Path(tmp), options.tasks.split(","), repeats)
    print(f"load average {load()}")


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
