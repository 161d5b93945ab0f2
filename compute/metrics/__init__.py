"""Metrics per task: pure functions of a task's output and an optional reference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compute.metrics import eos

METRICS: dict[str, Callable[[dict[str, Any], dict[str, Any] | None], dict[str, Any]]] = {
    "eos": eos.evaluate,
}


def evaluate(task: str, output: dict[str, Any], reference: dict[str, Any] | None) -> dict[str, Any]:
    """Metrics for ``task``'s output; tasks with no metrics give an empty dict."""
    function = METRICS.get(task)
    return function(output, reference) if function else {}
