"""EOS metrics: MLIP Arena's curve-shape metrics and the Delta test against a reference.

Reference dicts hold ``v0_a3_per_atom``, ``b0_gpa`` and ``b0_prime`` (WIEN2k for the
Delta set).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from ase.units import GPa
from ase.utils.deltacodesdft import delta
from scipy.stats import spearmanr


def curve_metrics(volumes: list[float], energies: list[float]) -> dict[str, float]:
    """Smoothness and monotonicity of E(V), with the middle point as the minimum.

    Ideal values: 1 sign flip of dE/dV, tortuosity 1, Spearman -1 for compression
    energy, +1 for compression derivative and for tension energy.
    """
    order = np.argsort(volumes)
    v = np.asarray(volumes, dtype=float)[order]
    e = np.asarray(energies, dtype=float)[order]
    middle = len(e) // 2
    e_min = e[middle]
    diffs = np.diff(e)
    signs = np.sign(diffs)
    nonzero = signs[signs != 0]
    midpoints = (v[:-1] + v[1:]) / 2
    total_variation = float(np.abs(diffs).sum())
    span = abs(e[0] - e_min) + abs(e[-1] - e_min)
    return {
        "energy_derivative_flips": int(np.sum(np.diff(nonzero) != 0)),
        "tortuosity": float(total_variation / span) if span > 0 else math.nan,
        "spearman_compression_energy": _spearman(v[:middle], e[:middle]),
        "spearman_compression_derivative": _spearman(midpoints[:middle], diffs[:middle]),
        "spearman_tension_energy": _spearman(v[middle:], e[middle:]),
    }


def reference_metrics(output: dict[str, Any], reference: dict[str, Any]) -> dict[str, float]:
    """Delta (meV/atom) against the reference EOS, and relative V0, B0 errors."""
    v0, b0, bp = output["v0_a3_per_atom"], output["b0_gpa"], output["b0_prime"]
    ref_v0, ref_b0, ref_bp = reference["v0_a3_per_atom"], reference["b0_gpa"], reference["b0_prime"]
    delta_ev = delta(v0, b0 * GPa, bp, ref_v0, ref_b0 * GPa, ref_bp)
    return {
        "delta_mev_per_atom": float(delta_ev * 1000.0),
        "v0_rel_error": (v0 - ref_v0) / ref_v0,
        "b0_rel_error": (b0 - ref_b0) / ref_b0,
    }


def evaluate(output: dict[str, Any], reference: dict[str, Any] | None) -> dict[str, Any]:
    metrics: dict[str, Any] = curve_metrics(output["volumes_a3"], output["energies_ev"])
    if reference and all(k in reference for k in ("v0_a3_per_atom", "b0_gpa", "b0_prime")):
        metrics.update(reference_metrics(output, reference))
    return metrics


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2 or np.all(y == y[0]):
        return math.nan
    return float(spearmanr(x, y).statistic)
