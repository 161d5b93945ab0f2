"""Seconds per structure of the phonons task, its supercells and displacements, and the
time outside the calculator against a bare phonopy loop making the same calls.

Usage: .venv/bin/python bench/phonons.py [--model emt|chgnet] [--limit N] [--batch]

EMT runs fcc Cu, Al, Ni, Ag and Au (the elements it covers); CHGNet the first N
crystals of the ``alexandria-phonons-small`` set. Per structure: the task's ``run``
(relaxation, displacements, force constants, mesh, DOS, thermal properties, bands) with
the calculator's ``calculate`` timed; then, on the relaxed cell, the phonon part alone
through the task's glue and as a bare phonopy loop written here (the same phonopy
calls, no glue). ``--batch`` (CHGNet) also times one structure's displaced supercells
evaluated one at a time against one batched ``predict_structure`` call.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from ase import Atoms  # noqa: E402
from ase.build import bulk  # noqa: E402
from phonopy import Phonopy  # noqa: E402
from phonopy.structure.atoms import PhonopyAtoms  # noqa: E402

from compute.run_context import RunContext  # noqa: E402
from compute.tasks.phonons import harmonic  # noqa: E402
from compute.tasks.phonons.alexandria import alexandria_small_structures  # noqa: E402
from compute.tasks.phonons.protocol import run  # noqa: E402


class Timed:
    """Adds up the seconds spent in a calculator's ``calculate``."""

    def __init__(self, calculator) -> None:
        self.seconds, self.calls = 0.0, 0
        inner = calculator.calculate

        def calculate(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        calculator.calculate = calculate

    def reset(self) -> None:
        self.seconds, self.calls = 0.0, 0


def bare_phonopy(atoms: Atoms, calculator, multiples: list[int]) -> None:
    """The phonopy calls the task makes, without the task's glue."""
    unitcell = PhonopyAtoms(symbols=atoms.get_chemical_symbols(), cell=np.asarray(atoms.cell),
                            scaled_positions=atoms.get_scaled_positions(),
                            masses=atoms.get_masses())  # fmt: skip
    phonon = Phonopy(unitcell, supercell_matrix=np.diag(multiples), primitive_matrix="auto")
    phonon.generate_displacements(distance=0.01)
    forces = []
    for cell in phonon.supercells_with_displacements:
        displaced = Atoms(cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions,
                          pbc=True)  # fmt: skip
        displaced.calc = calculator
        forces.append(displaced.get_forces())
    phonon.forces = np.array(forces)
    phonon.produce_force_constants(calculate_full_force_constants=False, show_drift=False)
    phonon.run_mesh(50.0, is_gamma_center=True)
    phonon.run_total_dos()
    phonon.run_thermal_properties(t_min=0.0, t_max=1000.0, t_step=10.0, exclude_gamma_acoustic=True)
    phonon.auto_band_structure(npoints=31)


def glued_phonopy(atoms: Atoms, calculator, multiples: list[int]) -> None:
    """The task's phonon part on an already relaxed cell."""
    phonon = harmonic.phonopy_for(atoms, multiples)
    harmonic.produce_force_constants(phonon, calculator, 0.01, RunContext().progress)
    harmonic.phonon_properties(phonon, mesh=50.0, band_points=31)


def structures(model: str, limit: int) -> list[tuple[str, Atoms]]:
    if model == "emt":
        return [(s, bulk(s, "fcc")) for s in ("Cu", "Al", "Ni", "Ag", "Au")][:limit]
    return [(label, atoms) for label, atoms, _ in alexandria_small_structures()[:limit]]


def calculator_for(model: str):
    if model == "emt":
        from ase.calculators.emt import EMT

        return EMT()
    from compute.calculators import load_calculator
    from compute.model_spec import ModelSpec

    return load_calculator(ModelSpec("CHGNet", "chgnet", "0.3.0"), device="cpu")


def batch_comparison(calculator, atoms: Atoms, multiples: list[int]) -> None:
    """One structure's displaced supercells: one calculator call each, then one batch."""
    from pymatgen.io.ase import AseAtomsAdaptor

    phonon = harmonic.phonopy_for(atoms, multiples)
    phonon.generate_displacements(distance=0.01)
    cells = [harmonic.ase_atoms(c) for c in phonon.supercells_with_displacements]
    start = time.perf_counter()
    for cell in cells:
        cell.calc = calculator
        cell.get_forces()
    one_by_one = time.perf_counter() - start
    model = calculator.model
    structures = [AseAtomsAdaptor.get_structure(cell) for cell in cells]
    start = time.perf_counter()
    model.predict_structure(structures, task="ef", batch_size=len(structures))
    batched = time.perf_counter() - start
    ratio = one_by_one / batched
    print(f"batch: {len(cells)} supercells of {len(cells[0])} atoms: one by one "
          f"{one_by_one:.2f} s, one batch {batched:.2f} s ({ratio:.2f}×)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=("emt", "chgnet"), default="emt")
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--batch", action="store_true", help="CHGNet: one-by-one vs batched")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each phonon loop")
    options = parser.parse_args()
    calculator = calculator_for(options.model)
    timer = Timed(calculator)
    print(f"{'structure':22} {'atoms':>5} {'supercell':>9} {'disp':>4} {'task s':>7} "
          f"{'in calc':>7} {'outside':>7} | {'phonons s':>9} {'outside':>7} {'bare s':>7} "
          f"{'outside':>7} {'glue':>6}")  # fmt: skip
    totals = np.zeros(3)
    for label, atoms in structures(options.model, options.limit):
        timer.reset()
        start = time.perf_counter()
        output = run(atoms, calculator)
        task_s, task_in = time.perf_counter() - start, timer.seconds
        relaxed = atoms.copy()
        relaxed.set_cell(np.cbrt(output["relaxed_volume_a3"] / atoms.get_volume()) * atoms.cell,
                         scale_atoms=True)  # fmt: skip
        best = {glued_phonopy: (np.inf, 0.0), bare_phonopy: (np.inf, 0.0)}
        for _ in range(options.repeats):  # alternated, the fastest of each: load cancels
            for phonons in best:
                timer.reset()
                calculator.reset()  # else the second loop's supercells are the cached first's
                start = time.perf_counter()
                phonons(relaxed, calculator, output["supercell_matrix"])
                seconds = time.perf_counter() - start
                best[phonons] = min(best[phonons], (seconds, (seconds - timer.seconds) / seconds))
        (glued, glued_out), (bare, bare_out) = best.values()
        totals += (task_s, glued, bare)
        print(f"{label:22} {len(atoms):5d} {output['supercell_natoms']:9d} "
              f"{output['displacements']:4d} {task_s:7.2f} {task_in:7.2f} "
              f"{(task_s - task_in) / task_s:7.1%} | {glued:9.2f} {glued_out:7.1%} {bare:7.2f} "
              f"{bare_out:7.1%} {(glued - bare) / bare:+6.1%}")  # fmt: skip
    count = min(options.limit, len(structures(options.model, options.limit)))
    print(f"mean per structure: task {totals[0] / count:.2f} s; phonon part {totals[1] / count:.2f}"
          f" s through the task's glue, {totals[2] / count:.2f} s bare")  # fmt: skip
    if options.batch and options.model == "chgnet":
        label, atoms = structures("chgnet", 1)[0]
        batch_comparison(calculator, atoms, harmonic.supercell_matrix(atoms, 10.0))


if __name__ == "__main__":
    main()
