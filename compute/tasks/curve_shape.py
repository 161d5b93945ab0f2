"""MLIP Arena's shape metrics of an E(V) curve, shared by the EOS and E–V tasks.

The middle point of the scan is taken as the minimum (the relaxed or input cell).
Steps where E does not change carry no sign, so they are dropped before counting
sign flips of dE/dV and before correlating dE/dV with V, as MLIP Arena does.
"""

from __future__ import annotations

import math

import numpy as np

from compute.tasks.failures import FAILURE_RATE
from compute.tasks.spec import HIGHER, LOWER, TARGET, Metric, MetricGroup

CURVE_METRICS: tuple[Metric, ...] = (
    Metric(
        "energy_derivative_flips",
        "Flips",
        "Sign changes of dE/dV along the scan; ideal 1 (one minimum).",
        direction=TARGET,
        ideal=1,
        digits=2,
        integer=True,
    ),
    Metric(
        "tortuosity",
        "Tortuosity",
        "Total variation of E over the direct path from both ends to the minimum; ideal 1.",
        direction=LOWER,
        ideal=1,
    ),
    Metric(
        "spearman_compression_energy",
        "ρ comp. E",
        "Spearman ρ of E against V under compression; ideal −1 (E falls as V grows).",
        direction=LOWER,
        ideal=-1,
    ),
    Metric(
        "spearman_compression_derivative",
        "ρ comp. dE/dV",
        "Spearman ρ of dE/dV against V under compression; ideal +1 (convex).",
        direction=HIGHER,
        ideal=1,
    ),
    Metric(
        "spearman_tension_energy",
        "ρ tension E",
        "Spearman ρ of E against V under tension; ideal +1 (E rises as V grows).",
        direction=HIGHER,
        ideal=1,
    ),
)

SOUNDNESS = MetricGroup(
    "soundness",
    "Physical soundness",
    "Whether E(V) is one smooth well: a single minimum, no wiggles, E falling then rising.",
    (*(m.key for m in CURVE_METRICS), FAILURE_RATE.key),
)


def curve_metrics(volumes: list[float], energies: list[float]) -> dict[str, float]:
    """Flips, tortuosity and the three Spearman coefficients of E(V)."""
    order = np.argsort(volumes)
    v = np.asarray(volumes, dtype=float)[order]
    e = np.asarray(energies, dtype=float)[order]
    middle = len(e) // 2
    e_min = e[middle]
    steps = np.diff(e)
    moving = np.sign(steps) != 0
    midpoints = ((v[:-1] + v[1:]) / 2)[moving]
    slopes = steps[moving]
    compression = midpoints < v[middle]
    span = abs(e[0] - e_min) + abs(e[-1] - e_min)
    return {
        "energy_derivative_flips": int(np.sum(np.diff(np.sign(slopes)) != 0)),
        "tortuosity": float(np.abs(steps).sum() / span) if span > 0 else math.nan,
        "spearman_compression_energy": spearman(v[:middle], e[:middle]),
        "spearman_compression_derivative": spearman(midpoints[compression], slopes[compression]),
        "spearman_tension_energy": spearman(v[middle:], e[middle:]),
    }


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's ρ of y against x; NaN for fewer than two points or a constant y."""
    if len(x) < 2 or np.all(y == y[0]):
        return math.nan
    # scipy.stats here, not at the top: every process loads this module with the task
    # registry, and scipy.stats costs 0.6 s to import.
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)
