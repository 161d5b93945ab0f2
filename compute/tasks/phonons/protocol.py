"""Harmonic phonons: relax tightly with symmetry kept, then phonopy on a ≥ 10 Å supercell.

The relaxation is the shared one (``compute.relaxation``); force constants from
0.01 Å displacements; DOS and thermal properties on phonopy's mesh, bands along
seekpath's standard path. An unstable crystal is a result (its imaginary modes are
negative frequencies), not a failure.
"""

from __future__ import annotations

from typing import Any

from ase import Atoms
from ase.calculators.calculator import Calculator

from compute.lazy import lazy_module
from compute.relaxation import Relaxation
from compute.run_context import RunContext

harmonic = lazy_module("compute.tasks.phonons.harmonic")  # phonopy, at the first job

FORCE_CONSTANTS_FILE = "phonopy_params.yaml"


def run(
    atoms: Atoms,
    calculator: Calculator,
    *,
    optimizer: str = "FIRE",
    cell_filter: str | None = "FrechetCell",
    fmax: float = 1e-3,
    steps: int = 1000,
    symmetry: bool = True,
    displacement_a: float = 0.01,
    min_supercell_length_a: float = 10.0,
    mesh_length_a: float = 50.0,
    band_points: int = 31,
    context: RunContext | None = None,
) -> dict[str, Any]:
    """Phonons of ``atoms`` relaxed by ``calculator``; extensive values per mole of the
    input cell (J/K/mol, kJ/mol), frequencies in THz. ``mesh_length_a`` is phonopy's
    mesh length (points along b_i: about length × |b_i|; the mesh sums of a
    periodic integrand converge fast: Cu's C_V agrees to 1e-12 between 24³ and 48³);
    ``band_points`` per segment."""
    context = context or RunContext()
    relaxation = Relaxation(optimizer, cell_filter, fmax, steps, symmetry)
    relaxed, converged, nsteps = relaxation.relax(atoms, calculator)
    multiples = harmonic.supercell_matrix(relaxed, min_supercell_length_a)
    phonon = harmonic.phonopy_for(relaxed, multiples)
    displacements = harmonic.produce_force_constants(
        phonon, calculator, displacement_a, on_force=context.progress
    )
    path = context.file_path(FORCE_CONSTANTS_FILE)
    return {
        "natoms": len(atoms),
        "primitive_natoms": len(phonon.primitive),
        "supercell_matrix": multiples,
        "supercell_natoms": len(phonon.supercell),
        "displacements": displacements,
        "relax_converged": converged,
        "relax_steps": nsteps,
        "relaxed_volume_a3": float(relaxed.get_volume()),
        **harmonic.phonon_properties(phonon, mesh=mesh_length_a, band_points=band_points),
        "force_constants_file": harmonic.save_force_constants(phonon, path) if path else None,
    }
