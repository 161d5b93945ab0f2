"""Selectors: reads of tasks, structures, jobs and results."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from django.db.models import Count

from arena_site.errors import ArenaError
from compute.model_spec import ModelSpec
from compute.tasks import task_spec
from models_app.models import MLIP
from models_app.selectors import model_spec
from tasks_app.evidence import task_evidence
from tasks_app.models import BenchmarkRun, Job, JobStatus, Structure, StructureSet, Task


@dataclass(frozen=True)
class JobPayload:
    """Everything the job function hands to compute/, as plain data."""

    spec: ModelSpec
    function: str
    atoms: dict[str, Any]
    params: dict[str, Any]
    reference: dict[str, Any]


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


def task_overview() -> list[Task]:
    """Every task with counts of its results and of models that have results."""
    return list(
        Task.objects.annotate(
            result_count=Count("results", distinct=True),
            model_count=Count("results__model", distinct=True),
        )
    )


@dataclass(frozen=True)
class ModelSummary:
    """One model's line in run_benchmark's summary; ``medians`` by the spec's summary keys."""

    model: str
    done: int
    failed: int
    not_applicable: int
    missing: int
    medians: dict[str, float | None]
    seconds: float


def run_summary(*, run: BenchmarkRun) -> list[ModelSummary]:
    """Per model of the run: its standing on the run's structures and the spec's medians."""
    spec = task_spec(run.task.function)
    options = run.options or {}
    models = list(MLIP.objects.filter(name__in=options.get("models") or []))
    structures = run.structure_set.structures.filter(
        label__in=options.get("structures") or []
    ).select_related("structure_set")
    # Results an earlier run stored for the same keys count as done.
    evidence = task_evidence(
        tasks=[run.task], models=models, structures=list(structures), params=run.params
    )[run.task.pk]
    seconds: dict[int, float] = {}
    for job in run.jobs.only("model_id", "started_at", "finished_at"):
        seconds[job.model_id] = seconds.get(job.model_id, 0.0) + (job.duration_seconds or 0.0)
    rows = []
    for model in sorted(models, key=lambda m: m.name.lower()):
        done = evidence.done(model.pk).values()
        medians = {}
        for key in spec.summary:
            metric = spec.metric(key)
            values = [v for row in done if (v := metric.value(row.metrics.get(key))) is not None]
            medians[key] = statistics.median(values) if values else None
        rows.append(
            ModelSummary(
                model=model.name,
                done=len(done),
                failed=evidence.failed_count(model.pk),
                not_applicable=evidence.not_applicable_count(model.pk),
                missing=evidence.missing(model.pk),
                medians=medians,
                seconds=seconds.get(model.pk, 0.0),
            )
        )
    return rows
