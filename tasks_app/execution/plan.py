"""Planning a run: which models, structures and parameters, then one job per pair.

``plan_run`` is the one service that turns a run's request (the command's options,
an admin action's, a test's) into a run and its jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arena_site.errors import ArenaError
from compute.tasks import task_spec
from compute.tasks.spec import PROTOCOL
from models_app.selectors import models_for_task
from tasks_app.execution.rq import uses_rq
from tasks_app.models import BenchmarkRun, Job
from tasks_app.selectors import (
    reused_jobs_count,
    structure_set_by_name,
    structures_for_run,
    task_by_slug,
)
from tasks_app.services import run_create


@dataclass(frozen=True)
class PlannedRun:
    """A planned run, its new jobs, and what the person who asked for it is told."""

    run: BenchmarkRun
    jobs: list[Job]
    structure_set: str
    variant: str  # the named parameter set the run's parameters are, '' for none
    reused: int  # unfinished jobs of earlier runs that it follows instead of rerunning


def plan_run(
    *,
    task: str,
    models: list[str] | None = None,
    set_name: str | None = None,
    structures: list[str] | None = None,
    limit: int | None = None,
    force: bool = False,
    variant: str | None = None,
    params: dict[str, Any] | None = None,
) -> PlannedRun:
    """Plan a run of task ``task`` (its slug) for every enabled model that lists it (or
    ``models``, by name) on its default structure set (or ``set_name``), limited to the
    structures ``structures`` (labels) and to the first ``limit``; ``variant`` (default:
    the protocol) and ``params`` set the parameters. Raises ArenaError on bad input,
    before anything is stored."""
    if limit is not None and limit < 1:
        raise ArenaError(f"--limit must be at least 1, not {limit}")
    task_row = task_by_slug(task)
    chosen = models_for_task(task_slug=task_row.slug, names=models)
    if not chosen:
        raise ArenaError(f"no enabled model lists task {task_row.slug!r}")
    structure_set = structure_set_by_name(
        task_row.default_structure_set if set_name is None else set_name
    )
    spec = task_spec(task_row.function)
    run_params = {
        **spec.variant_params(PROTOCOL if variant is None else variant),
        **(params or {}),
    }
    run, jobs = run_create(
        task=task_row,
        models=chosen,
        structure_set=structure_set,
        structures=structures_for_run(structure_set=structure_set, labels=structures, limit=limit),
        force=force,
        params=run_params,
        queued_on="rq" if uses_rq() else None,
    )
    return PlannedRun(
        run=run,
        jobs=jobs,
        structure_set=structure_set.name,
        variant=spec.variant_of(run.params) if spec.variants else "",
        reused=reused_jobs_count(run=run),
    )
