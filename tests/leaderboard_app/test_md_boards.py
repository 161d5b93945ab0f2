"""The dynamics boards on real short EMT runs: NVE energy and heating temperature against
time, on the task page and a structure's page, against the stored series by hand."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest
from ase.build import bulk
from django.core.management import call_command
from django.urls import reverse

from tasks_app.models import Result, Task
from tasks_app.structure_sets import store_structure_set

pytestmark = pytest.mark.django_db
# 40 steps of 32 atoms each (heating: 2 fs steps), well under a second, made this
# site's protocol (the admin can edit a task's parameters) so that the pages rank them.
SHORT = {
    "nve": {"steps": 40, "sample_every": 10},
    "heating": {"total_time_fs": 80, "sample_every": 10},
}


@pytest.fixture
def md_runs(seeded, inline_jobs, settings, tmp_path):
    settings.ARENA_FILE_STORE = tmp_path
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    store_structure_set(name="md-board", description="", structures=[("Cu32", atoms, {})])
    for slug, params in SHORT.items():
        task = Task.objects.get(slug=slug)
        task.default_params = {**task.default_params, **params}
        task.save()
        call_command("run_benchmark", slug, "--models", "EMT", "--set", "md-board")
    return {r.task.slug: r for r in Result.objects.select_related("structure")}


def page_figure(html: str, figure_id: str) -> dict:
    figure = json.loads(html.split(f'id="{figure_id}" type="application/json">')[1].split("</")[0])
    go.Figure(figure)  # plotly's own validators accept it
    return figure


def test_nve_energy_is_drawn_per_atom_in_mev_from_its_start(client, md_runs):
    result = md_runs["nve"]
    series = result.output["series"]
    assert [p["step"] for p in series] == [0, 10, 20, 30, 40]
    e0 = series[0]["etot_ev"]
    by_hand = [1000 * (p["etot_ev"] - e0) / 32 for p in series]  # meV/atom from t = 0
    times = [p["time_ps"] for p in series]
    assert times == pytest.approx([0, 0.01, 0.02, 0.03, 0.04])  # 1 fs steps
    url = reverse("leaderboard:task", args=["nve"])
    task_page = client.get(url, {"structure": result.structure_id}).content.decode()
    structure_page = client.get(
        reverse("leaderboard:structure", args=[result.structure_id])
    ).content.decode()
    for html, figure_id in ((task_page, "nve-energy"), (structure_page, "nve-energy")):
        (trace,) = page_figure(html, figure_id)["data"]
        assert trace["name"] == "EMT"
        assert trace["x"] == pytest.approx(times, abs=1e-6)
        # Rounded for the page to a few significant figures: 1e-3 relative, or 1e-9 meV.
        assert trace["y"] == pytest.approx(by_hand, rel=1e-3, abs=1e-9)
    assert "NVE energy drift: Total energy against time" in structure_page


def test_heating_temperature_is_drawn_in_kelvin_with_the_runs_protocol(client, md_runs):
    result = md_runs["heating"]
    series = result.output["series"]
    structure_page = client.get(
        reverse("leaderboard:structure", args=[result.structure_id])
    ).content.decode()
    (trace,) = page_figure(structure_page, "heating-temperature")["data"]
    assert trace["y"] == pytest.approx([p["temperature_k"] for p in series], rel=1e-3)
    assert "Heating stability: Temperature against time" in structure_page
    job_page = client.get(reverse("leaderboard:job", args=[result.job_id])).content.decode()
    assert "40 of 40" in job_page  # steps done of steps total, from the board's job facts


def test_a_variant_is_shown_ranked_apart_when_the_visitor_picks_it(client, md_runs):
    call_command("run_benchmark", "nve", "--models", "EMT", "--set", "md-board", "--variant=hot")
    hot = Result.objects.filter(task__slug="nve").latest("job_id")
    assert hot.output["series"][0]["temperature_k"] > 700  # the hot start, not 300 K
    url = reverse("leaderboard:task", args=["nve"])

    def drift(query: dict) -> float:
        rows = json.loads(client.get(url, {**query, "format": "json"}).content)
        (row,) = [r for r in rows if r["model"] == "EMT"]
        return row["drift_mev_per_atom_ps"]

    # Each page shows its own protocol's result: never mixed, never the other one.
    protocol_drift = md_runs["nve"].metrics["drift_mev_per_atom_ps"]
    hot_drift = hot.metrics["drift_mev_per_atom_ps"]
    assert protocol_drift != pytest.approx(hot_drift, rel=0.01)
    assert drift({}) == pytest.approx(protocol_drift, rel=1e-3)
    assert drift({"protocol": "hot"}) == pytest.approx(hot_drift, rel=1e-3)
    assert drift({"protocol": "nonsense"}) == pytest.approx(protocol_drift, rel=1e-3)
    page = client.get(url, {"protocol": "hot"}).content.decode()
    assert "Results of the <b>hot</b> variant" in page
    assert "<dt>temperature_k</dt><dd><code>1000.0</code>" in page
    short = client.get(url, {"protocol": "short"}).content.decode()
    assert "No results yet for variant short." in short


def test_a_task_run_with_edited_parameters_says_its_results_are_not_the_protocols(client, md_runs):
    """The fixture edits nve's steps and sample_every, as an admin may: the page names
    both against the published values, and the results were stored as "custom". The
    short variant sets both itself, so its page departs from nothing; EOS is unedited."""
    from compute.tasks import spec_or_placeholder

    published = spec_or_placeholder(Task.objects.get(slug="nve").function).default_params()
    assert md_runs["nve"].output["variant"] == "custom"
    url = reverse("leaderboard:task", args=["nve"])
    page = client.get(url).content.decode()
    assert f"<code>steps</code> 40 (published: {published['steps']})" in page
    assert f"<code>sample_every</code> 10 (published: {published['sample_every']})" in page
    hot = client.get(url, {"protocol": "hot"}).content.decode()
    assert "runs variant hot of the task with parameters" in hot
    assert "<code>temperature_k</code>" not in hot.split("published protocol's")[1][:300]
    short = client.get(url, {"protocol": "short"}).content.decode()
    eos = client.get(reverse("leaderboard:task", args=["eos"])).content.decode()
    assert "not its published protocol's" not in short + eos
