"""EOS metrics: the curve shape, and the Delta test against a reference equation of state.

Reference dicts hold ``v0_a3_per_atom``, ``b0_gpa`` and ``b0_prime`` (WIEN2k for the
Delta set).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ase.units import GPa
from ase.utils.deltacodesdft import delta

from compute.tasks.curve_shape import CURVE_METRICS, SOUNDNESS, curve_metrics
from compute.tasks.failures import FAILURE_RATE
from compute.tasks.spec import LOWER, Metric, MetricGroup

REFERENCE_KEYS = ("v0_a3_per_atom", "b0_gpa", "b0_prime")

ACCURACY_METRICS: tuple[Metric, ...] = (
    Metric(
        "delta_mev_per_atom",
        "Δ",
        "Delta-test distance between the model's and the reference EOS; ideal 0.",
        direction=LOWER,
        ideal=0,
        digits=2,
        unit="meV/atom",
    ),
    Metric(
        "v0_rel_error",
        "|V0 error|",
        "Mean |V0 − V0,ref| / V0,ref; ideal 0.",
        direction=LOWER,
        ideal=0,
        percent=True,
        absolute=True,
    ),
    Metric(
        "b0_rel_error",
        "|B0 error|",
        "Mean |B0 − B0,ref| / B0,ref; ideal 0.",
        direction=LOWER,
        ideal=0,
        percent=True,
        absolute=True,
    ),
)
METRICS = (*CURVE_METRICS, *ACCURACY_METRICS, FAILURE_RATE)
ACCURACY = MetricGroup(
    "accuracy",
    "Accuracy against DFT",
    "How close V0, B0 and the whole E(V) come to WIEN2k PBE (the Delta set's references).",
    tuple(m.key for m in ACCURACY_METRICS),
)
GROUPS = (SOUNDNESS, ACCURACY)


def reference_metrics(output: Mapping[str, Any], reference: Mapping[str, Any]) -> dict[str, float]:
    """Delta (meV/atom) against the reference EOS, and relative V0, B0 errors."""
    v0, b0, bp = output["v0_a3_per_atom"], output["b0_gpa"], output["b0_prime"]
    ref_v0, ref_b0, ref_bp = (reference[key] for key in REFERENCE_KEYS)
    delta_ev = delta(v0, b0 * GPa, bp, ref_v0, ref_b0 * GPa, ref_bp)
    return {
        "delta_mev_per_atom": float(delta_ev * 1000.0),
        "v0_rel_error": (v0 - ref_v0) / ref_v0,
        "b0_rel_error": (b0 - ref_b0) / ref_b0,
    }


def evaluate(output: Mapping[str, Any], reference: Mapping[str, Any] | None) -> dict[str, Any]:
    metrics: dict[str, Any] = curve_metrics(output["volumes_a3"], output["energies_ev"])
    if reference and all(key in reference for key in REFERENCE_KEYS):
        metrics.update(reference_metrics(output, reference))
    return metrics
