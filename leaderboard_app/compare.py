"""The compare page: two or three models side by side on the structures they share.

Per task: each metric's mean for each model over the shared structures, the difference
of the second model from the first per structure, their curves overlaid on a shared
structure, and a periodic table of the difference. The page says what it leaves out
and why: models past the third, tasks they share no structure on, structures that not
all of them have.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from django.http import QueryDict
from django.urls import reverse

from compute.tasks import spec_or_placeholder
from compute.tasks.failures import per_structure
from compute.tasks.spec import Metric, TaskSpec, with_unit
from leaderboard_app import boards, selectors
from leaderboard_app.charts import Style, model_styles, periodic_table_figure
from leaderboard_app.metric_columns import export_unit, metric_label
from leaderboard_app.ranking import TaskScore
from leaderboard_app.standings import task_scores
from leaderboard_app.tables import FLOAT, INT, Column, Table
from leaderboard_app.uncertainty import Interval, holds_zero, paired_interval
from models_app.models import MLIP
from tasks_app.evidence import TaskEvidence, task_evidence
from tasks_app.models import Task

Context = dict[str, Any]
MAX_MODELS = 3


def compare_page(*, query: QueryDict) -> Context:
    """Context for ``/compare/?models=A,B[,C]`` (names or slugs)."""
    models = selectors.all_models()
    chosen, unknown, beyond = pick_models(models, query.get("models", ""))
    tasks = selectors.all_tasks()
    context: Context = {
        "nav_tasks": tasks,
        "all_models": models,
        "chosen": chosen,
        "unknown": unknown,
        "left_out": [f"{name}: the page compares at most {MAX_MODELS} models" for name in beyond],
        "sections": [],
        "tables": [],
        "figures": [],
    }
    if len(chosen) < 2:
        return context
    evidence = task_evidence(tasks=tasks, models=chosen)
    styles = model_styles((m.pk, m.name) for m in models)
    for task in tasks:
        section = task_comparison(task, evidence[task.pk], chosen, styles, query)
        if section:
            context["sections"].append(section)
            context["tables"] += section["tables"]
            context["figures"] += section["figures"]
        elif any(evidence[task.pk].done(m.pk) for m in chosen):
            context["left_out"].append(f"{task.name}: no structure that all of them have")
    return context


def pick_models(models: Sequence[MLIP], wanted: str) -> tuple[list[MLIP], list[str], list[str]]:
    """The models named (by name or slug, comma-separated): the first three, the names
    no model has, and the models named past the third."""
    by_key = {m.name: m for m in models} | {m.slug: m for m in models}
    chosen: list[MLIP] = []
    unknown: list[str] = []
    beyond: list[str] = []
    for key in (part.strip() for part in wanted.split(",")):
        model = by_key.get(key)
        if not key or model in chosen or (model and model.name in beyond):
            continue
        if model is None:
            unknown.append(key)
        elif len(chosen) < MAX_MODELS:
            chosen.append(model)
        else:
            beyond.append(model.name)
    return chosen, unknown, beyond


def task_comparison(
    task: Task,
    evidence: TaskEvidence,
    models: Sequence[MLIP],
    styles: Mapping[str, Style],
    query: QueryDict,
) -> Context | None:
    """One task's tables and figures, or None when the models share no structure there."""
    spec = spec_or_placeholder(task.function)
    rows = {m.name: evidence.done(m.pk) for m in models}
    shared = [s for s in evidence.structures if all(s.id in r for r in rows.values())]
    if not shared:
        return None
    some = {sid for r in rows.values() for sid in r}
    scores = task_scores(
        evidence,
        models,
        listed=False,
        min_coverage=0.0,
        spec=spec,
        structure_ids=[s.id for s in shared],
    )
    first, second = models[0].name, models[1].name
    tables = []
    if spec.metrics:
        paired = paired_differences(spec, [s.id for s in shared], rows, first, second)
        names = [m.name for m in models]
        tables.append(metrics_table(task, spec, scores, names, len(shared), paired))
    tables.append(difference_table(task, spec, shared, rows, first, second))
    structure = next(
        (s for s in shared if str(s.id) == query.get(f"structure_{task.slug}")), shared[0]
    )
    figures = curve_figures(task, spec, structure.id, rows, styles)
    heat = difference_by_element(spec, shared, rows, first, second)
    if heat:
        quantity = spec.quantities[0]
        figures.append(
            {
                "id": f"compare-table-{task.slug}",
                "title": f"{task.name}: {quantity.label} of {second} − {first} per element",
                "figure": periodic_table_figure(heat, label=quantity.unit, log=False, signed=True),
            }
        )
    figures += error_tables(task, spec, shared, rows)
    return {
        "task": task,
        "shared": len(shared),
        "unshared": len(some) - len(shared),
        "structure": structure,
        "structure_options": [(s.id, s.label) for s in shared],
        "tables": tables,
        "figures": figures,
    }


def paired_differences(
    spec: TaskSpec,
    shared: Sequence[int],
    rows: Mapping[str, Mapping[int, Any]],
    first: str,
    second: str,
) -> dict[str, Interval | None]:
    """Per metric: the 95 % paired-bootstrap interval of ``second``'s mean minus
    ``first``'s, over the shared structures."""
    return {
        metric.key: paired_interval(
            *(
                {sid: metric.value(rows[name][sid].metrics.get(metric.key)) for sid in shared}
                for name in (second, first)
            )
        )
        for metric in per_structure(spec.metrics)
    }


def metrics_table(
    task: Task,
    spec: TaskSpec,
    scores: Sequence[TaskScore],
    names: Sequence[str],
    shared: int,
    paired: Mapping[str, Interval | None],
) -> Table:
    """One row per metric: each model's mean over the shared structures, side by side,
    and whether the structures tell the second from the first (``paired``); downloads
    name each model's column and carry each metric's unit and raw numbers."""
    by_model = {s.model: s for s in scores}
    columns = [
        Column("metric", "Metric"),
        Column("key", "Key", on_page=False),
        Column("unit", "Unit", on_page=False),
    ]
    for i, name in enumerate(names):
        columns += [
            Column(f"m{i}", name, FLOAT, rank_key=f"r{i}", export_name=name, display_key=f"t{i}"),
            Column(f"r{i}", f"{name} rank", INT, export_name=f"{name} rank", on_page=False),
        ]
    difference = f"{names[1]} − {names[0]}"
    columns += [
        Column("ci", f"{difference}: 95 % interval", display_key="ci_text", in_download=False),
        Column("ci_low", "interval low", FLOAT, export_name="difference_ci_low", on_page=False),
        Column("ci_high", "interval high", FLOAT, export_name="difference_ci_high", on_page=False),
        Column("verdict", f"{names[1]} against {names[0]}"),
    ]
    rows = []
    for metric in per_structure(spec.metrics):
        row: dict[str, Any] = {
            "metric": metric_label(metric),
            "key": metric.key,
            "unit": export_unit(metric),
        }
        for i, name in enumerate(names):
            mean = by_model[name].stats[metric.key].mean if name in by_model else None
            row[f"m{i}"] = mean
            row[f"t{i}"] = metric.format(mean) if mean is not None else None
            row[f"r{i}"] = by_model[name].ranks.get(metric.key) if name in by_model else None
        row |= _paired_cells(metric, paired.get(metric.key))
        rows.append(row)
    return Table(
        id=f"compare-{task.slug}",
        title=f"{task.name}: means over the {shared} structures all of them have",
        columns=columns,
        rows=rows,
        notes=[
            ("#n", "The model's rank on the metric among the models compared here."),
            (
                "95 % interval",
                f"Of the mean difference {difference} over the shared structures, by a "
                "paired percentile bootstrap (4000 resamples of the structures, fixed seed). "
                "Where it holds 0 the structures cannot tell the two apart on the metric: ≈.",
            ),
            (
                "Paired",
                f"These means are over the {shared} structures all of them have, the same "
                "structures for each model; the task page's are over each model's own "
                "results and count its failures, so they agree where the models ran the "
                "same structures and none failed.",
            ),
        ],
    )


def difference_table(
    task: Task,
    spec: TaskSpec,
    shared: Sequence[Any],
    rows: Mapping[str, Mapping[int, Any]],
    first: str,
    second: str,
) -> Table:
    """Per shared structure: each headline quantity of both models and their difference."""
    columns = [Column("structure", "Structure", link_key="structure_url", sticky=True)]
    for q in spec.quantities:
        number = {"kind": FLOAT, "digits": q.digits, "unit": q.unit}
        columns += [
            Column(f"{q.key}_a", with_unit(f"{q.label} {first}", q.unit),
                   export_name=f"{q.key} {first}", **number),
            Column(f"{q.key}_b", with_unit(f"{q.label} {second}", q.unit),
                   export_name=f"{q.key} {second}", **number),
            Column(f"{q.key}_diff", with_unit(f"Δ{q.label}", q.unit), signed=True,
                   export_name=f"{q.key} {second} - {first}", **number),
        ]  # fmt: skip
        if any(q.key in s.reference for s in shared):
            label = with_unit(f"{q.label} reference", q.unit)
            columns.append(
                Column(f"{q.key}_ref", label, export_name=f"{q.key} reference", **number)
            )
    table_rows = []
    for info in shared:
        a, b = rows[first][info.id].headline, rows[second][info.id].headline
        row: dict[str, Any] = {
            "structure": info.label,
            "structure_url": reverse("leaderboard:structure", args=[info.id]),
        }
        for q in spec.quantities:
            row[f"{q.key}_a"], row[f"{q.key}_b"] = a.get(q.key), b.get(q.key)
            row[f"{q.key}_diff"] = _difference(a.get(q.key), b.get(q.key))
            row[f"{q.key}_ref"] = info.reference.get(q.key)
        table_rows.append(row)
    return Table(
        id=f"difference-{task.slug}",
        title=f"{task.name}: {second} against {first} per structure (Δ = {second} − {first})",
        columns=columns,
        rows=table_rows,
    )


def curve_figures(
    task: Task,
    spec: TaskSpec,
    structure_id: int,
    rows: Mapping[str, Mapping[int, Any]],
    styles: Mapping[str, Style],
) -> list[Context]:
    """The task's figures of one structure, the models' curves overlaid."""
    ids = {r[structure_id].result_id: name for name, r in rows.items()}
    found = selectors.result_outputs(result_ids=list(ids))
    outputs = [(ids[r["id"]], r) for r in found]
    structure = selectors.structure_with_set(pk=structure_id)
    panels = boards.structure_panels(spec, outputs, styles, structure.reference or {})
    return [
        {
            "id": f"compare-{task.slug}-{panel['name']}",
            "title": f"{task.name}: {panel['title']}",
            "figure": panel["figure"],
        }
        for panel in panels
    ]


def difference_by_element(
    spec: TaskSpec,
    shared: Sequence[Any],
    rows: Mapping[str, Mapping[int, Any]],
    first: str,
    second: str,
) -> dict[str, float]:
    """The first headline quantity of ``second`` minus ``first``, per element of the
    one-element structures."""
    if not spec.quantities:
        return {}
    key = spec.quantities[0].key
    values: dict[str, list[float]] = {}
    for info in shared:
        element = boards.element_of(info.formula)
        a, b = rows[first][info.id].headline, rows[second][info.id].headline
        diff = _difference(a.get(key), b.get(key))
        if element and diff is not None:
            values.setdefault(element, []).append(diff)
    return {element: statistics.fmean(found) for element, found in values.items()}


def _paired_cells(metric: Metric, interval: Interval | None) -> dict[str, Any]:
    if interval is None:
        return {"verdict": "≈ (under two shared structures)"}
    low, high = interval
    return {
        "ci_low": low,
        "ci_high": high,
        "ci_text": f"{metric.format(low)} – {metric.format(high)}",
        "verdict": "≈ not distinguishable" if holds_zero(interval) else "distinguishable",
    }


def error_tables(
    task: Task, spec: TaskSpec, shared: Sequence[Any], rows: Mapping[str, Mapping[int, Any]]
) -> list[Context]:
    """Per model: the periodic table of its headline metric per element, over the shared
    structures, for a task with per-structure references."""
    metric = spec.leading_metric
    if not (spec.reference_keys and metric):
        return []
    tables = []
    for name, by_structure in rows.items():
        pairs = [(s.formula, by_structure[s.id].metrics.get(metric.key)) for s in shared]
        values, label = boards.declared.element_breakdown(metric, pairs)
        tables.append(
            {
                "id": f"compare-{task.slug}-elements-{len(tables)}",
                "title": f"{task.name}: {metric.heading} per element: {name}",
                "figure": boards.kit.element_table(values, label=label),
            }
        )
    return tables


def compare_url(models: Sequence[MLIP]) -> str:
    return f"{reverse('leaderboard:compare')}?models={','.join(m.slug for m in models)}"


def _difference(a: Any, b: Any) -> float | None:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    return b - a if numbers else None
