"""Bond geometry of a dimer curve: r_e, D_e, the force constant and the harmonic frequency.

A quartic is fitted to E(r) over the grid points within ``FIT_HALF_WIDTH_A`` of the
lowest point; its stationary point is r_e and its second derivative there the force
constant k_e. D_e is measured from the far end of the scan, where MLIP Arena aligns
its curves, so it is the well depth within the scanned range.
"""

from __future__ import annotations

import math

import numpy as np
from ase import units

FIT_HALF_WIDTH_A = 0.05
FIT_DEGREE = 4
# The slope's terms below this share of its largest (on the fit's [-1, 1] window) are
# rounding noise, such as an exact parabola's cubic term of 1e-17: kept, they give the
# companion matrix a root near 1e17 that spoils the real one (0.002 came out as 0.0).
SLOPE_NOISE = 1e-8
NO_MINIMUM = {"r_e_a": None, "d_e_ev": None, "k_e_ev_per_a2": None, "omega_e_cm1": None}


def harmonic_wavenumber_cm1(k_e_ev_per_a2: float, mass_amu: float) -> float:
    """ω_e = √(k/μ) / 2πc in cm⁻¹ for a homonuclear dimer (μ = m/2)."""
    reduced_mass_kg = mass_amu / 2 * units._amu
    k_si = k_e_ev_per_a2 * units._e / 1e-20  # eV/Å² to J/m²
    return math.sqrt(k_si / reduced_mass_kg) / (2 * math.pi * units._c * 100)


def bond_geometry(
    distances_a: np.ndarray, energies_ev: np.ndarray, mass_amu: float
) -> dict[str, float | None]:
    """r_e (Å), D_e (eV), k_e (eV/Å²) and ω_e (cm⁻¹); all None without an interior minimum.

    ``distances_a`` ascend. Without an interior minimum (a purely repulsive or
    purely attractive curve) or a stationary point of positive curvature in the
    fitted window there is no bond to describe.
    """
    lowest = int(np.argmin(energies_ev))
    if lowest in (0, len(distances_a) - 1):
        return dict(NO_MINIMUM)
    near = np.abs(distances_a - distances_a[lowest]) <= FIT_HALF_WIDTH_A + 1e-9
    if near.sum() <= FIT_DEGREE:
        return dict(NO_MINIMUM)
    offsets = distances_a[near] - distances_a[lowest]
    fit = np.polynomial.Polynomial.fit(offsets, energies_ev[near], FIT_DEGREE)
    slope, curvature = fit.deriv(1), fit.deriv(2)
    slope = slope.trim(SLOPE_NOISE * np.abs(slope.coef).max())
    inside = [
        x.real
        for x in slope.roots()
        if abs(x.imag) < 1e-12 and offsets[0] <= x.real <= offsets[-1] and curvature(x.real) > 0
    ]
    if not inside:
        return dict(NO_MINIMUM)
    x_e = min(inside, key=abs)
    k_e = float(curvature(x_e))
    return {
        "r_e_a": float(distances_a[lowest] + x_e),
        "d_e_ev": float(energies_ev[-1] - fit(x_e)),
        "k_e_ev_per_a2": k_e,
        "omega_e_cm1": harmonic_wavenumber_cm1(k_e, mass_amu),
    }
