"""Re-run stored results in this process and compare them with what is stored.

Nothing is written: the stored result, its job and its provenance stay as they are.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings

from arena_site.errors import ArenaError
from compute.calculators import check_supported
from compute.environments import current_environment
from compute.errors import ComputeError, first_line
from compute.provenance import provenance, provenance_differences
from compute.structures import atoms_from_dict
from compute.tasks import run_job, task_spec
from compute.tasks.reproduction import differences
from models_app.loading import calculator_for
from tasks_app.models import Result, Task
from tasks_app.selectors import JobPayload, job_payload
from tasks_app.services import json_safe

T = TypeVar("T")


@dataclass
class Verdict:
    """One result re-run: the numbers it did not reproduce, the provenance fields that
    changed (not failures), or why it could not be re-run."""

    model: str
    structure: str
    differences: list[str] = field(default_factory=list)
    provenance: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def agrees(self) -> bool:
        return not (self.differences or self.error)


def results_to_verify(
    *,
    task: Task,
    models: list[str] | None = None,
    structures: list[str] | None = None,
    sample: int | None = None,
    seed: int = 0,
) -> list[Result]:
    """The task's current results (of ``models``, on ``structures``), or a sample of
    ``sample`` of them drawn with ``seed``; in a stable order."""
    results = Result.objects.filter(task=task).select_related("model", "structure", "job")
    if models:
        results = results.filter(model__name__in=models)
    if structures:
        results = results.filter(structure__label__in=structures)
    chosen = list(results.order_by("model__name", "structure__position", "pk"))
    if not chosen:
        raise ArenaError(f"no stored results of task {task.slug!r} match the selection")
    return seeded_sample(chosen, sample=sample, seed=seed)


def seeded_sample(items: list[T], *, sample: int | None, seed: int) -> list[T]:
    """All of ``items``, or ``sample`` of them drawn with ``seed``, in their order."""
    if sample is None:
        return items
    if sample < 1:
        raise ArenaError(f"--sample must be at least 1, not {sample}")
    picked = set(random.Random(seed).sample(range(len(items)), min(sample, len(items))))
    return [item for i, item in enumerate(items) if i in picked]


def verify_result(result: Result) -> Verdict:
    """Re-run ``result``'s job as a worker would and compare every headline number and
    metric within the task's declared tolerances, and the provenance."""
    return verify_payload(
        job_payload(job_id=result.job_id),
        model=result.model.name,
        structure=result.structure.label,
        stored={"headline": result.headline, "metrics": result.metrics},
        ran_with=result.job.ran_with or {},
    )


def verify_payload(
    payload: JobPayload,
    *,
    model: str,
    structure: str,
    stored: dict[str, dict[str, Any]],
    ran_with: dict[str, Any],
) -> Verdict:
    """Re-run ``payload`` here and compare with ``stored`` (its ``headline`` and
    ``metrics``) and with the provenance ``ran_with`` it was stored with."""
    verdict = Verdict(model=model, structure=structure)
    try:
        calculator = calculator_for(payload.spec)
        atoms = atoms_from_dict(payload.atoms)
        check_supported(payload.spec, calculator, atoms)
        now_with = provenance(
            calculator,
            family=payload.spec.family,
            environment=current_environment(settings.ARENA_ENVS_DIR),
        )
        task = task_spec(payload.function)
        outcome = run_job(task, atoms, calculator, payload.params, payload.reference)
    except ComputeError as exc:
        verdict.error = str(exc)
        return verdict
    except Exception as exc:  # a re-run that raises is reported, and the others go on
        verdict.error = first_line(exc)
        return verdict
    verdict.differences = differences(
        task,
        stored,
        {"headline": json_safe(outcome.headline), "metrics": json_safe(outcome.metrics)},
    )
    verdict.provenance = provenance_differences(ran_with, now_with)
    return verdict
