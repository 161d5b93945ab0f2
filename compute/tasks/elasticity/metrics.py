"""Elasticity metrics against Materials Project PBE K_VRH and G_VRH.

A reference dict holds ``k_vrh_gpa`` and ``g_vrh_gpa`` (GPa); a structure without them
(an imported set) gets no metrics, its tensor and moduli are still the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compute.tasks.spec import LOWER, Metric, MetricGroup

REFERENCE_KEYS = ("k_vrh_gpa", "g_vrh_gpa")


def _error_metrics(symbol: str, key: str) -> tuple[Metric, Metric]:
    return (
        Metric(
            f"{key}_error_gpa",
            f"|{symbol} error|",
            f"Mean |{symbol}_VRH − {symbol}_VRH,PBE|; the signed mean beside it (negative: "
            "softer than PBE); ideal 0.",
            direction=LOWER,
            ideal=0,
            digits=1,
            unit="GPa",
            absolute=True,
        ),
        Metric(
            f"{key}_rel_error",
            f"|{symbol} rel. error|",
            f"Mean |{symbol}_VRH − {symbol}_VRH,PBE| / {symbol}_VRH,PBE; ideal 0.",
            direction=LOWER,
            ideal=0,
            percent=True,
            absolute=True,
        ),
    )


METRICS: tuple[Metric, ...] = (
    *_error_metrics("K", "k"),
    *_error_metrics("G", "g"),
    Metric(
        "unstable_share",
        "Unstable",
        "Share of crystals whose tensor is not Born-stable (an eigenvalue ≤ 0) though "
        "PBE's is: MP's positive K_VRH and G_VRH; ideal 0.",
        direction=LOWER,
        ideal=0,
        percent=True,
    ),
)
GROUPS = (
    MetricGroup(
        "accuracy",
        "Accuracy against DFT",
        "How close K_VRH and G_VRH come to Materials Project PBE, and whether a crystal "
        "stable in PBE stays mechanically stable.",
        tuple(m.key for m in METRICS),
    ),
)


def evaluate(output: Mapping[str, Any], reference: Mapping[str, Any] | None) -> dict[str, Any]:
    """Errors of K_VRH and G_VRH (GPa, relative) and instability where PBE is stable."""
    if not reference or not all(isinstance(reference.get(k), int | float) for k in REFERENCE_KEYS):
        return {}
    metrics: dict[str, Any] = {}
    for key in REFERENCE_KEYS:
        value, expected = output.get(key), reference[key]
        if value is None:  # a singular tensor has no Reuss bound, hence no VRH modulus
            continue
        metrics[f"{key[0]}_error_gpa"] = value - expected
        metrics[f"{key[0]}_rel_error"] = (value - expected) / expected
    if all(reference[key] > 0 for key in REFERENCE_KEYS):  # Born-stable in PBE
        metrics["unstable_share"] = float(not output["born_stable"])
    return metrics
