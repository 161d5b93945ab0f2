"""The diatomics task page and a dimer's structure page, on real EMT curves."""

from __future__ import annotations

import gzip
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from ase.data import covalent_radii
from django.core.management import call_command
from django.urls import reverse
from scipy.interpolate import CubicSpline

from compute.tasks.diatomics.dft import REFERENCE_FILE
from leaderboard_app.boards.diatomics import cell_curve, dimer_figure
from leaderboard_app.charts import element_position, rounded
from models_app.models import MLIP
from tasks_app.models import Result, Structure

pytestmark = pytest.mark.django_db
DIMERS = "Cu2,Au2,H2"


@pytest.fixture
def dimers(seeded, inline_jobs):
    """EMT and a twin (the same curves under a second name) on three dimers."""
    twin = MLIP.objects.get(name="EMT")
    twin.pk, twin.name, twin.slug = None, "EMT twin", "emt-twin"
    twin.save()
    call_command("run_benchmark", "diatomics", models="EMT,EMT twin", structures=DIMERS)


def page_figure(html: str, figure_id: str) -> dict:
    figure = json.loads(html.split(f'id="{figure_id}" type="application/json">')[1].split("</")[0])
    go.Figure(figure)  # plotly's own validators accept it
    return figure


def test_task_page_overlays_every_models_energy_and_force_curves(client, dimers):
    copper = Structure.objects.get(label="Cu2")
    url = reverse("leaderboard:task", args=["diatomics"])
    html = client.get(url, {"structure": copper.pk, "model": "EMT"}).content.decode()
    assert "Physical soundness" in html and "Accuracy against DFT" in html  # both groups rank
    assert "E error vs PBE" in html
    figure = page_figure(html, "diatomics-curves")
    assert [(t["name"], t.get("yaxis", "y")) for t in figure["data"]] == [
        ("EMT", "y"),
        ("EMT", "y2"),
        ("EMT twin", "y"),
        ("EMT twin", "y2"),
        ("PBE (DFT)", "y"),
        ("PBE (DFT)", "y2"),
        ("r2SCAN (DFT)", "y"),
        ("r2SCAN (DFT)", "y2"),
    ]
    output = Result.objects.get(model__name="EMT", structure=copper).output
    energy, force = figure["data"][:2]
    assert energy["x"] == output["distances_a"]
    far = output["energies_ev"][-1]
    assert energy["y"] == [rounded(e - far) for e in output["energies_ev"]]
    assert force["y"] == [rounded(f) for f in output["forces_ev_per_a"]]
    assert figure["layout"]["shapes"][0]["x0"] == 2.2197  # experimental r_e of Cu2
    # the PBE curve over the scan (0.9 r_cov to 3.1 × the vdW radius: Cu's passes 6 Å), zero
    # at its last point there, and its bond force as the vendored file gives it
    with gzip.open(REFERENCE_FILE, "rt") as handle:
        pbe = json.load(handle)["PBE"]["Cu"]
    kept = [i for i, r in enumerate(pbe["distances_a"]) if r >= 0.9 * covalent_radii[29]]
    pbe_energy, pbe_force = figure["data"][4:6]
    assert pbe_energy["x"] == [rounded(pbe["distances_a"][i]) for i in kept]
    far = pbe["energies_ev"][kept[-1]]
    assert pbe_energy["y"] == [rounded(pbe["energies_ev"][i] - far) for i in kept]
    assert pbe_force["y"] == [rounded(pbe["forces_ev_per_a"][i]) for i in kept]
    assert pbe_energy.get("showlegend", True) and not pbe_force["showlegend"]


def test_periodic_table_draws_each_elements_curve_inside_its_cell(client, dimers):
    url = reverse("leaderboard:task", args=["diatomics"])
    figure = page_figure(client.get(url, {"model": "EMT"}).content.decode(), "dimer-table")
    curve = next(t for t in figure["data"] if t.get("name") == "EMT")
    points = [(x, y) for x, y in zip(curve["x"], curve["y"], strict=True) if x is not None]
    cells = {symbol: element_position(z) for symbol, z in (("H", 1), ("Cu", 29), ("Au", 79))}

    def cell_of(x: float, y: float) -> str | None:
        edge = 1e-9  # 5.4 − 5 is 0.4000000000000004 in floats
        inside = (
            s
            for s, (r, c) in cells.items()
            if abs(x - c) <= 0.45 + edge and abs(y - r) <= 0.4 + edge
        )
        return next(inside, None)

    assert {cell_of(x, y) for x, y in points} == {"H", "Cu", "Au"}  # every point in a cell


def test_periodic_table_of_a_metric_shows_its_distance_from_the_ideal(client, dimers):
    url = reverse("leaderboard:task", args=["diatomics"])
    html = client.get(url, {"model": "EMT", "table": "spearman_ascending_force"}).content.decode()
    figure = page_figure(html, "dimer-table")
    values = figure["data"][1]
    for label, z in (("Cu2", 29), ("H2", 1)):
        metric = Result.objects.get(model__name="EMT", structure__label=label).metrics
        row, col = element_position(z)
        assert values["z"][row][col] == pytest.approx(abs(metric["spearman_ascending_force"] - 1))
    assert values["colorbar"]["title"]["text"] == "|ρ F ascending − 1|"


def test_bond_lengths_and_frequencies_are_compared_with_experiment(client, dimers):
    html = client.get(reverse("leaderboard:task", args=["diatomics"])).content.decode()
    figure = page_figure(html, "bond-parity")
    emt = next(t for t in figure["data"] if t["name"] == "EMT" and t["xaxis"] == "x")
    copper = Result.objects.get(model__name="EMT", structure__label="Cu2")
    assert dict(zip(emt["text"], emt["x"], strict=True))["Cu2"] == 2.2197
    assert dict(zip(emt["text"], emt["y"], strict=True))["Cu2"] == rounded(copper.headline["r_e_a"])
    # the third panel: r_e against the minimum of a spline through the PBE points
    with gzip.open(REFERENCE_FILE, "rt") as handle:
        pbe = json.load(handle)["PBE"]["Cu"]
    fine = np.linspace(2.0, 2.5, 500_001)  # 1 µÅ steps around Cu2's well
    r_e_pbe = fine[np.argmin(CubicSpline(pbe["distances_a"], pbe["energies_ev"])(fine))]
    emt_pbe = next(t for t in figure["data"] if t["name"] == "EMT" and t["xaxis"] == "x3")
    assert dict(zip(emt_pbe["text"], emt_pbe["x"], strict=True))["Cu2"] == pytest.approx(
        r_e_pbe, abs=1e-5
    )
    assert figure["layout"]["xaxis3"]["title"]["text"] == "PBE r_e (Å)"


def test_a_dimers_structure_page_shows_both_curves_of_every_model(client, dimers):
    gold = Structure.objects.get(label="Au2")
    html = client.get(reverse("leaderboard:structure", args=[gold.pk])).content.decode()
    figure = page_figure(html, "diatomics-curves")
    assert {(t["name"], t.get("yaxis", "y")) for t in figure["data"]} == {
        (name, axis)
        for name in ("EMT", "EMT twin", "PBE (DFT)", "r2SCAN (DFT)")
        for axis in ("y", "y2")
    }
    assert "Huber &amp; Herzberg" in html and "r_e (Å)" in html


def test_energy_axes_follow_mlip_arenas_window():
    """E from min(1.2 × E_min, −1 eV) (at most 15 eV deep) to twice its depth; the cell
    curves use the same window, so E = E(r_max) sits a third of the way up."""
    output = {
        "distances_a": [1.0, 2.0, 3.0, 4.0],
        "energies_ev": [30.0, -2.0, -1.0, 0.0],
        "forces_ev_per_a": [100.0, 0.0, -80.0, 0.0],
    }
    layout = dimer_figure([("M", {"output": output})], styles={})["layout"]
    assert layout["yaxis"]["range"] == pytest.approx([-2.4, 4.8])
    assert layout["yaxis2"]["range"] == pytest.approx([-50.0, 50.0])  # force axis capped
    xs, ys = cell_curve(output["distances_a"], output["energies_ev"])
    assert xs == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert ys == pytest.approx([1.0, 0.4 / 7.2, 1.4 / 7.2, 1 / 3])
