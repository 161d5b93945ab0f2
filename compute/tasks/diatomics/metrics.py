"""MLIP Arena's diatomic curve metrics, as ``mlip_arena/tasks/diatomics`` computes them,
and the errors of the bond geometry against experiment.

Upstream orders the points from the far end inwards and reads the curve in that order
(it also shifts E to zero there, which no metric below depends on): ``np.gradient``
for dE/dr, sign flips of the force (|F| < 10 meV/Å counted as zero and dropped) and of
the energy steps (|ΔE| < 1 meV dropped), the energy jump at those flips, and Spearman
coefficients on either side of the energy minimum and of the most attractive force.
MLIP Arena ranks the first six metrics below; its leaderboard shows the other two
without ranking them. The errors against Matbench Discovery's PBE curves are ``dft.py``'s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from ase.data import atomic_masses, atomic_numbers

from compute.tasks.curve_shape import spearman
from compute.tasks.diatomics.bond import harmonic_wavenumber_cm1
from compute.tasks.diatomics.dft import DFT_METRICS, pbe_errors
from compute.tasks.failures import FAILURE_RATE
from compute.tasks.spec import HIGHER, LOWER, TARGET, Metric

FORCE_ZERO_EV_PER_A = 1e-2
ENERGY_STEP_ZERO_EV = 1e-3
REFERENCE_KEYS = ("r_e_a", "omega_e_cm1", "d_e_ev", "isotope_mass_amu")

CURVE_METRICS: tuple[Metric, ...] = (
    Metric(
        "conservation_deviation_ev_per_a",
        "Conservation dev.",
        "Mean |F·r̂ + dE/dr| along the curve, dE/dr by finite differences; ideal 0.",
        direction=LOWER,
        ideal=0,
        digits=3,
        unit="eV/Å",
    ),
    Metric(
        "spearman_repulsion_energy",
        "ρ E repulsion",
        "Spearman ρ of E against r inside the energy minimum; ideal −1 (E rises as r falls).",
        direction=LOWER,
        ideal=-1,
    ),
    Metric(
        "spearman_descending_force",
        "ρ F descending",
        "Spearman ρ of F·r̂ against r inside the most attractive point; ideal −1.",
        direction=LOWER,
        ideal=-1,
    ),
    Metric(
        "tortuosity",
        "Tortuosity",
        "Total variation of E over |E(r_max) − E_min| + (E(r_min) − E_min); ideal 1.",
        direction=LOWER,
        ideal=1,
    ),
    Metric(
        "energy_jump_ev",
        "Energy jump",
        "Sum of |ΔE| of the steps on either side of each sign flip of ΔE; ideal 0.",
        direction=LOWER,
        ideal=0,
        digits=3,
        unit="eV",
    ),
    Metric(
        "force_flips",
        "Force flips",
        "Sign changes of F·r̂ along the curve (|F| < 10 meV/Å ignored); ideal 1.",
        direction=TARGET,
        ideal=1,
        digits=2,
        integer=True,
    ),
    Metric(
        "spearman_attraction_energy",
        "ρ E attraction",
        "Spearman ρ of E against r outside the energy minimum; ideal +1.",
        direction=HIGHER,
        ideal=1,
        ranked=False,
    ),
    Metric(
        "spearman_ascending_force",
        "ρ F ascending",
        "Spearman ρ of F·r̂ against r outside the most attractive point; ideal +1.",
        direction=HIGHER,
        ideal=1,
        ranked=False,
    ),
)

GEOMETRY_METRICS: tuple[Metric, ...] = (
    Metric(
        "r_e_error_a",
        "|r_e error|",
        "Mean |r_e − r_e,exp| over the dimers with an experimental bond length; ideal 0.",
        direction=LOWER,
        ideal=0,
        digits=3,
        unit="Å",
        absolute=True,
        ranked=False,
    ),
    Metric(
        "omega_e_rel_error",
        "|ω_e error|",
        "Mean |ω_e − ω_e,exp| / ω_e,exp, ω_e for the measured isotopes; ideal 0.",
        direction=LOWER,
        ideal=0,
        percent=True,
        absolute=True,
        ranked=False,
    ),
    Metric(
        "d_e_error_ev",
        "|D_e error|",
        "Mean |D_e − D_e,exp|, D_e within the scanned range; ideal 0.",
        direction=LOWER,
        ideal=0,
        digits=2,
        unit="eV",
        absolute=True,
        ranked=False,
    ),
)
METRICS = (*CURVE_METRICS, *GEOMETRY_METRICS, *DFT_METRICS, FAILURE_RATE)


def curve_metrics(
    distances_a: list[float], energies_ev: list[float], forces_ev_per_a: list[float]
) -> dict[str, float | int]:
    """MLIP Arena's metrics of one dimer curve (F·r̂ positive when it pushes the atoms apart)."""
    order = np.argsort(distances_a)[::-1]  # far end first, as upstream
    rs = np.asarray(distances_a, dtype=float)[order]
    es = np.asarray(energies_ev, dtype=float)[order]
    fs = np.asarray(forces_ev_per_a, dtype=float)[order]
    most_attractive, lowest = int(np.argmin(fs)), int(np.argmin(es))
    span = abs(es[0] - es.min()) + (es[-1] - es.min())
    return {
        "conservation_deviation_ev_per_a": float(np.mean(np.abs(fs + np.gradient(es, rs)))),
        "spearman_repulsion_energy": spearman(rs[lowest:], es[lowest:]),
        "spearman_descending_force": spearman(rs[most_attractive:], fs[most_attractive:]),
        "tortuosity": float(np.sum(np.abs(np.diff(es))) / span) if span > 0 else math.nan,
        "energy_jump_ev": energy_jump(es),
        "force_flips": force_flips(fs),
        "spearman_attraction_energy": spearman(rs[:lowest], es[:lowest]),
        "spearman_ascending_force": spearman(rs[:most_attractive], fs[:most_attractive]),
    }


def force_flips(forces: np.ndarray) -> int:
    """Sign changes of the force, forces within 10 meV/Å of zero left out."""
    signs = np.sign(np.where(np.abs(forces) < FORCE_ZERO_EV_PER_A, 0.0, forces))
    signs = signs[signs != 0]
    return int(np.sum(np.diff(signs) != 0))


def energy_jump(energies: np.ndarray) -> float:
    """|ΔE| of both steps at each sign flip of ΔE, steps under 1 meV left out (eV)."""
    steps = np.diff(energies)
    steps = steps[np.abs(steps) >= ENERGY_STEP_ZERO_EV]
    flips = np.diff(np.sign(steps)) != 0
    return float(np.abs(steps[:-1][flips]).sum() + np.abs(steps[1:][flips]).sum())


def wavenumber_for_reference(
    k_e_ev_per_a2: float, element: str, reference: Mapping[str, Any]
) -> float:
    """The model's ω_e (cm⁻¹) for the isotopes the reference measured.

    ω_e scales as μ^(-1/2), so the force constant is turned into a frequency with the
    reference's ``isotope_mass_amu`` (e.g. ³⁵Cl), else the standard atomic mass.
    """
    mass = reference.get("isotope_mass_amu") or atomic_masses[atomic_numbers[element]]
    return harmonic_wavenumber_cm1(k_e_ev_per_a2, mass)


def geometry_errors(output: Mapping[str, Any], reference: Mapping[str, Any]) -> dict[str, float]:
    """Signed errors of r_e, ω_e (relative, for the isotopes measured) and D_e."""
    errors = {}
    if output.get("r_e_a") is not None and "r_e_a" in reference:
        errors["r_e_error_a"] = output["r_e_a"] - reference["r_e_a"]
    k_e = output.get("k_e_ev_per_a2")
    if k_e is not None and k_e > 0 and "omega_e_cm1" in reference:
        omega = wavenumber_for_reference(k_e, output["element"], reference)
        errors["omega_e_rel_error"] = (omega - reference["omega_e_cm1"]) / reference["omega_e_cm1"]
    if output.get("d_e_ev") is not None and "d_e_ev" in reference:
        errors["d_e_error_ev"] = output["d_e_ev"] - reference["d_e_ev"]
    return errors


def evaluate(output: Mapping[str, Any], reference: Mapping[str, Any] | None) -> dict[str, Any]:
    metrics: dict[str, Any] = curve_metrics(
        output["distances_a"], output["energies_ev"], output["forces_ev_per_a"]
    )
    return {**metrics, **geometry_errors(output, reference or {}), **pbe_errors(output)}
