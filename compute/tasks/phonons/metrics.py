"""Phonon metrics: C_V(300 K) against PBE, imaginary modes and the acoustic sum rule.

References hold ``heat_capacity_300k`` in J/K per mole of the structure's cell (the
Alexandria set's PBE values).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compute.tasks.spec import LOWER, Metric, MetricGroup

REFERENCE_KEYS = ("heat_capacity_300k",)
# Below this (THz), leaving out the three acoustic modes at Γ, a mode counts as
# imaginary: finite differences and mesh noise stay well inside it.
IMAGINARY_TOLERANCE_THZ = -0.1

METRICS: tuple[Metric, ...] = (
    Metric(
        "heat_capacity_error",
        "|C_V error|",
        "Mean |C_V(300 K) − C_V,PBE| per atom (Alexandria's PBE phonons); 3R = 24.94; ideal 0.",
        direction=LOWER,
        ideal=0,
        digits=3,
        unit="J/K/mol-atom",
        absolute=True,
    ),
    Metric(
        "imaginary_modes",
        "Imaginary modes",
        "Share of crystals with a mode below −0.1 THz anywhere but the acoustic modes at Γ "
        "(dynamically unstable); ideal 0.",
        direction=LOWER,
        ideal=0,
        percent=True,
    ),
    Metric(
        "acoustic_sum_rule_thz",
        "Acoustic sum rule",
        "Largest |ν| of the three acoustic modes at Γ, which translation invariance makes "
        "zero; ideal 0.",
        direction=LOWER,
        ideal=0,
        digits=3,
        unit="THz",
    ),
)
ACCURACY = MetricGroup(
    "accuracy",
    "Accuracy against DFT",
    "How close the heat capacity at 300 K comes to Alexandria's PBE phonons.",
    ("heat_capacity_error",),
)
SOUNDNESS = MetricGroup(
    "soundness",
    "Physical soundness",
    "Whether the relaxed crystal is dynamically stable and the force constants translation "
    "invariant.",
    ("imaginary_modes", "acoustic_sum_rule_thz"),
)
GROUPS = (ACCURACY, SOUNDNESS)


def evaluate(output: Mapping[str, Any], reference: Mapping[str, Any] | None) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "imaginary_modes": float(output["min_frequency_thz"] < IMAGINARY_TOLERANCE_THZ),
        "acoustic_sum_rule_thz": output["acoustic_gamma_thz"],
    }
    if reference and all(key in reference for key in REFERENCE_KEYS):
        error = output["heat_capacity_300k"] - reference["heat_capacity_300k"]
        metrics["heat_capacity_error"] = error / output["natoms"]
    return metrics
