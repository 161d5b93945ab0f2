"""A failed job's page section: what it had computed, drawn as the task draws results
(its partial curve), with the optimiser's last steps and the last structure it reached."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ase.formula import Formula

from compute.failure_evidence import LAST_STRUCTURE, OPTIMIZER_STEPS
from compute.structures import atoms_from_dict
from compute.tasks.spec import TaskSpec
from leaderboard_app import boards
from leaderboard_app.boards import kit
from leaderboard_app.charts import model_styles

Context = dict[str, Any]


def failure_section(
    *, spec: TaskSpec, model: str, evidence: Mapping[str, Any], reference: Mapping[str, Any]
) -> Context:
    """Figures (``id``, ``title``, ``figure``) and facts (label, text) of a failure's evidence."""
    if not evidence:
        return {"figures": [], "facts": []}
    styles = model_styles([(0, model)])
    rows = [(model, {"output": evidence, "headline": {}})]
    figures = [
        {"id": f"failure-{panel['name']}", "title": f"Before it failed: {panel['title']}",
         "figure": panel["figure"]}
        for panel in boards.structure_panels(spec, rows, styles, reference)
        if any(trace.get("x") for trace in panel["figure"]["data"])
    ]  # fmt: skip
    steps = [s for s in evidence.get(OPTIMIZER_STEPS) or [] if isinstance(s, Mapping)]
    for key, label in (("energy_ev", "E (eV)"), ("fmax_ev_per_a", "largest force (eV/Å)")):
        points = [(s["step"], s[key]) for s in steps if kit.finite(s.get(key))]
        if points:
            curve = kit.Curve(model, [p[0] for p in points], [p[1] for p in points])
            figure = kit.overlaid_curves(
                [curve], styles=styles, x_title="optimiser step", y_title=label
            )
            title = f"The optimiser's last {len(points)} steps: {label}"
            figures.append({"id": f"failure-steps-{key}", "title": title, "figure": figure})
    return {"figures": figures, "facts": structure_facts(evidence.get(LAST_STRUCTURE))}


def structure_facts(data: Any) -> list[tuple[str, str]]:
    """The last structure reached, in a few facts: formula, atoms, volume, cell lengths."""
    if not isinstance(data, Mapping) or not data.get("numbers"):
        return []
    atoms = atoms_from_dict(dict(data))
    facts = [
        ("Last structure", f"{Formula.from_list(atoms.get_chemical_symbols()).format('metal')}"
                           f", {len(atoms)} atoms"),
    ]  # fmt: skip
    if atoms.pbc.all():
        lengths = ", ".join(f"{x:.3f}" for x in atoms.cell.lengths())
        facts += [
            ("Its volume", f"{atoms.get_volume():.3f} Å³"),
            ("Its cell lengths", f"{lengths} Å"),
        ]
    return facts
