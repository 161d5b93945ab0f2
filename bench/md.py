"""MD speed: steps/s for EMT and CHGNet at 32, 108 and 256 atoms, and what progress
reporting and checkpointing cost per step.

Each figure is an NVE run of ``compute.md.run_md`` on fcc Cu (2×2×2, 3×3×3, 4×4×4 cubic
cells). The overhead compares a run with a RunContext that reports progress to a
callback and writes a checkpoint file at every opportunity the defaults allow (the
job's 5 s / 60 s throttles, and a worst case of both at every step) with one whose
context does nothing; the same seed and steps, best of three.

    .venv/bin/python bench/md.py [--steps-emt 200] [--steps-chgnet 20]
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


def seconds_per_step(atoms, calculator, steps: int, context_for) -> float:
    best = float("inf")
    for _ in range(3):
        protocol = MDProtocol(
            ensemble=NVE, steps=steps, timestep_fs=1.0, temperature_k=300.0, sample_every=10
        )
        started = time.perf_counter()
        run_md(atoms, calculator, protocol, context_for())
        best = min(best, (time.perf_counter() - started) / steps)
    return best


def contexts(folder: Path) -> dict[str, object]:
    def reporting(progress_s: float, checkpoint_s: float):
        def make() -> RunContext:
            path = folder / "state.json"
            path.unlink(missing_ok=True)  # each run starts afresh, not from the last one
            return RunContext(
                on_progress=lambda done, total: None,
                checkpoints=CheckpointFile(path),
                progress_seconds=progress_s,
                checkpoint_seconds=checkpoint_s,
            )

        return make

    return {
        "none": RunContext,
        "defaults (5 s, 60 s)": reporting(5.0, 60.0),
        "every step": reporting(0.0, 0.0),
    }


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
    with tempfile.TemporaryDirectory() as tmp:
        kinds = contexts(Path(tmp))
        header = f"{'model':<8}{'atoms':>6}{'steps':>7}{'steps/s':>10}"
        header += "".join(f"  {'overhead ' + k:>26}" for k in list(kinds)[1:])
        print(header)
        for name, (calculator, steps) in models.items():
            for n in SIZES:
                atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(n)
                base = seconds_per_step(atoms, calculator, steps, kinds["none"])
                line = f"{name:<8}{len(atoms):>6}{steps:>7}{1 / base:>10.1f}"
                for kind in list(kinds)[1:]:
                    other = seconds_per_step(atoms, calculator, steps, kinds[kind])
                    line += f"{100 * (other - base) / base:>27.2f}%"
                print(line, flush=True)


if __name__ == "__main__":
    main()
