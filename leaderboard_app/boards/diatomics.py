"""Homonuclear diatomics figures: one element's E(r) and F(r) for every model with the
PBE and r2SCAN curves, a periodic table of one model's curves or of a metric, and r_e
and ω_e against experiment and r_e against PBE.

Curves are drawn as MLIP Arena draws them: energies relative to the far end of the
scan (the DFT curves' relative to their last point inside the models' scan, where the
DFT errors align them), the energy axis from E_lo = min(1.2 × the deepest minimum, −1 eV), at most
15 eV deep, to 2|E_lo|, and the force axis from F_lo = min(1.2 × the strongest
attraction, −1 eV/Å), at most 50 eV/Å, to |F_lo|.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from compute.tasks.diatomics.dft import PBE, R2SCAN, dft_bond_length_a, dft_curve
from compute.tasks.diatomics.metrics import wavenumber_for_reference
from compute.tasks.failures import per_structure
from leaderboard_app import selectors
from leaderboard_app.boards import Context, TaskView, choose, element_of, kit
from leaderboard_app.boards.declared import metric_per_element
from leaderboard_app.boards.kit import ParityPanel, ParityPoint
from leaderboard_app.boards.view import StructureFigure
from leaderboard_app.charts import (
    Figure,
    Style,
    layout_for,
    line_trace,
    periodic_table_curves_figure,
    rounded,
)

CURVES = "curves"
POINTS_PER_CELL = 60
EXPERIMENT = "experiment"
DFT_OVERLAYS = ((PBE, "solid"), (R2SCAN, "dot"))  # functional, line dash


def task_figures(view: TaskView) -> Context:
    """A periodic table of a chosen model's curves or metric, and parity with experiment."""
    ranked = view.models_with_results()
    model = choose(ranked, view.query.get("model"), key=str, default=ranked[0])
    views = [
        (CURVES, "E(r) curves"),
        *((m.key, m.heading) for m in per_structure(view.spec.metrics)),
    ]
    shown, shown_label = choose(
        views, view.query.get("table"), key=lambda v: v[0], default=views[0]
    )
    if shown == CURVES:
        table = _curves_table(view, view.rows_by_model().get(model, {}), model)
    else:
        values, label = metric_per_element(view, model, view.spec.metric(shown))
        table = kit.element_table(values, label=label)
    return {
        "controls": [
            {
                "name": "model",
                "label": "Periodic table model",
                "options": [(n, n) for n in ranked],
                "selected": model,
            },
            {"name": "table", "label": "Periodic table shows", "options": views, "selected": shown},
        ],
        "figures": [
            {"id": "dimer-table", "title": f"{shown_label}: {model}", "figure": table},
            {
                "id": "bond-parity",
                "title": "r_e and ω_e against experiment, r_e against PBE",
                "figure": kit.parity(_parity_panels(view), styles=view.styles),
            },
        ],
    }


def dimer_figure(
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    styles: Mapping[str, Style],
    reference: Mapping[str, Any] | None = None,
) -> Figure:
    """E(r) − E(r_max) above and F·r̂ below, one legend entry per model for both panels,
    the element's DFT curves over the models' distances, and the structure's
    ``reference`` r_e marked."""
    reference_r_e = (reference or {}).get("r_e_a")
    traces, dft_traces, e_low, f_low = [], [], -1.0, -1.0
    scanned = [(r["output"].get("element"), _curve(r["output"])[0]) for _, r in rows]
    for element, distances in scanned[:1]:
        for functional, dash in DFT_OVERLAYS:
            curve = _dft_curve(element, functional, distances)
            if curve is None:
                continue
            rs, energies, forces = curve
            e_low = min(e_low, max(1.2 * min(energies), -15.0))
            f_low = min(f_low, max(1.2 * min(forces), -50.0))
            name = f"{functional} (DFT)"
            dft_traces += [
                kit.reference_trace(name, rs, energies, dash=dash),
                kit.reference_trace(name, rs, forces, dash=dash, yaxis="y2")
                | {"showlegend": False},
            ]
    for model, result in rows:
        distances, energies, forces = _curve(result["output"])
        if not distances:
            continue
        e_low = min(e_low, max(1.2 * min(energies), -15.0))
        f_low = min(f_low, max(1.2 * min(forces), -50.0))
        energy = line_trace(model, distances, [rounded(e) for e in energies], styles.get(model))
        force = line_trace(model, distances, [rounded(f) for f in forces], styles.get(model))
        energy |= {"legendgroup": model, "mode": "lines"}
        force |= {"legendgroup": model, "mode": "lines", "yaxis": "y2", "showlegend": False}
        force["line"] = {**force["line"], "dash": "dashdot"}
        traces += [energy, force]
    traces += dft_traces  # after the models, so the legend lists the models first
    layout = layout_for(height=560)
    layout.update(
        xaxis={"title": {"text": "r (Å)"}, "anchor": "y2", "zeroline": False},
        yaxis={
            "title": {"text": "E − E(r_max) (eV)"},
            "domain": [0.54, 1],
            "range": [e_low, 2 * abs(e_low)],
        },
        yaxis2={
            "title": {"text": "F·r̂ (eV/Å)"},
            "domain": [0, 0.46],
            "range": [f_low, abs(f_low)],
        },
    )
    if reference_r_e is not None:
        layout.update(kit.mark_layout(kit.Mark(reference_r_e, f"{EXPERIMENT} r_e")))
    return {"data": traces, "layout": layout}


def cell_curve(
    distances: Sequence[float], energies: Sequence[float]
) -> tuple[list[float], list[float]]:
    """One curve in the unit square of a table cell, on the energy window of ``dimer_figure``."""
    low = min(max(1.2 * min(energies), -15.0), -1.0)
    span_r = distances[-1] - distances[0]
    stride = max(len(distances) // POINTS_PER_CELL, 1)
    picked = list(range(0, len(distances), stride))
    xs = [(distances[i] - distances[0]) / span_r for i in picked]
    ys = [min(max((energies[i] - low) / (-3 * low), 0.0), 1.0) for i in picked]
    return xs, ys


def _curve(output: Mapping[str, Any]) -> tuple[list[float], list[float], list[float]]:
    """Distances (Å), E − E(r_max) (eV) and F·r̂ (eV/Å), by increasing distance."""
    points = sorted(
        zip(
            output.get("distances_a") or [],
            output.get("energies_ev") or [],
            output.get("forces_ev_per_a") or [],
            strict=False,
        )
    )
    if not points:
        return [], [], []
    far = points[-1][1]
    return [r for r, *_ in points], [e - far for _, e, _ in points], [f for *_, f in points]


def _dft_curve(
    element: str | None, functional: str, distances: Sequence[float]
) -> tuple[list[float], list[float], list[float]] | None:
    """The DFT curve's points within ``distances``' range, energies relative to the last."""
    curve = dft_curve(element, functional) if element and distances else None
    if curve is None:
        return None
    low, high = distances[0] - 1e-9, distances[-1] + 1e-9
    points = [
        (r, e, f)
        for r, e, f in zip(
            curve["distances_a"], curve["energies_ev"], curve["forces_ev_per_a"], strict=True
        )
        if low <= r <= high
    ]
    if not points:
        return None
    far = points[-1][1]
    return [r for r, *_ in points], [e - far for _, e, _ in points], [f for *_, f in points]


def _curves_table(view: TaskView, rows: Mapping[int, Any], model: str) -> Figure:
    outputs = selectors.result_outputs(result_ids=[row.result_id for row in rows.values()])
    curves = {}
    for result in outputs:
        distances, energies, _ = _curve(result["output"])
        element = result["output"].get("element")
        if distances and element:
            curves[element] = cell_curve(distances, energies)
    style = view.styles.get(model)
    return periodic_table_curves_figure(
        curves, name=model, color=style.color if style else None, guide_y=1 / 3
    )


def _parity_panels(view: TaskView) -> list[ParityPanel]:
    bond_lengths, wavenumbers, pbe_bond_lengths = [], [], []
    for model, rows in sorted(view.rows_by_model().items(), key=lambda item: item[0].lower()):
        for structure_id, row in rows.items():
            info = view.evidence.structure(structure_id)
            reference = info.reference if info else {}
            if "r_e_a" in reference:
                bond_lengths.append(
                    ParityPoint(model, info.label, reference["r_e_a"], row.headline.get("r_e_a"))
                )
            k_e = row.headline.get("k_e_ev_per_a2")
            element = element_of(info.formula) if info else None
            r_e_pbe = dft_bond_length_a(element) if element else None
            if r_e_pbe is not None:
                pbe_bond_lengths.append(
                    ParityPoint(model, info.label, r_e_pbe, row.headline.get("r_e_a"))
                )
            if "omega_e_cm1" in reference and element and k_e is not None and k_e > 0:
                omega = wavenumber_for_reference(k_e, element, reference)
                wavenumbers.append(ParityPoint(model, info.label, reference["omega_e_cm1"], omega))
    return [
        ParityPanel("r_e", "Å", bond_lengths, reference_name=EXPERIMENT),
        ParityPanel("ω_e", "cm⁻¹", wavenumbers, reference_name=EXPERIMENT),
        ParityPanel("r_e", "Å", pbe_bond_lengths, reference_name=PBE),
    ]


STRUCTURE_FIGURES = (StructureFigure("curves", "E(r) and F(r), models overlaid", dimer_figure),)
