"""E–V scan figures: every model's E(V) around the input cell, overlaid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.urls import reverse

from leaderboard_app.boards import Context, TaskView
from leaderboard_app.boards.eos import sorted_curve
from leaderboard_app.charts import Curve, Figure, Style, curves_figure, rounded
from tasks_app.models import Structure, Task


def task_section(view: TaskView) -> Context:
    structure, control = view.structure_choice()
    return {
        "controls": [control],
        "structure": structure,
        "structure_url": reverse("leaderboard:structure", args=[structure.id]),
        "figures": [
            {
                "id": "ev-curves",
                "title": f"E(V) of {structure.label} ({structure.formula}), models overlaid",
                "figure": ev_figure(view.outputs_for(structure.id), styles=view.styles),
            }
        ],
    }


def structure_figures(
    task: Task,
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    styles: Mapping[str, Style],
    structure: Structure,
) -> list[Context]:
    return [
        {
            "id": f"curves-{task.slug}",
            "title": f"{task.name}: every model's curve",
            "figure": ev_figure(rows, styles=styles),
        }
    ]


def ev_figure(
    rows: Sequence[tuple[str, Mapping[str, Any]]], *, styles: Mapping[str, Style]
) -> Figure:
    """(E − E_input) per atom against V / V_input, the input cell being the middle point."""
    curves = []
    for model, result in rows:
        volumes, energies = sorted_curve(result["output"])
        if not volumes:
            continue
        middle = len(volumes) // 2
        natoms = max(int(result["output"].get("natoms") or 1), 1)
        curves.append(
            Curve(
                model,
                [rounded(v / volumes[middle]) for v in volumes],
                [rounded((e - energies[middle]) / natoms) for e in energies],
            )
        )
    return curves_figure(
        curves, styles=styles, x_title="V / V input", y_title="E − E input (eV/atom)"
    )
