"""Ranking: pure functions over per-structure metric values, after MLIP Arena's aggregate.py.

Per model and metric: the mean and sample standard deviation over the model's own
results on the task, so that a model's numbers never depend on which other models are
shown. A structure whose job failed adds to a metric's mean what the metric's
``on_failure`` says (nothing, by default: the failure rate counts it instead). A model
that ran (results and failures) fewer than ``min_coverage`` times the structures of
the best-covered model is *partial*: ranked among the partial models only, after the
others, and absent from the arena. A *baseline* (a reference model such as EMT) and a
model set aside (its last load check failed) are shown with their means, never ranked.

Each ranked metric is ranked at the precision it is shown with (values that look equal
tie), ties sharing the lowest rank (pandas ``method="min"``). A task's metric groups
(physical soundness, accuracy against DFT, ...) rank by the sum of their metric ranks,
and the task by the sum of its group ranks. The arena ranks the sum of task ranks over
the tasks where some model is ranked; a model absent from such a task ranks after all
who are ranked there. A model with no result is not benchmarked.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from compute.tasks.failures import FAILURE_RATE, SUCCESS_VALUE
from compute.tasks.spec import Metric, MetricGroup, one_group
from leaderboard_app.uncertainty import Interval, holds_zero, mean_interval, paired_interval

NOT_BENCHMARKED = 0  # the rank of a model with no results
DEFAULT_MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class Stats:
    """Mean of the values a metric averages (|error| for absolute ones), their sample
    deviation, their count, for absolute metrics the mean of the signed values, and the
    mean's 95 % bootstrap interval (leaderboard_app.uncertainty)."""

    mean: float | None
    std: float | None
    count: int
    signed_mean: float | None = None
    interval: Interval | None = None


@dataclass(frozen=True)
class ModelEvidence:
    """What a task knows about one model: metric dicts of its results by structure (a list
    stands for structures 0, 1, ...), counts of failed, not applicable and missing
    structures, ``set_aside``: why it is not ranked, if it is not, and ``baseline``: a
    reference model, shown apart and never ranked."""

    model: str
    metrics: Mapping[Hashable, Mapping[str, float | None]] | Sequence[Mapping[str, float | None]]
    failed: int = 0
    missing: int = 0
    not_applicable: int = 0
    set_aside: str = ""
    baseline: bool = False

    def by_structure(self) -> dict[Hashable, Mapping[str, float | None]]:
        if isinstance(self.metrics, Mapping):
            return dict(self.metrics)
        return dict(enumerate(self.metrics))


@dataclass(frozen=True)
class TaskScore:
    """One model on one task. ``stats`` are over its own results (``compared`` of them)
    and its failures where a metric counts them; ``ranks`` per metric and
    ``group_ranks`` per metric group; ``rank_sum`` sums the group ranks.
    ``level_with_above``: ranked below the model listed just above it in its tier, but
    no ranked metric tells the two apart (each paired interval holds 0)."""

    model: str
    stats: dict[str, Stats]
    done: int
    missing: int
    failed: int
    not_applicable: int = 0
    ranks: dict[str, int] = field(default_factory=dict)
    group_ranks: dict[str, int] = field(default_factory=dict)
    rank_sum: int = 0
    rank: int = NOT_BENCHMARKED
    partial: bool = False
    compared: int = 0
    set_aside: str = ""
    baseline: bool = False
    level_with_above: bool = False

    @property
    def benchmarked(self) -> bool:
        return self.done > 0

    @property
    def total(self) -> int:
        """The structures the task asks of the model: N in the coverage n/N."""
        return self.done + self.missing + self.not_applicable

    @property
    def ranked(self) -> bool:
        """Ranked among the full-coverage models, so counted in the arena."""
        return self.rank != NOT_BENCHMARKED and not self.partial


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


def metric_stats(metric: Metric, raw: Iterable[float | None]) -> Stats:
    """``stats`` of a metric's per-structure values with the mean's interval; absolute
    ones add the signed mean."""
    signed = [float(value) for value in raw if metric.value(value) is not None]
    if not metric.absolute:
        return replace(stats(signed), interval=mean_interval(signed))
    values = [abs(value) for value in signed]
    summary = stats(values)
    return replace(summary, interval=mean_interval(values), signed_mean=stats(signed).mean)


def score_task(
    evidence: Sequence[ModelEvidence],
    *,
    metrics: Sequence[Metric],
    groups: Sequence[MetricGroup] | None = None,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> list[TaskScore]:
    """Aggregate, rank and order the models of one task: ranked models first, best first.

    ``groups`` default to one group of every ranked metric.
    """
    if groups is None:
        groups = one_group(metrics)
    summaries = [_summarize(item, metrics) for item in evidence]
    contenders = [
        (item, s)
        for item, s in zip(evidence, summaries, strict=True)
        if s.done and not item.set_aside and not item.baseline
    ]
    if not groups or not contenders:
        return _ordered_scores(summaries)
    best = max(_ran(s) for _, s in contenders)
    full = [s for _, s in contenders if _ran(s) >= min_coverage * best]
    partial = [s for _, s in contenders if s not in full]
    scored = {
        **_rank_tier(full, metrics, groups, partial=False),
        **_rank_tier(partial, metrics, groups, partial=True),
    }
    ordered = _ordered_scores([scored.get(s.model, s) for s in summaries])
    ranked = [m for m in metrics if any(m.key in g.metrics for g in groups)]
    return _mark_level_pairs(ordered, {item.model: item for item in evidence}, ranked)


def _mark_level_pairs(
    ordered: list[TaskScore], evidence: Mapping[str, ModelEvidence], metrics: Sequence[Metric]
) -> list[TaskScore]:
    """Mark each ranked model that no ranked metric tells apart from the one just above
    it: a paired bootstrap over the structures both have results on."""
    marked = list(ordered)
    rows: dict[str, dict[Hashable, Mapping[str, float | None]]] = {}
    values: dict[tuple[str, str], dict[Hashable, float | None]] = {}

    def of(model: str, metric: Metric) -> dict[Hashable, float | None]:
        if (model, metric.key) not in values:  # each at most once, and only where asked
            if model not in rows:
                rows[model] = evidence[model].by_structure()
            values[model, metric.key] = metric_values(metric, rows[model])
        return values[model, metric.key]

    for i in range(1, len(marked)):
        above, below = marked[i - 1], marked[i]
        if not (above.rank and below.rank > above.rank and above.partial == below.partial):
            continue
        level = all(
            holds_zero(paired_interval(of(above.model, m), of(below.model, m))) for m in metrics
        )
        marked[i] = replace(below, level_with_above=level)
    return marked


def metric_values(
    metric: Metric, rows: Mapping[Hashable, Mapping[str, float | None]]
) -> dict[Hashable, float | None]:
    """The values ``metric`` averages, by structure, of a model's results (``rows``:
    ``ModelEvidence.by_structure()``)."""
    return {sid: metric.value(row.get(metric.key)) for sid, row in rows.items()}


def _ran(score: TaskScore) -> int:
    """The structures a model ran: its results and its failures."""
    return score.done + score.failed


def _rank_tier(
    tier: Sequence[TaskScore],
    metrics: Sequence[Metric],
    groups: Sequence[MetricGroup],
    *,
    partial: bool,
) -> dict[str, TaskScore]:
    """Rank the models of one coverage tier on their own means."""
    if not tier:
        return {}
    by_key = {m.key: m for m in metrics}
    columns = {
        key: rank_min([by_key[key].badness(s.stats[key].mean) for s in tier])
        for group in groups
        for key in group.metrics
    }
    group_columns = {
        group.key: rank_min(
            [sum(columns[key][i] for key in group.metrics) for i in range(len(tier))]
        )
        for group in groups
    }
    sums = [sum(column[i] for column in group_columns.values()) for i in range(len(tier))]
    task_ranks = rank_min(sums)
    return {
        summary.model: replace(
            summary,
            ranks={key: column[i] for key, column in columns.items()},
            group_ranks={key: column[i] for key, column in group_columns.items()},
            rank_sum=sums[i],
            rank=task_ranks[i],
            partial=partial,
        )
        for i, summary in enumerate(tier)
    }


def arena_ranking(
    models: Sequence[str], task_ranks: Mapping[str, Mapping[str, int]]
) -> list[ArenaRow]:
    """Sum each model's task ranks and rank the sums, best first.

    ``task_ranks`` maps task to {model: rank} for the models ranked there. A task where
    nobody is ranked counts for nobody; on the others, a model absent ranks after all
    who are ranked there (one past their number). A model ranked on no task is not
    benchmarked and comes last, unranked.
    """
    counted = {task: ranks for task, ranks in task_ranks.items() if ranks}
    ranked = [m for m in models if any(m in ranks for ranks in counted.values())]
    rows = []
    for model in ranked:
        mine = {task: ranks.get(model, len(ranks) + 1) for task, ranks in counted.items()}
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
    """Ranked by rank, then the partial ones by rank, then models with results but no
    rank, then the not benchmarked."""
    return sorted(
        scores,
        key=lambda s: (
            not s.benchmarked,
            s.rank == NOT_BENCHMARKED,
            s.partial,
            s.rank,
            s.model.lower(),
        ),
    )


def _summarize(item: ModelEvidence, metrics: Sequence[Metric]) -> TaskScore:
    """The model's means over its own results, each failure adding what the metric says."""
    values = [{FAILURE_RATE.key: SUCCESS_VALUE, **row} for row in item.by_structure().values()]
    per_metric = {m.key: metric_stats(m, _with_failures(m, values, item.failed)) for m in metrics}
    return TaskScore(
        model=item.model,
        stats=per_metric,
        done=len(values),
        missing=item.missing,
        failed=item.failed,
        not_applicable=item.not_applicable,
        compared=len(values),
        set_aside=item.set_aside,
        baseline=item.baseline,
    )


def _with_failures(metric: Metric, rows: Sequence[Mapping], failed: int) -> list[float | None]:
    values = [row.get(metric.key) for row in rows]
    if metric.on_failure is not None:
        values += [metric.on_failure] * failed
    return values
