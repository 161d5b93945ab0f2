"""Charts shared by the dynamics boards: a quantity of the MD summary series against time.

Not a task's board itself (no task function is called ``md_series``); ``nve`` and
``heating`` draw with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from leaderboard_app.charts import Curve, Figure, Style, curves_figure, rounded

LABELS = {
    "etot_ev": "E total − E total at t = 0 (meV/atom)",
    "temperature_k": "T (K)",
    "pressure_gpa": "P (GPa)",
}


def series_curve(model: str, output: Mapping[str, Any], key: str) -> Curve | None:
    """One model's ``key`` against time in ps; total energy relative to its start, per atom."""
    series = output.get("series") or []
    points = [p for p in series if p.get(key) is not None]
    if not points:
        return None
    times = [rounded(p["time_ps"]) for p in points]
    if key == "etot_ev":
        natoms = max(int(output.get("natoms") or 1), 1)
        start = points[0][key]
        return Curve(model, times, [rounded(1000 * (p[key] - start) / natoms) for p in points])
    return Curve(model, times, [rounded(p[key]) for p in points])


def series_figure(
    rows: Sequence[tuple[str, Mapping[str, Any]]], *, key: str, styles: Mapping[str, Style]
) -> Figure:
    """Every model's ``key`` (a series field) against time, overlaid."""
    curves = [series_curve(model, result["output"], key) for model, result in rows]
    return curves_figure(
        [c for c in curves if c is not None],
        styles=styles,
        x_title="t (ps)",
        y_title=LABELS.get(key, key),
    )


def series_panels(
    task_slug: str,
    task_name: str,
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    styles: Mapping[str, Style],
    *,
    key: str,
    quantity: str,
) -> list[dict[str, Any]]:
    """A structure page's panel for a dynamics task: every model's ``key`` against time."""
    return [
        {
            "id": f"{quantity.split()[-1]}-{task_slug}",
            "title": f"{task_name}: {quantity} against time",
            "figure": series_figure(rows, key=key, styles=styles),
        }
    ]


def failure_facts(output: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The protocol variant, steps done and the failure rule that ended the run, if any."""
    facts = [("Protocol", str(output.get("variant", "protocol")))]
    facts.append(("Steps done", f"{output.get('steps_done')} of {output.get('steps_total')}"))
    failure = output.get("failure")
    if failure:
        temperature = failure.get("temperature_k")
        at = f" at {temperature:.0f} K" if isinstance(temperature, int | float) else ""
        facts.append(
            ("Failure", f"{failure['rule']} at step {failure['step']}{at}: {failure['message']}")
        )
    return facts
