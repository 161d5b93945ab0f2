"""The failure rate: what a task's failed structures count against a model.

A structure whose job failed has no result, so it cannot enter a metric's mean as a
value; each metric says in its ``on_failure`` what a failure adds to its mean instead
(LAMBench's 5 for an unfinished run, a valid share of 0), and every ranked task ranks
this share of failures, so a model gains nothing by failing the hard structures.
"""

from __future__ import annotations

from collections.abc import Iterable

from compute.tasks.spec import LOWER, Metric

FAILURE_RATE = Metric(
    "failure_rate",
    "Failed",
    "Share of the structures the model ran whose job failed (no result: an error, no "
    "energy minimum, the time limit); structures with elements it does not cover are not "
    "run and not counted",
    LOWER,
    ideal=0,
    digits=3,
    percent=True,
    on_failure=1.0,
)
SUCCESS_VALUE = 0.0  # what a structure with a result adds to the failure rate


def per_structure(metrics: Iterable[Metric]) -> tuple[Metric, ...]:
    """The metrics a single result holds: all but the failure rate, which is a model's."""
    return tuple(m for m in metrics if m.key != FAILURE_RATE.key)
