"""A structure's own view of a shared model: its results cached, its state checked cheaply.

ASE's optimizers ask for forces, energy and (through a cell filter) stress several times
a step, and every ask compares the atoms with the calculator's last ones through
``compare_atoms`` (``allclose`` over cell, pbc, positions, numbers, charges and
moments: about 0.1 ms on a free core, as much as a small cell's model call in ten
asks). ``CachedModel`` compares positions, cell, numbers and pbc for exact equality
(a few µs) and asks the model only when they changed: the model then computes exactly
when it did before, once per new structure. Charges and moments are not compared:
nothing that moves atoms changes them.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes


class CachedModel(Calculator):
    """Serve ``model``'s results for one structure until its positions or cell change."""

    def __init__(self, model: Calculator) -> None:
        super().__init__()
        self.model = model
        self.implemented_properties = list(model.implemented_properties)

    def check_state(self, atoms: Atoms, tol: float = 1e-15) -> list[str]:
        kept = self.atoms
        if kept is None or len(kept) != len(atoms):
            return list(all_changes)
        same = (
            np.array_equal(kept.positions, atoms.positions)
            and np.array_equal(kept.cell.array, atoms.cell.array)
            and np.array_equal(kept.numbers, atoms.numbers)
            and np.array_equal(kept.pbc, atoms.pbc)
        )
        return [] if same else ["positions", "cell"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        for name in properties:
            self.model.get_property(name, self.atoms)
        # everything the model computed with it (energy, forces, stress in one pass), copied:
        # a model may refill its arrays in place at its next call (EMT does)
        self.results = {
            name: value.copy() if isinstance(value, np.ndarray) else value
            for name, value in self.model.results.items()
        }
