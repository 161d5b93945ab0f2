"""The tables of the leaderboard, task, model and structure pages, built from plain rows."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from compute.tasks.failures import per_structure
from compute.tasks.spec import Metric, MetricGroup, TaskSpec, with_unit
from leaderboard_app.metric_columns import (
    failure_note,
    interval_columns,
    metric_column,
    metric_label,
    metrics_first,
    quantity_column,
    ranking_note,
    signed_column,
    spread_column,
)
from leaderboard_app.ranking import TaskScore
from leaderboard_app.tables import FLOAT, INT, ROW_CSS, Column, Table
from tasks_app.models import JobStatus, Result, Task

NOT_BENCHMARKED = "not benchmarked"
BASELINE = "baseline"  # a reference model's standing, and its rows' class
MISSING_KEY = "missing"
NOT_APPLICABLE_COLUMN = Column(
    "not_applicable",
    "N/A",
    INT,
    link_key="not_applicable_url",
    help="Structures with elements the model does not cover: neither missing nor failed",
)


def model_url(slug: str) -> str:
    """A model's page, by its slug: any name works, slashes and all."""
    return reverse("leaderboard:model", args=[slug])


def jobs_url(**filters: Any) -> str:
    return f"{reverse('leaderboard:jobs')}?{urlencode({k: v for k, v in filters.items() if v})}"


def task_table(
    task: Task, spec: TaskSpec, scores: Sequence[TaskScore], *, slugs: Mapping[str, str]
) -> Table:
    """Per model (kept in view): its rank, then each metric's mean, the headline and ranked
    metrics first; then group ranks, standing, coverage n/N and done, missing, failed and
    not applicable counts. Each metric's spread, rank and signed mean are detail columns,
    shown on request and always downloaded."""
    metrics, groups = metrics_first(spec), spec.metric_groups
    counts = [
        Column("done", "Done", INT, help="Structures with a result"),
        Column(
            MISSING_KEY, "Missing", INT, help="Structures without a result, failed ones included"
        ),
        Column("failed", "Failed", INT, link_key="failed_url", help="Structures whose jobs failed"),
        NOT_APPLICABLE_COLUMN,
    ]
    head = [Column("model", "Model", link_key="model_url", sticky=True)]
    standing_columns = []
    if groups:
        head.append(
            Column(
                "rank",
                "Rank",
                INT,
                help=TASK_RANK_HELP,
                blank=NOT_BENCHMARKED,
                display_key="rank_text",
            )
        )
        standing_columns = [
            *(
                Column(
                    f"group_{g.key}",
                    f"{g.title} rank",
                    INT,
                    rank_key=f"group_{g.key}",
                    show_rank=False,
                )
                for g in groups
            ),
            Column("rank_sum", "Σ group ranks", INT, help=f"Sum of {_group_list(groups)} ranks"),
            Column("standing", "Standing", help=STANDING_HELP),
            Column("coverage", "Coverage n/N", help=COVERAGE_HELP, in_download=False),
            Column("coverage_n", "Coverage n", INT, help=COVERAGE_HELP, on_page=False),
            Column("coverage_total", "Coverage N", INT, help=COVERAGE_HELP, on_page=False),
        ]
    rows = [_task_row(task, score, metrics, slugs) for score in scores]
    metric_columns = []
    for metric in metrics:
        ranked = bool(groups) and metric.ranked
        metric_columns += [
            replace(metric_column(metric, FLOAT, ranked=ranked), show_rank=False),
            *interval_columns(metric, detail=metric is not spec.leading_metric),
            spread_column(metric),
        ]
        if ranked:
            label = f"{metric.label} rank"
            metric_columns.append(Column(f"{metric.key}_rank", label, INT, detail=True))
        if metric.absolute:
            metric_columns.append(signed_column(metric))
    return Table(
        id=f"task-{task.slug}",
        title=f"{task.name}: models",
        columns=[*head, *metric_columns, *standing_columns, *counts],
        rows=rows,
        empty=f"No model has run {task.slug} yet.",
        notes=task_notes(metrics, groups),
    )


TASK_RANK_HELP = "Rank of the sum of the group ranks; ties share the lowest"
STANDING_HELP = "Ranked; partial (ranked apart: too few structures); or set aside (not ranked)"
COVERAGE_HELP = "Structures with a result (n) of those the task asks for (N)"
MEANS_HELP = (
    "Each model's means are over its own results on the task's structures (those with "
    "elements it does not cover left out), so another model never changes them; a failed "
    "structure counts as each metric's note says"
)


def _task_row(
    task: Task, score: TaskScore, metrics: Sequence[Metric], slugs: Mapping[str, str]
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "rank": score.rank or None,
        "rank_sum": score.rank_sum or None,
        "model": score.model,
        "model_url": model_url(slugs[score.model]),
        "standing": standing(score),
        "coverage": f"{score.done}/{score.total}",
        "coverage_n": score.done,
        "coverage_total": score.total,
        "done": score.done,
        MISSING_KEY: score.missing,
        **({ROW_CSS: BASELINE, "rank_text": BASELINE} if score.baseline else {}),
        "failed": score.failed,
        "failed_url": jobs_url(task=task.slug, model=score.model, status="failed"),
        "not_applicable": score.not_applicable,
        "not_applicable_url": jobs_url(
            task=task.slug, model=score.model, status=JobStatus.NOT_APPLICABLE
        ),
    }
    row |= {f"group_{key}": rank for key, rank in score.group_ranks.items()}
    if score.level_with_above:
        row["rank_text"] = f"≈ {score.rank}"
    for metric in metrics:
        row[metric.key] = score.stats[metric.key].mean
        row |= _interval_cells(metric, score.stats[metric.key].interval)
        row[f"{metric.key}_std"] = score.stats[metric.key].std
        row[f"{metric.key}_rank"] = score.ranks.get(metric.key)
        row[f"{metric.key}_signed"] = score.stats[metric.key].signed_mean
    return row


def _interval_cells(metric: Metric, interval: tuple[float, float] | None) -> dict[str, Any]:
    """A mean's interval: its bounds for the downloads, its range and width (to sort on)
    for the page."""
    if interval is None:
        return {f"{metric.key}_ci_low": None, f"{metric.key}_ci_high": None}
    low, high = interval
    return {
        f"{metric.key}_ci_low": low,
        f"{metric.key}_ci_high": high,
        f"{metric.key}_ci": high - low,
        f"{metric.key}_ci_text": f"{metric.format(low)} – {metric.format(high)}",
    }


def standing(score: TaskScore) -> str:
    if score.set_aside:
        return f"set aside: {score.set_aside}"
    if score.baseline:
        return BASELINE
    if not score.benchmarked:
        return NOT_BENCHMARKED
    if score.partial:
        return "partial"
    return "ranked" if score.rank else "not ranked"


def task_notes(metrics: Sequence[Metric], groups: Sequence[MetricGroup]) -> list[tuple[str, str]]:
    """The explainer under a task table: what each group and metric means, which way is better."""
    by_key = {m.key: m for m in metrics}
    notes = [
        (
            f"{g.title} rank",
            f"{g.help} The rank of the sum of the ranks of "
            f"{', '.join(by_key[k].label for k in g.metrics)}.",
        )
        for g in groups
    ]
    if groups:
        notes += [
            ("Rank", f"{TASK_RANK_HELP}: {_group_list(groups)}."),
            (
                "≈ before a rank",
                "The model ranks below the one above it, but no ranked metric tells the two "
                "apart: on the structures both ran, the 95 % paired-bootstrap interval of "
                "each metric's mean difference holds 0.",
            ),
            ("Coverage n/N", f"{COVERAGE_HELP}. {MEANS_HELP}."),
            (
                "Baseline",
                "A reference model (classical, or a dummy): shown for scale, never ranked, "
                "and never part of another model's comparison.",
            ),
            (
                "Partial",
                "Far fewer results than the best-covered model (ARENA_MIN_COVERAGE of its "
                "count): ranked among the partial models only, and absent from the arena rank.",
            ),
        ]
    notes += [(metric_label(m), f"{m.help} {ranking_note(m)} {failure_note(m)}") for m in metrics]
    if metrics:
        notes.append(("↓ ↑ →x", "Lower is better, higher is better, closest to x is better."))
    return notes


def _group_list(groups: Sequence[MetricGroup]) -> str:
    return " + ".join(g.title for g in groups)


def task_summary_table(
    tasks: Sequence[Task],
    scores: Mapping[int, TaskScore | None],
    *,
    ranked_counts: Mapping[int, int],
) -> Table:
    """One model's standing on every task."""
    rows = []
    for task in tasks:
        score = scores.get(task.id)
        rows.append(
            {
                "task": task.name,
                "task_url": reverse("leaderboard:task", args=[task.slug]),
                "rank": score.rank if score and score.ranked and task.id in ranked_counts else None,
                "standing": standing(score) if score else NOT_BENCHMARKED,
                "of": ranked_counts.get(task.id) or None,
                "done": score.done if score else 0,
                MISSING_KEY: score.missing if score else None,
                "failed": score.failed if score else 0,
                "not_applicable": score.not_applicable if score else 0,
            }
        )
    return Table(
        id="tasks",
        title="Results on every task",
        columns=[
            Column("task", "Task", link_key="task_url"),
            Column("rank", "Rank", INT),
            Column("standing", "Standing", help=STANDING_HELP),
            Column("of", "Models ranked", INT),
            Column("done", "Done", INT),
            Column(MISSING_KEY, "Missing", INT),
            Column("failed", "Failed", INT),
            Column("not_applicable", "N/A", INT, help=NOT_APPLICABLE_COLUMN.help),
        ],
        rows=rows,
        empty="No tasks registered.",
    )


def results_table(
    task: Task,
    spec: TaskSpec,
    results: Sequence[Result],
    *,
    by: Sequence[str],
    title: str,
    references: bool = False,
) -> Table:
    """One row per result of a task, labelled ``by`` "model", "structure" or both; with
    ``references``, each headline quantity's reference value (WIEN2k, experiment) beside it."""
    labels = {
        "model": Column("model", "Model", link_key="model_url"),
        "structure": Column("structure", "Structure", link_key="structure_url"),
    }
    # Tasks without metrics show the plain numbers their output holds as well.
    outputs = [{} if spec.metrics else _scalar_outputs(r.output or {}) for r in results]
    rows = [
        {**_result_row(r, spec.metrics), **out} for r, out in zip(results, outputs, strict=True)
    ]
    referenced = {key for r in results for key in (r.structure.reference or {}) if references} & {
        q.key for q in spec.quantities
    }
    for row, result in zip(rows, results, strict=True):
        row |= {f"{key}_ref": (result.structure.reference or {}).get(key) for key in referenced}
    scalar_keys = sorted({key for out in outputs for key in out})
    quantity_columns = []
    for q in spec.quantities:
        quantity_columns.append(quantity_column(q))
        if q.key in referenced:
            label = with_unit(f"{q.label} reference", q.unit)
            quantity_columns.append(
                Column(f"{q.key}_ref", label, FLOAT, digits=q.digits, unit=q.unit)
            )
    columns = [
        *(labels[name] for name in by),
        *quantity_columns,
        *(metric_column(m, INT if m.integer else FLOAT) for m in per_structure(spec.metrics)),
        *(Column(key, key, _number_kind(key, outputs)) for key in scalar_keys),
    ]
    return Table(id=f"results-{task.slug}", title=title, columns=columns, rows=rows)


def _number_kind(key: str, outputs: Sequence[Mapping[str, Any]]) -> str:
    values = [out[key] for out in outputs if key in out]
    return INT if all(isinstance(v, int) for v in values) else FLOAT


def _result_row(result: Result, metrics: Sequence[Metric]) -> dict[str, Any]:
    return {
        "structure": result.structure.label,
        "structure_url": reverse("leaderboard:structure", args=[result.structure_id]),
        "model": result.model.name,
        "model_url": model_url(result.model.slug),
        **(result.headline or {}),
        **{m.key: m.value((result.metrics or {}).get(m.key)) for m in per_structure(metrics)},
    }


def _scalar_outputs(output: Mapping[str, Any]) -> dict[str, float]:
    """The plain numbers a task without metrics returns (energies, volumes, forces)."""
    return {
        key: value
        for key, value in output.items()
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and key != "natoms"
    }
