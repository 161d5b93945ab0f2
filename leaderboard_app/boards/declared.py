"""The figures a task's spec declares (``compute/tasks/figures.py``), drawn with the kit.

``curve_panels`` gives the figures of one structure (``Curves``); ``task_figures`` the
task-wide ones (``Parity``, ``ElementTable``, ``Histogram``, ``Survival``) with the
controls they need. Keys, labels and units all come from the spec.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from compute.tasks.failures import per_structure
from compute.tasks.figures import Curves, ElementTable, Figure, Histogram, Parity, Survival
from compute.tasks.spec import Metric, Quantity, TaskSpec, with_unit
from leaderboard_app.boards import kit
from leaderboard_app.boards.view import Context, TaskView, choose
from leaderboard_app.charts import Style


def has_curves(spec: TaskSpec) -> bool:
    return any(isinstance(f, Curves) for f in spec.figures)


def curve_panels(
    spec: TaskSpec,
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    styles: Mapping[str, Style],
    reference: Mapping[str, Any],
) -> list[Context]:
    """One panel (``name``, ``title``, ``figure``) per ``Curves`` the spec declares."""
    panels = []
    for figure in (f for f in spec.figures if isinstance(f, Curves)):
        curves = [
            kit.Curve(model, xs, ys)
            for model, result in rows
            for xs, branches in [kit.curve_branches(result["output"], figure)]
            for ys in branches
        ]
        marked = figure.marker and reference.get(figure.marker.key)
        mark = None
        if isinstance(marked, int | float) and math.isfinite(marked):
            mark = kit.Mark(marked, figure.marker.label, figure.marker.axis)
        drawn = kit.overlaid_curves(
            curves,
            styles=styles,
            x_title=figure.x.label,
            y_title=figure.y.label,
            log_x=figure.x.log,
            log_y=figure.y.log,
            mark=mark,
        )
        panels.append({"name": figure.name, "title": figure.title, "figure": drawn})
    return panels


def task_figures(view: TaskView) -> Context:
    """Controls and figures of the task-wide figures the spec declares, in its order."""
    section: Context = {"controls": [], "figures": []}
    slug = view.task.slug
    for figure in declared_figures(view.spec):
        if isinstance(figure, Parity):
            titles = " and ".join(_quantity(view.spec, key).label for key in figure.quantities)
            section["figures"].append(
                {
                    "id": f"{slug}-parity",
                    "title": f"{titles} against {figure.reference}",
                    "figure": kit.parity(
                        parity_panels(view, figure), styles=view.styles, log=figure.log
                    ),
                }
            )
        elif isinstance(figure, ElementTable) and view.models_with_results():
            controls, drawn = element_table(view, figure)
            section["controls"] += controls
            section["figures"].append(drawn)
        elif isinstance(figure, Histogram):
            label, values = _distribution_values(view, figure.key)
            section["figures"].append(
                {
                    "id": f"{slug}-histogram-{figure.key}",
                    "title": f"{label} over structures, per model",
                    "figure": kit.distribution(
                        values, styles=view.styles, label=label, bins=figure.bins, log=figure.log
                    ),
                }
            )
        elif isinstance(figure, Survival):
            metric = view.spec.metric(figure.metric)
            fractions = {
                model: [metric.value(row.metrics.get(metric.key)) for row in rows.values()]
                for model, rows in view.rows_by_model().items()
            }
            section["figures"].append(
                {
                    "id": f"{slug}-survival",
                    "title": "Runs still valid against normalised time (area = the score)",
                    "figure": kit.survival(fractions, styles=view.styles),
                }
            )
    return section


def declared_figures(spec: TaskSpec) -> tuple[Figure, ...]:
    """The spec's task-wide figures; a task with per-structure references that declares
    no periodic table gets one of its metrics per element."""
    if spec.reference_keys and not any(isinstance(f, ElementTable) for f in spec.figures):
        return (*spec.figures, ElementTable())
    return spec.figures


def parity_panels(view: TaskView, figure: Parity) -> list[kit.ParityPanel]:
    """One panel per quantity: each model's headline value against the reference."""
    panels = []
    by_model = sorted(view.rows_by_model().items(), key=lambda item: item[0].lower())
    for key in figure.quantities:
        points = []
        for model, rows in by_model:
            for structure_id, row in rows.items():
                info = view.evidence.structure(structure_id)
                if info and key in info.reference:
                    category = str(info.reference.get(figure.colour_by) or "")
                    points.append(
                        kit.ParityPoint(
                            model, info.label, info.reference[key], row.headline.get(key), category
                        )
                    )
        quantity = _quantity(view.spec, key)
        panels.append(kit.ParityPanel(quantity.label, quantity.unit, points, figure.reference))
    return panels


def element_table(view: TaskView, figure: ElementTable) -> tuple[list[Context], Context]:
    """The model and metric controls, and the chosen model's metric per element."""
    ranked = view.models_with_results()
    model = choose(ranked, view.query.get("model"), key=str, default=ranked[0])
    keys = figure.metrics or tuple(m.key for m in per_structure(view.spec.metrics))
    metrics = [view.spec.metric(key) for key in keys]
    leading = view.spec.leading_metric
    default = leading if leading in metrics else metrics[0]
    metric = choose(metrics, view.query.get("metric"), key=lambda m: m.key, default=default)
    values, label = metric_per_element(view, model, metric)
    controls = [
        {
            "name": "model",
            "label": "Periodic table model",
            "options": [(n, n) for n in ranked],
            "selected": model,
        },
        {
            "name": "metric",
            "label": "Periodic table metric",
            "options": [(m.key, m.heading) for m in metrics],
            "selected": metric.key,
        },
    ]
    drawn = {
        "id": f"{view.task.slug}-element-table",
        "title": f"{metric.heading} per element: {model}",
        "figure": kit.element_table(values, label=label),
    }
    return controls, drawn


def metric_per_element(view: TaskView, model: str, metric: Metric) -> tuple[dict[str, float], str]:
    """``model``'s metric per element, as ``element_breakdown`` gives it."""
    found = []
    for structure_id, row in view.rows_by_model().get(model, {}).items():
        info = view.evidence.structure(structure_id)
        if info:
            found.append((info.formula, row.metrics.get(metric.key)))
    return element_breakdown(metric, found)


def element_breakdown(
    metric: Metric, values: Iterable[tuple[str, Any]]
) -> tuple[dict[str, float], str]:
    """The metric per element of (formula, raw metric value) pairs: the mean over the
    structures holding it, as far from the metric's ideal as it lies (the value itself
    for an ideal of 0 or none; % for percent metrics), and the colour bar's label."""
    ideal = metric.ideal or 0.0
    found = []
    for formula, raw in values:
        value = metric.value(raw)
        if value is not None:
            value = abs(value - ideal) if ideal else value
            found.append((formula, value * (100 if metric.percent else 1)))
    label = with_unit(metric.label, metric.unit or ("%" if metric.percent else ""))
    if ideal:
        label = f"|{metric.label} {'+' if ideal < 0 else '−'} {abs(ideal):g}|"
    return kit.element_means(found), label


def _distribution_values(view: TaskView, key: str) -> tuple[str, dict[str, list[float]]]:
    """The axis label and each model's values of a metric (or headline quantity) ``key``."""
    metric = next((m for m in view.spec.metrics if m.key == key), None)
    values: dict[str, list[float]] = {}
    for model, rows in view.rows_by_model().items():
        for row in rows.values():
            raw = row.metrics.get(key) if metric else row.headline.get(key)
            value = metric.value(raw) if metric else (raw if kit.finite(raw) else None)
            if value is not None:
                values.setdefault(model, []).append(
                    value * (100 if metric and metric.percent else 1)
                )
    if metric:
        return with_unit(metric.label, metric.unit or ("%" if metric.percent else "")), values
    return _quantity(view.spec, key).heading, values


def _quantity(spec: TaskSpec, key: str) -> Quantity:
    return next(q for q in spec.quantities if q.key == key)
