"""Reads for the leaderboard pages; each function issues a fixed number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import BooleanField, Count, ExpressionWrapper, Max, Min, Q, QuerySet, Sum

from models_app.models import MLIP
from tasks_app.models import BenchmarkRun, Job, JobStatus, Result, Structure, Task

HEADLINE = ("v0_a3_per_atom", "e0_ev_per_atom", "b0_gpa", "b0_prime")


@dataclass(frozen=True)
class StructureInfo:
    id: int
    label: str
    formula: str
    set_name: str
    reference: dict[str, Any]


class ResultRow(NamedTuple):
    """A result's numbers, without its curves (a tuple: pages hold thousands of them)."""

    task_id: int
    model_id: int
    structure_id: int
    metrics: dict[str, Any]
    headline: dict[str, float | None]


@dataclass
class TaskEvidence:
    """Everything ranking needs for some tasks, read in three queries.

    ``results[task][model][structure]`` is the latest result of each pair;
    ``failed[task][model]`` the structures whose jobs failed and that have no result;
    ``universe[task]`` the structures every model should have: the task's default
    set plus any structure with a result for it.
    """

    results: dict[int, dict[int, dict[int, ResultRow]]] = field(default_factory=dict)
    failed: dict[int, dict[int, set[int]]] = field(default_factory=dict)
    participants: dict[int, set[int]] = field(default_factory=dict)
    structures: dict[int, StructureInfo] = field(default_factory=dict)
    universe: dict[int, list[int]] = field(default_factory=dict)


def all_tasks() -> list[Task]:
    return list(Task.objects.all())


def all_models() -> list[MLIP]:
    return list(MLIP.objects.all())


def task_evidence(*, tasks: Sequence[Task]) -> TaskEvidence:
    evidence = TaskEvidence()
    task_ids = [t.id for t in tasks]
    rows = (
        Result.objects.filter(task_id__in=task_ids)
        .order_by("created_at", "id")
        .values_list("task_id", "model_id", "structure_id", "metrics", *HEADLINE)
    )
    for task_id, model_id, structure_id, metrics, *numbers in rows:
        evidence.results.setdefault(task_id, {}).setdefault(model_id, {})[structure_id] = ResultRow(
            task_id,
            model_id,
            structure_id,
            metrics or {},
            dict(zip(HEADLINE, numbers, strict=True)),
        )
    states = (
        Job.objects.filter(task_id__in=task_ids)
        .values_list("task_id", "model_id", "structure_id", "status")
        .distinct()
    )
    for task_id, model_id, structure_id, status in states:
        evidence.participants.setdefault(task_id, set()).add(model_id)
        done = structure_id in evidence.results.get(task_id, {}).get(model_id, {})
        if status == JobStatus.FAILED and not done:
            evidence.failed.setdefault(task_id, {}).setdefault(model_id, set()).add(structure_id)
    for task_id, by_model in evidence.results.items():
        evidence.participants.setdefault(task_id, set()).update(by_model)
    default_sets = {t.default_structure_set for t in tasks if t.default_structure_set}
    structures = _structure_infos(
        Structure.objects.filter(
            Q(structure_set__name__in=default_sets)
            | Q(id__in=Result.objects.filter(task_id__in=task_ids).values("structure_id"))
        )
    )
    evidence.structures = {s.id: s for s in structures}
    for task in tasks:
        with_results = {
            s for by_structure in evidence.results.get(task.id, {}).values() for s in by_structure
        }
        evidence.universe[task.id] = [
            s.id
            for s in structures
            if s.set_name == task.default_structure_set or s.id in with_results
        ]
    return evidence


def structure_curves(*, task: Task, structure_id: int) -> list[dict[str, Any]]:
    """Latest result per model for one structure: model id, output (with curves), B0."""
    rows = (
        Result.objects.filter(task=task, structure_id=structure_id)
        .order_by("created_at", "id")
        .values("model_id", "output", "b0_gpa")
    )
    return list({row["model_id"]: row for row in rows}.values())


def structure_with_set(*, pk: int) -> Structure | None:
    return Structure.objects.select_related("structure_set").filter(pk=pk).first()


def results_for_structure(*, structure: Structure) -> list[Result]:
    return list(
        Result.objects.filter(structure=structure)
        .select_related("model", "task", "structure")
        .defer("structure__atoms")
        .order_by("task__slug", "model__name", "created_at")
    )


def latest_results(*, task: Task, models: Sequence[MLIP], limit: int) -> list[Result]:
    return list(
        Result.objects.filter(task=task, model__in=models)
        .select_related("model", "task", "structure")
        .defer("structure__atoms")
        .order_by("-created_at", "-id")[:limit]
    )


def results_for_model(*, model: MLIP) -> list[Result]:
    """The model's results with their tasks and structures, in structure order."""
    return list(
        Result.objects.filter(model=model)
        .select_related("model", "task", "structure")
        .defer("structure__atoms")
        .order_by("task__slug", "structure__position", "created_at")
    )


def runs_with_counts() -> QuerySet[BenchmarkRun]:
    """Runs, newest first, with job counts per status and their time span."""
    return (
        BenchmarkRun.objects.select_related("task", "structure_set")
        .annotate(
            **{state: Count("jobs", filter=Q(jobs__status=state)) for state in JobStatus.values},
            total=Count("jobs"),
            first_start=Min("jobs__started_at"),
            last_finish=Max("jobs__finished_at"),
            compute_seconds=Sum("jobs__compute_seconds"),
        )
        .order_by("-created_at", "-id")
    )


def run_with_counts(*, pk: int) -> BenchmarkRun | None:
    return runs_with_counts().filter(pk=pk).first()


def run_job_times(*, run: BenchmarkRun) -> list[dict[str, Any]]:
    return list(
        run.jobs.order_by("id").values(
            "model__name", "status", "started_at", "finished_at", "compute_seconds"
        )
    )


JOB_LIST_FIELDS = (
    "id", "run_id", "model__name", "task__slug", "structure_id", "structure__label", "status",
    "attempts", "started_at", "finished_at", "error",
)  # fmt: skip


def jobs_matching(
    *,
    status: str = "",
    model: str = "",
    task: str = "",
    run_id: int | None = None,
    structure_id: int | None = None,
) -> QuerySet:
    """Jobs as dicts of ``JOB_LIST_FIELDS`` and ``has_traceback``, newest first.

    Tracebacks themselves stay in the database: lists link to the job page instead.
    """
    jobs = Job.objects.order_by("-id")
    if status:
        jobs = jobs.filter(status=status)
    if model:
        jobs = jobs.filter(model__name=model)
    if task:
        jobs = jobs.filter(task__slug=task)
    if run_id:
        jobs = jobs.filter(run_id=run_id)
    if structure_id:
        jobs = jobs.filter(structure_id=structure_id)
    has_traceback = ExpressionWrapper(~Q(traceback=""), output_field=BooleanField())
    return jobs.annotate(has_traceback=has_traceback).values(*JOB_LIST_FIELDS, "has_traceback")


def job_with_relations(*, pk: int) -> Job | None:
    return (
        Job.objects.select_related("model", "task", "structure", "run", "result")
        .filter(pk=pk)
        .first()
    )


def _structure_infos(structures: QuerySet[Structure]) -> list[StructureInfo]:
    rows = structures.order_by("structure_set__name", "position").values_list(
        "id", "label", "formula", "structure_set__name", "reference"
    )
    return [StructureInfo(*row[:4], reference=row[4] or {}) for row in rows]
