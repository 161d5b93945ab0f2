"""Reads for the leaderboard pages; each function issues a fixed number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import BooleanField, Count, ExpressionWrapper, Max, Min, Q, QuerySet, Sum
from django.db.models.fields.json import KT

from leaderboard_app.public_text import public_message
from models_app.models import MLIP
from tasks_app.evidence import task_evidence
from tasks_app.models import BenchmarkRun, Job, JobStatus, Result, Structure, Task
from tasks_app.selectors import in_state, job_state


def all_tasks() -> list[Task]:
    return list(Task.objects.all())


def all_models() -> list[MLIP]:
    return list(MLIP.objects.all())


def result_outputs(*, result_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Model id, output (with curves) and headline of the given results."""
    return list(
        Result.objects.filter(id__in=result_ids)
        .order_by("id")
        .values("id", "model_id", "output", "headline")
    )


def result_output_fields(*, result_ids: Sequence[int], paths: Sequence[str]) -> dict[int, tuple]:
    """Per result id, the output values at dotted ``paths`` (``environment.device``), as
    text (None where absent): one query, without loading the curves."""
    names = {f"field_{i}": KT("output__" + path.replace(".", "__")) for i, path in enumerate(paths)}
    rows = Result.objects.filter(id__in=result_ids).annotate(**names).values_list("id", *names)
    return {row[0]: tuple(row[1:]) for row in rows}


def structure_with_set(*, pk: int) -> Structure | None:
    return Structure.objects.select_related("structure_set").filter(pk=pk).first()


def results_by_ids(*, result_ids: Sequence[int]) -> list[Result]:
    """Results with their model, task and structure (no atoms), in structure order."""
    return list(
        Result.objects.filter(id__in=result_ids)
        .select_related("model", "task", "structure")
        .defer("structure__atoms")
        .order_by("task__slug", "structure__structure_set__name", "structure__position", "id")
    )


def runs_with_counts() -> QuerySet[BenchmarkRun]:
    """Runs, newest first, with job counts per state (as ``in_state`` reads a job's) and
    their time span."""
    return (
        BenchmarkRun.objects.select_related("task", "structure_set")
        .annotate(
            **{s: Count("jobs", filter=in_state(s, "jobs__")) for s in JobStatus.values},
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
            "model__name",
            "model__slug",
            "started_at",
            "finished_at",
            "compute_seconds",
            state=job_state(),
        )
    )


JOB_LIST_FIELDS = (
    "id", "run_id", "model__name", "model__slug", "task__slug", "structure_id",
    "structure__label", "state", "attempts", "started_at", "finished_at", "error",
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
    jobs = Job.objects.order_by("-id").annotate(state=job_state())
    if status:
        jobs = jobs.filter(in_state(status))
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


def failures_by_message(**filters: Any) -> list[dict[str, Any]]:
    """Failed jobs matching ``filters`` (as ``jobs_matching`` takes them) grouped by their
    message: ``error``, ``jobs`` and ``models`` counts, most frequent first.

    The messages are as public pages show them (``public_message``): two that
    differ only in a server's folders are one group.
    """
    failed = jobs_matching(**{**filters, "status": JobStatus.FAILED})
    per_model = failed.order_by().values("error", "model").annotate(jobs=Count("id"))
    groups: dict[str, tuple[int, set[int]]] = {}
    for row in per_model:
        message = public_message(row["error"])
        jobs, models = groups.get(message, (0, set()))
        groups[message] = (jobs + row["jobs"], models | {row["model"]})
    rows = [
        {"error": error, "jobs": jobs, "models": len(models)}
        for error, (jobs, models) in groups.items()
    ]
    return sorted(rows, key=lambda row: (-row["jobs"], row["error"]))


def job_with_relations(*, pk: int) -> Job | None:
    return (
        Job.objects.select_related("model", "task", "structure", "run", "result")
        .annotate(state=job_state())
        .filter(pk=pk)
        .first()
    )


def headlines_by_content(
    *, task_slug: str, model_ids: Sequence[int], content_hashes: Sequence[str]
) -> dict[tuple[int, str], dict[str, Any]]:
    """Current headline numbers of task ``task_slug`` per (model id, structure content hash),
    over every set holding a structure of those contents: another task's view of the same
    crystals (elasticity's K beside the EOS B₀)."""
    task = Task.objects.filter(slug=task_slug).first()
    if task is None or not content_hashes:
        return {}
    structures = list(Structure.objects.filter(content_hash__in=set(content_hashes)))
    models = list(MLIP.objects.filter(pk__in=model_ids))
    evidence = task_evidence(tasks=[task], models=models, structures=structures)[task.pk]
    hashes = {s.pk: s.content_hash for s in structures}
    return {
        (model_id, hashes[structure_id]): row.headline
        for model_id, rows in evidence.results.items()
        for structure_id, row in rows.items()
    }
