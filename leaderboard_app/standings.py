"""Scores from evidence: the one way the site and the export rank models on a task."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from django.conf import settings

from compute.tasks import TASKS, spec_or_placeholder
from compute.tasks.spec import TaskSpec
from leaderboard_app.public_text import without_server_paths
from leaderboard_app.ranking import (
    ArenaRow,
    ModelEvidence,
    TaskScore,
    arena_ranking,
    rank_min,
    score_task,
)
from models_app.models import MLIP
from tasks_app.evidence import TaskEvidence
from tasks_app.models import Task


def task_scores(
    evidence: TaskEvidence,
    models: Sequence[MLIP],
    *,
    listed: bool = True,
    min_coverage: float | None = None,
    spec: TaskSpec | None = None,
    structure_ids: Collection[int] | None = None,
) -> list[TaskScore]:
    """Scores of ``models`` that have evidence on the task, best first, each over its own
    results; a model whose last load check failed is set aside, a baseline kept apart.

    With ``listed``, enabled models that list the task but have no evidence yet are
    scored too, as not benchmarked. ``min_coverage`` defaults to ARENA_MIN_COVERAGE;
    ``spec``, the task's spec where the caller has it already. ``structure_ids`` keeps
    only those structures' results and failures (a pairwise view's shared ones).
    """
    task = evidence.task
    spec = spec or spec_or_placeholder(task.function)
    wanted = None if structure_ids is None else set(structure_ids)
    items = [
        ModelEvidence(
            model=m.name,
            metrics={
                sid: row.metrics for sid, row in evidence.done(m.pk).items() if _kept(sid, wanted)
            },
            failed=sum(_kept(sid, wanted) for sid in evidence.failed.get(m.pk, ())),
            missing=evidence.missing(m.pk),
            not_applicable=evidence.not_applicable_count(m.pk),
            set_aside=set_aside_reason(m),
            baseline=m.baseline,
        )
        for m in models
        if evidence.has_evidence(m.pk) or (listed and m.enabled and m.runs_task(task.slug))
    ]
    return score_task(
        items,
        metrics=spec.metrics,
        groups=spec.metric_groups,
        min_coverage=settings.ARENA_MIN_COVERAGE if min_coverage is None else min_coverage,
    )


def _kept(structure_id: int, wanted: set[int] | None) -> bool:
    return wanted is None or structure_id in wanted


def set_aside_reason(model: MLIP) -> str:
    """Why ``model`` is kept out of the ranks, or ''."""
    if model.last_check_ok is False:
        return f"its last load check failed: {without_server_paths(model.last_check_message)}"
    return ""


def ranked_tasks(tasks: Sequence[Task]) -> list[Task]:
    """The tasks whose spec ranks models in the arena, in registry order: those with ranked
    metrics, except those compared only within a device (speed)."""
    order = {name: position for position, name in enumerate(TASKS)}
    specs = {t.pk: spec_or_placeholder(t.function) for t in tasks}
    ranked = [t for t in tasks if specs[t.pk].ranked_metrics and not specs[t.pk].compared_within]
    return sorted(ranked, key=lambda t: order[t.function])


def aspect_rows(
    models: Sequence[str],
    scores: Mapping[str, Sequence[TaskScore]],
    specs: Mapping[str, TaskSpec],
    aspect: str,
) -> list[ArenaRow]:
    """The arena rank over ``aspect`` alone: on each task with groups that count in it,
    the rank of each ranked model's sum of those group ranks; then the arena's sum."""
    ranks = {}
    for slug, task_scores in scores.items():
        keys = [g.key for g in specs[slug].metric_groups if g.counts_in == aspect]
        ranked = [s for s in task_scores if s.ranked]
        if keys:
            sums = rank_min([sum(s.group_ranks[key] for key in keys) for s in ranked])
            ranks[slug] = {s.model: rank for s, rank in zip(ranked, sums, strict=True)}
    return arena_ranking(models, ranks)


def arena_rows(models: Sequence[str], scores: dict[str, Sequence[TaskScore]]) -> list[ArenaRow]:
    """The arena rank of ``models`` from each ranked task's scores, keyed by task slug."""
    ranks = {
        slug: {s.model: s.rank for s in task_scores if s.ranked}
        for slug, task_scores in scores.items()
    }
    return arena_ranking(models, ranks)
