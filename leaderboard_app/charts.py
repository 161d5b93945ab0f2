"""Plotly figure builders: pure functions from plain numbers to figure dicts.

The dicts follow Plotly's figure schema and are embedded in the page for plotly.js;
building them directly, without ``graph_objects``, keeps page rendering fast.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ase.data import chemical_symbols

Figure = dict[str, Any]
# Okabe and Ito's palette, told apart with the common colour-vision deficiencies (yellow
# left out: too light on white), and markers that tell apart models of the same colour.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
MARKERS = ("circle", "square", "diamond", "triangle-up", "x", "cross", "triangle-down", "star")
EMPTY_CELLS_NOTE = {
    "text": "grey cells: no value for this element",
    "xref": "paper",
    "yref": "paper",
    "x": 0.3,
    "y": 0.98,
    "showarrow": False,
    "font": {"size": 11, "color": "#666"},
}
# ColorBrewer's RdBu ends and a near-white middle: signed values, zero the lightest.
DIVERGING = [[0, "#2166ac"], [0.5, "#f7f7f7"], [1, "#b2182b"]]
FONT = {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12}


@dataclass(frozen=True)
class Style:
    """How a model is drawn on every chart."""

    color: str
    marker: str


def model_styles(models: Iterable[tuple[int, str]]) -> dict[str, Style]:
    """Each model's colour and marker by its place in the registry, oldest first.

    ``models``: (registration id, name) of every registered model, not only those
    shown, so that a model looks the same on every page. The first
    len(PALETTE) × len(MARKERS) models all look different, and a model added later
    changes no other model's style.
    """
    ordered = sorted(models)
    return {
        name: Style(PALETTE[i % len(PALETTE)], MARKERS[i // len(PALETTE) % len(MARKERS)])
        for i, (_, name) in enumerate(ordered)
    }


def line_trace(model: str, x: Sequence[float], y: Sequence[float | None], style: Style | None):
    """One model's curve: lines and markers, with a hover that names the model."""
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": model,
        "x": x,
        "y": y,
        "line": {"color": style.color if style else None, "width": 2},
        "marker": {"size": 6, "symbol": style.marker if style else MARKERS[0]},
        "hovertemplate": f"{model}<br>x=%{{x:.4g}}<br>y=%{{y:.4g}}<extra></extra>",
    }


def periodic_table_figure(
    values: Mapping[str, float], *, label: str, log: bool = True, signed: bool = False
) -> Figure:
    """Heatmap of a value per element on a periodic table, lower values lighter.

    ``log``: a log colour scale over the positive values (others are left blank);
    else a linear one over every finite value, diverging (blue below zero, red above,
    white at zero) for ``signed`` values (differences) or when they have both signs.
    """
    base_z, base_text = _table_grid(None), _table_grid("")
    z, text, shown = _table_grid(None), _table_grid(""), _table_grid(None)
    for number, symbol in enumerate(chemical_symbols[1:], start=1):
        row, col = element_position(number)
        base_z[row][col] = 1
        value = values.get(symbol)
        if _positive(value) if log else _finite(value):
            z[row][col] = math.log10(value) if log else value
            shown[row][col] = rounded(value)
            text[row][col] = symbol
        else:
            base_text[row][col] = symbol
    colorbar: dict[str, Any] = {"title": {"text": label}}
    filled = [v for row in z for v in row if v is not None]
    if log:
        low, high = (math.floor(min(filled)), math.ceil(max(filled))) if filled else (0, 1)
        high = max(high, low + 1)
        ticks = list(range(low, high + 1))
        colorbar |= {"tickvals": ticks, "ticktext": [f"{10.0**t:g}" for t in ticks]}
    else:
        low, high = (min(filled), max(filled)) if filled else (0, 1)
    scale: dict[str, Any] = {"colorscale": "YlOrRd", "reversescale": True}
    if not log and (signed or low < 0 < high):
        bound = max(-low, high, 0) or 1.0
        low, high, scale = -bound, bound, {"colorscale": DIVERGING, "zmid": 0}
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
            **scale,
            "zmin": low,
            "zmax": high,
            "colorbar": colorbar,
            "hovertemplate": f"%{{text}}: %{{customdata:.3g}} {label}<extra></extra>",
            "xgap": 2,
            "ygap": 2,
        },
    ]
    layout = _table_layout()
    layout["annotations"] = [EMPTY_CELLS_NOTE]
    return {"data": traces, "layout": layout}


def periodic_table_curves_figure(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    name: str,
    color: str | None,
    guide_y: float | None = None,
) -> Figure:
    """Each element's curve drawn small inside its cell of a periodic table.

    ``curves`` maps a symbol to (x, y) already scaled to the unit square (y up);
    ``guide_y`` draws a dotted level in every cell with a curve, e.g. E = 0.
    """
    symbols = chemical_symbols[1:]
    base_z = _table_grid(None)
    for number in range(1, len(symbols) + 1):
        row, col = element_position(number)
        base_z[row][col] = 1
    xs: list[float | None] = []
    ys: list[float | None] = []
    guide_x: list[float | None] = []
    guide: list[float | None] = []
    label_x, label_y, labels = [], [], []
    for number, symbol in enumerate(symbols, start=1):
        row, col = element_position(number)
        label_x.append(col + 0.42)
        label_y.append(row - 0.28)
        labels.append(symbol)
        if symbol not in curves:
            continue
        x, y = curves[symbol]
        xs += [rounded(col - 0.45 + 0.9 * v) for v in x] + [None]
        ys += [rounded(row + 0.4 - 0.8 * v) for v in y] + [None]
        if guide_y is not None:
            guide_x += [col - 0.45, col + 0.45, None]
            guide += [rounded(row + 0.4 - 0.8 * guide_y)] * 2 + [None]
    traces = [
        {
            "type": "heatmap",
            "z": base_z,
            "colorscale": [[0, "#f6f7f9"], [1, "#f6f7f9"]],
            "showscale": False,
            "hoverinfo": "skip",
            "xgap": 2,
            "ygap": 2,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": guide_x,
            "y": guide,
            "line": {"color": "#bbb", "width": 0.6, "dash": "dot"},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": name,
            "x": xs,
            "y": ys,
            "line": {"color": color, "width": 1.2},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "mode": "text",
            "x": label_x,
            "y": label_y,
            "text": labels,
            "textposition": "middle left",
            "textfont": {"size": 9, "color": "#555"},
            "hoverinfo": "skip",
            "showlegend": False,
        },
    ]
    return {"data": traces, "layout": _table_layout(height=560)}


def _table_layout(height: int = 460) -> dict[str, Any]:
    layout = layout_for(height=height)
    layout.update(
        xaxis={"visible": False},
        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"},
        plot_bgcolor="white",
    )
    return layout


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


def layout_for(*, height: int) -> dict[str, Any]:
    return {
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "font": FONT,
        "paper_bgcolor": "white",
        "plot_bgcolor": "#fafafa",
        # Below the plot, wrapping: a legend beside it would be cut on a phone.
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.2, "font": {"size": 11}},
        "hovermode": "closest",
    }


def _table_grid(fill: Any) -> list[list[Any]]:
    """Ten rows of 18 columns: seven periods, a gap, then the lanthanides and actinides."""
    return [[fill] * 18 for _ in range(10)]


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _positive(value: float | None) -> bool:
    return _finite(value) and value > 0


def rounded(value: float) -> float:
    """Six significant digits: plenty for a chart, and a smaller page."""
    return float(f"{value:.6g}")
