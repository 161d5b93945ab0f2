"""Elasticity: each model's stiffness tensor beside the PBE moduli, for one structure, the
one figure of this task the kit lacks (its parity and periodic table are declared in its
spec)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leaderboard_app import selectors
from leaderboard_app.boards import kit
from leaderboard_app.boards.view import Context, Rows, StructureFigure, TaskView
from leaderboard_app.charts import Figure, Style, layout_for, rounded

# The nine constants an orthorhombic or higher symmetry leaves independent, as Voigt
# (row, column), then the headline moduli.
CONSTANTS = (
    ("C11", 0, 0), ("C22", 1, 1), ("C33", 2, 2), ("C12", 0, 1), ("C13", 0, 2),
    ("C23", 1, 2), ("C44", 3, 3), ("C55", 4, 4), ("C66", 5, 5),
)  # fmt: skip
MODULI = (("K_VRH", "k_vrh_gpa"), ("G_VRH", "g_vrh_gpa"))
REFERENCE = "PBE"
EOS_TASK = "eos"  # the consistency check: K_VRH of a cubic crystal against its EOS B₀


def tensor_figure(rows: Rows, styles: Mapping[str, Style], reference: Mapping[str, Any]) -> Figure:
    """Each model's C_ij and K, G (GPa) as markers over named columns; the structure's
    reference K and G as black diamonds. A model's hover gives its Born stability."""
    labels = [name for name, _, _ in CONSTANTS] + [name for name, _ in MODULI]
    traces = []
    for model, result in rows:
        c = result["output"].get("c_ij_gpa")
        if not c:
            continue
        values = [c[i][j] for _, i, j in CONSTANTS]
        values += [result["headline"].get(key) for _, key in MODULI]
        style = styles.get(model)
        stable = "Born-stable" if result["headline"].get("born_stable") else "not Born-stable"
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": model,
                "x": labels,
                "y": [None if v is None else rounded(v) for v in values],
                "marker": {
                    "size": 9,
                    "color": style.color if style else None,
                    "symbol": style.marker if style else "circle",
                },
                "hovertemplate": f"{model} ({stable})<br>%{{x}} = %{{y}} GPa<extra></extra>",
            }
        )
    if all(isinstance(reference.get(key), int | float) for _, key in MODULI):
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": REFERENCE,
                "x": [name for name, _ in MODULI],
                "y": [rounded(reference[key]) for _, key in MODULI],
                "marker": {"size": 12, "color": "#222", "symbol": "diamond-open"},
                "hovertemplate": f"{REFERENCE} %{{x}} = %{{y}} GPa<extra></extra>",
            }
        )
    layout = layout_for(height=420)
    layout.update(
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": labels},
        yaxis={"title": {"text": "GPa"}, "zeroline": True},
    )
    return {"data": traces, "layout": layout}


STRUCTURE_FIGURES = (
    StructureFigure("tensor", f"Stiffness tensor and moduli, {REFERENCE} marked", tensor_figure),
)


def task_figures(view: TaskView) -> Context:
    """The consistency check: each model's K_VRH of a cubic crystal against the B₀ of its
    own EOS result on the same crystal (the same contents in any set), where both exist.
    For a cubic crystal the two are one bulk modulus; they differ by the two fits (the
    EOS over ±20 % of V: about 1 % for EMT copper)."""
    cubic = {
        s.id: s for s in view.evidence.structures if s.reference.get("crystal_system") == "cubic"
    }
    eos = selectors.headlines_by_content(
        task_slug=EOS_TASK,
        model_ids=list(view.names),
        content_hashes=[s.content_hash for s in cubic.values()],
    )
    points = [
        kit.ParityPoint(view.names[model_id], cubic[sid].label, b0, row.headline.get("k_vrh_gpa"))
        for model_id, rows in view.evidence.results.items()
        if model_id in view.names
        for sid, row in rows.items()
        if sid in cubic
        and (b0 := eos.get((model_id, cubic[sid].content_hash), {}).get("b0_gpa")) is not None
    ]
    if not points:
        return {}
    panel = kit.ParityPanel("bulk modulus", "GPa", points, reference_name="EOS B₀ as")
    return {
        "figures": [
            {
                "id": "elasticity-eos",
                "title": "K_VRH against the same model's EOS B₀, cubic crystals",
                "figure": kit.parity([panel], styles=view.styles),
            }
        ]
    }
