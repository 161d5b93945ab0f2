"""The formation task's page, drawn from its spec's declarations alone: E_form against
PBE on linear axes (formation energies are negative), error histograms, a periodic
table of the mean error per element, and the RMSD distribution."""

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from leaderboard_app.boards import board_for
from tasks_app.models import Result

pytestmark = pytest.mark.django_db
ALPD3, ALAG2 = "wbm-1-2478", "wbm-1-1679"


def figure_of(html: str, figure_id: str) -> dict:
    return json.loads(html.split(f'id="{figure_id}" type="application/json">')[1].split("</")[0])


@pytest.fixture
def emt_results(seeded_full, inline_jobs):
    call_command("run_benchmark", "formation", models="EMT", structures=f"{ALPD3},{ALAG2}")
    return {
        r.structure.label: r
        for r in Result.objects.filter(structure__label__in=[ALPD3, ALAG2]).select_related(
            "structure"
        )
    }


def test_the_formation_page_draws_its_declared_figures(client, emt_results):
    assert board_for("formation") is None
    html = client.get(reverse("leaderboard:task", args=["formation"]), {"model": "EMT"})
    html = html.content.decode()

    parity = figure_of(html, "formation-parity")
    (emt,) = [t for t in parity["data"] if t["name"] == "EMT"]
    points = sorted(zip(emt["x"], emt["y"], strict=True))
    expected = sorted(
        (
            r.structure.reference["formation_energy_per_atom"],
            r.headline["formation_energy_per_atom"],
        )
        for r in emt_results.values()
    )
    assert [x for x, _ in points] == pytest.approx([x for x, _ in expected])
    assert [y for _, y in points] == pytest.approx([y for _, y in expected])
    assert min(emt["x"]) < 0  # negative values drawn, on linear axes
    assert "type" not in parity["layout"]["xaxis"]

    # Mean error per element by hand: Al is in both crystals, Pd and Ag in one each.
    errors = {label: r.metrics["formation_energy_error"] for label, r in emt_results.items()}
    table = figure_of(html, "formation-element-table")["data"][1]
    shown = {s: v for row_s, row_v in zip(table["text"], table["customdata"], strict=True)
             for s, v in zip(row_s, row_v, strict=True) if s}  # fmt: skip
    assert shown["Pd"] == pytest.approx(errors[ALPD3], abs=1e-3)
    assert shown["Ag"] == pytest.approx(errors[ALAG2], abs=1e-3)
    assert shown["Al"] == pytest.approx((errors[ALPD3] + errors[ALAG2]) / 2, abs=1e-3)

    for key in ("formation_energy_error", "rmsd"):
        histogram = figure_of(html, f"formation-histogram-{key}")
        (trace,) = [t for t in histogram["data"] if t["name"] == "EMT"]
        assert sum(trace["y"]) == pytest.approx(1.0)
