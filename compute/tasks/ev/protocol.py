"""E–V scan: MLIP Arena's ``tasks/ev.py`` protocol, with no relaxation.

The input cell is strained isotropically by linear factors 1 + s for s evenly spaced
over [−max_abs_strain, +max_abs_strain], atoms scaled with the cell, and the energy
of each strained copy is taken as it is, all copies in one batched model call
where the model has one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from compute.batch import evaluate_batch, raise_first_failure
from compute.failure_evidence import note


def run(
    atoms: Atoms,
    calculator: Calculator,
    *,
    max_abs_strain: float = 0.2,
    npoints: int = 21,
) -> dict[str, Any]:
    """E(V) over the strained cells: volumes in Å³ and energies in eV for the whole cell."""
    # ranges (0 < max_abs_strain < 1, npoints >= 5) are the spec's Parameters, checked by run_task
    cell0 = atoms.get_cell()
    strains = np.linspace(-max_abs_strain, max_abs_strain, npoints)
    cells = []
    for strain in strains:
        strained = atoms.copy()
        strained.set_cell(cell0 * (1.0 + strain), scale_atoms=True)
        cells.append(strained)
    evaluations = evaluate_batch(cells, calculator, properties=("energy",))
    volumes = [float(cell.get_volume()) for cell in cells]
    energies = [evaluation.energy for evaluation in evaluations]
    _note_computed(volumes, energies, cells, [e.failed for e in evaluations], natoms=len(atoms))
    raise_first_failure(evaluations, [f"strain {strain:+.3f}" for strain in strains])
    natoms = len(atoms)
    lowest = int(np.argmin(energies))
    middle = npoints // 2
    return {
        "natoms": natoms,
        "strains": [float(s) for s in strains],
        "volumes_a3": volumes,
        "energies_ev": energies,
        "e_input_ev_per_atom": energies[middle] / natoms,
        "e_min_ev_per_atom": energies[lowest] / natoms,
        "v_min_ratio": volumes[lowest] / volumes[middle],
    }


def _note_computed(
    volumes: list[float],
    energies: list[float],
    cells: list[Atoms],
    failed: list[bool],
    *,
    natoms: int,
) -> None:
    """A failed scan keeps the points computed before the first failure, and that cell."""
    first = failed.index(True) if any(failed) else len(failed)
    note(natoms=natoms, volumes_a3=volumes[:first], energies_ev=energies[:first])
    if first < len(cells):
        note(last_structure=cells[first])
