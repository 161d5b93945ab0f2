"""A job's own task on another structure (an elemental reference), as a result of its own.

A task asks through ``RunContext.companion``; the answer is the current result of the
same model, task and parameters on that structure, read by its key, or, where there is
none, the output ``compute()`` returns, stored at once as a done job of the same run with
its result: cached by key, shown, exported and recomputed when the model changes, as
any result is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from compute.errors import TaskFailed
from compute.tasks import evaluate
from tasks_app.keys import job_key, stable_hash
from tasks_app.models import Job, JobStatus, Result, Structure
from tasks_app.services import job_finish


def companion_output(
    *, job_id: int, structure_set: str, label: str, compute: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Job ``job_id``'s task output on structure ``label`` of ``structure_set``; raises
    TaskFailed naming the structure when the set lacks it."""
    job = Job.objects.select_related("model", "task", "run").get(pk=job_id)
    structure = Structure.objects.filter(structure_set__name=structure_set, label=label).first()
    if structure is None:
        raise TaskFailed(
            f"structure {label!r} of set {structure_set!r} is not stored: run seed_registry"
        )
    key = job_key(
        model=job.model, task=job.task, structure_hash=structure.content_hash, params=job.params
    )
    stored = Result.objects.filter(key=key).values_list("headline", "output").first()
    if stored is not None:
        headline, output = stored
        return {**output, **headline}
    started = timezone.now()
    output = compute()
    metrics = evaluate(job.task.function, output, structure.reference)
    with transaction.atomic():
        companion = Job.objects.create(
            run=job.run,
            model=job.model,
            task=job.task,
            structure=structure,
            key=key,
            params=job.params,
            params_hash=stable_hash(job.params),
            status=JobStatus.DONE,
            queue=job.queue,
            attempts=1,
            started_at=started,
            worker_host=job.worker_host,
        )
        job_finish(
            job_id=companion.pk,
            output=output,
            metrics=metrics,
            compute_seconds=(timezone.now() - started).total_seconds(),
        )
    return output
