"""Runs whose jobs were computed elsewhere (an import of an export): stored done, with
their results, through the services a run's own jobs go through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from models_app.models import MLIP
from tasks_app.models import BenchmarkRun, Job, JobStatus, Structure, StructureSet, Task
from tasks_app.services import job_finish, new_job


@dataclass(frozen=True)
class DoneJob:
    """One finished job as another installation computed it."""

    model: MLIP
    structure: Structure
    key: str
    output: dict[str, Any]
    metrics: dict[str, Any]
    compute_seconds: float | None
    ran_with: dict[str, Any]


def run_record_done(
    *,
    task: Task,
    structure_set: StructureSet,
    params: dict[str, Any],
    options: dict[str, Any],
    jobs: list[DoneJob],
) -> BenchmarkRun:
    """One run of ``task`` on ``structure_set`` whose ``jobs`` are done, each with its result
    (replacing an earlier result for its key, as job_finish does)."""
    with transaction.atomic():
        run = BenchmarkRun.objects.create(
            task=task, structure_set=structure_set, params=params, options=options
        )
        created = Job.objects.bulk_create(
            new_job(
                run=run,
                model=done.model,
                structure=done.structure,
                key=done.key,
                status=JobStatus.DONE,  # never an unfinished job beside a run's own for the key
                ran_with=done.ran_with,
            )
            for done in jobs
        )
        for job, done in zip(created, jobs, strict=True):
            job_finish(
                job_id=job.id,
                output=done.output,
                metrics=done.metrics,
                compute_seconds=done.compute_seconds,
            )
    return run
