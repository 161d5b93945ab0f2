"""The board kit: the common shapes of a task's figures, pure functions from plain numbers
to Plotly figure dicts, for a board to call in a few lines.

- ``overlaid_curves``: one curve per model for one structure (or several: band
  branches), with a reference ``Mark`` (an experimental r_e, a DFT barrier) drawn
  across it; ``curve_branches`` reads a curve from an output as a ``figures.Curves``
  declaration says; ``reference_trace`` draws a DFT curve among the models'.
- ``parity``: model against reference, one panel per quantity, coloured by model or by
  a category of the structure (crystal system).
- ``element_table``: a periodic table of a value per element (``element_means`` averages
  per-structure values over the structures holding each element).
- ``distribution``: each model's histogram of a value on shared bins.
- ``survival``: the share of each model's runs still valid against normalised time.

``boards/declared.py`` draws the figures a task's spec declares with these.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ase.formula import Formula

from compute.tasks.figures import FIRST, MIDDLE, Axis, Curves
from compute.tasks.spec import with_unit
from leaderboard_app.charts import (
    MARKERS,
    PALETTE,
    Figure,
    Style,
    layout_for,
    line_trace,
    periodic_table_figure,
    rounded,
)

GRID = [i / 100 for i in range(101)]  # normalised time of the survival curve
MARK_LINE = {"color": "#444", "dash": "dot", "width": 1}
REFERENCE_STYLE = Style("#222", MARKERS[0])  # darker than every colour of the palette


@dataclass(frozen=True)
class Curve:
    """One model's points, ready to draw."""

    model: str
    x: Sequence[float]
    y: Sequence[float | None]


class Mark(NamedTuple):
    """A reference value drawn across a plot: a vertical line at x, or horizontal at y."""

    value: float
    label: str
    axis: str = "x"


@dataclass(frozen=True)
class ParityPoint:
    model: str
    structure: str
    reference: float
    value: float | None
    category: str = ""  # colours the point when the figure is coloured by category


@dataclass(frozen=True)
class ParityPanel:
    """One quantity's model-against-reference panel, e.g. B₀ in GPa against WIEN2k."""

    label: str
    unit: str
    points: Sequence[ParityPoint]
    reference_name: str = "reference"


def curve_points(output: Mapping[str, Any], figure: Curves) -> tuple[list[float], list[float]]:
    """The (x, y) of one output as ``figure`` declares them, in x order; [] without points."""
    xs, branches = curve_branches(output, figure)
    return (xs, branches[0]) if branches else ([], [])


def curve_branches(
    output: Mapping[str, Any], figure: Curves
) -> tuple[list[float], list[list[float]]]:
    """The x of one output and its y branches: one where each y is a number, one per
    entry where each y is a list (phonon bands: the frequencies at each wave vector).
    In x order (ties keep theirs, as at a band path's joints); points that are not
    numbers are left out."""
    if figure.records:
        records = [r for r in output.get(figure.records) or [] if isinstance(r, Mapping)]
        pairs = [(r.get(figure.x.key), r.get(figure.y.key)) for r in records]
    else:
        xs, ys = output.get(figure.x.key) or [], output.get(figure.y.key) or []
        pairs = list(zip(xs, ys, strict=False))
    points = [(x, list(y) if isinstance(y, list | tuple) else [y]) for x, y in pairs if finite(x)]
    points = [(x, ys) for x, ys in points if ys and all(finite(v) for v in ys)]
    if not points:
        return [], []
    width = len(points[0][1])
    points = sorted((p for p in points if len(p[1]) == width), key=lambda p: p[0])
    natoms = max(int(output.get("natoms") or 1), 1)
    branches = [_along(figure.y, [ys[b] for _, ys in points], natoms) for b in range(width)]
    return _along(figure.x, [x for x, _ in points], natoms), branches


def _along(axis: Axis, values: list[float], natoms: int) -> list[float]:
    """``values`` relative to a point, per atom and scaled, as ``axis`` asks."""
    at = {FIRST: 0, MIDDLE: len(values) // 2}
    if axis.ratio_to and values[at.get(axis.ratio_to, -1)]:
        base = values[at.get(axis.ratio_to, -1)]
        values = [v / base for v in values]
    if axis.minus:
        base = values[at.get(axis.minus, -1)]
        values = [v - base for v in values]
    scale = axis.factor / (natoms if axis.per_atom else 1)
    return [rounded(v * scale) for v in values]


def overlaid_curves(
    curves: Sequence[Curve],
    *,
    styles: Mapping[str, Style],
    x_title: str,
    y_title: str,
    log_x: bool = False,
    log_y: bool = False,
    mark: Mark | None = None,
) -> Figure:
    """Each model's curve on shared axes, and ``mark`` drawn across them."""
    layout = layout_for(height=420)
    layout.update(
        xaxis={"title": {"text": x_title}, "zeroline": False, **({"type": "log"} if log_x else {})},
        yaxis={"title": {"text": y_title}, "zeroline": False, **({"type": "log"} if log_y else {})},
    )
    if mark is not None:
        layout.update(mark_layout(mark))
    branched = {c.model for c in curves if sum(1 for d in curves if d.model == c.model) > 1}
    traces, seen = [], set()
    for c in curves:  # a model's branches share its legend entry and draw as lines
        trace = line_trace(c.model, c.x, c.y, styles.get(c.model)) | {"legendgroup": c.model}
        if c.model in seen:
            trace["showlegend"] = False
        if c.model in branched:
            trace["mode"] = "lines"
        traces.append(trace)
        seen.add(c.model)
    return {"data": traces, "layout": layout}


def reference_trace(
    name: str, x: Sequence[float], y: Sequence[float], *, dash: str = "solid", yaxis: str = "y"
) -> dict[str, Any]:
    """A reference curve (DFT) among the models': thin, near black, one legend group."""
    trace = line_trace(name, [rounded(v) for v in x], [rounded(v) for v in y], REFERENCE_STYLE)
    trace["line"] |= {"width": 1.5, "dash": dash}
    trace["marker"]["size"] = 4
    return trace | {"legendgroup": name, "yaxis": yaxis}


def mark_layout(mark: Mark) -> dict[str, list[dict[str, Any]]]:
    """The line and label of a reference value, as layout ``shapes`` and ``annotations``."""
    across = "y" if mark.axis == "x" else "x"
    line = {
        "type": "line", "xref": "x" if mark.axis == "x" else "paper",
        "yref": "y" if mark.axis == "y" else "paper", f"{mark.axis}0": mark.value,
        f"{mark.axis}1": mark.value, f"{across}0": 0, f"{across}1": 1, "line": MARK_LINE,
    }  # fmt: skip
    label = {
        "xref": line["xref"], "yref": line["yref"], mark.axis: mark.value, across: 1,
        "showarrow": False, "text": mark.label, "font": {"size": 11},
        "xanchor": "left" if mark.axis == "x" else "right", "yanchor": "bottom",
    }  # fmt: skip
    return {"shapes": [line], "annotations": [label]}


def parity(
    panels: Sequence[ParityPanel], *, styles: Mapping[str, Style], log: bool = True
) -> Figure:
    """Model against reference, one panel per quantity, with y = x dashed: on log axes
    (positive values only), or on linear ones where ``log`` is False.

    Coloured by model (each model one legend entry, its markers in every panel toggling
    together), or, when the points carry categories, by category (one legend entry per
    category, each model keeping its marker).
    """
    kept = _positive if log else finite
    points = [p for panel in panels for p in panel.points]
    by_category = any(p.category for p in points)
    groups = list(dict.fromkeys(p.category if by_category else p.model for p in points))
    traces: list[dict[str, Any]] = []
    for position, group in enumerate(groups):
        for index, panel in enumerate(panels):
            axis = "" if index == 0 else str(index + 1)
            shown = [
                p
                for p in panel.points
                if (p.category if by_category else p.model) == group
                and kept(p.value)
                and kept(p.reference)
            ]
            traces.append(
                _parity_trace(group, position, shown, axis, panel, styles, by_category)
                | {"showlegend": index == 0}
            )
    layout = layout_for(height=440)
    gap = 0.12
    width = (1.0 - gap * (len(panels) - 1)) / max(len(panels), 1)
    for index, panel in enumerate(panels):
        axis = "" if index == 0 else str(index + 1)
        values = [v for p in panel.points for v in (p.reference, p.value) if kept(v)]
        scale: dict[str, Any] = {}
        if values and log:
            traces.append(_diagonal(min(values) / 1.2, max(values) * 1.2, axis))
            ticks = _log_ticks(min(values), max(values))
            scale = {"type": "log", "tickvals": ticks, "ticktext": [f"{t:g}" for t in ticks]}
        elif values:
            pad = 0.05 * (max(values) - min(values) or 1.0)
            traces.append(_diagonal(min(values) - pad, max(values) + pad, axis))
        label = with_unit(panel.label, panel.unit)
        start = index * (width + gap)
        layout[f"xaxis{axis}"] = {
            **scale,
            "domain": [round(start, 6), round(start + width, 6)],
            "title": {"text": f"{panel.reference_name} {label}"},
        }
        layout[f"yaxis{axis}"] = {**scale, "title": {"text": f"model {label}"}}
        if axis:
            layout[f"yaxis{axis}"]["anchor"] = f"x{axis}"
    return {"data": traces, "layout": layout}


def _parity_trace(
    group: str,
    position: int,
    shown: Sequence[ParityPoint],
    axis: str,
    panel: ParityPanel,
    styles: Mapping[str, Style],
    by_category: bool,
) -> dict[str, Any]:
    style = None if by_category else styles.get(group)
    color = PALETTE[position % len(PALETTE)] if by_category else style.color if style else None
    symbols = [
        (styles[p.model].marker if p.model in styles else MARKERS[0]) for p in shown
    ] if by_category else (style.marker if style else MARKERS[0])  # fmt: skip
    names = [f"{p.model} · {p.structure}" for p in shown] if by_category else None
    return {
        "type": "scatter",
        "mode": "markers",
        "name": group,
        "legendgroup": group,
        "x": [rounded(p.reference) for p in shown],
        "y": [rounded(p.value) for p in shown],
        "text": names or [p.structure for p in shown],
        "xaxis": f"x{axis}",
        "yaxis": f"y{axis}",
        "marker": {"color": color, "size": 8, "opacity": 0.8, "symbol": symbols},
        "hovertemplate": (
            f"{'' if by_category else group + ' · '}%{{text}}<br>reference %{{x:.3g}} "
            f"{panel.unit}<br>model %{{y:.3g}} {panel.unit}"
            f"<extra>{group if by_category else ''}</extra>"
        ),
    }


def _diagonal(low: float, high: float, axis: str) -> dict[str, Any]:
    return {
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


def element_means(values: Iterable[tuple[str, float]]) -> dict[str, float]:
    """(formula, value) pairs averaged per element over the formulas holding it."""
    found: dict[str, list[float]] = {}
    for formula, value in values:
        try:
            elements = Formula(formula).count()
        except ValueError:
            continue
        for element in elements:
            found.setdefault(element, []).append(value)
    return {element: statistics.fmean(seen) for element, seen in found.items()}


def element_table(values: Mapping[str, float], *, label: str) -> Figure:
    """A periodic table of ``values``: a log scale when all are positive and span more
    than two decades, a diverging one centred on zero when they have both signs."""
    numbers = [v for v in values.values() if finite(v)]
    positive = [v for v in numbers if v > 0]
    log = bool(numbers) and len(positive) == len(numbers) and max(positive) > 100 * min(positive)
    return periodic_table_figure(values, label=label, log=log)


def distribution(
    values: Mapping[str, Sequence[float]],
    *,
    styles: Mapping[str, Style],
    label: str,
    bins: int = 20,
    log: bool = False,
) -> Figure:
    """Each model's share of structures per bin, as steps on bins shared by all models;
    with ``log``, bins even in log10 (positive values only)."""
    kept = {
        model: [v for v in found if (_positive(v) if log else finite(v))]
        for model, found in values.items()
    }
    kept = {model: found for model, found in kept.items() if found}
    edges = histogram_edges([v for found in kept.values() for v in found], bins, log=log)
    centres = [
        math.sqrt(a * b) if log else (a + b) / 2 for a, b in zip(edges, edges[1:], strict=False)
    ]
    curves = []
    for model, found in kept.items():
        counts = [0] * (len(edges) - 1)
        for v in found:
            counts[_bin(v, edges)] += 1
        curves.append(Curve(model, [rounded(c) for c in centres], [c / len(found) for c in counts]))
    figure = overlaid_curves(
        curves, styles=styles, x_title=label, y_title="share of structures", log_x=log
    )
    for trace in figure["data"]:
        trace["line"]["shape"] = "hvh"
        trace["mode"] = "lines"
    return figure


def histogram_edges(values: Sequence[float], bins: int, *, log: bool = False) -> list[float]:
    """``bins`` + 1 even edges over the values' range (in log10 with ``log``)."""
    if not values:
        return [0.0, 1.0]
    low, high = min(values), max(values)
    if log:
        low, high = math.log10(low), math.log10(high)
    if high == low:
        low, high = low - 0.5, high + 0.5
    edges = [low + (high - low) * i / bins for i in range(bins + 1)]
    return [10.0**e for e in edges] if log else edges


def _bin(value: float, edges: Sequence[float]) -> int:
    """The bin of ``value``: [edge_i, edge_i+1), the last bin closed."""
    for index in range(len(edges) - 2, -1, -1):
        if value >= edges[index]:
            return index
    return 0


def survival_shares(valid_fractions: Sequence[float]) -> list[float]:
    """The share of runs still valid at each normalised time of ``GRID``."""
    runs = len(valid_fractions)
    return [sum(1 for f in valid_fractions if f >= t) / runs for t in GRID]


def survival(
    fractions: Mapping[str, Sequence[float | None]], *, styles: Mapping[str, Style]
) -> Figure:
    """Each model's share of runs still valid against normalised time (its area is the
    model's mean valid fraction); values that are not numbers are left out."""
    kept = {model: [f for f in found if finite(f)] for model, found in fractions.items()}
    curves = [
        Curve(model, GRID, [rounded(s) for s in survival_shares(found)])
        for model, found in kept.items()
        if found
    ]
    return overlaid_curves(
        curves, styles=styles, x_title="normalised time", y_title="share of runs still valid"
    )


def _log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 tick values spanning [low, high] on a log axis."""
    ticks = []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        ticks.extend(m * 10.0**exponent for m in (1, 2, 5))
    return [t for t in ticks if low / 2 <= t <= high * 2]


def finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive(value: Any) -> bool:
    return finite(value) and value > 0
