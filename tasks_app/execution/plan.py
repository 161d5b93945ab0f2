"""Planning a run: which models, structures and parameters, then one job per pair.

``plan_runs`` is the one service that turns a run's request (the command's options,
an admin action's, a test's) into runs and their jobs: one run per structure set.
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
    structures_of_sets,
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
    ``models``, by name) on its main default structure set (or ``set_name``), limited to
    the structures ``structures`` (labels) and to the first ``limit``; ``variant``
    (default: the protocol) and ``params`` set the parameters. Raises ArenaError on bad
    input, before anything is stored."""
    task_row = task_by_slug(task)
    name = task_row.default_structure_set if set_name is None else set_name
    (planned,) = plan_runs(
        task=task, models=models, set_names=[name], structures=structures, limit=limit,
        force=force, variant=variant, params=params,
    )  # fmt: skip
    return planned


def plan_runs(
    *,
    task: str,
    models: list[str] | None = None,
    set_names: list[str] | None = None,
    structures: list[str] | None = None,
    limit: int | None = None,
    force: bool = False,
    variant: str | None = None,
    params: dict[str, Any] | None = None,
) -> list[PlannedRun]:
    """``plan_run`` on each of ``set_names`` (default: the task's default sets, several
    for heating), one run per set. ``structures`` may name labels of any of the sets (a
    set holding none of them is left out), ``limit`` is the first N of each set. Every
    set and label is checked before anything is stored."""
    if limit is not None and limit < 1:
        raise ArenaError(f"--limit must be at least 1, not {limit}")
    task_row = task_by_slug(task)
    chosen = models_for_task(task_slug=task_row.slug, names=models)
    if not chosen:
        raise ArenaError(f"no enabled model lists task {task_row.slug!r}")
    names = task_row.default_structure_sets if set_names is None else set_names
    selected = structures_of_sets(
        structure_sets=[structure_set_by_name(name) for name in names],
        labels=structures,
        limit=limit,
    )
    spec = task_spec(task_row.function)
    run_params = {
        **spec.variant_params(PROTOCOL if variant is None else variant),
        **(params or {}),
    }
    planned = []
    for structure_set, members in selected:
        run, jobs = run_create(
            task=task_row,
            models=chosen,
            structure_set=structure_set,
            structures=members,
            force=force,
            params=run_params,
            queued_on="rq" if uses_rq() else None,
        )
        planned.append(
            PlannedRun(
                run=run,
                jobs=jobs,
                structure_set=structure_set.name,
                variant=spec.variant_of(run.params) if spec.variants else "",
                reused=reused_jobs_count(run=run),
            )
        )
    return planned
