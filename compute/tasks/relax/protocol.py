"""Relax positions and cell; the relaxed structure and its energy are the result."""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from compute.relaxation import Relaxation


def run(
    atoms: Atoms,
    calculator: Calculator,
    *,
    optimizer: str = "FIRE",
    cell_filter: str | None = "FrechetCell",
    fmax: float = 0.05,
    steps: int = 500,
    symmetry: bool = False,
) -> dict[str, Any]:
    """Relax ``atoms``; return the final structure, energy (eV) and convergence."""
    relaxation = Relaxation(optimizer, cell_filter, fmax, steps, symmetry)
    relaxed, converged, nsteps = relaxation.relax(atoms, calculator)
    energy = float(relaxed.get_potential_energy())
    forces = relaxed.get_forces()
    return {
        "energy_ev": energy,
        "energy_per_atom_ev": energy / len(relaxed),
        "volume_a3": float(relaxed.get_volume()) if relaxed.pbc.all() else None,
        "max_force_ev_per_a": float(np.linalg.norm(forces, axis=1).max()),
        "converged": converged,
        "steps": nsteps,
        "cell": np.asarray(relaxed.cell).tolist(),
        "positions": relaxed.positions.tolist(),
        "numbers": relaxed.numbers.tolist(),
    }
