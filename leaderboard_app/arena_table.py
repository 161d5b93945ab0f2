"""The home page's arena table: each model's arena rank, its headline value and rank per
task, the sum of ranks, and the registry's metadata; baselines apart, after the ranked."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any

from django.urls import reverse

from compute.tasks.spec import ASPECTS, Metric
from leaderboard_app.metric_columns import metric_column, metric_label
from leaderboard_app.public_text import without_server_paths
from leaderboard_app.ranking import ArenaRow
from leaderboard_app.result_tables import BASELINE, NOT_BENCHMARKED, model_url
from leaderboard_app.tables import BOOL, DATE, FLOAT, INT, LINK, LIST, ROW_CSS, Column, Table
from models_app.models import MLIP
from tasks_app.models import Task

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
    Column(
        "baseline",
        "Baseline",
        BOOL,
        help="A reference model (classical or dummy): shown apart, never ranked",
        on_page=False,
    ),
    Column(
        "load_check",
        "Load check",
        max_chars=60,
        help="The last admin check that the model loads; a failed one keeps it out of the ranks",
    ),
)


def leaderboard_table(
    rows: Sequence[ArenaRow],
    *,
    models: Mapping[str, MLIP],
    tasks: Sequence[Task],
    ranked: bool,
    headlines: Mapping[str, tuple[Metric, Mapping[str, float | None]]] | None = None,
    ranked_on: Collection[str] = (),
    aspects: Mapping[str, Mapping[str, int]] | None = None,
) -> Table:
    """The model (kept in view), its arena rank, then per task its headline metric beside
    its task rank, the sum of ranks, and the registry's metadata. Baselines follow the
    ranked models, apart and unranked.

    ``headlines``: per task slug, the spec's headline metric and each model's mean of it;
    ``ranked_on``: the slugs of the tasks where some model is ranked (the others, not run
    under their protocol, get no rank column and count for nobody); ``aspects``: per
    aspect (ASPECTS), each model's arena rank over that aspect's groups alone.
    """
    headlines = headlines or {}
    aspects = aspects or {}
    model_column = Column("model", "Model", link_key="model_url", sticky=True)
    rank_columns = [
        Column(
            "rank",
            "Rank",
            INT,
            help="Rank of the sum of task ranks; ties share the lowest",
            blank=NOT_BENCHMARKED,
            display_key="rank_text",
        ),
        *(
            Column(
                f"rank_{aspect}",
                f"{ASPECTS[aspect]} rank",
                INT,
                help=f"Rank over the {ASPECTS[aspect]} groups of the tasks alone",
            )
            for aspect in aspects
        ),
    ]
    for t in tasks:
        if t.slug in headlines:
            metric = headlines[t.slug][0]
            rank_columns.append(
                replace(
                    metric_column(metric, FLOAT),
                    key=f"{t.slug}_{metric.key}",
                    label=f"{t.slug} {metric_label(metric)}",
                    help=f"{t.name}: {metric.help}",
                )
            )
        if t.slug in ranked_on:
            rank_columns.append(
                Column(
                    f"rank_{t.slug}", f"{t.slug} rank", INT, link_key=f"url_{t.slug}", help=t.name
                )
            )
    rank_columns.append(
        Column(
            "rank_sum",
            "Sum of ranks",
            INT,
            help="A model missing a task ranks after all who are ranked on it",
        )
    )
    table_rows = []
    for row in _baselines_after_ranked(rows, models):
        model = models[row.model]
        values: dict[str, Any] = {
            "rank": row.rank or None,
            "model": row.model,
            "model_url": model_url(model.slug),
            "rank_sum": row.rank_sum or None,
            **_metadata(model),
        }
        values |= {f"rank_{a}": ranks.get(row.model) or None for a, ranks in aspects.items()}
        if model.baseline:
            values |= {"rank_text": BASELINE, ROW_CSS: BASELINE}
        for task in tasks:
            values[f"rank_{task.slug}"] = row.task_ranks.get(task.slug)
            values[f"url_{task.slug}"] = reverse("leaderboard:task", args=[task.slug])
            if task.slug in headlines:
                metric, means = headlines[task.slug]
                values[f"{task.slug}_{metric.key}"] = means.get(row.model)
        table_rows.append(values)
    columns = [model_column, *rank_columns] if ranked else [model_column]
    return Table(
        id="leaderboard",
        title="Arena ranking",
        columns=[*columns, *METADATA_COLUMNS],
        rows=table_rows,
        empty="No model matches these filters.",
    )


def _baselines_after_ranked(rows: Sequence[ArenaRow], models: Mapping[str, MLIP]) -> list[ArenaRow]:
    """The ranked rows, then the baselines, then the rest, each in their given order."""
    return sorted(rows, key=lambda r: (not r.rank, not models[r.model].baseline))


def _metadata(model: MLIP) -> dict[str, Any]:
    values = {c.key: getattr(model, c.key) for c in METADATA_COLUMNS if c.key != "load_check"}
    return values | {"load_check": load_check(model)}


def load_check(model: MLIP) -> str:
    """The last load check in words: '' if never checked."""
    if model.last_check_ok is None:
        return ""
    if model.last_check_ok:
        return "ok"
    return f"failed: {without_server_paths(model.last_check_message)}"
