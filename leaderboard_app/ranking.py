"""Ranking: pure functions over per-structure metric values, after MLIP Arena's aggregate.py.

Per model and metric: the mean and sample standard deviation over the structures with
a result. Each ranked metric is ranked across models with ties sharing the lowest rank
(pandas ``method="min"``); the sum of a model's metric ranks orders the task; and the
sum of task ranks, where a model missing a task ranks last for it, gives the arena rank.
A model whose mean is missing (every value null) ranks last for that metric.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Metric:
    """One column of a task table.

    ``value`` turns a stored per-structure value into the one averaged (e.g. abs);
    ``badness`` turns a model's mean into a number where lower ranks better, or is
    None for a column that is shown but not ranked.
    """

    key: str
    label: str
    help: str
    value: Callable[[float], float] = float
    badness: Callable[[float], float] | None = None
    percent: bool = False
    digits: int = 3
    integer: bool = False


def _ascending(mean: float) -> float:
    return mean


def _descending(mean: float) -> float:
    return -mean


def _distance_from_one(mean: float) -> float:
    return abs(mean - 1.0)


EOS_METRICS: tuple[Metric, ...] = (
    Metric(
        "energy_derivative_flips",
        "Flips",
        "Sign changes of dE/dV; ideal 1. Ranked by |mean − 1|.",
        badness=_distance_from_one,
        digits=2,
        integer=True,
    ),
    Metric(
        "tortuosity",
        "Tortuosity",
        "Total variation of E over the direct path; ideal 1. Lower ranks better.",
        badness=_ascending,
    ),
    Metric(
        "spearman_compression_energy",
        "ρ comp. E",
        "Spearman ρ of E against V under compression; ideal −1. Lower ranks better.",
        badness=_ascending,
    ),
    Metric(
        "spearman_compression_derivative",
        "ρ comp. dE/dV",
        "Spearman ρ of dE/dV against V under compression; ideal +1. Higher ranks better.",
        badness=_descending,
    ),
    Metric(
        "spearman_tension_energy",
        "ρ tension E",
        "Spearman ρ of E against V under tension; ideal +1. Higher ranks better.",
        badness=_descending,
    ),
    Metric(
        "delta_mev_per_atom",
        "Δ (meV/atom)",
        "Delta-test distance to the WIEN2k EOS. Shown, not ranked.",
        digits=2,
    ),
    Metric(
        "v0_rel_error",
        "|V0 error|",
        "Mean |V0 − V0,ref| / V0,ref. Shown, not ranked.",
        value=abs,
        percent=True,
    ),
    Metric(
        "b0_rel_error",
        "|B0 error|",
        "Mean |B0 − B0,ref| / B0,ref. Shown, not ranked.",
        value=abs,
        percent=True,
    ),
)

# Ranking metrics by task function; a task whose function is not here is not ranked.
TASK_METRICS: dict[str, tuple[Metric, ...]] = {"eos": EOS_METRICS}
MISSING_KEY = "missing"


@dataclass(frozen=True)
class Stats:
    mean: float | None
    std: float | None
    count: int


@dataclass(frozen=True)
class ModelEvidence:
    """What a task knows about one model: metric dicts of its results, its failures."""

    model: str
    metrics: Sequence[Mapping[str, float | None]]
    failed: int = 0


@dataclass(frozen=True)
class TaskScore:
    model: str
    stats: dict[str, Stats]
    done: int
    missing: int
    failed: int
    ranks: dict[str, int] = field(default_factory=dict)
    rank_sum: int = 0
    rank: int = 0


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


def score_task(
    evidence: Sequence[ModelEvidence], *, metrics: Sequence[Metric], structure_count: int
) -> list[TaskScore]:
    """Aggregate, rank and order the models of one task, best first.

    ``structure_count`` is the number of structures every model should have; the
    ones without a result count as missing.
    """
    scores = [_summarize(item, metrics, structure_count) for item in evidence]
    ranked = [m for m in metrics if m.badness is not None]
    columns = {
        m.key: rank_min([_badness(score.stats[m.key], m) for score in scores]) for m in ranked
    }
    if ranked:
        columns[MISSING_KEY] = rank_min([score.missing for score in scores])
    sums = [sum(column[i] for column in columns.values()) for i in range(len(scores))]
    task_ranks = rank_min(sums) if ranked else [0] * len(scores)
    result = [
        TaskScore(
            model=score.model,
            stats=score.stats,
            done=score.done,
            missing=score.missing,
            failed=score.failed,
            ranks={key: column[i] for key, column in columns.items()},
            rank_sum=sums[i],
            rank=task_ranks[i],
        )
        for i, score in enumerate(scores)
    ]
    return sorted(result, key=lambda s: (s.rank, s.model.lower()))


def arena_ranking(
    models: Sequence[str], task_ranks: Mapping[str, Mapping[str, int]]
) -> list[ArenaRow]:
    """Sum each model's task ranks and rank the sums, best first.

    ``task_ranks`` maps task to {model: rank}; a model absent from a task ranks
    last for it (one past the number of models ranked there).
    """
    rows = []
    for model in models:
        mine = {task: ranked.get(model, len(ranked) + 1) for task, ranked in task_ranks.items()}
        rows.append((model, mine, sum(mine.values())))
    arena = rank_min([total for *_, total in rows])
    result = [
        ArenaRow(model=model, task_ranks=ranks, rank_sum=total, rank=arena[i])
        for i, (model, ranks, total) in enumerate(rows)
    ]
    return sorted(result, key=lambda r: (r.rank, r.model.lower()))


def _summarize(item: ModelEvidence, metrics: Sequence[Metric], structure_count: int) -> TaskScore:
    per_metric = {m.key: stats(_value(row.get(m.key), m) for row in item.metrics) for m in metrics}
    done = len(item.metrics)
    return TaskScore(
        model=item.model,
        stats=per_metric,
        done=done,
        missing=max(structure_count - done, 0),
        failed=item.failed,
    )


def _value(raw: float | None, metric: Metric) -> float | None:
    return None if raw is None else metric.value(raw)


def _badness(summary: Stats, metric: Metric) -> float | None:
    if summary.mean is None or metric.badness is None:
        return None
    return metric.badness(summary.mean)
