"""Scores from evidence: the one way the site and the export rank models on a task."""

from __future__ import annotations

from collections.abc import Sequence

from compute.tasks import TASKS, spec_or_placeholder
from leaderboard_app.ranking import ArenaRow, ModelEvidence, TaskScore, arena_ranking, score_task
from models_app.models import MLIP
from tasks_app.evidence import TaskEvidence
from tasks_app.models import Task


def task_scores(
    evidence: TaskEvidence, models: Sequence[MLIP], *, listed: bool = True
) -> list[TaskScore]:
    """Scores of ``models`` that have evidence on the task, best first.

    With ``listed``, enabled models that list the task but have no evidence yet are
    scored too, as not benchmarked.
    """
    task = evidence.task
    items = [
        ModelEvidence(
            model=m.name,
            metrics=[row.metrics for row in evidence.done(m.pk).values()],
            failed=evidence.failed_count(m.pk),
            missing=evidence.missing(m.pk),
            not_applicable=evidence.not_applicable_count(m.pk),
        )
        for m in models
        if evidence.has_evidence(m.pk) or (listed and m.enabled and m.runs_task(task.slug))
    ]
    return score_task(items, metrics=spec_or_placeholder(task.function).metrics)


def ranked_tasks(tasks: Sequence[Task]) -> list[Task]:
    """The tasks whose spec ranks models, in registry order."""
    order = {name: position for position, name in enumerate(TASKS)}
    ranked = [t for t in tasks if spec_or_placeholder(t.function).ranked_metrics]
    return sorted(ranked, key=lambda t: order[t.function])


def arena_rows(models: Sequence[str], scores: dict[str, Sequence[TaskScore]]) -> list[ArenaRow]:
    """The arena rank of ``models`` from each ranked task's scores, keyed by task slug."""
    ranks = {
        slug: {s.model: s.rank for s in task_scores if s.benchmarked}
        for slug, task_scores in scores.items()
    }
    return arena_ranking(models, ranks)
