"""Independent checks of a calculator's units: forces are -dE/dx and stress is the strain
derivative of the energy per volume, both by central finite differences in eV, Å."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk


def rattled_copper(a: float = 3.55, stdev: float = 0.05) -> Atoms:
    atoms = bulk("Cu", "fcc", a=a, cubic=True)
    atoms.rattle(stdev, seed=1)
    return atoms


def rattled_methane() -> Atoms:
    atoms = Atoms(
        "CH4",
        positions=[
            [0, 0, 0],
            [0.63, 0.63, 0.63],
            [-0.63, -0.63, 0.63],
            [-0.63, 0.63, -0.63],
            [0.63, -0.63, -0.63],
        ],
        cell=[8, 8, 8],
        pbc=True,
    )
    atoms.rattle(0.05, seed=1)
    return atoms


def energy_at(atoms: Atoms, calc, *, positions=None, cell=None) -> float:
    moved = atoms.copy()
    if cell is not None:
        moved.set_cell(cell, scale_atoms=True)
    if positions is not None:
        moved.positions = positions
    moved.calc = calc
    return moved.get_potential_energy()


def assert_forces_are_energy_gradients(
    atoms: Atoms, calc, h: float = 1e-3, rel: float = 1e-2, abs_tol: float = 1e-4
):
    atoms.calc = calc
    forces = atoms.get_forces()
    atom, axis = 1, 0
    energies = []
    for sign in (1, -1):
        positions = atoms.positions.copy()
        positions[atom, axis] += sign * h
        energies.append(energy_at(atoms, calc, positions=positions))
    numeric = -(energies[0] - energies[1]) / (2 * h)
    assert np.isfinite(forces).all()
    assert abs(forces[atom, axis]) > 10 * abs_tol, "a rattled structure feels a force"
    assert forces[atom, axis] == pytest.approx(numeric, rel=rel, abs=abs_tol)


def assert_stress_is_strain_derivative(
    atoms: Atoms, calc, eps: float = 1e-3, rel: float = 2e-2, abs_tol: float = 1e-5
):
    atoms.calc = calc
    stress_xx = atoms.get_stress()[0]
    energies = []
    for sign in (1, -1):
        cell = atoms.cell.array @ np.diag([1 + sign * eps, 1, 1])
        energies.append(energy_at(atoms, calc, cell=cell))
    numeric = (energies[0] - energies[1]) / (2 * eps * atoms.get_volume())
    assert abs(stress_xx) > 10 * abs_tol, "a rattled, strained crystal is under stress"
    assert numeric == pytest.approx(stress_xx, rel=rel, abs=abs_tol)
