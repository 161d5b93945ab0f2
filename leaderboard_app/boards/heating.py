"""Heating board: temperature against time per model, and MLIP Arena's survival curve."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.urls import reverse

from leaderboard_app.boards import Context, TaskView
from leaderboard_app.boards.md_series import failure_facts, series_figure, series_panels
from leaderboard_app.charts import Curve, Figure, Style, curves_figure, rounded
from tasks_app.models import Structure, Task

GRID = [i / 100 for i in range(101)]


def survival(valid_fractions: Sequence[float]) -> list[float]:
    """The share of runs still valid at each normalised time of ``GRID``."""
    runs = len(valid_fractions)
    return [sum(1 for f in valid_fractions if f >= t) / runs for t in GRID]


def survival_figure(
    fractions: Mapping[str, Sequence[float]], *, styles: Mapping[str, Style]
) -> Figure:
    curves = [
        Curve(model, GRID, [rounded(s) for s in survival(values)])
        for model, values in fractions.items()
        if values
    ]
    return curves_figure(
        curves, styles=styles, x_title="normalised time", y_title="share of runs still valid"
    )


def task_section(view: TaskView) -> Context:
    structure, control = view.structure_choice()
    fractions = {
        name: [row.metrics.get("valid_fraction") for row in rows.values()]
        for name, rows in view.rows_by_model().items()
    }
    fractions = {
        name: [f for f in values if isinstance(f, int | float)]
        for name, values in fractions.items()
    }
    return {
        "controls": [control],
        "structure": structure,
        "structure_url": reverse("leaderboard:structure", args=[structure.id]),
        "figures": [
            {
                "id": "heating-survival",
                "title": "Runs still valid against normalised time (area = the score)",
                "figure": survival_figure(fractions, styles=view.styles),
            },
            {
                "id": "heating-temperature",
                "title": f"Temperature of {structure.label} against time",
                "figure": series_figure(
                    view.outputs_for(structure.id), key="temperature_k", styles=view.styles
                ),
            },
        ],
    }


def structure_figures(
    task: Task,
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    styles: Mapping[str, Style],
    structure: Structure,
) -> list[Context]:
    return series_panels(
        task.slug, task.name, rows, styles, key="temperature_k", quantity="temperature"
    )


job_facts = failure_facts
