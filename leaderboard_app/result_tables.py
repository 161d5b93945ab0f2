"""The tables of the leaderboard, task, model and structure pages, built from plain rows."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from compute.tasks import spec_or_placeholder
from compute.tasks.spec import HIGHER, LOWER, Metric, Quantity
from leaderboard_app.ranking import MISSING_KEY, ArenaRow, TaskScore
from leaderboard_app.tables import BOOL, DATE, FLOAT, INT, LINK, LIST, MEAN_STD, Column, Table
from models_app.models import MLIP
from tasks_app.models import JobStatus, Result, Task

NOT_BENCHMARKED = "not benchmarked"
NOT_APPLICABLE_COLUMN = Column(
    "not_applicable",
    "N/A",
    INT,
    link_key="not_applicable_url",
    help="Structures with elements the model does not cover: neither missing nor failed",
)
METADATA_COLUMNS = (
    Column("prediction_type", "Predicts", help="E energy, F forces, S stress, M magnetic moments"),
    Column("supports_nvt", "NVT", BOOL),
    Column("supports_npt", "NPT", BOOL),
    Column("training_datasets", "Training sets", LIST),
    Column("code_url", "Code", LINK),
    Column("paper_url", "Paper", LINK),
    Column("checkpoint", "Checkpoint", max_chars=22),
    Column("release_date", "Released", DATE),
    Column("license", "License"),
)


def model_url(slug: str) -> str:
    """A model's page, by its slug: any name works, slashes and all."""
    return reverse("leaderboard:model", args=[slug])


def jobs_url(**filters: Any) -> str:
    return f"{reverse('leaderboard:jobs')}?{urlencode({k: v for k, v in filters.items() if v})}"


def leaderboard_table(
    rows: Sequence[ArenaRow], *, models: Mapping[str, MLIP], tasks: Sequence[Task], ranked: bool
) -> Table:
    """Arena rank, each task's rank, their sum, then the registry's metadata."""
    rank_columns = [
        Column(
            "rank",
            "Rank",
            INT,
            help="Rank of the sum of task ranks; ties share the lowest",
            blank=NOT_BENCHMARKED,
        ),
        Column("model", "Model", link_key="model_url"),
        *(
            Column(f"rank_{t.slug}", f"{t.slug} rank", INT, link_key=f"url_{t.slug}", help=t.name)
            for t in tasks
        ),
        Column("rank_sum", "Sum of ranks", INT, help="A model missing a task ranks last for it"),
    ]
    table_rows = []
    for row in rows:
        model = models[row.model]
        values: dict[str, Any] = {
            "rank": row.rank or None,
            "model": row.model,
            "model_url": model_url(model.slug),
            "rank_sum": row.rank_sum or None,
            **_metadata(model),
        }
        for task in tasks:
            values[f"rank_{task.slug}"] = row.task_ranks.get(task.slug)
            values[f"url_{task.slug}"] = reverse("leaderboard:task", args=[task.slug])
        table_rows.append(values)
    columns = rank_columns if ranked else [rank_columns[1]]
    return Table(
        id="leaderboard",
        title="Arena ranking",
        columns=[*columns, *METADATA_COLUMNS],
        rows=table_rows,
        empty="No model matches these filters.",
    )


def task_table(task: Task, scores: Sequence[TaskScore], *, slugs: Mapping[str, str]) -> Table:
    """Per model: rank, rank sum, mean ± std of each metric, missing and failed counts."""
    metrics = spec_or_placeholder(task.function).metrics
    counts = [
        Column("done", "Done", INT, help="Structures with a result"),
        Column(
            MISSING_KEY, "Missing", INT, help="Structures without a result, failed ones included"
        ),
        Column("failed", "Failed", INT, link_key="failed_url", help="Structures whose jobs failed"),
        NOT_APPLICABLE_COLUMN,
    ]
    head = [Column("model", "Model", link_key="model_url")]
    if any(m.ranked for m in metrics):
        head = [
            Column(
                "rank", "Rank", INT, help="Rank of the sum of metric ranks", blank=NOT_BENCHMARKED
            ),
            *head,
            Column(
                "rank_sum", "Σ ranks", INT, help="Sum of the ranks of ranked metrics and missing"
            ),
        ]
    rows = []
    for score in scores:
        row: dict[str, Any] = {
            "rank": score.rank or None,
            "rank_sum": score.rank_sum or None,
            "model": score.model,
            "model_url": model_url(slugs[score.model]),
            "done": score.done,
            MISSING_KEY: score.missing,
            "failed": score.failed,
            "failed_url": jobs_url(task=task.slug, model=score.model, status="failed"),
            "not_applicable": score.not_applicable,
            "not_applicable_url": jobs_url(
                task=task.slug, model=score.model, status=JobStatus.NOT_APPLICABLE
            ),
        }
        for metric in metrics:
            row[metric.key] = score.stats[metric.key].mean
            row[f"{metric.key}_std"] = score.stats[metric.key].std
        rows.append(row)
    return Table(
        id=f"task-{task.slug}",
        title=f"{task.name}: models",
        columns=[*head, *(metric_column(m, MEAN_STD) for m in metrics), *counts],
        rows=rows,
        empty=f"No model has run {task.slug} yet.",
    )


def metric_column(metric: Metric, kind: str) -> Column:
    """A metric's column: its label and unit, and a help text saying which way is better."""
    return Column(
        metric.key,
        metric.heading,
        kind,
        digits=metric.digits,
        percent=metric.percent,
        help=f"{metric.help} {_ranking_note(metric)}",
    )


def quantity_column(quantity: Quantity) -> Column:
    return Column(quantity.key, quantity.heading, FLOAT, digits=quantity.digits)


def _ranking_note(metric: Metric) -> str:
    if not metric.ranked:
        return "Shown, not ranked."
    if metric.direction == LOWER:
        return "Lower ranks better."
    if metric.direction == HIGHER:
        return "Higher ranks better."
    return f"Closest to {metric.ideal:g} ranks better."


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
                "rank": score.rank if score and score.rank else None,
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
            Column("of", "Models ranked", INT),
            Column("done", "Done", INT),
            Column(MISSING_KEY, "Missing", INT),
            Column("failed", "Failed", INT),
            Column("not_applicable", "N/A", INT, help=NOT_APPLICABLE_COLUMN.help),
        ],
        rows=rows,
        empty="No tasks registered.",
    )


def results_table(task: Task, results: Sequence[Result], *, by: Sequence[str], title: str) -> Table:
    """One row per result of a task, labelled ``by`` "model", "structure" or both."""
    spec = spec_or_placeholder(task.function)
    labels = {
        "model": Column("model", "Model", link_key="model_url"),
        "structure": Column("structure", "Structure", link_key="structure_url"),
    }
    # Tasks without metrics show the plain numbers their output holds as well.
    outputs = [{} if spec.metrics else _scalar_outputs(r.output or {}) for r in results]
    rows = [
        {**_result_row(r, spec.metrics), **out} for r, out in zip(results, outputs, strict=True)
    ]
    scalar_keys = sorted({key for out in outputs for key in out})
    columns = [
        *(labels[name] for name in by),
        *(quantity_column(q) for q in spec.quantities),
        *(metric_column(m, INT if m.integer else FLOAT) for m in spec.metrics),
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
        **{m.key: m.value((result.metrics or {}).get(m.key)) for m in metrics},
    }


def _scalar_outputs(output: Mapping[str, Any]) -> dict[str, float]:
    """The plain numbers a task without metrics returns (energies, volumes, forces)."""
    return {
        key: value
        for key, value in output.items()
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and key != "natoms"
    }


def _metadata(model: MLIP) -> dict[str, Any]:
    return {column.key: getattr(model, column.key) for column in METADATA_COLUMNS}
