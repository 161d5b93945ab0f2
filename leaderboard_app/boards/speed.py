"""Speed board: steps per second against the number of atoms, log–log, per model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.urls import reverse

from leaderboard_app.boards import Context, TaskView
from leaderboard_app.charts import Curve, Figure, Style, curves_figure, rounded
from tasks_app.models import Structure, Task


def speed_figure(
    rows: Sequence[tuple[str, Mapping[str, Any]]], *, styles: Mapping[str, Style]
) -> Figure:
    curves = []
    for model, result in rows:
        sizes = result["output"].get("sizes") or []
        if sizes:
            curves.append(
                Curve(
                    model,
                    [s["natoms"] for s in sizes],
                    [rounded(s["steps_per_second"]) for s in sizes],
                )
            )
    figure = curves_figure(curves, styles=styles, x_title="atoms", y_title="steps/s")
    figure["layout"]["xaxis"]["type"] = "log"
    figure["layout"]["yaxis"]["type"] = "log"
    return figure


def task_section(view: TaskView) -> Context:
    structure, control = view.structure_choice()
    return {
        "controls": [control],
        "structure": structure,
        "structure_url": reverse("leaderboard:structure", args=[structure.id]),
        "figures": [
            {
                "id": "speed-scaling",
                "title": f"Steps per second on {structure.label} repeated, against size",
                "figure": speed_figure(view.outputs_for(structure.id), styles=view.styles),
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
            "id": f"speed-{task.slug}",
            "title": f"{task.name}: steps/s against size",
            "figure": speed_figure(rows, styles=styles),
        }
    ]


def job_facts(output: Mapping[str, Any]) -> list[tuple[str, str]]:
    env = output.get("environment") or {}
    versions = ", ".join(f"{k} {v}" for k, v in (env.get("versions") or {}).items())
    return [
        ("Device", f"{env.get('device')} ({env.get('cuda_device') or env.get('processor')})"),
        ("Torch threads", str(env.get("torch_threads"))),
        ("Packages", versions),
        ("Stopped", str(output.get("stopped"))),
    ]
