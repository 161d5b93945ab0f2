"""A model's dimer curve against Matbench Discovery's PBE curve of the same element.

The DFT grid is coarse (about 50 geometric steps from 0.8 × r_cov to 6 Å) and the
model's fine (0.01 Å from 0.9 × r_cov), so the model's curve is read at the DFT
distances, by a cubic spline through its own points, wherever they lie inside the
model's scan: the shared distances. A spline on a 0.01 Å grid is exact to far below
a meV, the DFT's own noise; the DFT is never interpolated for the errors.

Energies are aligned at the dissociation limit, the largest shared distance, where
both curves have (nearly) reached twice the isolated atom's energy. Aligned at the
minimum instead, a wrong well depth would show up as an error of the whole tail and a
curve without a minimum could not be aligned at all. D_e is measured from the same
distance on both curves. The PBE curve's own r_e and minimum come from a cubic spline
through its points (a local quartic, as for the model, has too few DFT points within
0.05 Å); the model's are the scan's (``bond.py``).
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from scipy.interpolate import CubicSpline

from compute.tasks.spec import LOWER, Metric

REFERENCE_FILE = Path(__file__).with_name("matbench-diatomics-pbe-r2scan.json.gz")
PBE, R2SCAN = "PBE", "r2SCAN"
SHARED_TOLERANCE_A = 1e-9  # a DFT distance on the scan's edge counts as inside

DFT_METRICS: tuple[Metric, ...] = (
    Metric(
        "pbe_energy_mae_ev",
        "E error vs PBE",
        "Mean |E − E_PBE| at the PBE distances inside the scan, both curves zero at the "
        "largest of them (the dissociation limit); ideal 0.",
        direction=LOWER,
        ideal=0,
        digits=3,
        unit="eV",
    ),
    Metric(
        "pbe_force_mae_ev_per_a",
        "F error vs PBE",
        "Mean |F·r̂ − F·r̂_PBE| at the PBE distances inside the scan; ideal 0.",
        direction=LOWER,
        ideal=0,
        digits=3,
        unit="eV/Å",
    ),
    Metric(
        "pbe_r_e_error_a",
        "|r_e − r_e,PBE|",
        "Mean |r_e − r_e,PBE|, r_e,PBE the minimum of a cubic spline through the PBE "
        "curve; ideal 0.",
        direction=LOWER,
        ideal=0,
        digits=3,
        unit="Å",
        absolute=True,
    ),
    Metric(
        "pbe_d_e_error_ev",
        "|D_e − D_e,PBE|",
        "Mean |D_e − D_e,PBE|, both well depths measured from the largest shared "
        "distance; ideal 0.",
        direction=LOWER,
        ideal=0,
        digits=3,
        unit="eV",
        absolute=True,
    ),
)


@functools.cache
def _curves() -> dict[str, dict[str, dict[str, list[float]]]]:
    with gzip.open(REFERENCE_FILE, "rt") as handle:
        return json.load(handle)


def dft_curve(symbol: str, functional: str = PBE) -> dict[str, list[float]] | None:
    """``symbol``'s dimer curve at ``functional`` (distances_a, energies_ev,
    forces_ev_per_a; ascending distances), or None beyond uranium."""
    return _curves()[functional].get(symbol)


@functools.cache
def dft_bond_length_a(symbol: str, functional: str = PBE) -> float | None:
    """r_e (Å) of ``symbol``'s DFT curve by its spline; None without a curve or a minimum."""
    curve = dft_curve(symbol, functional)
    if curve is None:
        return None
    minimum = spline_minimum(np.asarray(curve["distances_a"]), np.asarray(curve["energies_ev"]))
    return minimum[0] if minimum else None


def spline_minimum(distances_a: np.ndarray, energies_ev: np.ndarray) -> tuple[float, float] | None:
    """(r_e, E(r_e)) of a cubic spline's lowest interior minimum near the lowest point;
    None when the lowest point is an end of the curve (no bond)."""
    lowest = int(np.argmin(energies_ev))
    if lowest in (0, len(distances_a) - 1):
        return None
    spline = CubicSpline(distances_a, energies_ev)
    low, high = distances_a[lowest - 1], distances_a[lowest + 1]
    slope, curvature = spline.derivative(1), spline.derivative(2)
    roots = [r for r in slope.roots(extrapolate=False) if low <= r <= high and curvature(r) > 0]
    if not roots:
        return None
    r_e = min(roots, key=lambda r: float(spline(r)))
    return float(r_e), float(spline(r_e))


def dft_errors(output: Mapping[str, Any], curve: Mapping[str, list[float]]) -> dict[str, float]:
    """The model's errors against one DFT curve (see the module's docstring); {} when fewer
    than two DFT distances lie inside the scan."""
    rs = np.asarray(output["distances_a"], dtype=float)
    order = np.argsort(rs)
    rs = rs[order]
    energies = np.asarray(output["energies_ev"], dtype=float)[order]
    forces = np.asarray(output["forces_ev_per_a"], dtype=float)[order]
    dft_r = np.asarray(curve["distances_a"], dtype=float)
    inside = (dft_r >= rs[0] - SHARED_TOLERANCE_A) & (dft_r <= rs[-1] + SHARED_TOLERANCE_A)
    if inside.sum() < 2:
        return {}
    shared = dft_r[inside]
    dft_e = np.asarray(curve["energies_ev"], dtype=float)[inside]
    dft_f = np.asarray(curve["forces_ev_per_a"], dtype=float)[inside]
    model_e = CubicSpline(rs, energies)(shared)
    model_f = CubicSpline(rs, forces)(shared)
    errors = {
        "pbe_energy_mae_ev": float(np.mean(np.abs((model_e - model_e[-1]) - (dft_e - dft_e[-1])))),
        "pbe_force_mae_ev_per_a": float(np.mean(np.abs(model_f - dft_f))),
    }
    minimum = spline_minimum(np.asarray(curve["distances_a"]), np.asarray(curve["energies_ev"]))
    if minimum is None or output.get("r_e_a") is None or output.get("d_e_ev") is None:
        return errors
    r_e_dft, e_min_dft = minimum
    model_min = energies[-1] - output["d_e_ev"]  # bond.py measures D_e from the scan's end
    errors["pbe_r_e_error_a"] = output["r_e_a"] - r_e_dft
    errors["pbe_d_e_error_ev"] = float((model_e[-1] - model_min) - (dft_e[-1] - e_min_dft))
    return errors


def pbe_errors(output: Mapping[str, Any]) -> dict[str, float]:
    """The model's errors against the PBE curve of its element; {} for an element without."""
    curve = dft_curve(output.get("element", ""))
    return dft_errors(output, curve) if curve else {}
