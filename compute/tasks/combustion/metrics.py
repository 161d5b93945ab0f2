"""MLIP Arena's combustion scores (``serve/ranks/combustion.py``), as pure functions.

The reaction enthalpy is the change of potential energy from the first frame to the
last, per possible water (128 for H256O128), in kcal/mol with their factor 23.0
kcal/mol per eV (the exact factor is 23.06, 0.26 % more); the error is that minus the
experimental enthalpy of H₂ + ½ O₂ → H₂O(l), −68.3078 kcal/mol (−285.8 kJ/mol). The
centre-of-mass drift is the distance between the centres of mass (unwrapped positions)
of the last frame and the first.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

KCAL_PER_MOL_PER_EV = 23.0  # MLIP Arena's rounding of 23.0605
WATER_FORMATION_KCAL_PER_MOL = -68.3078


def reaction_enthalpy_kcal_per_mol(
    first_energy_ev: float, last_energy_ev: float, *, most_water: int
) -> float:
    return (last_energy_ev - first_energy_ev) / most_water * KCAL_PER_MOL_PER_EV


def reaction_enthalpy_error_kcal_per_mol(
    first_energy_ev: float, last_energy_ev: float, *, most_water: int
) -> float:
    """Signed: the model's enthalpy minus experiment's."""
    enthalpy = reaction_enthalpy_kcal_per_mol(
        first_energy_ev, last_energy_ev, most_water=most_water
    )
    return enthalpy - WATER_FORMATION_KCAL_PER_MOL


def com_drift_a(first_com: Sequence[float], last_com: Sequence[float]) -> float:
    return float(np.linalg.norm(np.subtract(last_com, first_com)))
