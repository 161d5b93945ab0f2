"""Seconds per element of the vacancy task, force calls per NEB, the share of time spent
outside the calculator, and whether one batched call for a step's NEB images pays off.

Usage: .venv/bin/python bench/vacancy.py [--model CHGNet] [--fcc Cu,Al] [--hcp Mg,Ti]
       [--variant protocol|short] [--optimizer FIRE] [--batch-repeats 5] [--threads 1]

Runs ``compute`` alone (no Django, no database): the task's ``run`` on each crystal of
its structure sets, with checkpoints written to a scratch file at the job defaults
(every 60 s) so that their cost counts. Times are this process's CPU seconds, so that
other work on a shared machine does not count (wall seconds are printed beside). The
calculator's ``calculate`` (and ``calculate_batch``) is wrapped to add up the time and
structures inside it; "outside" is the rest (optimizers, NEB projections, interpolation,
checkpoints). Then, for CHGNet, the moving images of one NEB step evaluated one by one
against one batched ``predict_structure`` call.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from compute.calculators import load_calculator  # noqa: E402
from compute.model_spec import ModelSpec  # noqa: E402
from compute.run_context import CheckpointFile, RunContext  # noqa: E402
from compute.tasks import TASKS, run_task  # noqa: E402
from compute.tasks.vacancy import protocol  # noqa: E402
from compute.tasks.vacancy.references import label, structures  # noqa: E402

MODELS = {"CHGNet": ModelSpec("CHGNet", "chgnet", "0.3.0"), "EMT": ModelSpec("EMT", "emt")}


class Counted:
    """Time and structures evaluated inside the calculator (``calculate``, and
    ``calculate_batch`` where the family has one: the NEB evaluates its moving images in
    one batched call a step), and the count when the NEB began."""

    def __init__(self, calculator) -> None:
        self.calculator = calculator
        self.seconds, self.calls, self.batches, self.calls_before_neb = 0.0, 0, 0, 0
        self.originals = {"calculate": calculator.calculate}
        calculator.calculate = self.timed(calculator.calculate, lambda args: 1)
        if hasattr(calculator, "calculate_batch"):
            self.originals["calculate_batch"] = calculator.calculate_batch
            calculator.calculate_batch = self.timed(calculator.calculate_batch, self.batch)

    def batch(self, args) -> int:
        self.batches += 1
        return len(args[0])

    def timed(self, method, structures):
        def wrapped(*args, **kwargs):
            begin = time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds += time.process_time() - begin
                self.calls += structures(args)

        return wrapped

    def restore(self) -> None:
        for name in self.originals:
            delattr(self.calculator, name)  # the class's own methods again


def measure(calculator, structure_type: str, symbol: str, params: dict, scratch: Path) -> None:
    atoms = {name: a for name, a, _ in structures(structure_type)}[label(symbol, structure_type)]
    counted = Counted(calculator)
    neb = protocol.climbing_image_neb

    def marked(*args, **kwargs):
        counted.calls_before_neb = counted.calls
        return neb(*args, **kwargs)

    protocol.climbing_image_neb = marked
    checkpoints = CheckpointFile(scratch / f"{structure_type}-{symbol}.json")
    started, wall = time.process_time(), time.perf_counter()
    try:
        output = run_task("vacancy", atoms, calculator, params, RunContext(checkpoints=checkpoints))
    finally:
        protocol.climbing_image_neb = neb
        counted.restore()
    cpu, wall = time.process_time() - started, time.perf_counter() - wall
    neb_calls = counted.calls - counted.calls_before_neb
    outside = cpu - counted.seconds
    print(
        f"{symbol + ' ' + structure_type:<10}{output['natoms']:>6}{wall:>9.1f}{cpu:>9.1f}"
        f"{counted.calls:>7}{counted.batches:>8}{output['neb_steps']:>6}{neb_calls:>7}"
        f"{1000 * counted.seconds / counted.calls:>9.1f}{outside:>9.2f}{outside / cpu:>9.1%}"
        f"{output['vacancy_formation_ev']:>8.3f}{output['migration_barrier_ev']:>8.3f}"
        f"{'  yes' if output['neb_converged'] else '   no'}"
    )


def batched(calculator, symbol: str, images: int, repeats: int) -> None:
    """One NEB step's moving images: one call each against one batched CHGNet call."""
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = {name: a for name, a, _ in structures("fcc")}[label(symbol, "fcc")] * (3, 3, 3)
    del atoms[0]
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(images):
        frame = atoms.copy()
        frame.positions += rng.normal(scale=0.05, size=frame.positions.shape)
        frames.append(frame)
    one_by_one, together = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        for frame in frames:
            frame.calc = calculator
            frame.get_forces()
            frame.calc = None
        one_by_one.append(time.perf_counter() - started)
        batch = [AseAtomsAdaptor.get_structure(frame) for frame in frames]
        started = time.perf_counter()
        calculator.model.predict_structure(batch, task="ef", batch_size=images)
        together.append(time.perf_counter() - started)
    print(
        f"{images} images of {len(atoms)} atoms ({symbol}), median of {repeats}: one call each "
        f"{np.median(one_by_one):.3f} s, one batched call {np.median(together):.3f} s "
        f"({np.median(one_by_one) / np.median(together):.2f}×)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="CHGNet", choices=sorted(MODELS))
    parser.add_argument("--fcc", default="Cu,Al,Ni")
    parser.add_argument("--hcp", default="Mg,Ti")
    parser.add_argument("--variant", default="protocol")
    parser.add_argument("--optimizer", help="override the protocol's BFGS (e.g. FIRE)")
    parser.add_argument("--batch-repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (one per core)")
    options = parser.parse_args()
    import torch

    torch.set_num_threads(options.threads)

    params = TASKS["vacancy"].variant_params(options.variant)
    if options.optimizer:
        params["optimizer"] = options.optimizer
    calculator = load_calculator(MODELS[options.model], device="cpu")
    print(
        f"{options.model}, variant {options.variant}, optimizer {params.get('optimizer', 'BFGS')}, "
        f"{os.cpu_count()} cores, torch threads "
        f"{torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'crystal':<10}{'sites':>6}{'wall s':>9}{'CPU s':>9}{'calls':>7}{'batches':>8}"
        f"{'steps':>6}{'NEB':>7}"
        f"{'ms/call':>9}{'out s':>9}{'outside':>9}{'E_vac':>8}{'E_mig':>8}  conv"
    )
    scratch = Path(tempfile.mkdtemp(prefix="arena-vacancy-"))
    for structure_type, symbols in (("fcc", options.fcc), ("hcp", options.hcp)):
        for symbol in filter(None, symbols.split(",")):
            measure(calculator, structure_type, symbol.strip(), params, scratch)
    if options.model == "CHGNet" and options.batch_repeats:
        images = params.get("n_images", TASKS["vacancy"].default_params()["n_images"]) - 2
        batched(calculator, options.fcc.split(",")[0], images, options.batch_repeats)


if __name__ == "__main__":
    main()
