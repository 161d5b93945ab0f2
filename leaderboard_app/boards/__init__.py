"""A task's figures: the board kit draws those its spec declares (``TaskSpec.figures``,
``compute/tasks/figures.py``); a module ``boards/<function>.py`` adds only figures the
kit lacks.

Such a module may define ``STRUCTURE_FIGURES`` (``view.StructureFigure``s: figures of
one structure, every model overlaid, shown on the task page for the chosen structure
and on the structure and compare pages) and ``task_figures(view) -> dict`` (controls
and task-wide figures). Pages look modules up by the task's function and
never name a task.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from django.urls import reverse

from compute.tasks.spec import TaskSpec
from leaderboard_app.boards import declared, kit
from leaderboard_app.boards.view import Context, TaskView, choose, element_of
from leaderboard_app.charts import Style

__all__ = ["Context", "TaskView", "choose", "element_of", "kit"]


def board_for(function: str) -> ModuleType | None:
    """The task's own board module, for figures the kit lacks; None for most tasks."""
    if not function.isidentifier():
        return None
    name = f"{__name__}.{function}"
    return importlib.import_module(name) if importlib.util.find_spec(name) else None


def structure_panels(
    spec: TaskSpec,
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    styles: Mapping[str, Style],
    reference: Mapping[str, Any],
) -> list[Context]:
    """The task's figures of one structure, every model overlaid: those its spec declares
    and its board module's; each a dict of ``name`` (unique in the task), ``title`` and
    ``figure``. ``rows``: (model name, result with ``output`` and ``headline``)."""
    own = [
        {"name": f.name, "title": f.title, "figure": f.draw(rows, styles, reference)}
        for f in getattr(board_for(spec.name), "STRUCTURE_FIGURES", ())
    ]
    return [*own, *declared.curve_panels(spec, rows, styles, reference)]


def draws_structures(spec: TaskSpec) -> bool:
    """Whether the task has figures of one structure (so its page offers a structure)."""
    return declared.has_curves(spec) or hasattr(board_for(spec.name), "STRUCTURE_FIGURES")


def task_section(view: TaskView) -> Context:
    """Controls and figures of a task page: the chosen structure's figures, then the
    task-wide ones the spec declares, then its board module's."""
    section: Context = {"controls": [], "figures": []}
    if draws_structures(view.spec):
        structure, control = view.structure_choice()
        section |= {
            "controls": [control],
            "structure": structure,
            "structure_url": reverse("leaderboard:structure", args=[structure.id]),
        }
        panels = structure_panels(
            view.spec, view.outputs_for(structure.id), view.styles, structure.reference
        )
        section["figures"] = [
            {
                "id": f"{view.task.slug}-{panel['name']}",
                "title": f"{panel['title']}: {structure.label} ({structure.formula})",
                "figure": panel["figure"],
            }
            for panel in panels
        ]
    for part in (declared.task_figures(view), _board_figures(view)):
        section["controls"] += part.get("controls", [])
        section["figures"] += part.get("figures", [])
    return section


def _board_figures(view: TaskView) -> Context:
    own = getattr(board_for(view.spec.name), "task_figures", None)
    return own(view) if own else {}


def job_facts(output: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) lines a done job's page shows of what its output says of itself,
    whatever the task: its protocol variant, steps done, the failure rule that ended
    it, its device."""
    facts = []
    if "variant" in output:
        facts.append(("Protocol", str(output["variant"])))
    if output.get("steps_total"):
        facts.append(("Steps done", f"{output.get('steps_done')} of {output['steps_total']}"))
    failure = output.get("failure")
    if isinstance(failure, Mapping):
        temperature = failure.get("temperature_k")
        at = f" at {temperature:.0f} K" if kit.finite(temperature) else ""
        facts.append(
            ("Failure", f"{failure['rule']} at step {failure['step']}{at}: {failure['message']}")
        )
    env = output.get("environment")
    if isinstance(env, Mapping):
        versions = ", ".join(f"{k} {v}" for k, v in (env.get("versions") or {}).items())
        device = f"{env.get('device')} ({env.get('cuda_device') or env.get('processor')})"
        facts += [("Device", device), ("Torch threads", str(env.get("torch_threads")))]
        facts.append(("Packages", versions))
    if "stopped" in output:
        facts.append(("Stopped", str(output["stopped"])))
    return facts
