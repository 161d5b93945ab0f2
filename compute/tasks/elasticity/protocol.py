"""Elastic constants: Materials Project's and matcalc's strain protocol.

Relax cell and positions tightly, strain the relaxed cell by each of the six
independent strain types at each amplitude, relax positions at each strained cell,
and fit the 6×6 stiffness tensor from the stresses (``stiffness.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.units import GPa

from compute.errors import TaskFailed
from compute.lazy import lazy_module
from compute.relaxation import Relaxation

stiffness = lazy_module("compute.tasks.elasticity.stiffness")  # pymatgen, at the first fit

AMPLITUDES = (-0.01, -0.005, 0.005, 0.01)  # MP's and matcalc's: ±0.5 % and ±1 %
MAX_AMPLITUDE = 0.05  # beyond a few per cent the response is not linear


def run(
    atoms: Atoms,
    calculator: Calculator,
    *,
    optimizer: str = "BFGS",
    cell_filter: str | None = "FrechetCell",
    fmax: float = 1e-3,
    steps: int = 1000,
    amplitudes: list[float] | None = None,
    relax_strained: bool = True,
    symmetry: bool = False,
) -> dict[str, Any]:
    """The stiffness tensor (GPa, Voigt) of ``atoms`` relaxed, its moduli and stability.

    ``amplitudes``: strain tensor components applied per strain type (default AMPLITUDES).
    """
    amplitudes = tuple(amplitudes or AMPLITUDES)
    check_amplitudes(amplitudes)
    relaxation = Relaxation(optimizer, cell_filter, fmax, steps, symmetry)
    relaxed, converged, nsteps = relaxation.relax(atoms, calculator)
    if not converged:
        raise TaskFailed(f"relaxation did not reach fmax {fmax:g} eV/Å in {steps} steps")
    at_fixed_cell = relaxation.fixed_cell()
    eq_stress = relaxed.get_stress(voigt=False) / GPa
    strains = stiffness.strain_states(amplitudes)
    stresses, strained_steps = [], []
    for strain in strains:
        strained = relaxed.copy()
        strained.set_cell(
            relaxed.cell[:] @ stiffness.deformation_gradient(strain).T, scale_atoms=True
        )
        if relax_strained:
            strained, ok, n = at_fixed_cell.relax(strained, calculator)
            if not ok:
                raise TaskFailed(
                    f"positions did not relax to fmax {fmax:g} eV/Å in {steps} steps "
                    f"at strain {np.round(strain.voigt, 4).tolist()}"
                )
            strained_steps.append(n)
        else:
            strained.calc = calculator
        stresses.append(strained.get_stress(voigt=False) / GPa)
    fit = stiffness.fit_stiffness(strains, stresses, eq_stress)
    return {
        "natoms": len(relaxed),
        "c_ij_gpa": fit.c_voigt_gpa.round(6).tolist(),
        "c_ij_error_gpa": fit.error_gpa.round(6).tolist(),
        "fit_residual_gpa": fit.residual_gpa,
        **stiffness.moduli(fit.c_voigt_gpa),
        "strains_voigt": [s.voigt.tolist() for s in strains],
        "stresses_voigt_gpa": [[float(v) for v in _voigt(s)] for s in stresses],
        "relaxed_cell": np.asarray(relaxed.cell).tolist(),
        "relaxed_positions": relaxed.positions.tolist(),
        "relax_steps": nsteps,
        "strained_relax_steps": strained_steps,
    }


def check_amplitudes(amplitudes: tuple[float, ...]) -> None:
    """Raise TaskFailed unless the amplitudes are two or more distinct, non-zero,
    and within ±MAX_AMPLITUDE."""
    values = [float(a) for a in amplitudes]
    if len(set(values)) < 2 or any(a == 0 or abs(a) > MAX_AMPLITUDE for a in values):
        raise TaskFailed(
            f"amplitudes must be two or more distinct non-zero strains within "
            f"±{MAX_AMPLITUDE:g}, not {values}"
        )


def _voigt(stress: np.ndarray) -> np.ndarray:
    return stress[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
