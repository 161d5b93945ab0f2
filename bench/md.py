"""MD speed: steps/s for EMT and CHGNet at 32, 108 and 256 atoms, and what progress
reporting and checkpointing cost per step.

Each figure is an NVE run of ``compute.md.run_md`` on fcc Cu (2×2×2, 3×3×3, 4×4×4 cubic
cells), best of three. The overhead is measured inside the same runs, so that other
load on the machine cancels: the time spent in the RunContext's calls (the throttle
checks, the progress callback and the checkpoint writes, JSON with fsync) as a share of
the rest of the step. Two settings: the job defaults (progress every 5 s, a checkpoint
every 60 s) and the worst case, both at every step.

    .venv/bin/python bench/md.py [--steps-emt 200] [--steps-chgnet 20] [--models EMT,CHGNet]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402

from compute.md import NVE, MDProtocol, run_md  # noqa: E402
from compute.run_context import CheckpointFile, RunContext  # noqa: E402

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


def measure(atoms, calculator, steps: int, folder: Path, progress_s: float, checkpoint_s: float):
    """(steps/s without the context's time, overhead share, checkpoints written), best of 3."""
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
        protocol = MDProtocol(
            ensemble=NVE, steps=steps, timestep_fs=1.0, temperature_k=300.0, sample_every=10
        )
        started = time.perf_counter()
        run_md(atoms, calculator, protocol, context)
        wall = time.perf_counter() - started
        rest = wall - context.spent
        figures = (steps / rest, context.spent / rest, context.saved)
        best = figures if best is None or figures[0] > best[0] else best
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps-emt", type=int, default=200)
    parser.add_argument("--steps-chgnet", type=int, default=20)
    parser.add_argument("--models", default="EMT,CHGNet")
    options = parser.parse_args()
    models = {}
    for name in options.models.split(","):
        if name == "EMT":
            models[name] = (EMT(), options.steps_emt)
        else:
            from chgnet.model.dynamics import CHGNetCalculator  # noqa: PLC0415

            models[name] = (CHGNetCalculator(use_device="cpu"), options.steps_chgnet)
    print(
        f"{'model':<8}{'atoms':>6}{'steps':>7}{'steps/s':>10}"
        f"{'overhead (5 s, 60 s)':>23}{'overhead (every step)':>24}{'ms a checkpoint':>17}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, (calculator, steps) in models.items():
            for n in SIZES:
                atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(n)
                rate, default_share, _ = measure(atoms, calculator, steps, Path(tmp), 5.0, 60.0)
                _, worst_share, saved = measure(atoms, calculator, steps, Path(tmp), 0.0, 0.0)
                per_checkpoint_ms = 1000 * worst_share * steps / rate / max(saved, 1)
                print(
                    f"{name:<8}{len(atoms):>6}{steps:>7}{rate:>10.3g}"
                    f"{100 * default_share:>22.3f}%{100 * worst_share:>23.1f}%"
                    f"{per_checkpoint_ms:>17.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
