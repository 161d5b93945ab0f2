"""EOS curves: E(V) in MLIP Arena's normalisation with a raw-energy toggle, the one figure
of this task the kit lacks (its parity and periodic table are declared in its spec)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ase.units import GPa

from leaderboard_app.boards.view import StructureFigure
from leaderboard_app.charts import (
    Figure,
    Style,
    layout_for,
    line_trace,
    rounded,
)

NORMALISED_AXES = ("V / V₀", "(E − E_min) / (B₀ V₀)")
RAW_AXES = ("V (Å³/atom)", "E (eV/atom)")
REFERENCE = "WIEN2k"


def eos_figure(
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    styles: Mapping[str, Style],
    reference: Mapping[str, Any] | None = None,
) -> Figure:
    """E(V) of each (model, result), in MLIP Arena's normalisation, raw energies on a toggle.

    Normalised: V₀ and E_min are the middle point of the scan (the relaxed cell) and
    B₀ the model's fitted bulk modulus, so y = (E − E_min) / (B₀·V₀) is dimensionless.
    With the structure's ``reference`` B₀' the reference Birch–Murnaghan shape is drawn too.
    """
    reference_b0_prime = (reference or {}).get("b0_prime")
    traces, normalised, raw = [], [], []
    for model, result in rows:
        volumes, energies = sorted_curve(result["output"])
        natoms = max(int(result["output"].get("natoms") or 1), 1)
        norm_xy = _normalise(volumes, energies, result["headline"].get("b0_gpa"))
        normalised.append(norm_xy)
        raw.append(
            ([rounded(v / natoms) for v in volumes], [rounded(e / natoms) for e in energies])
        )
        traces.append(line_trace(model, *norm_xy, styles.get(model)))
    if reference_b0_prime is not None:
        ref_xy = _reference_shape(reference_b0_prime)
        normalised.append(ref_xy)
        raw.append(([], []))
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"{REFERENCE} (BM shape)",
                "x": ref_xy[0],
                "y": ref_xy[1],
                "line": {"color": "#444", "dash": "dash", "width": 1.5},
                "hoverinfo": "skip",
            }
        )
    marker_line = {
        "type": "line", "xref": "x", "yref": "paper", "x0": 1, "x1": 1, "y0": 0, "y1": 1,
        "line": {"color": "#999", "dash": "dot", "width": 1},
    }  # fmt: skip
    layout = layout_for(height=420)
    layout.update(
        xaxis={"title": {"text": NORMALISED_AXES[0]}, "zeroline": False},
        yaxis={"title": {"text": NORMALISED_AXES[1]}, "zeroline": False},
        shapes=[marker_line],
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "x": 0,
                "y": 1.14,
                "xanchor": "left",
                "yanchor": "bottom",
                "showactive": True,
                "buttons": [
                    _axis_button("Normalised", normalised, NORMALISED_AXES, [marker_line]),
                    _axis_button("Raw energies", raw, RAW_AXES, []),
                ],
            }
        ],
    )
    return {"data": traces, "layout": layout}


def sorted_curve(output: Mapping[str, Any]) -> tuple[list[float], list[float]]:
    """The scan's (volume, energy) points in volume order, whole-cell Å³ and eV."""
    pairs = sorted(
        (v, e)
        for v, e in zip(
            output.get("volumes_a3") or [], output.get("energies_ev") or [], strict=False
        )
        if v is not None and e is not None
    )
    return [v for v, _ in pairs], [e for _, e in pairs]


def _normalise(
    volumes: list[float], energies: list[float], b0_gpa: float | None
) -> tuple[list, list]:
    if not volumes:
        return [], []
    middle = len(volumes) // 2
    v0, e_min = volumes[middle], energies[middle]
    scale = (b0_gpa or 0.0) * GPa * v0
    xs = [rounded(v / v0) for v in volumes]
    ys = [rounded((e - e_min) / scale) if scale > 0 else None for e in energies]
    return xs, ys


def _reference_shape(b0_prime: float, points: int = 41) -> tuple[list, list]:
    """Birch–Murnaghan (E − E0)/(B0 V0) against V/V0 for 0.8 ≤ V/V0 ≤ 1.2."""
    xs = [0.8 + 0.4 * i / (points - 1) for i in range(points)]
    ys = []
    for x in xs:
        eta = x ** (-2.0 / 3.0) - 1.0
        ys.append(9.0 / 16.0 * (eta**3 * b0_prime + eta**2 * (6.0 - 4.0 * (eta + 1.0))))
    return [rounded(x) for x in xs], [rounded(y) for y in ys]


def _axis_button(
    label: str, curves: list[tuple[list, list]], axes: tuple[str, str], shapes: list
) -> dict[str, Any]:
    return {
        "label": label,
        "method": "update",
        "args": [
            {"x": [xy[0] for xy in curves], "y": [xy[1] for xy in curves]},
            {"xaxis.title.text": axes[0], "yaxis.title.text": axes[1], "shapes": shapes},
        ],
    }


STRUCTURE_FIGURES = (StructureFigure("curves", "E(V), models overlaid", eos_figure),)
