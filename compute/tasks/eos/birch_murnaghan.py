"""Third-order Birch–Murnaghan fit, done as the Delta test does it.

E(V) is a cubic polynomial in x = V^(-2/3), so the fit is a linear least-squares
problem with no starting guess to get wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase.units import GPa

from compute.errors import TaskFailed


@dataclass(frozen=True)
class BirchMurnaghanFit:
    v0_a3: float  # equilibrium volume of the cell passed in (Å³)
    e0_ev: float  # energy at v0 (eV)
    b0_gpa: float  # bulk modulus (GPa)
    b0_prime: float  # pressure derivative of the bulk modulus
    residual: float  # 1 - R² of the polynomial fit


def fit_birch_murnaghan(volumes: np.ndarray, energies: np.ndarray) -> BirchMurnaghanFit:
    """Fit E(V); raise TaskFailed when the curve has no minimum in range."""
    volumes = np.asarray(volumes, dtype=float)
    energies = np.asarray(energies, dtype=float)
    if len(volumes) < 5 or not (np.all(np.isfinite(volumes)) and np.all(np.isfinite(energies))):
        raise TaskFailed("EOS fit needs at least 5 finite (volume, energy) points")
    x = volumes ** (-2.0 / 3.0)
    coeffs, ssr, *_ = np.polyfit(x, energies, 3, full=True)
    poly = np.poly1d(coeffs)
    d1, d2, d3 = poly.deriv(1), poly.deriv(2), poly.deriv(3)
    minima = [
        r.real
        for r in d1.roots
        if abs(r.imag) < 1e-12
        and r.real > 0
        and d2(r.real) > 0
        and x.min() * 0.9 <= r.real <= x.max() * 1.1
    ]
    if not minima:
        raise TaskFailed("EOS curve has no energy minimum inside the sampled volumes")
    x0 = minima[0]
    v0 = x0**-1.5
    # dE/dV derivatives at the minimum, from the chain rule through x = V^(-2/3)
    d2e_dv2 = 4.0 / 9.0 * x0**5 * d2(x0)
    d3e_dv3 = -20.0 / 9.0 * x0**6.5 * d2(x0) - 8.0 / 27.0 * x0**7.5 * d3(x0)
    b0 = v0 * d2e_dv2
    b0_prime = -1.0 - v0 * d3e_dv3 / d2e_dv2
    sst = float(np.sum((energies - energies.mean()) ** 2))
    residual = float(ssr[0]) / sst if len(ssr) and sst > 0 else 0.0
    return BirchMurnaghanFit(
        v0_a3=float(v0),
        e0_ev=float(poly(x0)),
        b0_gpa=float(b0 / GPa),
        b0_prime=float(b0_prime),
        residual=residual,
    )
