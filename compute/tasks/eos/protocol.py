"""Bulk equation of state: MLIP Arena's protocol as the default parameters.

Relax cell and positions, scale the cell over a volume range, relax positions at
each fixed cell (all cells in one batch where the model has a batch call), and fit
Birch–Murnaghan.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from compute.batched_relaxation import relax_batch
from compute.errors import TaskFailed
from compute.failure_evidence import note
from compute.relaxation import Relaxation
from compute.tasks.eos.birch_murnaghan import fit_birch_murnaghan


def run(
    atoms: Atoms,
    calculator: Calculator,
    *,
    optimizer: str = "FIRE",
    cell_filter: str | None = "FrechetCell",
    fmax: float = 0.1,
    steps: int = 500,
    npoints: int = 21,
    min_volume_factor: float = 0.8,
    max_volume_factor: float = 1.2,
    symmetry: bool = False,
) -> dict[str, Any]:
    """E(V) curve and its fit. Volumes in Å³ and energies in eV for the whole cell."""
    relaxation = Relaxation(optimizer, cell_filter, fmax, steps, symmetry)
    relaxed, converged, nsteps = relaxation.relax(atoms, calculator)
    cell0 = relaxed.get_cell()
    factors = np.linspace(min_volume_factor, max_volume_factor, npoints)
    strained_cells = []
    for factor in factors:
        strained = relaxed.copy()
        strained.set_cell(cell0 * factor ** (1.0 / 3.0), scale_atoms=True)
        strained_cells.append(strained)
    points = relax_batch(relaxation.fixed_cell(), strained_cells, calculator)
    for index, (point, factor) in enumerate(zip(points, factors, strict=True)):
        if point.error:  # the evidence: the points relaxed before it, and its cell
            done = points[:index]
            note(
                natoms=len(atoms),
                volumes_a3=[float(p.atoms.get_volume()) for p in done],
                energies_ev=[float(p.atoms.get_potential_energy()) for p in done],
                last_structure=point.atoms,
            )
            raise TaskFailed(f"{point.error} (volume factor {factor:.3f})")
    volumes = [float(point.atoms.get_volume()) for point in points]
    energies = [float(point.atoms.get_potential_energy()) for point in points]
    point_converged = [point.converged for point in points]
    point_steps = [point.steps for point in points]
    note(natoms=len(atoms), volumes_a3=volumes, energies_ev=energies)  # a failed fit keeps them
    fit = fit_birch_murnaghan(np.array(volumes), np.array(energies))
    natoms = len(atoms)
    return {
        "natoms": natoms,
        "volumes_a3": volumes,
        "energies_ev": energies,
        "v0_a3_per_atom": fit.v0_a3 / natoms,
        "e0_ev_per_atom": fit.e0_ev / natoms,
        "b0_gpa": fit.b0_gpa,
        "b0_prime": fit.b0_prime,
        "fit_residual": fit.residual,
        "relaxed_volume_a3": float(relaxed.get_volume()),
        "relax_converged": converged,
        "relax_steps": nsteps,
        "points_converged": point_converged,
        "points_steps": point_steps,
    }
