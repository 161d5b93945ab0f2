"""NVE board: every model's total energy against time for one structure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.urls import reverse

from leaderboard_app.boards import Context, TaskView
from leaderboard_app.boards.md_series import failure_facts, series_figure, series_panels
from leaderboard_app.charts import Style
from tasks_app.models import Structure, Task


def task_section(view: TaskView) -> Context:
    structure, control = view.structure_choice()
    rows = view.outputs_for(structure.id)
    return {
        "controls": [control],
        "structure": structure,
        "structure_url": reverse("leaderboard:structure", args=[structure.id]),
        "figures": [
            {
                "id": "nve-energy",
                "title": f"Total energy of {structure.label} against time, models overlaid",
                "figure": series_figure(rows, key="etot_ev", styles=view.styles),
            }
        ],
    }


def structure_figures(
    task: Task,
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    styles: Mapping[str, Style],
    structure: Structure,
) -> list[Context]:
    return series_panels(task.slug, task.name, rows, styles, key="etot_ev", quantity="total energy")


job_facts = failure_facts
