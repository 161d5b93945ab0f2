"""Elasticity on the fixed subset: seconds and calculator calls per structure, and the share
of the time spent outside the calculator.

Usage: .venv/bin/python bench/elasticity.py [--model chgnet:0.3.0] [--limit N]

Runs the task's protocol (``compute.tasks.run_task``) on each subset structure with the
model's calculator, counting and timing every ``calculate``. Times are this process's CPU
seconds (one torch thread), so that other work on a shared machine does not count. The
share outside is (protocol time − time inside ``calculate``) / protocol time: the
relaxations' optimizer and filter steps, the strains, the pymatgen fit and the moduli.
Each call's atoms are also kept and replayed in a bare loop (energy, forces and stress,
nothing else), and the share is given against that loop's time too. Extrapolates the
whole 3,953-crystal set by the mean time per structure (crystals of the subset have at
most 8 atoms; the full set's are larger, so that figure is a lower bound).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FULL_SET_SIZE = 3953


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="chgnet:0.3.0", help="family:checkpoint")
    parser.add_argument("--limit", type=int, default=0, help="first N subset structures")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (one per core)")
    options = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch

    torch.set_num_threads(options.threads)  # more than the free cores: a call takes 100×

    from compute.calculators import load_calculator
    from compute.model_spec import ModelSpec
    from compute.tasks import run_task
    from compute.tasks.elasticity.references import subset_set

    family, _, checkpoint = options.model.partition(":")
    calculator = load_calculator(ModelSpec(options.model, family, checkpoint), device="cpu")
    recorded, inside = record_calls(calculator)
    structures = subset_set()[: options.limit or None]
    print(f"{options.model} on {len(structures)} subset crystals, torch threads "
          f"{torch.get_num_threads()}, {os.cpu_count()} cores")  # fmt: skip
    print(f"{'crystal':<12}{'atoms':>6}{'calls':>7}{'task s':>9}{'calc s':>9}{'bare s':>9}"
          f"{'outside':>9}{'vs bare':>9}{'wall s':>9}")  # fmt: skip
    totals = {"calls": 0, "task": 0.0, "bare": 0.0, "calc": 0.0}
    for label, atoms, _ in structures:
        recorded.clear()
        inside[0] = 0.0
        started, wall = time.process_time(), time.perf_counter()
        try:
            run_task("elasticity", atoms, calculator, {})
        except Exception as exc:  # a failure's calls still count
            print(f"{label}: failed ({type(exc).__name__}: {str(exc)[:80]})")
        task_s = time.process_time() - started
        wall_s = time.perf_counter() - wall
        bare_s = bare_loop(recorded, calculator)
        outside, vs_bare = (task_s - inside[0]) / task_s, (task_s - bare_s) / task_s
        print(f"{label:<12}{len(atoms):>6}{len(recorded):>7}{task_s:>9.2f}{inside[0]:>9.2f}"
              f"{bare_s:>9.2f}{outside:>9.1%}{vs_bare:>9.1%}{wall_s:>9.1f}")  # fmt: skip
        totals["calls"] += len(recorded)
        totals["task"] += task_s
        totals["bare"] += bare_s
        totals["calc"] += inside[0]
    n = len(structures)
    per_structure = totals["task"] / n
    print(f"mean: {per_structure:.2f} s and {totals['calls'] / n:.0f} calls per crystal, "
          f"{1000 * totals['calc'] / totals['calls']:.1f} ms (CPU) per call inside the calculator; "
          f"outside the calculator {(totals['task'] - totals['calc']) / totals['task']:.1%} "
          f"(timed calls), {(totals['task'] - totals['bare']) / totals['task']:.1%} "
          f"against the bare loop")  # fmt: skip
    print(f"whole subset ({len(subset_set())}): {per_structure * len(subset_set()) / 60:.1f} min; "
          f"whole set ({FULL_SET_SIZE}): {per_structure * FULL_SET_SIZE / 3600:.1f} h "
          f"on this machine at this size")  # fmt: skip


def record_calls(calculator) -> tuple[list, list[float]]:
    """Wrap ``calculator.calculate`` to keep a copy of each call's atoms and add up its time."""
    recorded: list = []
    inside = [0.0]
    calculate = calculator.calculate  # bound to the instance; the wrapper shadows it

    def timed(atoms=None, properties=("energy",), system_changes=()):
        recorded.append(atoms.copy())
        started = time.process_time()
        calculate(atoms, properties, system_changes)
        inside[0] += time.process_time() - started

    calculator.calculate = timed
    return recorded, inside


def bare_loop(frames: list, calculator) -> float:
    """Seconds for energy, forces and stress of each frame, in a plain loop through the
    unwrapped ``calculate``."""
    wrapped = calculator.calculate
    del calculator.calculate  # the class's own method again
    try:
        started = time.process_time()
        for atoms in frames:
            atoms.calc = calculator
            atoms.get_potential_energy()
            atoms.get_forces()
            atoms.get_stress()
        return time.process_time() - started
    finally:
        calculator.calculate = wrapped


if __name__ == "__main__":
    main()
