"""The vacancy task through run_benchmark: a result with its errors against the PBE table,
and n/a for an element EMT lacks."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from tasks_app.models import Job, JobStatus, Result
from tests.leaderboard_app.test_kit_pages import figure_of

pytestmark = pytest.mark.django_db


def test_the_short_variant_on_emt_copper_and_iron(seeded, inline_jobs, capsys, client):
    call_command(
        "run_benchmark",
        "vacancy",
        models="EMT",
        structures="Cu-fcc-vacancy,Fe-fcc-vacancy",
        variant="short",
        workers=1,
    )
    out = capsys.readouterr().out
    assert "FAILED" not in out
    iron = Job.objects.get(structure__label="Fe-fcc-vacancy", task__slug="vacancy")
    assert iron.status == JobStatus.NOT_APPLICABLE
    assert iron.error == "model 'EMT' does not cover Fe"
    result = Result.objects.get(structure__label="Cu-fcc-vacancy", task__slug="vacancy")
    assert result.structure.structure_set.name == "vacancy-fcc"
    output = result.output
    assert output["variant"] == "short" and output["natoms"] == 32
    # The errors are the result's own numbers against the table's PBE row for fcc Cu.
    assert result.metrics["formation_error_ev"] == pytest.approx(
        result.headline["vacancy_formation_ev"] - 1.07
    )
    assert result.metrics["barrier_error_ev"] == pytest.approx(
        result.headline["migration_barrier_ev"] - 0.72
    )

    # The board, all declared figures: EMT's path with PBE's barrier for fcc Cu marked,
    # parity of both energies against PBE, and the periodic table of the barrier error.
    html = client.get(
        reverse("leaderboard:task", args=["vacancy"]),
        {"structure": result.structure.pk, "model": "EMT", "protocol": "short"},
    ).content.decode()
    path = figure_of(html, "vacancy-path")
    (emt,) = [t for t in path["data"] if t["name"] == "EMT"]
    assert emt["x"][0] == 0.0 and emt["x"][-1] == pytest.approx(1.0)  # normalised path
    assert emt["y"] == pytest.approx(output["path_energy_ev"])
    assert [s["y0"] for s in path["layout"]["shapes"]] == [0.72]
    parity = figure_of(html, "vacancy-parity")
    emt_points = [t for t in parity["data"] if t["name"] == "EMT"]
    points = sorted(xy for t in emt_points for xy in zip(t["x"], t["y"], strict=True))
    headline = result.headline
    assert [x for x, _ in points] == [0.72, 1.07]  # PBE on x, the model on y
    assert [y for _, y in points] == pytest.approx(
        [headline["migration_barrier_ev"], headline["vacancy_formation_ev"]]
    )
    assert "vacancy-element-table" in html
