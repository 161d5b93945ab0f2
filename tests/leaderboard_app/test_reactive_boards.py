"""Combustion's and compression's boards come from their specs through the kit: water
yield and temperature against time per model, pressure against time and the survival
curve for compression; each against the series it draws, by hand."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from compute.tasks import TASKS
from compute.tasks.figures import Survival
from leaderboard_app.boards import board_for
from leaderboard_app.boards.declared import curve_panels
from leaderboard_app.charts import model_styles

STYLES = model_styles([(1, "A"), (2, "B")])


def series(*points: tuple[float, float, float, float]) -> dict:
    keys = ("time_ps", "water_yield", "temperature_k", "pressure_gpa")
    return {"series": [dict(zip(keys, point, strict=True)) for point in points]}


def test_combustion_draws_water_yield_and_temperature_per_model():
    rows = [
        ("A", {"output": series((0.0, 0.0, 300, None), (0.5, 0.25, 3000, None))}),
        ("B", {"output": series((0.0, 0.0, 310, None), (0.5, 0.5, 2900, None))}),
    ]
    panels = {p["name"]: p for p in curve_panels(TASKS["combustion"], rows, STYLES, {})}
    assert list(panels) == ["water", "temperature"]
    for panel in panels.values():
        go.Figure(panel["figure"])  # plotly's own validators accept it
    water = panels["water"]["figure"]["data"]
    assert [(t["name"], t["x"], t["y"]) for t in water] == [
        ("A", [0.0, 0.5], [0.0, 0.25]),
        ("B", [0.0, 0.5], [0.0, 0.5]),
    ]
    assert panels["temperature"]["figure"]["data"][1]["y"] == pytest.approx([310, 2900])
    assert board_for("combustion") is None  # no board module: the spec declares it all


def test_compression_draws_pressure_against_time_and_its_survival_curve():
    rows = [("A", {"output": series((0.0, None, 300, -1.5), (10.0, None, 3000, 480.0))})]
    panels = {p["name"]: p for p in curve_panels(TASKS["compression"], rows, STYLES, {})}
    assert list(panels) == ["temperature", "pressure"]
    (trace,) = panels["pressure"]["figure"]["data"]
    assert (trace["x"], trace["y"]) == ([0.0, 10.0], [-1.5, 480.0])
    assert Survival("valid_fraction") in TASKS["compression"].figures
    assert board_for("compression") is None
