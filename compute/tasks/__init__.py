"""Task functions by name: each takes Atoms, a calculator and parameters, returns a dict."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ase import Atoms
from ase.calculators.calculator import Calculator

from compute.errors import TaskFailed
from compute.tasks import eos, relax

TASK_FUNCTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "relax": relax.run,
    "eos": eos.run,
}


def check_params(task: str, params: dict[str, Any]) -> None:
    """Raise TaskFailed if ``task`` is unknown or ``params`` names unknown parameters."""
    if task not in TASK_FUNCTIONS:
        raise TaskFailed(f"unknown task function {task!r}; known: {', '.join(TASK_FUNCTIONS)}")
    accepted = set(inspect.signature(TASK_FUNCTIONS[task]).parameters) - {"atoms", "calculator"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise TaskFailed(
            f"task {task!r} has no parameter {', '.join(unknown)}; "
            f"it takes {', '.join(sorted(accepted))}"
        )


def run_task(
    task: str, atoms: Atoms, calculator: Calculator, params: dict[str, Any]
) -> dict[str, Any]:
    check_params(task, params)
    return TASK_FUNCTIONS[task](atoms, calculator, **params)
