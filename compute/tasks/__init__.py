"""The task registry: one spec per task folder, looked up by the task's function name.

Adding a benchmark means adding a folder with a ``TASK`` spec and one line here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ase import Atoms
from ase.calculators.calculator import Calculator

from compute.errors import TaskFailed
from compute.failure_evidence import collecting, evidence
from compute.run_context import RunContext
from compute.tasks import (
    combustion,
    compression,
    diatomics,
    elasticity,
    eos,
    ev,
    formation,
    heating,
    nve,
    phonons,
    relax,
    speed,
    vacancy,
)
from compute.tasks.spec import Quantity, StructureSetSpec, TaskSpec

TASKS: dict[str, TaskSpec] = {
    "eos": eos.TASK,
    "ev": ev.TASK,
    "relax": relax.TASK,
    "diatomics": diatomics.TASK,
    "nve": nve.TASK,
    "heating": heating.TASK,
    "speed": speed.TASK,
    "formation": formation.TASK,
    "phonons": phonons.TASK,
    "elasticity": elasticity.TASK,
    "vacancy": vacancy.TASK,
    "compression": compression.TASK,
    "combustion": combustion.TASK,
}


def task_spec(name: str) -> TaskSpec:
    """The spec of task function ``name``; raises TaskFailed with the known names."""
    if name not in TASKS:
        raise TaskFailed(f"unknown task function {name!r}; known: {', '.join(TASKS)}")
    return TASKS[name]


def spec_or_placeholder(name: str) -> TaskSpec:
    """The spec of ``name``, or one with no metrics for a function this code lacks.

    Pages and exports use it so that a task row left by another version still shows.
    """
    return TASKS.get(name) or TaskSpec(name=name, title=name, description="", run=_not_installed)


def _not_installed(atoms: Atoms, calculator: Calculator) -> dict[str, Any]:
    raise TaskFailed(f"this task's code is not installed; known: {', '.join(TASKS)}")


def check_params(task: str, params: Mapping[str, Any]) -> None:
    task_spec(task).check_params(params)


@dataclass(frozen=True)
class TaskOutcome:
    """A task's run on one structure, as a result stores it."""

    headline: dict[str, Any]  # the spec's headline quantities (None where the run gave none)
    output: dict[str, Any]  # the rest of the output
    metrics: dict[str, Any]


def run_task(
    task: str,
    atoms: Atoms,
    calculator: Calculator,
    params: Mapping[str, Any],
    context: RunContext | None = None,
) -> dict[str, Any]:
    """Run ``task``; a long task also gets ``context`` (progress and checkpoints). An
    exception from the run carries what the task had computed as ``failure_evidence``
    (``compute.failure_evidence``)."""
    return _run(task_spec(task), atoms, calculator, params, context)


def run_job(
    spec: TaskSpec,
    atoms: Atoms,
    calculator: Calculator,
    params: Mapping[str, Any],
    reference: Mapping[str, Any] | None,
    context: RunContext | None = None,
) -> TaskOutcome:
    """Run ``spec``'s task as ``run_task`` does and evaluate it against ``reference``;
    the output comes split into its headline and the rest."""
    return _outcome(spec, _run(spec, atoms, calculator, params, context), reference)


def run_jobs(
    spec: TaskSpec,
    atoms_list: Sequence[Atoms],
    calculator: Calculator,
    params: Mapping[str, Any],
    references: Sequence[Mapping[str, Any] | None],
    contexts: Sequence[RunContext],
) -> list[TaskOutcome | Exception]:
    """``run_job`` on several structures with the same ``params`` in one call of ``spec``'s
    ``run_batch``: per structure its outcome, or the exception that failed it alone."""
    if spec.run_batch is None:
        raise TaskFailed(f"task {spec.name!r} runs one structure at a time")
    spec.check_params(params)
    full = {**spec.default_params(), **params}
    outputs = spec.run_batch(atoms_list, calculator, contexts=contexts, **full)
    outcomes: list[TaskOutcome | Exception] = []
    for output, reference in zip(outputs, references, strict=True):
        if isinstance(output, Exception):
            outcomes.append(output)
            continue
        try:
            if spec.variants:
                output = {**output, "variant": spec.variant_of(params)}
            outcomes.append(_outcome(spec, output, reference))
        except Exception as exc:  # this structure's failure, evaluation's included
            outcomes.append(exc)
    return outcomes


def _outcome(
    spec: TaskSpec, output: Mapping[str, Any], reference: Mapping[str, Any] | None
) -> TaskOutcome:
    metrics = spec.evaluate(output, reference)
    headline, rest = split_headline(spec, output)
    return TaskOutcome(headline=headline, output=rest, metrics=metrics)


def split_headline(
    spec: TaskSpec, output: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A task's output as (headline quantities of ``spec``, everything else)."""
    headline = spec.headline(output)
    return headline, {k: v for k, v in output.items() if k not in headline}


def _run(
    spec: TaskSpec,
    atoms: Atoms,
    calculator: Calculator,
    params: Mapping[str, Any],
    context: RunContext | None,
) -> dict[str, Any]:
    spec.check_params(params)
    with collecting() as notes:
        try:
            if spec.takes_context:
                output = spec.run(atoms, calculator, **params, context=context or RunContext())
            else:
                output = spec.run(atoms, calculator, **params)
        except BaseException as exc:  # the time limit's exception too
            exc.failure_evidence = evidence(notes)
            raise
    if spec.variants:  # say which protocol produced the result
        output = {**output, "variant": spec.variant_of(params)}
    return output


def evaluate(
    task: str, output: Mapping[str, Any], reference: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Per-structure metrics of ``task``'s output; a task without metrics gives {}."""
    return task_spec(task).evaluate(output, reference)


def task_titles() -> list[tuple[str, str]]:
    """(name, title) of every task, by name: a Task row's slug and name, for choices."""
    return sorted((name, spec.title) for name, spec in TASKS.items())


def structure_sets() -> list[StructureSetSpec]:
    """Every structure set some task needs, once each."""
    found: dict[str, StructureSetSpec] = {}
    for spec in TASKS.values():
        for structure_set in spec.structure_sets:
            found.setdefault(structure_set.name, structure_set)
    return list(found.values())


def reference_keys() -> set[str]:
    """Keys of reference values some task reads, e.g. WIEN2k ``b0_gpa``."""
    return {key for spec in TASKS.values() for key in spec.reference_keys}


def quantity_labels() -> dict[str, Quantity]:
    """Every headline quantity by key, to label reference values of the same name."""
    return {q.key: q for spec in TASKS.values() for q in spec.quantities}
