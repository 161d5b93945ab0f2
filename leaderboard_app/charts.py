"""Plotly figure builders: pure functions from plain numbers to figure dicts.

The dicts follow Plotly's figure schema and are embedded in the page for plotly.js;
building them directly, without ``graph_objects``, keeps page rendering fast.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ase.data import atomic_numbers, chemical_symbols
from ase.units import GPa
from plotly.colors import qualitative

Figure = dict[str, Any]
PALETTE = qualitative.Dark24
FONT = {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12}
NORMALISED_AXES = ("V / V₀", "(E − E_min) / (B₀ V₀)")
RAW_AXES = ("V (Å³/atom)", "E (eV/atom)")


@dataclass(frozen=True)
class EOSCurve:
    """One model's E(V) points for a structure: whole-cell Å³ and eV."""

    model: str
    volumes_a3: Sequence[float]
    energies_ev: Sequence[float]
    natoms: int
    b0_gpa: float | None


@dataclass(frozen=True)
class ParityPoint:
    model: str
    structure: str
    v0_ref: float
    v0: float | None
    b0_ref: float
    b0: float | None


def model_colors(models: Sequence[str]) -> dict[str, str]:
    """A stable colour per model, in the order given."""
    return {model: PALETTE[i % len(PALETTE)] for i, model in enumerate(models)}


def eos_figure(
    curves: Sequence[EOSCurve],
    *,
    colors: Mapping[str, str],
    reference_b0_prime: float | None = None,
) -> Figure:
    """E(V) of each model, in MLIP Arena's normalisation, with raw energies on a toggle.

    Normalised: V0 and E_min are the middle point of the scan (the relaxed cell) and
    B0 the model's fitted bulk modulus, so y = (E − E_min) / (B0·V0) is dimensionless.
    With ``reference_b0_prime`` the reference Birch–Murnaghan shape is drawn too.
    """
    traces, normalised, raw = [], [], []
    for curve in curves:
        norm_xy, raw_xy = _normalise(curve), _per_atom(curve)
        normalised.append(norm_xy)
        raw.append(raw_xy)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": curve.model,
                "x": norm_xy[0],
                "y": norm_xy[1],
                "line": {"color": colors.get(curve.model), "width": 2},
                "marker": {"size": 4},
                "hovertemplate": f"{curve.model}<br>x=%{{x:.3f}}<br>y=%{{y:.4g}}<extra></extra>",
            }
        )
    if reference_b0_prime is not None:
        ref_xy = _reference_shape(reference_b0_prime)
        normalised.append(ref_xy)
        raw.append(([], []))
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "WIEN2k (BM shape)",
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
    layout = _layout(height=420)
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


def parity_figure(points: Sequence[ParityPoint], *, colors: Mapping[str, str]) -> Figure:
    """Each model's V0 and B0 against the reference, one marker per structure."""
    traces: list[dict[str, Any]] = []
    by_model: dict[str, list[ParityPoint]] = {}
    for point in points:
        by_model.setdefault(point.model, []).append(point)
    for model, rows in by_model.items():
        for axis, ref_key, key, unit in (
            ("", "v0_ref", "v0", "Å³/atom"),
            ("2", "b0_ref", "b0", "GPa"),
        ):
            shown = [
                r for r in rows if _positive(getattr(r, key)) and _positive(getattr(r, ref_key))
            ]
            traces.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": model,
                    "legendgroup": model,
                    "showlegend": axis == "",
                    "x": [_round(getattr(r, ref_key)) for r in shown],
                    "y": [_round(getattr(r, key)) for r in shown],
                    "text": [r.structure for r in shown],
                    "xaxis": f"x{axis}",
                    "yaxis": f"y{axis}",
                    "marker": {"color": colors.get(model), "size": 7, "opacity": 0.8},
                    "hovertemplate": (
                        f"{model} · %{{text}}<br>reference %{{x:.3g}} {unit}"
                        f"<br>model %{{y:.3g}} {unit}<extra></extra>"
                    ),
                }
            )
    for axis, ref_key, key in (("", "v0_ref", "v0"), ("2", "b0_ref", "b0")):
        values = [v for p in points for v in (getattr(p, ref_key), getattr(p, key)) if _positive(v)]
        if values:
            low, high = min(values) / 1.2, max(values) * 1.2
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": "y = x",
                    "showlegend": False,
                    "x": [low, high],
                    "y": [low, high],
                    "xaxis": f"x{axis}",
                    "yaxis": f"y{axis}",
                    "line": {"color": "#999", "dash": "dash", "width": 1},
                    "hoverinfo": "skip",
                }
            )
    layout = _layout(height=440)
    axes = {}
    for axis, ref_key, key, label in (
        ("", "v0_ref", "v0", "V₀ (Å³/atom)"),
        ("2", "b0_ref", "b0", "B₀ (GPa)"),
    ):
        values = [v for p in points for v in (getattr(p, ref_key), getattr(p, key)) if _positive(v)]
        ticks = _log_ticks(min(values), max(values)) if values else []
        log = {"type": "log", "tickvals": ticks, "ticktext": [f"{t:g}" for t in ticks]}
        axes[f"xaxis{axis}"] = {**log, "title": {"text": f"WIEN2k {label}"}}
        axes[f"yaxis{axis}"] = {**log, "title": {"text": f"model {label}"}}
    axes["xaxis"]["domain"], axes["xaxis2"]["domain"] = [0, 0.44], [0.56, 1]
    axes["yaxis2"]["anchor"] = "x2"
    layout.update(axes)
    return {"data": traces, "layout": layout}


def periodic_table_figure(values: Mapping[str, float], *, label: str) -> Figure:
    """Heatmap of a positive value per element on a periodic table, log colour scale."""
    shape = (10, 18)
    base_z, base_text = _grid(shape, None), _grid(shape, "")
    z, text, shown = _grid(shape, None), _grid(shape, ""), _grid(shape, None)
    for symbol in chemical_symbols[1:104]:
        row, col = element_position(atomic_numbers[symbol])
        base_z[row][col] = 1
        value = values.get(symbol)
        if _positive(value):
            z[row][col] = math.log10(value)
            shown[row][col] = _round(value)
            text[row][col] = symbol
        else:
            base_text[row][col] = symbol
    logs = [v for row in z for v in row if v is not None]
    low, high = (math.floor(min(logs)), math.ceil(max(logs))) if logs else (0, 1)
    ticks = list(range(low, max(high, low + 1) + 1))
    traces = [
        {
            "type": "heatmap",
            "z": base_z,
            "text": base_text,
            "texttemplate": "%{text}",
            "textfont": {"color": "#888"},
            "colorscale": [[0, "#f0f0f0"], [1, "#f0f0f0"]],
            "showscale": False,
            "hoverinfo": "skip",
            "xgap": 2,
            "ygap": 2,
        },
        {
            "type": "heatmap",
            "z": z,
            "text": text,
            "customdata": shown,
            "texttemplate": "%{text}",
            "colorscale": "YlOrRd",
            "reversescale": True,
            "zmin": low,
            "zmax": max(high, low + 1),
            "colorbar": {
                "title": {"text": label},
                "tickvals": ticks,
                "ticktext": [f"{10.0**t:g}" for t in ticks],
            },
            "hovertemplate": f"%{{text}}: %{{customdata:.3g}} {label}<extra></extra>",
            "xgap": 2,
            "ygap": 2,
        },
    ]
    layout = _layout(height=460)
    layout.update(
        xaxis={"visible": False},
        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"},
        plot_bgcolor="white",
    )
    return {"data": traces, "layout": layout}


def element_position(number: int) -> tuple[int, int]:
    """(row, column) of an element on an 18-column table; rows 8 and 9 hold La–Lu, Ac–Lr."""
    if 57 <= number <= 71:
        return 8, number - 57 + 2
    if 89 <= number <= 103:
        return 9, number - 89 + 2
    if number <= 2:
        return 0, 0 if number == 1 else 17
    for row, (start, end) in enumerate(((3, 10), (11, 18)), start=1):
        if start <= number <= end:
            offset = number - start
            return row, offset if offset < 2 else offset + 10
    for row, start in ((3, 19), (4, 37)):
        if start <= number < start + 18:
            return row, number - start
    for row, start, after_f in ((5, 55, 72), (6, 87, 104)):
        if number < after_f:
            return row, number - start
        if number < start + 32:
            return row, number - after_f + 3
    raise ValueError(f"no periodic-table position for Z={number}")


def _log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 tick values spanning [low, high] on a log axis."""
    ticks = []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        ticks.extend(m * 10.0**exponent for m in (1, 2, 5))
    return [t for t in ticks if low / 2 <= t <= high * 2]


def _normalise(curve: EOSCurve) -> tuple[list, list]:
    volumes, energies = _sorted_curve(curve)
    if not volumes:
        return [], []
    middle = len(volumes) // 2
    v0, e_min = volumes[middle], energies[middle]
    scale = (curve.b0_gpa or 0.0) * GPa * v0
    xs = [_round(v / v0) for v in volumes]
    ys = [_round((e - e_min) / scale) if scale > 0 else None for e in energies]
    return xs, ys


def _per_atom(curve: EOSCurve) -> tuple[list, list]:
    volumes, energies = _sorted_curve(curve)
    n = max(curve.natoms, 1)
    return [_round(v / n) for v in volumes], [_round(e / n) for e in energies]


def _sorted_curve(curve: EOSCurve) -> tuple[list[float], list[float]]:
    pairs = sorted(
        (v, e)
        for v, e in zip(curve.volumes_a3, curve.energies_ev, strict=False)
        if v is not None and e is not None
    )
    return [v for v, _ in pairs], [e for _, e in pairs]


def _reference_shape(b0_prime: float, points: int = 41) -> tuple[list, list]:
    """Birch–Murnaghan (E − E0)/(B0 V0) against V/V0 for 0.8 ≤ V/V0 ≤ 1.2."""
    xs = [0.8 + 0.4 * i / (points - 1) for i in range(points)]
    ys = []
    for x in xs:
        eta = x ** (-2.0 / 3.0) - 1.0
        ys.append(9.0 / 16.0 * (eta**3 * b0_prime + eta**2 * (6.0 - 4.0 * (eta + 1.0))))
    return [_round(x) for x in xs], [_round(y) for y in ys]


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


def _layout(*, height: int) -> dict[str, Any]:
    return {
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "font": FONT,
        "paper_bgcolor": "white",
        "plot_bgcolor": "#fafafa",
        "legend": {"orientation": "v", "font": {"size": 11}},
        "hovermode": "closest",
    }


def _grid(shape: tuple[int, int], fill: Any) -> list[list[Any]]:
    return [[fill] * shape[1] for _ in range(shape[0])]


def _positive(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def _round(value: float) -> float:
    """Six significant digits: plenty for a chart, and a smaller page."""
    return float(f"{value:.6g}")
