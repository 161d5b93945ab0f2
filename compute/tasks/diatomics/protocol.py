"""The homonuclear dimer scan: MLIP Arena's ``homonuclear_diatomic`` grid, one element per job.

Distances run from 0.9 × the covalent radius to 3.1 × the Alvarez van der Waals
radius (6 Å where ASE has none), in as many points as whole 0.01 Å steps fit
(``np.linspace(r_min, r_max, int((r_max − r_min) / step))``, as upstream). The dimer
lies along x, centred in a cubic box: periodic by default (Matbench Discovery's 50 Å),
so that models that need a cell (CHGNet) run, or isolated with ``periodic=False``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.data import atomic_masses, chemical_symbols, covalent_radii, vdw_alvarez

from compute.batch import evaluate_batch, has_batch_call, raise_first_failure
from compute.errors import TaskFailed
from compute.failure_evidence import note
from compute.tasks.diatomics.bond import bond_geometry

FAR_FIELD_A = 6.0  # r_max where no van der Waals radius is known, as MLIP Arena


def distance_grid(number: int, step_a: float = 0.01) -> np.ndarray:
    """The scan's distances (Å, ascending) for element ``number``."""
    r_min = 0.9 * covalent_radii[number]
    radii = vdw_alvarez.vdw_radii
    r_vdw = radii[number] if number < len(radii) else np.nan
    r_max = 3.1 * r_vdw if not np.isnan(r_vdw) else FAR_FIELD_A
    return np.linspace(r_min, r_max, int((r_max - r_min) / step_a))


def dimer_element(atoms: Atoms) -> int:
    """The atomic number of a two-atom structure of one element; TaskFailed otherwise."""
    numbers = set(atoms.numbers.tolist())
    if len(atoms) != 2 or len(numbers) != 1:
        raise TaskFailed(
            f"the diatomics scan needs two atoms of one element, not {atoms.get_chemical_formula()}"
        )
    return numbers.pop()


def run(
    atoms: Atoms,
    calculator: Calculator,
    *,
    step_a: float = 0.01,
    box_a: float = 50.0,
    periodic: bool = True,
) -> dict[str, Any]:
    """E (eV) and the force along the bond (eV/Å, positive apart) at every distance (Å)."""
    number = dimer_element(atoms)
    if not 0.001 <= step_a <= 0.1:
        raise TaskFailed(f"step_a must lie between 0.001 and 0.1 Å, not {step_a}")
    distances = distance_grid(number, step_a)
    if distances[-1] >= box_a / 2:
        raise TaskFailed(
            f"box_a {box_a} Å is too small for r_max {distances[-1]:.2f} Å: "
            "periodic images would be nearer than the partner atom"
        )
    scan = _scan_batched if has_batch_call(calculator) else _scan
    energies, forces = scan(number, distances, calculator, box_a=box_a, periodic=periodic)
    return {
        "element": chemical_symbols[number],
        "distances_a": distances.tolist(),
        "energies_ev": energies.tolist(),
        "forces_ev_per_a": forces.tolist(),
        **bond_geometry(distances, energies, float(atomic_masses[number])),
    }


def _dimer(number: int, r: float, box_a: float, periodic: bool) -> Atoms:
    """Two atoms ``r`` Å apart along x, centred in a cubic box."""
    centre = box_a / 2
    return Atoms(
        numbers=[number, number],
        positions=[[centre - r / 2, centre, centre], [centre + r / 2, centre, centre]],
        cell=[box_a] * 3,
        pbc=periodic,
    )


def _scan_batched(
    number: int, distances: np.ndarray, calculator: Calculator, *, box_a: float, periodic: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Energy and force of every dimer of the grid, many per model call."""
    dimers = [_dimer(number, r, box_a, periodic) for r in distances]
    evaluations = evaluate_batch(dimers, calculator)
    raise_first_failure(evaluations, [f"r = {r:.3f} Å" for r in distances])
    energies = np.array([evaluation.energy for evaluation in evaluations])
    forces = np.array([evaluation.forces[1, 0] for evaluation in evaluations])
    return energies, forces


def _scan(
    number: int, distances: np.ndarray, calculator: Calculator, *, box_a: float, periodic: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Energy and force of one Atoms object moved along the grid, as upstream.

    The calculator is asked for both properties at once and told that only the
    positions changed since the first point, which is what ASE's ``get_property``
    works out by comparing the atoms with the last ones: twice per point through
    ``get_potential_energy`` and ``get_forces``, a cost larger than EMT itself.
    """
    dimer = _dimer(number, distances[0], box_a, periodic)
    energies = np.empty(len(distances))
    forces = np.empty(len(distances))
    note(last_structure=dimer)
    for i, r in enumerate(distances):
        dimer.positions = _dimer(number, r, box_a, periodic).positions
        calculator.reset()
        calculator.calculate(dimer, ["energy", "forces"], all_changes if i == 0 else ["positions"])
        energies[i] = calculator.results["energy"]
        forces[i] = calculator.results["forces"][1, 0]  # on the atom at +r/2, along x
        note(
            distances_a=distances[: i + 1],
            energies_ev=energies[: i + 1],
            forces_ev_per_a=forces[: i + 1],
        )
        if not (np.isfinite(energies[i]) and np.isfinite(forces[i])):
            raise TaskFailed(f"non-finite energy or forces at r = {r:.3f} Å")
    return energies, forces
