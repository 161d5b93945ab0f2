"""The stiffness tensor from strained-cell stresses, fitted by pymatgen, and its moduli.

pymatgen's ``ElasticTensor.from_independent_strains`` is the fit Materials Project and
matcalc use: per strain type a straight line through the stresses against the strain
(the relaxed cell's stress as the zero-strain point). Strains are Green–Lagrange
tensors, stresses Cauchy tensors in GPa, tensile positive (ASE's sign); the Voigt form
carries the engineering factor 2 on shear strains.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from pymatgen.core.elasticity import ElasticTensor, Strain, Stress

from compute.errors import TaskFailed

# The six independent strain types in Voigt order xx, yy, zz, yz, xz, xy.
STRAIN_INDICES = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def strain_states(amplitudes: tuple[float, ...]) -> list[Strain]:
    """Every strain type at every amplitude (a tensor component: a shear of 0.01 is an
    engineering shear of 0.02), as pymatgen's ``DeformedStructureSet`` builds them."""
    return [
        Strain.from_index_amount(index, amount) for index in STRAIN_INDICES for amount in amplitudes
    ]


def deformation_gradient(strain: Strain) -> np.ndarray:
    """The upper-triangular F whose Green–Lagrange strain ½(FᵀF − I) is ``strain``."""
    return np.asarray(strain.get_deformation_matrix())


@dataclass(frozen=True)
class StiffnessFit:
    c_voigt_gpa: np.ndarray  # 6×6
    error_gpa: np.ndarray  # 6×6 spread of the central differences about the fit
    residual_gpa: float  # RMS of the stresses the fitted tensor misses


def fit_stiffness(
    strains: list[Strain], stresses_gpa: list[np.ndarray], eq_stress_gpa: np.ndarray
) -> StiffnessFit:
    """Fit C (GPa) from strains and 3×3 stresses; raise TaskFailed on non-finite stresses."""
    stacked = np.asarray(stresses_gpa, dtype=float)
    if not (np.all(np.isfinite(stacked)) and np.all(np.isfinite(eq_stress_gpa))):
        raise TaskFailed("non-finite stress in a strained cell: no stiffness tensor")
    with warnings.catch_warnings():  # extra strain states are not ours to warn about
        warnings.simplefilter("ignore")
        tensor = ElasticTensor.from_independent_strains(
            strains, [Stress(s) for s in stacked], eq_stress=Stress(eq_stress_gpa)
        )
    c_voigt = np.asarray(tensor.voigt, dtype=float)
    voigt_strains = np.array([s.voigt for s in strains])
    voigt_stresses = np.array([Stress(s).voigt for s in stacked])
    missed = voigt_stresses - Stress(eq_stress_gpa).voigt - voigt_strains @ c_voigt
    residual = float(np.sqrt(np.mean(missed**2)))
    error = slope_spread(voigt_strains, voigt_stresses, c_voigt)
    return StiffnessFit(c_voigt_gpa=c_voigt, error_gpa=error, residual_gpa=residual)


def slope_spread(
    voigt_strains: np.ndarray, voigt_stresses: np.ndarray, c_voigt: np.ndarray
) -> np.ndarray:
    """Per C_ij, the largest distance of a central difference (σ(+a) − σ(−a)) / 2a, at
    each amplitude a with its mirror, from the fitted slope: the fit's own error.

    Even-order terms cancel in these differences; what spreads them is the odd-order
    (third-order-constant) curvature, which also biases the fitted slope (by 1.4 times
    this spread for the ±0.5 %, ±1 % stencil). Zero where at most one amplitude has a mirror.
    """
    spread = np.zeros((6, 6))
    for i in range(6):
        column = voigt_strains[:, i]
        for row, strain in enumerate(column):
            mirror = np.flatnonzero(np.isclose(column, -strain) & (column != 0))
            if strain <= 0 or not len(mirror):
                continue
            slope = (voigt_stresses[row] - voigt_stresses[mirror[0]]) / (2 * strain)
            spread[i] = np.maximum(spread[i], np.abs(slope - c_voigt[i]))
    return spread


def moduli(c_voigt_gpa: np.ndarray) -> dict[str, float | int | None]:
    """Voigt, Reuss and Hill bulk and shear moduli (GPa) and Born stability.

    Stability: every eigenvalue of the symmetrised Voigt matrix positive (Mouhat and
    Coudert, PRB 90, 224104). A singular tensor has no Reuss bound: its Reuss and Hill
    moduli are None.
    """
    c = 0.5 * (c_voigt_gpa + c_voigt_gpa.T)
    eigenvalues = np.linalg.eigvalsh(c)
    tensor = ElasticTensor.from_voigt(c)
    values: dict[str, float | int | None] = {
        "k_voigt_gpa": float(tensor.k_voigt),
        "g_voigt_gpa": float(tensor.g_voigt),
        "min_eigenvalue_gpa": float(eigenvalues.min()),
        "born_stable": int(eigenvalues.min() > 0),
    }
    try:
        values["k_reuss_gpa"] = float(tensor.k_reuss)
        values["g_reuss_gpa"] = float(tensor.g_reuss)
        values["k_vrh_gpa"] = float(tensor.k_vrh)
        values["g_vrh_gpa"] = float(tensor.g_vrh)
    except np.linalg.LinAlgError:
        values |= dict.fromkeys(("k_reuss_gpa", "g_reuss_gpa", "k_vrh_gpa", "g_vrh_gpa"))
    return values
