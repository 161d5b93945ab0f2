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
from plotly.colors import qualitative

from compute.tasks.spec import with_unit

Figure = dict[str, Any]
PALETTE = qualitative.Dark24
FONT = {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12}


@dataclass(frozen=True)
class Curve:
    """One model's points, ready to draw."""

    model: str
    x: Sequence[float]
    y: Sequence[float | None]


@dataclass(frozen=True)
class ParityPoint:
    model: str
    structure: str
    reference: float
    value: float | None


@dataclass(frozen=True)
class ParityPanel:
    """One quantity's model-against-reference panel, e.g. B₀ in GPa against WIEN2k."""

    label: str
    unit: str
    points: Sequence[ParityPoint]
    reference_name: str = "reference"


def model_colors(models: Sequence[str]) -> dict[str, str]:
    """A stable colour per model, in the order given."""
    return {model: PALETTE[i % len(PALETTE)] for i, model in enumerate(models)}


def line_trace(model: str, x: Sequence[float], y: Sequence[float | None], color: str | None):
    """One model's curve: lines and markers, with a hover that names the model."""
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": model,
        "x": x,
        "y": y,
        "line": {"color": color, "width": 2},
        "marker": {"size": 4},
        "hovertemplate": f"{model}<br>x=%{{x:.4g}}<br>y=%{{y:.4g}}<extra></extra>",
    }


def curves_figure(
    curves: Sequence[Curve], *, colors: Mapping[str, str], x_title: str, y_title: str
) -> Figure:
    """Each model's curve overlaid on shared axes."""
    layout = layout_for(height=420)
    layout.update(
        xaxis={"title": {"text": x_title}, "zeroline": False},
        yaxis={"title": {"text": y_title}, "zeroline": False},
    )
    return {
        "data": [line_trace(c.model, c.x, c.y, colors.get(c.model)) for c in curves],
        "layout": layout,
    }


def parity_figure(panels: Sequence[ParityPanel], *, colors: Mapping[str, str]) -> Figure:
    """Model against reference, one panel per quantity, one marker per structure.

    Each model has one legend entry; its markers in every panel toggle together.
    """
    traces: list[dict[str, Any]] = []
    models = list(dict.fromkeys(p.model for panel in panels for p in panel.points))
    for model in models:
        for index, panel in enumerate(panels):
            axis = "" if index == 0 else str(index + 1)
            shown = [
                p
                for p in panel.points
                if p.model == model and _positive(p.value) and _positive(p.reference)
            ]
            traces.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": model,
                    "legendgroup": model,
                    "showlegend": index == 0,
                    "x": [rounded(p.reference) for p in shown],
                    "y": [rounded(p.value) for p in shown],
                    "text": [p.structure for p in shown],
                    "xaxis": f"x{axis}",
                    "yaxis": f"y{axis}",
                    "marker": {"color": colors.get(model), "size": 7, "opacity": 0.8},
                    "hovertemplate": (
                        f"{model} · %{{text}}<br>reference %{{x:.3g}} {panel.unit}"
                        f"<br>model %{{y:.3g}} {panel.unit}<extra></extra>"
                    ),
                }
            )
    layout = layout_for(height=440)
    gap = 0.12
    width = (1.0 - gap * (len(panels) - 1)) / max(len(panels), 1)
    for index, panel in enumerate(panels):
        axis = "" if index == 0 else str(index + 1)
        values = [v for p in panel.points for v in (p.reference, p.value) if _positive(v)]
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
        ticks = _log_ticks(min(values), max(values)) if values else []
        log = {"type": "log", "tickvals": ticks, "ticktext": [f"{t:g}" for t in ticks]}
        label = with_unit(panel.label, panel.unit)
        start = index * (width + gap)
        layout[f"xaxis{axis}"] = {
            **log,
            "domain": [round(start, 6), round(start + width, 6)],
            "title": {"text": f"{panel.reference_name} {label}"},
        }
        layout[f"yaxis{axis}"] = {**log, "title": {"text": f"model {label}"}}
        if axis:
            layout[f"yaxis{axis}"]["anchor"] = f"x{axis}"
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
            shown[row][col] = rounded(value)
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
    layout = layout_for(height=460)
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


def layout_for(*, height: int) -> dict[str, Any]:
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


def rounded(value: float) -> float:
    """Six significant digits: plenty for a chart, and a smaller page."""
    return float(f"{value:.6g}")
