"""Selectors: reads of tasks, structures, jobs and results."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from django.db.models import Count

from arena_site.errors import ArenaError
from compute.model_spec import ModelSpec
from models_app.selectors import model_spec
from tasks_app.models import BenchmarkRun, Job, JobStatus, Structure, StructureSet, Task


@dataclass(frozen=True)
class JobPayload:
    """Everything the job function hands to compute/, as plain data."""

    spec: ModelSpec
    function: str
    atoms: dict[str, Any]
    params: dict[str, Any]
    reference: dict[str, Any]


@dataclass(frozen=True)
class ModelSummary:
    model: str
    done: int
    failed: int
    median_delta_mev: float | None
    median_abs_b0_error: float | None
    seconds: float


def task_by_slug(slug: str) -> Task:
    task = Task.objects.filter(slug=slug).first()
    if task is None:
        valid = ", ".join(Task.objects.values_list("slug", flat=True)) or "none (run seed_registry)"
        raise ArenaError(f"unknown task {slug!r}; valid tasks: {valid}")
    return task


def structure_set_by_name(name: str) -> StructureSet:
    found = StructureSet.objects.filter(name=name).first()
    if found is None:
        valid = ", ".join(StructureSet.objects.values_list("name", flat=True)) or "none"
        raise ArenaError(
            f"unknown structure set {name!r}; valid sets: {valid} "
            "(seed_registry adds delta-dcdft; import_structures adds others)"
        )
    return found


def structures_for_run(
    *, structure_set: StructureSet, labels: list[str] | None = None, limit: int | None = None
) -> list[Structure]:
    """The set's structures in order, only ``labels`` if given, then the first ``limit``."""
    structures = list(structure_set.structures.all())
    if labels:
        by_label = {s.label: s for s in structures}
        unknown = [label for label in labels if label not in by_label]
        if unknown:
            raise ArenaError(
                f"structure(s) {', '.join(unknown)} not in set {structure_set.name!r}; "
                f"its labels: {', '.join(by_label)}"
            )
        structures = [by_label[label] for label in labels]
    return structures[:limit] if limit else structures


def job_payload(*, job_id: int) -> JobPayload:
    job = Job.objects.select_related("model", "task", "structure").get(pk=job_id)
    return JobPayload(
        spec=model_spec(job.model),
        function=job.task.function,
        atoms=job.structure.atoms,
        params=dict(job.params),
        reference=dict(job.structure.reference or {}),
    )


def run_status_counts(*, run: BenchmarkRun) -> dict[str, int]:
    counts = dict(run.jobs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {status: counts.get(status, 0) for status in JobStatus.values}


def unfinished_jobs(*, run: BenchmarkRun) -> list[Job]:
    return list(run.jobs.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]))


def failed_jobs(*, run: BenchmarkRun) -> list[Job]:
    return list(run.jobs.filter(status=JobStatus.FAILED).select_related("model", "structure"))


def run_summary(*, run: BenchmarkRun) -> list[ModelSummary]:
    """Per model: done, failed, median Delta (meV/atom), median |B0 error|, seconds."""
    rows: dict[str, dict[str, Any]] = {}
    jobs = run.jobs.select_related("model", "result").order_by("model__name", "id")
    for job in jobs:
        row = rows.setdefault(
            job.model.name, {"done": 0, "failed": 0, "delta": [], "b0": [], "seconds": 0.0}
        )
        row["seconds"] += job.duration_seconds or 0.0
        if job.status == JobStatus.FAILED:
            row["failed"] += 1
        elif job.status == JobStatus.DONE:
            row["done"] += 1
            metrics = job.result.metrics
            if metrics.get("delta_mev_per_atom") is not None:
                row["delta"].append(metrics["delta_mev_per_atom"])
            if metrics.get("b0_rel_error") is not None:
                row["b0"].append(abs(metrics["b0_rel_error"]))
    return [
        ModelSummary(
            model=name,
            done=row["done"],
            failed=row["failed"],
            median_delta_mev=statistics.median(row["delta"]) if row["delta"] else None,
            median_abs_b0_error=statistics.median(row["b0"]) if row["b0"] else None,
            seconds=row["seconds"],
        )
        for name, row in rows.items()
    ]


def task_overview() -> list[Task]:
    """Every task with counts of its results and of models that have results."""
    return list(
        Task.objects.annotate(
            result_count=Count("results", distinct=True),
            model_count=Count("results__model", distinct=True),
        )
    )
