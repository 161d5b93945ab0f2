"""Vacancy metrics: errors of both energies against PBE, the hop's asymmetry, NEB convergence.

Reference dicts hold ``vacancy_formation_ev`` and ``migration_barrier_ev`` (Angsten
2014's PBE) where the table has them, for the element in that structure type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compute.tasks.spec import LOWER, Metric, MetricGroup

REFERENCE_KEYS = ("vacancy_formation_ev", "migration_barrier_ev")
ERRORS = {"vacancy_formation_ev": "formation_error_ev", "migration_barrier_ev": "barrier_error_ev"}

METRICS = (
    Metric(
        "formation_error_ev",
        "|E_vac error|",
        "Vacancy formation energy minus PBE's (Angsten 2014); ranked on the mean of |error|, "
        "the signed mean shown beside it; ideal 0.",
        LOWER,
        ideal=0,
        unit="eV",
        absolute=True,
    ),
    Metric(
        "barrier_error_ev",
        "|E_mig error|",
        "Migration barrier (climbing image above the initial state) minus PBE's; ranked on "
        "the mean of |error|; ideal 0.",
        LOWER,
        ideal=0,
        unit="eV",
        absolute=True,
    ),
    Metric(
        "barrier_asymmetry",
        "Barrier asymmetry",
        "|forward − backward barrier| / forward barrier of a hop between equivalent sites "
        "(MLIP Arena's); ideal 0.",
        LOWER,
        ideal=0,
        digits=3,
    ),
    Metric(
        "neb_not_converged",
        "NEB not converged",
        "Share of NEBs that did not reach fmax within the step bound.",
        LOWER,
        ideal=0,
        digits=2,
        percent=True,
        ranked=False,
    ),
)
GROUPS = (
    MetricGroup(
        "accuracy",
        "Accuracy against DFT",
        "How close vacancy formation and migration energies come to PBE (Angsten 2014).",
        ("formation_error_ev", "barrier_error_ev"),
    ),
    MetricGroup(
        "soundness",
        "Physical soundness",
        "A hop between equivalent sites must cost the same both ways.",
        ("barrier_asymmetry",),
    ),
)


def evaluate(output: Mapping[str, Any], reference: Mapping[str, Any] | None) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "barrier_asymmetry": output["barrier_asymmetry"],
        "neb_not_converged": 0.0 if output["neb_converged"] else 1.0,
    }
    for key, error in ERRORS.items():
        if reference and reference.get(key) is not None:
            metrics[error] = output[key] - reference[key]
    return metrics
