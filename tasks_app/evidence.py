"""What is known of each model on a task: the one rule that turns jobs and results into
ranking inputs, for the site, the Hugging Face export and run_benchmark's summary.

A result counts when it is current: its key is the key the model (name, family,
checkpoint, kwargs), the task (function, version), the structure's content and the
protocol parameters give today. A model's structure is done when it has a current
result; without one, it is not applicable when the latest finished current job found
that the model does not cover its elements, failed when that job failed, and missing
otherwise (failed ones included, not applicable ones not). The structures every model
should have are the task's default sets plus any structure with a current result.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from django.db.models import Max, Q, QuerySet, TextField
from django.db.models.functions import Cast

from models_app.models import MLIP
from tasks_app.keys import job_keys
from tasks_app.models import Job, JobStatus, Result, Structure, Task


@dataclass(frozen=True)
class StructureInfo:
    id: int
    label: str
    formula: str
    set_name: str
    reference_json: str = field(repr=False)
    content_hash: str

    @cached_property
    def reference(self) -> dict[str, Any]:
        """Decoded when first read: the home and model pages count thousands of
        structures (every task's default set) and read none of their references."""
        return json.loads(self.reference_json) or {}


class ResultRow(NamedTuple):
    """A current result's numbers, without its curves (pages hold thousands of them)."""

    result_id: int
    model_id: int
    structure_id: int
    metrics: dict[str, Any]
    headline: dict[str, Any]


@dataclass
class TaskEvidence:
    """One task's current results and failures per model, and the structures that count.

    ``results[model_id][structure_id]``; ``failed[model_id]`` and
    ``not_applicable[model_id]`` hold structure ids.
    """

    task: Task
    structures: list[StructureInfo] = field(default_factory=list)
    results: dict[int, dict[int, ResultRow]] = field(default_factory=dict)
    failed: dict[int, set[int]] = field(default_factory=dict)
    not_applicable: dict[int, set[int]] = field(default_factory=dict)

    @property
    def structure_count(self) -> int:
        return len(self.structures)

    def done(self, model_id: int) -> dict[int, ResultRow]:
        return self.results.get(model_id, {})

    def failed_count(self, model_id: int) -> int:
        return len(self.failed.get(model_id, ()))

    def not_applicable_count(self, model_id: int) -> int:
        return len(self.not_applicable.get(model_id, ()))

    def missing(self, model_id: int) -> int:
        settled = self.done(model_id).keys() | self.not_applicable.get(model_id, set())
        return sum(1 for s in self.structures if s.id not in settled)

    def has_evidence(self, model_id: int) -> bool:
        return bool(
            self.done(model_id) or self.failed.get(model_id) or self.not_applicable.get(model_id)
        )

    def result_ids(self) -> list[int]:
        return [row.result_id for rows in self.results.values() for row in rows.values()]

    def structure(self, structure_id: int) -> StructureInfo | None:
        return self._by_id.get(structure_id)

    @cached_property
    def _by_id(self) -> dict[int, StructureInfo]:
        return {s.id: s for s in self.structures}


def task_evidence(
    *,
    tasks: Sequence[Task],
    models: Sequence[MLIP],
    structures: Sequence[Structure] | None = None,
    params: dict[str, Any] | None = None,
) -> dict[int, TaskEvidence]:
    """Evidence per task id, in at most three queries whatever the number of tasks and models.

    ``structures`` fixes the structures that count (a run's); ``params`` the
    parameters of current keys (default: each task's protocol).
    """
    scope = Q(task_id__in=[t.pk for t in tasks], model_id__in=[m.pk for m in models])
    if structures is not None:
        scope &= Q(structure_id__in=[s.pk for s in structures])
    rows = (
        Result.objects.filter(scope)
        .order_by("job_id")
        .values_list("id", "task_id", "model_id", "structure_id", "key", "metrics", "headline")
    )
    finished = latest_unsuccessful(Job.objects.filter(scope))
    infos = (
        {s.pk: _info(s) for s in structures}
        if structures is not None
        else _structure_infos(tasks, scope)
    )
    current = _CurrentKeys(tasks, models, infos, params)
    evidence = {t.pk: TaskEvidence(task=t) for t in tasks}
    for result_id, task_id, model_id, structure_id, key, metrics, headline in rows:
        if current.matches(task_id, model_id, structure_id, key):
            by_structure = evidence[task_id].results.setdefault(model_id, {})
            by_structure[structure_id] = ResultRow(
                result_id, model_id, structure_id, metrics or {}, headline or {}
            )
    latest: dict[tuple[int, int, int], str] = {}
    for task_id, model_id, structure_id, key, status, _ in finished:
        done = structure_id in evidence[task_id].done(model_id)
        if not done and current.matches(task_id, model_id, structure_id, key):
            latest[task_id, model_id, structure_id] = status
    for (task_id, model_id, structure_id), status in latest.items():
        by_model = (
            evidence[task_id].failed
            if status == JobStatus.FAILED
            else evidence[task_id].not_applicable
        )
        by_model.setdefault(model_id, set()).add(structure_id)
    for task in tasks:
        with_results = {s for rows in evidence[task.pk].results.values() for s in rows}
        default_sets = set(task.default_structure_sets)
        evidence[task.pk].structures = [
            info
            for info in infos.values()
            if structures is not None or info.set_name in default_sets or info.id in with_results
        ]
    return evidence


def latest_unsuccessful(jobs: QuerySet[Job]) -> QuerySet:
    """Failed and not applicable ``jobs`` as (task, model, structure, key, status, latest id)
    rows, one per key and status, oldest first: for each key the last row is its outcome."""
    return (
        jobs.filter(status__in=[JobStatus.FAILED, JobStatus.NOT_APPLICABLE])
        .values_list("task_id", "model_id", "structure_id", "key", "status")
        .annotate(latest_id=Max("id"))
        .order_by("latest_id")
    )


class _CurrentKeys:
    """Memoised current job keys of (task, model, structure)."""

    def __init__(
        self,
        tasks: Sequence[Task],
        models: Sequence[MLIP],
        infos: dict[int, StructureInfo],
        params: dict[str, Any] | None,
    ) -> None:
        self.tasks = {t.pk: t for t in tasks}
        self.models = {m.pk: m for m in models}
        self.infos = infos
        self.params = params
        self.keys: dict[tuple[int, int, int], str | None] = {}
        self.key_of: dict[tuple[int, int], Callable[[str], str]] = {}

    def matches(self, task_id: int, model_id: int, structure_id: int, key: str) -> bool:
        ids = (task_id, model_id, structure_id)
        if ids not in self.keys:
            info = self.infos.get(structure_id)
            self.keys[ids] = self._key_of(task_id, model_id)(info.content_hash) if info else None
        return self.keys[ids] == key

    def _key_of(self, task_id: int, model_id: int) -> Callable[[str], str]:
        if (task_id, model_id) not in self.key_of:
            task = self.tasks[task_id]
            self.key_of[task_id, model_id] = job_keys(
                model=self.models[model_id],
                task=task,
                params=task.default_params if self.params is None else self.params,
            )
        return self.key_of[task_id, model_id]


def _info(structure: Structure) -> StructureInfo:
    return StructureInfo(
        id=structure.pk,
        label=structure.label,
        formula=structure.formula,
        set_name=structure.structure_set.name,
        reference_json=json.dumps(structure.reference or {}),
        content_hash=structure.content_hash,
    )


def _structure_infos(tasks: Sequence[Task], scope: Q) -> dict[int, StructureInfo]:
    """The tasks' default sets and the structures with results in ``scope``, in set order."""
    default_sets = {name for t in tasks for name in t.default_structure_sets}
    chosen = Structure.objects.filter(
        Q(structure_set__name__in=default_sets)
        | Q(id__in=Result.objects.filter(scope).values("structure_id"))
    )
    rows = chosen.order_by("structure_set__name", "position", "id").values_list(
        "id",
        "label",
        "formula",
        "structure_set__name",
        Cast("reference", TextField()),  # as stored: StructureInfo decodes it if read
        "content_hash",
    )
    return {
        row[0]: StructureInfo(*row[:4], reference_json=row[4] or "{}", content_hash=row[5])
        for row in rows
    }
