"""A board that reads right (issue 18), each situation built in the database through the
services and read back from the rendered page and its JSON: no phantom ranks, baselines
apart, each model's numbers its own, failures counted, pairwise views on shared
structures, speed compared per device. conftest's EOS run: EMT (a baseline) and CHGNet
have Cu, Al and Ni, SevenNet-0 Cu and Al; all failed Fe and W, SevenNet-0 Ni too."""

from __future__ import annotations

import json
import statistics
from typing import Any

import pytest
from django.urls import reverse

from tests.leaderboard_app.conftest import record_eos_run

EOS_URL = reverse("leaderboard:task", args=["eos"])


def page_json(client, url: str, **params) -> list[dict[str, Any]]:
    response = client.get(url, {**params, "format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def record(slug: str, set_name: str, outcomes: dict[str, dict[str, Any]], params=None) -> None:
    """Per model, per structure label: an output (stored with the task's own metrics) or
    None (a failed job), through run_create, job_start and job_finish or job_fail."""
    from compute.tasks import evaluate
    from models_app.models import MLIP
    from tasks_app.models import StructureSet, Task
    from tasks_app.services import job_fail, job_finish, job_start, run_create

    task = Task.objects.get(slug=slug)
    structure_set = StructureSet.objects.get(name=set_name)
    for name, by_label in outcomes.items():
        structures = {s.pk: s for s in structure_set.structures.filter(label__in=by_label)}
        _, jobs = run_create(
            task=task,
            models=[MLIP.objects.get(name=name)],
            structure_set=structure_set,
            structures=list(structures.values()),
            params=params,
        )
        for job in jobs:
            structure = structures[job.structure_id]
            output = by_label[structure.label]
            job_start(job_id=job.id)
            if output is None:
                job_fail(job_id=job.id, error="RuntimeError: the model diverged")
                continue
            metrics = evaluate(slug, output, structure.reference)
            job_finish(job_id=job.id, output=output, metrics=metrics, compute_seconds=0.1)


def nve_output(drift: float, *, completed: bool = True) -> dict[str, Any]:
    """An NVE run's output as the task returns it, with a three-point series."""
    return {
        "drift_mev_per_atom_ps": drift,
        "lambench_slope": drift / 98.2,
        "lambench_instability": 1.0 if completed else 5.0,
        "completed": completed,
        "steps_done": 400,
        "steps_per_second": 50.0,
        "natoms": 108,
        "series": [
            {"step": s, "time_ps": s / 1000, "etot_ev": -400.0 + drift * s / 1e6}
            for s in (0, 200, 400)
        ],
    }


def speed_output(us_per_atom_step: float, device: str, threads: int) -> dict[str, Any]:
    return {
        "us_per_atom_step": us_per_atom_step,
        "largest_natoms": 64,
        "scaling_exponent": 1.0,
        "sizes": [{"natoms": 64, "steps_per_second": 1e6 / (64 * us_per_atom_step)}],
        "environment": {"device": device, "torch_threads": threads},
    }


def test_a_task_run_only_outside_its_protocol_has_no_rank_column_and_counts_for_nobody(
    client, arena
):
    """NVE ran only its short variant: the home page and its JSON show no NVE rank, the
    arena is EOS alone (CHGNet and SevenNet-0 tie at 1, rank sums 1), and the page says
    NVE was not run. Before, everyone took rank 1 on NVE (one past nobody)."""
    short = {"steps": 400, "sample_every": 10}
    record("nve", "md-cells", {"CHGNet": {"Cu-fcc-108": nve_output(0.5)}}, params=short)
    rows = {r["model"]: r for r in page_json(client, "/")}
    assert not any("rank_nve" in row for row in rows.values())
    assert {m: (rows[m]["rank"], rows[m]["rank_sum"]) for m in ("CHGNet", "SevenNet-0")} == {
        "CHGNet": (1, 1),
        "SevenNet-0": (1, 1),
    }
    html = client.get("/").content.decode()
    assert 'data-key="rank_nve"' not in html and 'data-key="rank_eos"' in html
    not_run = html.split('id="not-run"')[1].split("</p>")[0]
    assert "NVE energy drift" in not_run and "Equation of state" not in not_run
    nve_page = client.get(reverse("leaderboard:task", args=["nve"])).content.decode()
    assert "No results yet" in nve_page


def test_a_model_missing_a_task_others_ran_ranks_after_all_of_them(client, arena):
    """CHGNet runs NVE under the protocol, SevenNet-0 does not: NVE ranks CHGNet 1 and
    SevenNet-0 2, after the one model ranked there. Rank sums: CHGNet 1 + 1 = 2,
    SevenNet-0 1 + 2 = 3. EMT's NVE result is a baseline's: it ranks nobody."""
    record(
        "nve",
        "md-cells",
        {"CHGNet": {"Cu-fcc-108": nve_output(0.5)}, "EMT": {"Cu-fcc-108": nve_output(0.1)}},
    )
    rows = {r["model"]: r for r in page_json(client, "/")}
    ranks = {m: (rows[m]["rank_nve"], rows[m]["rank_sum"], rows[m]["rank"]) for m in rows}
    assert ranks["CHGNet"] == (1, 2, 1)
    assert ranks["SevenNet-0"] == (2, 3, 2)
    assert ranks["EMT"] == (None, None, None)
    assert rows["EMT"]["nve_drift_mev_per_atom_ps"] == pytest.approx(0.1)  # shown, apart
    not_run = client.get("/").content.decode().split('id="not-run"')[1].split("</p>")[0]
    assert "NVE energy drift" not in not_run and "Heating stability" in not_run


def test_a_baseline_is_shown_apart_in_every_table_and_never_ranked(client, arena):
    from models_app.models import MLIP

    assert MLIP.objects.get(name="EMT").baseline  # the registry says so
    home = page_json(client, "/")
    assert [r["model"] for r in home[:3]] == ["CHGNet", "SevenNet-0", "EMT"]
    assert (home[2]["rank"], home[2]["baseline"]) == (None, True)
    task = {r["model"]: r for r in page_json(client, EOS_URL)}
    assert (task["EMT"]["rank"], task["EMT"]["standing"]) == (None, "baseline")
    assert task["EMT"]["delta_mev_per_atom"] > 0  # its numbers are shown
    for html in (client.get("/").content.decode(), client.get(EOS_URL).content.decode()):
        # The EMT row's cells, and only its, carry the baseline class (hatched, grey).
        row = html.split('href="/models/emt/"')[0].rsplit("<tr>", 1)[1]
        assert 'class="sticky baseline"' in row
        assert html.count('class="sticky baseline"') == 1
    # As a contender EMT would change the others' ranks; as a baseline it changes nothing.
    MLIP.objects.filter(name="EMT").update(baseline=False)
    contender = {r["model"]: r["rank"] for r in page_json(client, EOS_URL)}
    assert contender["EMT"] is not None


def own_delta_mean(model: str) -> float:
    """Δ of the model's own EOS results, averaged by hand from the stored metrics."""
    from tasks_app.models import Result

    stored = Result.objects.filter(task__slug="eos", model__name=model)
    return statistics.fmean(r.metrics["delta_mev_per_atom"] for r in stored)


def test_a_models_mean_is_its_own_and_a_third_model_changes_nothing(client, arena, emt_curves):
    """CHGNet's Δ is the mean over its own Cu, Al and Ni; SevenNet-0's over Cu and Al.
    MACE-MP(M) then runs Cu only: CHGNet's and SevenNet-0's numbers do not move."""
    before = {r["model"]: r for r in page_json(client, EOS_URL)}
    for model in ("CHGNet", "SevenNet-0"):
        assert before[model]["delta_mev_per_atom"] == pytest.approx(own_delta_mean(model))
    assert (before["CHGNet"]["coverage_n"], before["SevenNet-0"]["coverage_n"]) == (3, 2)
    record_eos_run(emt_curves, {"MACE-MP(M)": (1.3, 0.0, ())}, labels=("Cu",))
    after = {r["model"]: r for r in page_json(client, EOS_URL)}
    assert after["MACE-MP(M)"]["coverage_n"] == 1
    numbers = [k for k in before["CHGNet"] if not k.endswith("rank") and "group" not in k]
    for model in ("CHGNet", "SevenNet-0"):
        assert {k: after[model][k] for k in numbers} == {k: before[model][k] for k in numbers}
    home = {r["model"]: r for r in page_json(client, "/")}
    assert home["CHGNet"]["eos_delta_mev_per_atom"] == pytest.approx(own_delta_mean("CHGNet"))


def test_failures_count_against_the_model_as_each_metric_says(client, arena):
    """EOS: failed CHGNet 2 of 5, SevenNet-0 3 of 5, ranked lower better; Δ counts no
    failure. NVE: CHGNet completes Cu (instability 1) and fails Al: its instability mean is
    (1 + 5) / 2 = 3, completed 1/2, drift only the completed run's 0.5, failed 1/2."""
    rows = {r["model"]: r for r in page_json(client, EOS_URL)}
    assert (rows["CHGNet"]["failure_rate"], rows["SevenNet-0"]["failure_rate"]) == (0.4, 0.6)
    assert (rows["CHGNet"]["failure_rate_rank"], rows["SevenNet-0"]["failure_rate_rank"]) == (1, 2)
    html = client.get(EOS_URL).content.decode()
    assert "A failed structure adds nothing here; the failure rate counts it." in html
    record("nve", "md-cells", {"CHGNet": {"Cu-fcc-108": nve_output(0.5), "Al-fcc-108": None}})
    nve = {r["model"]: r for r in page_json(client, reverse("leaderboard:task", args=["nve"]))}
    chgnet = nve["CHGNet"]
    assert (chgnet["done"], chgnet["failed"]) == (1, 1)
    assert chgnet["lambench_instability"] == pytest.approx(3.0)
    assert chgnet["completed"] == pytest.approx(0.5)
    assert chgnet["drift_mev_per_atom_ps"] == pytest.approx(0.5)
    assert chgnet["failure_rate"] == pytest.approx(0.5)
    nve_html = client.get(reverse("leaderboard:task", args=["nve"])).content.decode()
    assert "A failed structure counts as 5.00." in nve_html


def test_the_compare_page_pairs_shared_structures_and_says_so(client, arena):
    """CHGNet and SevenNet-0 share Cu and Al: the compare page's Δ is each one's mean over
    those two, by hand, and says "2 structures"; the task page's CHGNet Δ takes in Ni
    too. CHGNet and EMT share all three of CHGNet's: there both pages show one number."""
    from tasks_app.models import Result

    def paired(model: str, labels: tuple[str, ...]) -> float:
        stored = Result.objects.filter(
            task__slug="eos", model__name=model, structure__label__in=labels
        )
        return statistics.fmean(r.metrics["delta_mev_per_atom"] for r in stored)

    url = reverse("leaderboard:compare")
    html = client.get(url, {"models": "CHGNet,SevenNet-0"}).content.decode()
    assert "means over the 2 structures all of them have" in html
    compare = page_json(client, url, models="CHGNet,SevenNet-0", table="compare-eos")
    delta = next(r for r in compare if r["key"] == "delta_mev_per_atom")
    assert delta["m0"] == pytest.approx(paired("CHGNet", ("Cu", "Al")))
    assert delta["m1"] == pytest.approx(paired("SevenNet-0", ("Cu", "Al")))
    task = {r["model"]: r for r in page_json(client, EOS_URL)}
    assert task["CHGNet"]["delta_mev_per_atom"] != pytest.approx(delta["m0"])
    same = page_json(client, url, models="CHGNet,EMT", table="compare-eos")
    same_delta = next(r for r in same if r["key"] == "delta_mev_per_atom")
    assert same_delta["m0"] == pytest.approx(task["CHGNet"]["delta_mev_per_atom"], rel=1e-12)
    assert all(r["key"] != "failure_rate" for r in compare)


def test_speed_is_compared_per_device_and_thread_count_and_never_in_the_arena(client, arena):
    """CHGNet (4 µs) and SevenNet-0 (6 µs) on one CPU thread rank 1 and 2 there; MACE on a
    GPU (0.5 µs) ranks alone on its device, not first among the CPU runs. The home page
    shows no speed rank, and the arena sums EOS alone."""
    record(
        "speed",
        "speed-seeds",
        {
            "CHGNet": {"Cu-fcc": speed_output(4.0, "cpu", 1)},
            "SevenNet-0": {"Cu-fcc": speed_output(6.0, "cpu", 1)},
            "MACE-MP(M)": {"Cu-fcc": speed_output(0.5, "cuda:0", 1)},
        },
    )
    url = reverse("leaderboard:task", args=["speed"])
    html = client.get(url).content.decode()
    assert 'id="compared-within"' in html
    cpu = page_json(client, url, table="task-speed-device-cpu-torch_threads-1")
    gpu = page_json(client, url, table="task-speed-device-cuda0-torch_threads-1")
    assert [(r["model"], r["rank"]) for r in cpu if r["done"]] == [("CHGNet", 1), ("SevenNet-0", 2)]
    assert [(r["model"], r["rank"]) for r in gpu if r["done"]] == [("MACE-MP(M)", 1)]
    home = page_json(client, "/")
    assert not any(key.startswith(("rank_speed", "speed_")) for row in home for key in row)
    assert {r["model"]: r["rank_sum"] for r in home}["CHGNet"] == 1
