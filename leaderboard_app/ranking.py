"""Ranking: pure functions over per-structure metric values, after MLIP Arena's aggregate.py.

Per model and metric: the mean and sample standard deviation over the structures with
a result. Each ranked metric is ranked across the models that have results, at the
precision the metric is shown with (values that look equal tie), with ties sharing
the lowest rank (pandas ``method="min"``); the number of missing structures is ranked
too. The sum of a model's ranks orders the task, and the sum of task ranks, where a
model missing a task ranks last for it, gives the arena rank. A model with no result
is not benchmarked: it gets no rank rather than a last place among the ranked.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from compute.tasks.spec import Metric

MISSING_KEY = "missing"
NOT_BENCHMARKED = 0  # the rank of a model with no results


@dataclass(frozen=True)
class Stats:
    mean: float | None
    std: float | None
    count: int


@dataclass(frozen=True)
class ModelEvidence:
    """What a task knows about one model: metric dicts of its results, and counts of
    failed, not applicable and missing structures (only missing ones are ranked)."""

    model: str
    metrics: Sequence[Mapping[str, float | None]]
    failed: int = 0
    missing: int = 0
    not_applicable: int = 0


@dataclass(frozen=True)
class TaskScore:
    model: str
    stats: dict[str, Stats]
    done: int
    missing: int
    failed: int
    not_applicable: int = 0
    ranks: dict[str, int] = field(default_factory=dict)
    rank_sum: int = 0
    rank: int = NOT_BENCHMARKED

    @property
    def benchmarked(self) -> bool:
        return self.done > 0


@dataclass(frozen=True)
class ArenaRow:
    model: str
    task_ranks: dict[str, int]
    rank_sum: int
    rank: int


def rank_min(badness: Sequence[float | None]) -> list[int]:
    """1-based ranks where lower is better; ties share the lowest rank; None ranks last."""
    present = sorted(b for b in badness if b is not None)
    last = len(present) + 1
    first_index: dict[float, int] = {}
    for index, value in enumerate(present, start=1):
        first_index.setdefault(value, index)
    return [last if b is None else first_index[b] for b in badness]


def stats(values: Iterable[float | None]) -> Stats:
    """Mean and sample standard deviation (ddof 1, as pandas) of the finite values."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    n = len(finite)
    if not n:
        return Stats(None, None, 0)
    mean = math.fsum(finite) / n
    # Plain floats: statistics.stdev's exact fractions cost more than a page may spend.
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in finite) / (n - 1)) if n > 1 else None
    return Stats(mean, std, n)


def score_task(evidence: Sequence[ModelEvidence], *, metrics: Sequence[Metric]) -> list[TaskScore]:
    """Aggregate, rank and order the models of one task: ranked models first, best first."""
    summaries = [_summarize(item, metrics) for item in evidence]
    ranked_metrics = [m for m in metrics if m.ranked]
    if not ranked_metrics:
        return _ordered_scores(summaries)
    benchmarked = [s for s in summaries if s.benchmarked]
    columns = {
        m.key: rank_min([m.badness(s.stats[m.key].mean) for s in benchmarked])
        for m in ranked_metrics
    }
    columns[MISSING_KEY] = rank_min([s.missing for s in benchmarked])
    sums = [sum(column[i] for column in columns.values()) for i in range(len(benchmarked))]
    task_ranks = rank_min(sums)
    scored = {
        s.model: TaskScore(
            model=s.model,
            stats=s.stats,
            done=s.done,
            missing=s.missing,
            failed=s.failed,
            not_applicable=s.not_applicable,
            ranks={key: column[i] for key, column in columns.items()},
            rank_sum=sums[i],
            rank=task_ranks[i],
        )
        for i, s in enumerate(benchmarked)
    }
    return _ordered_scores([scored.get(s.model, s) for s in summaries])


def arena_ranking(
    models: Sequence[str], task_ranks: Mapping[str, Mapping[str, int]]
) -> list[ArenaRow]:
    """Sum each model's task ranks and rank the sums, best first.

    ``task_ranks`` maps task to {model: rank} for the models ranked there; a model
    absent from a task ranks last for it (one past the number ranked there). A model
    ranked on no task is not benchmarked and comes last, unranked.
    """
    ranked = [m for m in models if any(m in ranks for ranks in task_ranks.values())]
    rows = []
    for model in ranked:
        mine = {task: ranks.get(model, len(ranks) + 1) for task, ranks in task_ranks.items()}
        rows.append((model, mine, sum(mine.values())))
    arena = rank_min([total for *_, total in rows])
    result = [
        ArenaRow(model=model, task_ranks=ranks, rank_sum=total, rank=arena[i])
        for i, (model, ranks, total) in enumerate(rows)
    ]
    result += [
        ArenaRow(model=m, task_ranks={}, rank_sum=0, rank=NOT_BENCHMARKED)
        for m in models
        if m not in ranked
    ]
    return _ordered(result)


def _ordered(rows: list[ArenaRow]) -> list[ArenaRow]:
    """Ranked rows by rank, then the unranked; names break ties."""
    return sorted(rows, key=lambda r: (r.rank == NOT_BENCHMARKED, r.rank, r.model.lower()))


def _ordered_scores(scores: list[TaskScore]) -> list[TaskScore]:
    """Ranked by rank, then models with results but no rank, then the not benchmarked."""
    return sorted(
        scores,
        key=lambda s: (not s.benchmarked, s.rank == NOT_BENCHMARKED, s.rank, s.model.lower()),
    )


def _summarize(item: ModelEvidence, metrics: Sequence[Metric]) -> TaskScore:
    per_metric = {m.key: stats(m.value(row.get(m.key)) for row in item.metrics) for m in metrics}
    return TaskScore(
        model=item.model,
        stats=per_metric,
        done=len(item.metrics),
        missing=item.missing,
        failed=item.failed,
        not_applicable=item.not_applicable,
    )
