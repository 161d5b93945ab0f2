"""Seconds per structure one at a time and batched, for CHGNet and SevenNet-0 on Delta crystals.

Usage: .venv/bin/python bench/batched.py [--structures H,He,...] [--models CHGNet,SevenNet-0]
       [--device cpu|cuda] [--threads N] [--run-benchmark]

Default structures: the first ten Delta crystals plus fcc Cu. Four figures per model:
- single points: every crystal strained over the E–V scan's 21 volumes, energy, forces
  and stress of each, through the family's own ASE calculator one by one and through
  ``evaluate_batch`` (batch size as chosen by memory, printed);
- cell relaxations: every crystal rattled and sheared, FIRE on the FrechetCell filter to
  0.1 eV/Å: ASE's ``FrechetCellFilter`` one at a time, against ``relax_batch`` (our
  filter, all crystals in one batch);
- EOS: the EOS protocol (FrechetCell FIRE, then 21 fixed-cell FIRE relaxations) as a
  bare ASE loop (ASE's FIRE and FrechetCellFilter, the family's ASE calculator), as
  ``eos.run`` with the family's ASE calculator, and with the batched calculator;
- with --run-benchmark: ``manage.py run_benchmark eos`` as a whole process (imports,
  model load, database) in a scratch SQLite database, against the bare loop's seconds.
The machine is often shared: each figure is given in CPU seconds (this process's, or the
whole command's with its workers) beside wall seconds, and the load average beside them;
under load only the CPU seconds compare. ``--threads N`` limits this process's torch,
OpenMP and BLAS threads (default: the libraries' own choice, as a bare loop has it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from ase.collections import dcdft  # noqa: E402
from ase.filters import FrechetCellFilter  # noqa: E402
from ase.optimize import FIRE  # noqa: E402
from chgnet.model.dynamics import CHGNetCalculator  # noqa: E402

from compute.batch import default_batch_size, evaluate_batch  # noqa: E402
from compute.batched_relaxation import relax_batch  # noqa: E402
from compute.calculators import load_calculator  # noqa: E402
from compute.errors import TaskFailed  # noqa: E402
from compute.model_spec import ModelSpec  # noqa: E402
from compute.relaxation import Relaxation  # noqa: E402
from compute.tasks.eos import protocol as eos  # noqa: E402
from compute.threads import apply_threads  # noqa: E402
from compute.torch_compat import e3nn_import_allowed  # noqa: E402

with e3nn_import_allowed():
    from sevenn.calculator import SevenNetCalculator  # noqa: E402

SPECS = {
    "CHGNet": ModelSpec("CHGNet", "chgnet", "0.3.0"),
    "SevenNet-0": ModelSpec("SevenNet-0", "sevennet", "7net-0"),
}
DEFAULT_STRUCTURES = ",".join([*dcdft.names[:10], "Cu"])
PROPERTIES = ("energy", "forces", "stress")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--structures", default=DEFAULT_STRUCTURES)
    parser.add_argument("--models", default=",".join(SPECS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--run-benchmark", action="store_true")
    options = parser.parse_args()
    if options.threads:
        apply_threads(options.threads)
    labels = options.structures.split(",")
    print(
        f"{len(labels)} crystals ({options.structures}), device {options.device}, "
        f"{os.cpu_count()} cores, torch threads {torch.get_num_threads()}"
    )
    print(f"load average before: {load_average()}")
    for name in options.models.split(","):
        batched = load_calculator(SPECS[name], device=options.device)
        alone = ase_calculator(batched, options.device)
        single_points(name, labels, batched, alone)
        cell_relaxations(name, labels, batched, alone)
        bare = eos_seconds(name, labels, batched, alone)
        if options.run_benchmark:
            run_benchmark_seconds(name, options.structures, bare)
    print(f"load average after: {load_average()}")


def ase_calculator(batched, device: str):
    """The family's own ASE calculator over the same model, without a batch call."""
    if isinstance(batched, CHGNetCalculator):
        return CHGNetCalculator(batched.model, use_device=device)
    return SevenNetCalculator(model=batched.model, file_type="model_instance", device=device)


def strained(label: str) -> list:
    cells = []
    for factor in [0.8 + 0.02 * i for i in range(21)]:
        atoms = dcdft[label]
        atoms.set_cell(atoms.cell * factor ** (1 / 3), scale_atoms=True)
        cells.append(atoms)
    return cells


def single_points(name: str, labels: list[str], batched, alone) -> None:
    cells = [cell for label in labels for cell in strained(label)]
    evaluate_batch(cells[:2], batched)  # warm up
    with timed() as one:
        evaluate_batch(cells, alone, properties=PROPERTIES)
    sizes = sorted({default_batch_size(batched, strained(label)) for label in labels})
    with timed() as many:
        evaluate_batch(cells, batched, properties=PROPERTIES)
    n = len(cells)
    print(
        f"{name} single points ({n} cells, batch sizes {sizes}): one at a time "
        f"{one.cpu / n * 1000:.1f} ms CPU a cell ({one.wall / n * 1000:.1f} ms wall), batched "
        f"{many.cpu / n * 1000:.1f} ms ({many.wall / n * 1000:.1f} ms), "
        f"{many.cpu / one.cpu:.2f}x in CPU  [load {load_average()}]"
    )


def cell_relaxations(name: str, labels: list[str], batched, alone) -> None:
    rng = np.random.default_rng(0)
    crystals = []
    for label in labels:
        atoms = dcdft[label]
        atoms.rattle(0.03, rng=rng)
        atoms.set_cell(atoms.cell @ (np.eye(3) + 0.02 * rng.standard_normal((3, 3))), True)
        crystals.append(atoms)
    steps = 0
    with timed() as one:
        for atoms in crystals:
            atoms = atoms.copy()
            atoms.calc = alone
            optimizer = FIRE(FrechetCellFilter(atoms), logfile=None)
            optimizer.run(fmax=0.1, steps=500)
            steps += optimizer.nsteps
    with timed() as many:
        relaxed = relax_batch(Relaxation(), crystals, batched)
    print(
        f"{name} cell relaxations ({len(crystals)} crystals, {steps} / "
        f"{sum(r.steps for r in relaxed)} steps): ASE one at a time {one}, batched "
        f"{many}, {many.cpu / one.cpu:.2f}x in CPU  [load {load_average()}]"
    )


def bare_ase_eos(atoms, calculator) -> None:
    """MLIP Arena's EOS protocol in plain ASE: FrechetCellFilter FIRE, then 21 points."""
    atoms = atoms.copy()
    atoms.calc = calculator
    FIRE(FrechetCellFilter(atoms), logfile=None).run(fmax=0.1, steps=500)
    cell = atoms.get_cell()
    for factor in np.linspace(0.8, 1.2, 21):
        point = atoms.copy()
        point.set_cell(cell * factor ** (1 / 3), scale_atoms=True)
        point.calc = calculator
        FIRE(point, logfile=None).run(fmax=0.1, steps=500)


def eos_seconds(name: str, labels: list[str], batched, alone) -> Seconds:
    """Seconds of the EOS protocol over all crystals, bare ASE loop, ``eos.run`` one at a
    time and batched; returns the bare loop's."""
    times = {}
    runs = (("bare loop", bare_ase_eos, alone), ("one at a time", eos.run, alone))
    for mode, run, calculator in (*runs, ("batched", eos.run, batched)):
        with timed() as times[mode]:
            for label in labels:
                with contextlib.suppress(TaskFailed):  # failures (no minimum) count too
                    run(dcdft[label], calculator)
    bare, alone_run, batch = times["bare loop"], times["one at a time"], times["batched"]
    print(
        f"{name} EOS: bare ASE loop {bare} ({bare.cpu / len(labels):.2f} s CPU per crystal), "
        f"eos.run one at a time {alone_run} ({alone_run.cpu / bare.cpu:.2f}x), batched "
        f"{batch} ({batch.cpu / bare.cpu:.2f}x the bare loop in CPU)  [load {load_average()}]"
    )
    return bare


def run_benchmark_seconds(name: str, structures: str, bare: Seconds) -> None:
    """``run_benchmark eos`` as a whole process (its workers' CPU included), in a scratch
    SQLite database."""
    scratch = tempfile.mkdtemp(prefix="arena-bench-")
    env = {
        **os.environ,
        "SQLITE_PATH": str(Path(scratch) / "bench.sqlite3"),
        "REDIS_URL": "",
        "DATABASE_URL": "",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (["migrate", "-v0"], ["seed_registry"]):
        subprocess.run(manage + command, env=env, cwd=ROOT, check=True, capture_output=True)
    command = [*manage, "run_benchmark", "eos", "--models", name, "--structures", structures]
    with timed(children=True) as whole:
        subprocess.run([*command, "--force"], env=env, cwd=ROOT, capture_output=True)
    print(
        f"{name} run_benchmark eos (whole process): {whole}, {whole.cpu / bare.cpu:.2f}x the "
        f"bare loop's CPU seconds ({bare.cpu:.1f} s), {whole.wall / bare.wall:.2f}x its wall "
        f"seconds ({bare.wall:.1f} s; on idle cores this is the figure)  [load {load_average()}]"
    )


@dataclass
class Seconds:
    cpu: float = 0.0
    wall: float = 0.0

    def __str__(self) -> str:
        return f"{self.cpu:.1f} s CPU ({self.wall:.1f} s wall)"


@contextlib.contextmanager
def timed(*, children: bool = False) -> Iterator[Seconds]:
    """CPU and wall seconds of the block: this process's CPU, or its finished children's."""
    seconds = Seconds()
    cpu, wall = cpu_seconds(children), time.perf_counter()
    yield seconds
    seconds.cpu, seconds.wall = cpu_seconds(children) - cpu, time.perf_counter() - wall


def cpu_seconds(children: bool) -> float:
    if not children:
        return time.process_time()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    main()
