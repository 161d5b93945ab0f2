"""What a board draws from: a task's evidence and scores, and the visitor's choices."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from ase.formula import Formula
from django.http import QueryDict

from compute.tasks.spec import TaskSpec
from leaderboard_app import selectors
from leaderboard_app.charts import Style
from leaderboard_app.ranking import TaskScore
from tasks_app.evidence import StructureInfo, TaskEvidence
from tasks_app.models import Task

Context = dict[str, Any]
T = TypeVar("T")
Rows = Sequence[tuple[str, Mapping[str, Any]]]  # (model name, result: output and headline)


class StructureFigure(NamedTuple):
    """A figure of one structure a board module draws itself: ``draw(rows, styles,
    reference)`` gives the figure of every model's result and the structure's reference."""

    name: str
    title: str
    draw: Callable[[Rows, Mapping[str, Style], Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class TaskView:
    """What a board needs to draw a task page: evidence, scores and the visitor's choices."""

    task: Task
    spec: TaskSpec
    evidence: TaskEvidence
    scores: Sequence[TaskScore]
    names: Mapping[int, str]  # model id -> name, the models shown
    styles: Mapping[str, Style]
    query: QueryDict

    def rows_by_model(self) -> dict[str, dict[int, Any]]:
        """Current result rows by model name, then structure id, for the models shown."""
        return {
            self.names[model_id]: rows
            for model_id, rows in self.evidence.results.items()
            if model_id in self.names
        }

    def models_with_results(self) -> list[str]:
        """The models shown that have a result, in the order of the scores (best first)."""
        return [s.model for s in self.scores if s.done]

    def structure_choice(self) -> tuple[StructureInfo, dict[str, Any]]:
        """The structure asked for, else the one most models have; and its control."""
        counts: dict[int, int] = {}
        for rows in self.rows_by_model().values():
            for structure_id in rows:
                counts[structure_id] = counts.get(structure_id, 0) + 1
        options = [s for s in self.evidence.structures if s.id in counts]
        most = max(options, key=lambda s: counts[s.id])
        chosen = choose(options, self.query.get("structure"), key=lambda s: str(s.id), default=most)
        control = {
            "name": "structure",
            "label": "Structure",
            "options": [(str(s.id), f"{s.label} ({s.formula})") for s in options],
            "selected": str(chosen.id),
        }
        return chosen, control

    def outputs_for(self, structure_id: int) -> list[tuple[str, dict[str, Any]]]:
        """(model name, result with output and headline) for one structure, by model name."""
        ids = {
            rows[structure_id].result_id: name
            for name, rows in self.rows_by_model().items()
            if structure_id in rows
        }
        found = selectors.result_outputs(result_ids=list(ids))
        return sorted(((ids[r["id"]], r) for r in found), key=lambda item: item[0].lower())


def choose(options: Sequence[T], wanted: str | None, *, key: Callable[[T], str], default: T) -> T:
    """The option whose key is ``wanted``, else ``default``."""
    return next((o for o in options if key(o) == wanted), default)


def element_of(formula: str) -> str | None:
    """The element of a one-element formula ('Cu4' → 'Cu'), else None."""
    try:
        elements = list(Formula(formula).count())
    except ValueError:
        return None
    return elements[0] if len(elements) == 1 else None
