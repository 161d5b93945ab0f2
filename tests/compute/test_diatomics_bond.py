"""The diatomics bond geometry (r_e, D_e, k_e, ω_e) against closed forms: a Lennard-Jones
dimer through ASE's calculator, and curves built from polynomials whose stationary
points are known, which a quartic fit must reproduce to rounding."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.constants as si
from ase import Atoms
from ase.calculators.lj import LennardJones
from ase.data import atomic_masses, atomic_numbers
from numpy.polynomial import Polynomial

from compute.tasks import run_task
from compute.tasks.diatomics.bond import bond_geometry, harmonic_wavenumber_cm1

R0_A = 1.0  # where the hand-built curves put their grid's middle point


def wavenumber_cm1(k_ev_per_a2: float, mass_amu: float) -> float:
    """ω = √(k/μ) / 2πc with SciPy's SI constants, μ = m/2."""
    k = k_ev_per_a2 * si.electron_volt / si.angstrom**2
    return math.sqrt(k / (mass_amu / 2 * si.atomic_mass)) / (2 * math.pi * si.c * 100)


def test_lennard_jones_argon_has_its_minimum_depth_and_curvature():
    """V = 4ε[(σ/r)¹² − (σ/r)⁶] has its minimum −ε at r_m = 2^(1/6) σ and V''(r_m) = 72ε/r_m².
    Its cutoff (12 Å) lies beyond Ar's grid end (3.1 × 1.83 Å), so D_e, measured from the
    last point, is V(r_max) − V(r_m) and the curve still rises there (by ~2e-5 eV per step).
    A van der Waals well is shallow: k ≈ 0.05 eV/Å², below 1."""
    epsilon, sigma = 0.0104, 3.40
    output = run_task(
        "diatomics",
        Atoms("Ar2", positions=[[0, 0, 0], [3.8, 0, 0]]),
        LennardJones(epsilon=epsilon, sigma=sigma, rc=12.0),
        {},
    )
    r_m = 2 ** (1 / 6) * sigma
    r_max = output["distances_a"][-1]
    assert r_max == pytest.approx(3.1 * 1.83, abs=1e-12)

    def lj(r):
        return 4 * epsilon * ((sigma / r) ** 12 - (sigma / r) ** 6)

    k = 72 * epsilon / r_m**2
    # The quartic over ±0.05 Å of a 1/r¹² wall: r_e within 1e-6 Å (measured 8e-7), k
    # within 1e-5 relative (measured 8e-6), D_e to 1e-9 eV (measured 4e-11).
    assert output["r_e_a"] == pytest.approx(r_m, abs=2e-6)
    assert output["k_e_ev_per_a2"] == pytest.approx(k, rel=2e-5)
    assert output["d_e_ev"] == pytest.approx(lj(r_max) - lj(r_m), abs=1e-9)
    assert output["omega_e_cm1"] == pytest.approx(
        wavenumber_cm1(k, atomic_masses[atomic_numbers["Ar"]]), rel=1e-5
    )


def test_h2_wavenumber_from_its_force_constant_by_hand():
    """¹H₂: ω_e = 4401.21 cm⁻¹ and μ = 1.007825/2 u give k = μ(2πcω)² = 575.1 N/m
    = 35.90 eV/Å² (1 eV/Å² = 16.0218 N/m); the conversion back must return ω_e.
    ASE's CODATA 2014 and SciPy's 2018 constants differ by ~1e-8 relative."""
    mass = 1.007825
    omega = 2 * math.pi * si.c * 100 * 4401.21
    k_si = mass / 2 * si.atomic_mass * omega**2
    assert k_si == pytest.approx(575.1, abs=0.05)  # to the digits above
    k = k_si * si.angstrom**2 / si.electron_volt
    assert k == pytest.approx(35.90, abs=0.005)
    assert harmonic_wavenumber_cm1(k, mass) == pytest.approx(4401.21, rel=1e-7)


def quartic_curve(slope: Polynomial, step_a: float, half_span: int):
    """E(x) = ∫ slope, on the grid R0 + i·step, i = −half_span … half_span."""
    energy = slope.integ()
    x = np.arange(-half_span, half_span + 1) * step_a
    return energy, R0_A + x, energy(x)


@pytest.mark.parametrize("depth", [1.0, 1e-6])
def test_an_exact_quartic_with_one_real_minimum_is_found_exactly(depth):
    """E' = a(x − x0)((x − p)² + q²) has one real stationary point, x0 = 0.004 Å, and a
    complex pair p ± iq nearer the lowest grid point (x = 0), where E'' = aq² > 0: only
    the real root is a bond. The quartic fit reproduces E, so r_e = R0 + x0,
    k_e = E''(x0) = a((x0 − p)² + q²) and D_e = E(0.2) − E(x0) to rounding. The same
    curve a million times shallower (depth 1e-6: µeV) has the same r_e: what counts as
    rounding noise in the fit is relative to the curve, not a fixed energy."""
    a, x0, p, q = 1e4 * depth, 0.004, 0.001, 0.01
    slope = a * Polynomial([-x0, 1]) * Polynomial([p**2 + q**2, -2 * p, 1])
    energy, r, e = quartic_curve(slope, 0.01, 20)
    assert int(np.argmin(e)) == 20
    out = bond_geometry(r, e, 2.0)
    k = a * ((x0 - p) ** 2 + q**2)
    assert out["r_e_a"] == pytest.approx(R0_A + x0, abs=1e-12)
    assert out["k_e_ev_per_a2"] == pytest.approx(k, rel=1e-9)
    assert out["d_e_ev"] == pytest.approx(energy(0.2) - energy(x0), rel=1e-12)
    assert out["omega_e_cm1"] == pytest.approx(wavenumber_cm1(k, 2.0), rel=1e-7)


def test_of_two_minima_in_the_window_the_one_at_the_lowest_point_is_the_bond():
    """E' = A x(x + 0.02)(x + 0.035): minima at 0 (E = 0, the lowest) and −0.035 Å
    (E = 1.8e-3 eV), both within the ±0.05 Å window, a maximum between. r_e is the
    stationary point nearest the lowest grid point: R0, with k = A·0.02·0.035."""
    big_a = 1e5
    slope = big_a * Polynomial([0, 1]) * Polynomial([0.02, 1]) * Polynomial([0.035, 1])
    energy, r, e = quartic_curve(slope, 0.005, 40)
    assert int(np.argmin(e)) == 40 and energy(-0.035) > 0
    out = bond_geometry(r, e, 2.0)
    assert out["r_e_a"] == pytest.approx(R0_A, abs=1e-12)
    assert out["k_e_ev_per_a2"] == pytest.approx(big_a * 0.02 * 0.035, rel=1e-9)


def test_the_fit_takes_the_points_within_five_hundredths_of_an_angstrom_inclusive():
    """A parabola with its minimum at 0.002 Å, its points at +0.05 and +0.06 Å raised by
    1 meV. The point at 0.06 Å lies outside the window: alone it changes nothing. The
    point at 0.05 Å lies inside: r_e is then the stationary point of the least-squares
    quartic through the eleven points −0.05 … 0.05 Å (np.polyfit, by hand)."""
    k, x_min, bump = 20.0, 0.002, 1e-3
    x = np.arange(-15, 16) * 0.01
    parabola = k / 2 * (x - x_min) ** 2
    outside = parabola + np.where(np.isclose(x, 0.06), bump, 0.0)
    assert bond_geometry(R0_A + x, outside, 2.0)["r_e_a"] == pytest.approx(R0_A + x_min, abs=1e-9)
    edge = outside + np.where(np.isclose(x, 0.05), bump, 0.0)
    window = np.abs(x) < 0.055
    coefficients = np.polyfit(x[window], edge[window], 4)
    stationary = [
        z.real for z in np.roots(np.polyder(coefficients)) if abs(z.imag) < 1e-12 and abs(z) < 0.05
    ]
    assert len(stationary) == 1 and abs(stationary[0] - x_min) > 1e-4  # the bump moves r_e
    assert bond_geometry(R0_A + x, edge, 2.0)["r_e_a"] == pytest.approx(
        R0_A + stationary[0], abs=1e-9
    )


def test_a_quartic_needs_five_points_in_the_window():
    """On a 0.02 Å grid a minimum at the second point has four points within ±0.05 Å
    (−0.02 … 0.04): too few for a quartic, so no bond; one point further in, five."""
    x = np.arange(0, 10) * 0.02
    for lowest, expected in ((1, None), (2, pytest.approx(R0_A + x[2], abs=1e-9))):
        e = 3.0 * (x - x[lowest]) ** 2
        assert bond_geometry(R0_A + x, e, 2.0)["r_e_a"] == expected


@pytest.mark.parametrize("end", ["first", "last"])
def test_a_curve_lowest_at_either_end_has_no_bond_even_with_a_dip_near_it(end):
    """E = B(x³/3 − 0.0225x² + 0.00045x) (x ≥ 0) has a local minimum at x = 0.03 Å,
    within the window, but E > E(0) everywhere: the curve is lowest at the scan's end,
    so it has no interior minimum and no bond. Mirrored, the same at the far end."""
    x = np.arange(0, 31) * 0.01
    e = 1e5 * (x**3 / 3 - 0.0225 * x**2 + 0.00045 * x)
    assert np.all(e[1:] > 0)
    r = R0_A + x if end == "first" else R0_A - x[::-1]
    e = e if end == "first" else e[::-1]
    assert bond_geometry(r, e, 2.0) == {
        "r_e_a": None,
        "d_e_ev": None,
        "k_e_ev_per_a2": None,
        "omega_e_cm1": None,
    }


@pytest.mark.parametrize("end", ["first", "last"])
def test_a_minimum_between_the_scan_end_and_its_neighbour_is_found(end):
    """A parabola k/2 (x − x0)² with x0 = −0.003 Å, sampled from x = −0.01 Å: the lowest
    point is the second, x = 0, and the minimum lies between it and the first, at the
    edge of the fitted window (−0.01 … 0.05 Å). The quartic reproduces the parabola:
    r_e = R0 + x0 and k_e = k. Mirrored, the same next to the last point."""
    k, x0 = 12.0, -0.003
    x = np.arange(-1, 10) * 0.01
    r, e = R0_A + x, k / 2 * (x - x0) ** 2
    if end == "last":
        r, e, x0 = R0_A - x[::-1], e[::-1], -x0
    assert int(np.argmin(e)) == (1 if end == "first" else len(e) - 2)
    out = bond_geometry(r, e, 2.0)
    # The least-squares quartic through seven points leaves ~3e-11 Å of rounding in r_e.
    assert out["r_e_a"] == pytest.approx(R0_A + x0, abs=1e-9)
    assert out["k_e_ev_per_a2"] == pytest.approx(k, rel=1e-7)


def test_a_glitch_on_a_falling_curve_is_no_bond():
    """E = x (eV, x in Å) through the window with its middle point 5.5 meV low: that point
    is the lowest, but the least-squares quartic (np.polyfit, by hand) has no stationary
    point of positive curvature within ±0.05 Å, so there is no bond to describe."""
    x = np.arange(-5, 6) * 0.01
    e = x.copy()
    e[5] = -0.055
    assert int(np.argmin(e)) == 5
    coefficients = np.polyfit(x, e, 4)
    minima = [
        z.real
        for z in np.roots(np.polyder(coefficients))
        if abs(z.imag) < 1e-12
        and abs(z.real) <= 0.05
        and np.polyval(np.polyder(coefficients, 2), z.real) > 0
    ]
    assert minima == []
    assert bond_geometry(R0_A + x, e, 2.0)["r_e_a"] is None
