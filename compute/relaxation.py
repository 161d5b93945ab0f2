"""The relaxation that tasks compose (as matcalc's ``EOSCalc`` composes ``RelaxCalc``).

``Relaxation`` holds a protocol's relaxation parameters (ASE optimizer and cell filter
by name, force tolerance, step bound, symmetry kept or not); ``relax_atoms`` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.constraints import FixSymmetry
from ase.filters import ExpCellFilter, StrainFilter, UnitCellFilter
from ase.optimize import BFGS, FIRE, LBFGS, BFGSLineSearch, GPMin, LBFGSLineSearch, MDMin
from ase.optimize.optimize import Optimizer

from compute.cached_model import CachedModel
from compute.cell_filter import LogDeformationCellFilter
from compute.errors import TaskFailed
from compute.failure_evidence import note_step

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "FIRE": FIRE,
    "BFGS": BFGS,
    "LBFGS": LBFGS,
    "BFGSLineSearch": BFGSLineSearch,
    "LBFGSLineSearch": LBFGSLineSearch,
    "MDMin": MDMin,
    "GPMin": GPMin,
}
CELL_FILTERS = {
    "FrechetCell": LogDeformationCellFilter,  # ASE's FrechetCellFilter, log(F) kept
    "UnitCell": UnitCellFilter,
    "ExpCell": ExpCellFilter,
    "Strain": StrainFilter,
}
# A cell that grows or shrinks this much during a relaxation has diverged.
MAX_VOLUME_CHANGE = 4.0


def relax_atoms(
    atoms: Atoms,
    calculator: Calculator,
    *,
    optimizer: str = "FIRE",
    cell_filter: str | None = "FrechetCell",
    fmax: float = 0.1,
    steps: int = 500,
    symmetry: bool = False,
) -> tuple[Atoms, bool, int]:
    """Relax a copy of ``atoms``; return it with (converged, steps taken).

    Raises TaskFailed on NaN energies or forces, or a cell that diverges.
    """
    check_names(optimizer, cell_filter)
    atoms = atoms.copy()
    atoms.calc = CachedModel(calculator)  # the optimizer's repeated asks cost no compare_atoms
    if symmetry:
        atoms.set_constraint(FixSymmetry(atoms))
    target = CELL_FILTERS[cell_filter](atoms) if cell_filter else atoms
    start_volume = atoms.get_volume() if atoms.pbc.all() else None
    opt = OPTIMIZERS[optimizer](target, logfile=None)

    def check() -> None:
        energy = atoms.get_potential_energy()
        forces = atoms.get_forces()
        note_step(atoms, opt.nsteps, float(energy), float(np.sqrt((forces**2).sum(axis=1).max())))
        if not (np.isfinite(energy) and np.all(np.isfinite(forces))):
            raise TaskFailed(f"non-finite energy or forces at step {opt.nsteps}")
        check_volume(atoms, start_volume, opt.nsteps)

    opt.attach(check, interval=1)
    converged = bool(opt.run(fmax=fmax, steps=steps))
    atoms.set_constraint()
    atoms.calc = calculator  # whose last structure is this one: its results stay cached
    return atoms, converged, int(opt.nsteps)


def check_names(optimizer: str, cell_filter: str | None) -> None:
    """TaskFailed naming the choices where the optimizer or cell filter is unknown."""
    if optimizer not in OPTIMIZERS:
        raise TaskFailed(f"unknown optimizer {optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
    if cell_filter is not None and cell_filter not in CELL_FILTERS:
        raise TaskFailed(
            f"unknown cell filter {cell_filter!r}; choose from {', '.join(CELL_FILTERS)} or null"
        )


def check_volume(atoms: Atoms, start_volume: float | None, step: int) -> None:
    """TaskFailed where the cell grew or shrank past MAX_VOLUME_CHANGE: a diverged relaxation."""
    if start_volume and not (
        1 / MAX_VOLUME_CHANGE < atoms.get_volume() / start_volume < MAX_VOLUME_CHANGE
    ):
        raise TaskFailed(
            f"relaxation diverged: volume {atoms.get_volume():.1f} Å³ "
            f"from {start_volume:.1f} Å³ at step {step}"
        )


@dataclass(frozen=True)
class Relaxation:
    """A task's relaxation parameters, built once from its protocol and reused."""

    optimizer: str = "FIRE"
    cell_filter: str | None = "FrechetCell"
    fmax: float = 0.1
    steps: int = 500
    symmetry: bool = False

    def relax(self, atoms: Atoms, calculator: Calculator) -> tuple[Atoms, bool, int]:
        """Relax a copy of ``atoms`` (cell too, if this relaxation has a cell filter)."""
        return relax_atoms(
            atoms,
            calculator,
            optimizer=self.optimizer,
            cell_filter=self.cell_filter,
            fmax=self.fmax,
            steps=self.steps,
            symmetry=self.symmetry,
        )

    def fixed_cell(self) -> Relaxation:
        """The same relaxation of positions only, the cell held."""
        return replace(self, cell_filter=None)
