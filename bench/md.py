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
protocol is 2 000 000 steps for combustion and 5 000 per structure for compression; its
projected time is those steps at the measured speed, on the device the model ran on
(``--device cuda`` puts CHGNet on a GPU). The checkpoint share at the job defaults is
projected as one checkpoint's time every 60 s, plus the throttle checks measured.

    .venv/bin/python bench/md.py [--steps-emt 200] [--steps-chgnet 20] [--models EMT,CHGNet]
        [--only sizes|reactive] [--reactive-steps-emt 40] [--reactive-steps-chgnet 6]
        [--device cpu] [--tasks combustion,compression]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
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
    """A RunContext that adds up the seconds spent in its own calls."""

    spent = 0.0
    saved = 0

    def progress(self, steps_done: int, steps_total: int, *, force: bool = False) -> None:
        started = time.perf_counter()
        super().progress(steps_done, steps_total, force=force)
        self.spent += time.perf_counter() - started

    def checkpoint(self, state, *, force: bool = False) -> bool:
        started = time.perf_counter()
        saved = super().checkpoint(state, force=force)
        self.spent += time.perf_counter() - started
        self.saved += saved
        return saved


def nve_run(atoms, calculator, steps: int):
    protocol = MDProtocol(
        ensemble=NVE, steps=steps, timestep_fs=1.0, temperature_k=300.0, sample_every=10
    )
    return lambda context: run_md(atoms, calculator, protocol, context)


def measure(run, steps: int, folder: Path, progress_s: float, checkpoint_s: float):
    """(steps/s without the context's time, overhead share, checkpoints written), best of 3;
    ``run(context=...)`` integrates ``steps`` steps."""
    best = None
    for _ in range(3):
        path = folder / "state.json"
        path.unlink(missing_ok=True)  # each run starts afresh, not from the last one
        context = TimedContext(
            on_progress=lambda done, total: None,
            checkpoints=CheckpointFile(path),
            progress_seconds=progress_s,
            checkpoint_seconds=checkpoint_s,
        )
        started = time.perf_counter()
        run(context=context)
        wall = time.perf_counter() - started
        rest = wall - context.spent
        figures = (steps / rest, context.spent / rest, context.saved)
        best = figures if best is None or figures[0] > best[0] else best
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
        f"{'model':<8}{'atoms':>6}{'steps':>7}{'steps/s':>10}"
        f"{'overhead (5 s, 60 s)':>23}{'overhead (every step)':>24}{'ms a checkpoint':>17}"
    )
    for name, (calculator, steps, _) in models.items():
        for n in SIZES:
            atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(n)
            run = nve_run(atoms, calculator, steps)
            rate, default_share, _ = measure(run, steps, folder, 5.0, 60.0)
            _, worst_share, saved = measure(run, steps, folder, 0.0, 0.0)
            per_checkpoint_ms = 1000 * worst_share * steps / rate / max(saved, 1)
            print(
                f"{name:<8}{len(atoms):>6}{steps:>7}{rate:>10.3g}"
                f"{100 * default_share:>22.3f}%{100 * worst_share:>23.1f}%"
                f"{per_checkpoint_ms:>17.2f}",
                flush=True,
            )


def reactive_table(models, folder: Path, tasks: list[str]) -> None:
    print(
        f"\n{'task':<12}{'model':<8}{'device':>7}{'atoms':>6}{'steps':>6}{'steps/s':>9}"
        f"{'full protocol':>15}{'ms a checkpoint':>17}{'overhead at defaults':>22}"
    )
    for task in tasks:
        run_task, build, full_steps, step_fs = REACTIVE[task]
        atoms = build()
        for name, (calculator, _, steps) in models.items():
            # sample_every as the protocol's: combustion counts water every 1000 steps
            run = partial(run_task, atoms, calculator, total_time_fs=steps * step_fs)

            rate, throttle_share, _ = measure(run, steps, folder, 5.0, 60.0)
            _, worst_share, saved = measure(run, steps, folder, 0.0, 0.0)
            per_checkpoint_s = worst_share * steps / rate / max(saved, 1)
            default_share = throttle_share + per_checkpoint_s / 60.0
            hours = full_steps / rate / 3600
            device = getattr(calculator, "device", "cpu")
            print(
                f"{task:<12}{name:<8}{str(device):>7}{len(atoms):>6}{steps:>6}{rate:>9.3g}"
                f"{hours:>13.3g} h{1000 * per_checkpoint_s:>17.1f}{100 * default_share:>21.3f}%",
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
    parser.add_argument("--tasks", default=",".join(REACTIVE), help="of the reactive table")
    options = parser.parse_args()
    models = {}  # name: (calculator, steps for the size table, steps on 384 atoms)
    for name in options.models.split(","):
        if name == "EMT":
            models[name] = (EMT(), options.steps_emt, options.reactive_steps_emt)
        else:
            from chgnet.model.dynamics import CHGNetCalculator  # noqa: PLC0415

            calculator = CHGNetCalculator(use_device=options.device)
            models[name] = (calculator, options.steps_chgnet, options.reactive_steps_chgnet)
    with tempfile.TemporaryDirectory() as tmp:
        if options.only in (None, "sizes"):
            sizes_table(models, Path(tmp))
        if options.only in (None, "reactive"):
            reactive_table(models, Path(tmp), options.tasks.split(","))


if __name__ == "__main__":
    main()
