"""Services that write tasks, structures, runs, jobs and results."""

from __future__ import annotations

import math
import socket
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F
from django.db.models.functions import Now
from django.utils import timezone

from compute.tasks import TASKS, split_headline, task_spec
from compute.tasks.spec import TaskSpec
from models_app.models import MLIP
from models_app.services import SeedReport, prune_rows, upsert_row
from tasks_app.evidence import latest_unsuccessful
from tasks_app.keys import job_key, stable_hash
from tasks_app.models import (
    UNFINISHED,
    BenchmarkRun,
    Job,
    JobStatus,
    Result,
    Structure,
    StructureSet,
    Task,
)
from tasks_app.selectors import claimable, lease_seconds

TASK_FIELDS = [
    "name",
    "category",
    "description",
    "function",
    "version",
    "default_params",
    "default_structure_set",
    "extra_structure_sets",
]


def task_values(spec: TaskSpec) -> dict[str, Any]:
    """A Task row's fields as the spec defines them; the slug is the spec's name."""
    return {
        "name": spec.title,
        "category": spec.category,
        "description": spec.description,
        "function": spec.name,
        "version": spec.version,
        "default_params": spec.default_params(),
        "default_structure_set": spec.default_structure_set,
        "extra_structure_sets": list(spec.default_structure_sets[1:]),
    }


def seed_tasks(*, prune: bool = False) -> SeedReport:
    """Create and update one Task row per spec in compute.tasks.TASKS.

    Rows the registry no longer has are deleted only if ``prune``, and never when
    they have jobs.
    """
    report = SeedReport()
    for slug, spec in TASKS.items():
        try:
            with transaction.atomic():
                _, created, changed = upsert_row(
                    Task, {"slug": slug}, task_values(spec), TASK_FIELDS
                )
        except ValidationError as exc:
            report.errors.append(f"{slug}: {' '.join(exc.messages)}")
            continue
        if created:
            report.created.append(slug)
        elif changed:
            report.updated.append(f"{slug} ({', '.join(changed)})")
    if prune:
        prune_rows(Task.objects.exclude(slug__in=list(TASKS)), report)
    return report


def run_create(
    *,
    task: Task,
    models: list[MLIP],
    structure_set: StructureSet,
    structures: list[Structure],
    force: bool = False,
    params: dict[str, Any] | None = None,
    queued_on: str | None = None,
) -> tuple[BenchmarkRun, list[Job]]:
    """Plan one job per structure and model; returns the run and its new jobs.

    Settled keys are skipped unless ``force``: a key is settled when it has a result or
    its latest job found the structure not applicable to the model. A key with an
    unfinished job (queued, running or interrupted, from an earlier or a concurrent
    run) is not planned again: the run reuses that job, so two runs of the same keys
    compute each key once. ``queued_on`` is "rq" to name each job's queue after the
    model's task lists, or None for in-process jobs.
    """
    params = {**task.default_params, **(params or {})}
    task_spec(task.function).check_params(params)
    planned = {
        job_key(model=model, task=task, structure_hash=structure.content_hash, params=params): (
            model,
            structure,
        )
        for model in models
        for structure in structures
    }
    done = set() if force else settled_keys(list(planned))
    with transaction.atomic():
        run = BenchmarkRun.objects.create(
            task=task,
            structure_set=structure_set,
            params=params,
            options={
                "models": [m.name for m in models],
                "structures": [s.label for s in structures],
                "force": force,
            },
            skipped_done=len(done),
        )
        # Keys in one order, so that two runs inserting the same keys cannot deadlock; a
        # key another run holds unfinished is skipped by the partial unique constraint.
        Job.objects.bulk_create(
            (
                new_job(
                    run=run,
                    model=model,
                    structure=structure,
                    key=key,
                    queue=model.queue_for(task.slug) if queued_on == "rq" else "inline",
                )
                for key, (model, structure) in sorted(planned.items())
                if key not in done
            ),
            ignore_conflicts=True,
        )
        order = {key: index for index, key in enumerate(planned)}
        jobs = sorted(run.jobs.all(), key=lambda job: order[job.key])
        mine = {job.key for job in jobs}
        run.reused_jobs.set(
            Job.objects.filter(key__in=set(planned) - done - mine, status__in=UNFINISHED)
        )
    return run, jobs


def new_job(
    *, run: BenchmarkRun, model: MLIP, structure: Structure, key: str, **fields: Any
) -> Job:
    """An unsaved job of ``run`` (its task and params) for one model and structure: the one
    place a Job row is built, for planned runs and imported ones."""
    return Job(
        run=run,
        model=model,
        task=run.task,
        structure=structure,
        key=key,
        params=run.params,
        params_hash=stable_hash(run.params),
        **fields,
    )


def settled_keys(keys: list[str]) -> set[str]:
    """Keys among ``keys`` with a result, or whose latest unsuccessful job was not applicable."""
    with_results = set(Result.objects.filter(key__in=keys).values_list("key", flat=True))
    outcome = {row[3]: row[4] for row in latest_unsuccessful(Job.objects.filter(key__in=keys))}
    return with_results | {
        key for key, status in outcome.items() if status == JobStatus.NOT_APPLICABLE
    }


def _lease_end() -> ExpressionWrapper:
    """The end of a lease taken or renewed now, on the database's clock, so that no two
    machines' clocks are compared."""
    return ExpressionWrapper(
        Now() + timedelta(seconds=lease_seconds()), output_field=DateTimeField()
    )


def job_start(*, job_id: int, rq_job_id: str = "") -> bool:
    """Take job ``job_id`` to run it; True when this process now holds its lease.

    Only a queued or interrupted job, or a running one whose lease expired (its process
    died), can be taken, and one process at a time: a job delivered twice (RQ re-ran it
    after its worker died, or it was enqueued again after Redis lost it) runs once.
    """
    now = timezone.now()
    return bool(
        Job.objects.filter(claimable(), pk=job_id).update(
            status=JobStatus.RUNNING,
            started_at=now,
            lease_expires_at=_lease_end(),
            worker_host=socket.gethostname(),
            ran_with={},
            rq_job_id=rq_job_id,
            attempts=F("attempts") + 1,
            error="",
            traceback="",
        )
    )


def job_ran_with(*, job_id: int, ran_with: dict[str, Any]) -> None:
    """Record the device and threads a running job computes with."""
    Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(ran_with=ran_with)


def job_enqueued(*, job_id: int, queue: str, rq_job_id: str) -> None:
    """Record that a job was sent to an RQ queue; a job a live process holds is left as is."""
    Job.objects.filter(claimable(), pk=job_id).update(
        status=JobStatus.QUEUED, queue=queue, rq_job_id=rq_job_id, lease_expires_at=None
    )


def jobs_renew_lease(*, job_ids: list[int]) -> None:
    Job.objects.filter(pk__in=job_ids, status=JobStatus.RUNNING).update(
        lease_expires_at=_lease_end()
    )


def job_progress(*, job_id: int, steps_done: int, steps_total: int) -> None:
    """Record how far a running job has come (written at most every few seconds)."""
    Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        steps_done=steps_done, steps_total=steps_total, progress_at=timezone.now()
    )


def job_resumed(*, job_id: int, step: int) -> None:
    """Record that a job went on from a checkpoint at ``step`` rather than from the start."""
    Job.objects.filter(pk=job_id).update(resumed_from_step=step, steps_done=step)


def job_requeue(*, job_id: int, reason: str) -> bool:
    """Put an unfinished job back in line (RQ runs it again); False if it ended meanwhile."""
    return bool(
        Job.objects.filter(pk=job_id, status__in=UNFINISHED).update(
            status=JobStatus.QUEUED, lease_expires_at=None, error=reason
        )
    )


def jobs_interrupt(*, job_ids: list[int], reason: str) -> int:
    """Mark queued or running jobs interrupted: nobody will run them until a re-run or
    ``--resume`` takes them. Returns how many."""
    return Job.objects.filter(
        pk__in=job_ids, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).update(status=JobStatus.INTERRUPTED, lease_expires_at=None, error=reason)


def job_finish(
    *,
    job_id: int,
    output: dict[str, Any],
    metrics: dict[str, Any],
    compute_seconds: float | None,
    headline: dict[str, Any] | None = None,
) -> Result:
    """Mark a job done and store its result, replacing an earlier result for its key.

    With ``headline`` (as ``compute.tasks.run_job`` splits it), ``output`` is the rest
    and both are stored as they are; without, ``output`` is the task's whole output and
    its spec splits it here.
    """
    job = Job.objects.select_related("model", "task", "structure").get(pk=job_id)
    if headline is None:
        headline, output = split_output(function=job.task.function, output=output)
    headline, output, metrics = json_safe(headline), json_safe(output), json_safe(metrics)
    with transaction.atomic():
        result, _ = Result.objects.update_or_create(
            key=job.key,
            defaults={
                "job": job,
                "model": job.model,
                "task": job.task,
                "structure": job.structure,
                "headline": headline,
                "output": output,
                "metrics": metrics,
            },
        )
        Job.objects.filter(pk=job_id).update(
            status=JobStatus.DONE,
            finished_at=timezone.now(),
            lease_expires_at=None,
            compute_seconds=compute_seconds,
        )
    return result


def split_output(*, function: str, output: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A task's output as (headline quantities of its spec, everything else)."""
    return split_headline(task_spec(function), output)


def job_fail(
    *,
    job_id: int,
    error: str,
    traceback: str = "",
    compute_seconds: float | None = None,
    evidence: dict[str, Any] | None = None,
) -> None:
    """Record an unfinished job's failure, with ``evidence`` of what it had computed; a job
    that was done meanwhile stays done."""
    Job.objects.filter(pk=job_id, status__in=UNFINISHED).update(
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        lease_expires_at=None,
        error=error[:2000],
        traceback=traceback,
        compute_seconds=compute_seconds,
        failure_evidence=json_safe(evidence or {}),
    )


def job_not_applicable(*, job_id: int, reason: str, compute_seconds: float | None = None) -> None:
    """The model cannot take the job's structure: settled, with no result and no failure."""
    Job.objects.filter(pk=job_id, status__in=UNFINISHED).update(
        status=JobStatus.NOT_APPLICABLE,
        finished_at=timezone.now(),
        lease_expires_at=None,
        error=reason[:2000],
        compute_seconds=compute_seconds,
    )


def json_safe(value: Any) -> Any:
    """NaN and infinities become None so every database stores the same JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value
