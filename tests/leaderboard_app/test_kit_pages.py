"""Pages built from the database: a task with only declared figures, the home page's
headline values, the task table's layout, and downloads a spreadsheet reads right."""

from __future__ import annotations

import csv
import io
import json
import statistics
from typing import Any

import pytest
from ase import Atoms
from ase.build import bulk
from django.urls import reverse

from compute.tasks import TASKS
from compute.tasks.figures import Axis, Curves, ElementTable, Histogram, Parity, Survival
from compute.tasks.spec import HIGHER, LOWER, Metric, Quantity, TaskSpec
from leaderboard_app.boards import board_for
from leaderboard_app.charts import DIVERGING

# A task as elasticity will look: K against PBE by crystal system, |K error| per element.
TOY_REFERENCE = {
    "MgO": {"k_vrh_gpa": 160.0, "crystal_system": "cubic"},
    "TiO2": {"k_vrh_gpa": 210.0, "crystal_system": "tetragonal"},
    "Al": {"k_vrh_gpa": 77.0, "crystal_system": "cubic"},
}
TOY_K = {  # model -> structure -> K (GPa)
    "EMT": {"MgO": 150.0, "TiO2": 230.0, "Al": 80.0},
    "CHGNet": {"MgO": 158.0, "TiO2": 205.0, "Al": 70.0},
}
TOY_STABLE = {"EMT": [1.0, 0.5, 0.25], "CHGNet": [1.0, 1.0, 0.5]}


def toy_run(atoms, calculator) -> dict[str, Any]:
    raise AssertionError("the page test stores results; nothing runs")


def toy_evaluate(output, reference) -> dict[str, Any]:
    return {
        "k_error_gpa": output["k_vrh_gpa"] - reference["k_vrh_gpa"],
        "stable_fraction": output["stable_fraction"],
    }


TOY = TaskSpec(
    name="toy_elastic",
    title="Toy elasticity",
    description="Bulk moduli against PBE.",
    run=toy_run,
    evaluate=toy_evaluate,
    quantities=(Quantity("k_vrh_gpa", "K", "GPa", digits=1),),
    metrics=(  # the headline is not the first metric: the spec names it
        Metric("stable_fraction", "Stable share", "Share of the run", HIGHER),
        Metric("k_error_gpa", "|K error|", "|K − K PBE|", LOWER, unit="GPa", absolute=True),
    ),
    headline_metric="k_error_gpa",
    figures=(
        Curves("stress", "Stress against strain", x=Axis("strains", "strain"),
               y=Axis("stresses_gpa", "σ (GPa)")),
        Parity(("k_vrh_gpa",), reference="PBE", colour_by="crystal_system"),
        ElementTable(),
        Histogram("k_error_gpa", bins=4),
        Survival("stable_fraction"),
    ),
)  # fmt: skip


def figure_of(html: str, figure_id: str) -> dict:
    return json.loads(html.split(f'id="{figure_id}" type="application/json">')[1].split("</")[0])


def csv_of(client, url: str, **params) -> list[list[str]]:
    response = client.get(url, {**params, "format": "csv"})
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


def records(rows: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture
def toy_task(seeded, monkeypatch):
    """The toy task registered beside the real ones, with EMT and CHGNet results on three
    structures, stored through the services as jobs store them."""
    from models_app.models import MLIP
    from tasks_app.models import Task
    from tasks_app.services import job_finish, job_start, run_create
    from tasks_app.structure_sets import store_structure_set

    monkeypatch.setitem(TASKS, TOY.name, TOY)
    rutile = Atoms("TiO2", scaled_positions=[(0, 0, 0), (0.3, 0.3, 0), (0.7, 0.7, 0)],
                   cell=[4.6, 4.6, 3.0], pbc=True)  # fmt: skip
    atoms = {"MgO": bulk("MgO", "rocksalt", a=4.21), "TiO2": rutile, "Al": bulk("Al")}
    structure_set, _ = store_structure_set(
        name="toy-moduli",
        description="",
        structures=[(label, atoms[label], TOY_REFERENCE[label]) for label in TOY_REFERENCE],
    )
    task = Task.objects.create(
        slug="toy", name="Toy elasticity", function=TOY.name, default_structure_set="toy-moduli"
    )
    models = list(MLIP.objects.filter(name__in=TOY_K))
    _, jobs = run_create(
        task=task,
        models=models,
        structure_set=structure_set,
        structures=list(structure_set.structures.all()),
    )
    for job in jobs:
        label, model = job.structure.label, job.model.name
        k = TOY_K[model][label]
        output = {
            "k_vrh_gpa": k,
            "strains": [0.01, -0.01, 0.0],
            "stresses_gpa": [k * 0.03, -k * 0.03, 0.0],
            "stable_fraction": TOY_STABLE[model][list(TOY_REFERENCE).index(label)],
        }
        job_start(job_id=job.id)
        metrics = toy_evaluate(output, TOY_REFERENCE[label])
        job_finish(job_id=job.id, output=output, metrics=metrics, compute_seconds=0.1)
    return task


def test_a_task_with_standard_figures_needs_no_board_module(client, toy_task):
    assert board_for(TOY.name) is None
    url = reverse("leaderboard:task", args=["toy"])
    from tasks_app.models import Structure

    mgo = Structure.objects.get(structure_set__name="toy-moduli", label="MgO").pk
    html = client.get(url, {"structure": mgo, "model": "EMT"}).content.decode()

    stress = figure_of(html, "toy-stress")  # the chosen structure's curves, models overlaid
    emt = next(t for t in stress["data"] if t["name"] == "EMT")
    assert emt["x"] == [-0.01, 0.0, 0.01] and emt["y"] == pytest.approx([-4.5, 0.0, 4.5])
    assert "Stress against strain: MgO" in html

    parity = figure_of(html, "toy-parity")  # coloured by crystal system, not by model
    by_system = {t["name"]: t for t in parity["data"] if t["name"] != "y = x"}
    assert set(by_system) == {"cubic", "tetragonal"}
    tetragonal = by_system["tetragonal"]
    assert sorted(zip(tetragonal["text"], tetragonal["y"], strict=True)) == [
        ("CHGNet · TiO2", 205.0),
        ("EMT · TiO2", 230.0),
    ]
    assert tetragonal["x"] == [210.0, 210.0]

    # EMT's |K error| per element, by hand: Mg only in MgO (10), O in MgO and TiO2 (15).
    table = figure_of(html, "toy-element-table")["data"][1]
    shown = {s: v for row_s, row_v in zip(table["text"], table["customdata"], strict=True)
             for s, v in zip(row_s, row_v, strict=True) if s}  # fmt: skip
    assert shown == {"Mg": 10.0, "O": 15.0, "Ti": 20.0, "Al": 3.0}
    assert "|K error| (GPa) per element: EMT" in html

    histogram = figure_of(html, "toy-histogram-k_error_gpa")
    for trace in histogram["data"]:
        assert sum(trace["y"]) == pytest.approx(1.0)  # each model's shares of its structures

    survival = {t["name"]: t["y"] for t in figure_of(html, "toy-survival")["data"]}
    assert survival["EMT"][30] == pytest.approx(2 / 3)  # 0.25 has ended by t = 0.30
    assert survival["CHGNet"][100] == pytest.approx(2 / 3)

    structure = client.get(reverse("leaderboard:structure", args=[mgo])).content.decode()
    assert {t["name"] for t in figure_of(structure, "toy-stress")["data"]} == {"EMT", "CHGNet"}
    compare = client.get(reverse("leaderboard:compare"), {"models": "EMT,CHGNet"})
    assert 'id="compare-toy-stress"' in compare.content.decode()


def test_the_home_page_shows_each_models_headline_value_beside_its_rank(client, toy_task):
    """The toy spec names |K error| its headline: each model's mean |K − K PBE| by hand."""
    by_hand = {
        model: statistics.fmean(abs(k - TOY_REFERENCE[s]["k_vrh_gpa"]) for s, k in ks.items())
        for model, ks in TOY_K.items()
    }
    assert by_hand == {"EMT": pytest.approx(11.0), "CHGNet": pytest.approx(14 / 3)}
    rows = {r["model"]: r for r in records(csv_of(client, "/"))}
    for model, value in by_hand.items():
        assert float(rows[model]["toy_k_error_gpa (GPa)"]) == pytest.approx(value)
    # EMT is a baseline: its value is shown, it takes no rank.
    assert (rows["CHGNet"]["rank_toy"], rows["EMT"]["rank_toy"]) == ("1", "")
    listed = {r["model"]: r for r in json.loads(client.get("/", {"format": "json"}).content)}
    assert listed["EMT"]["toy_k_error_gpa"] == pytest.approx(11.0)
    html = client.get("/").content.decode()
    head = html.split('data-table="leaderboard"')[1].split("</thead>")[0]
    keys = [part.split('"')[0] for part in head.split('data-key="')[1:]]
    assert keys[:4] == ["model", "rank", "rank_accuracy", "rank_soundness"]
    assert keys.index("toy_k_error_gpa") + 1 == keys.index("rank_toy")  # value, then rank
    # The toy task's one group is neither aspect: no aspect rank, but the columns stand.
    assert (rows["CHGNet"]["rank_accuracy"], rows["CHGNet"]["rank_soundness"]) == ("", "")
    assert '<th scope="col" data-key="model" class="sticky"' in head
    assert "toy |K error| (GPa) ↓" in head


def test_a_task_page_reads_its_spec_once(client, toy_task, monkeypatch):
    import compute.tasks as tasks

    looked_up = []

    class Counting(dict):
        def get(self, name, default=None):
            looked_up.append(name)
            return super().get(name, default)

        def __getitem__(self, name):
            looked_up.append(name)
            return super().__getitem__(name)

    monkeypatch.setattr(tasks, "TASKS", Counting(tasks.TASKS))
    assert client.get(reverse("leaderboard:task", args=["toy"])).status_code == 200
    assert looked_up == [TOY.name]


def test_the_task_table_puts_metrics_first_and_details_on_request(client, toy_task):
    url = reverse("leaderboard:task", args=["toy"])
    html = client.get(url).content.decode()
    head = html.split('data-table="task-toy"')[1].split("</thead>")[0]
    keys = [part.split('"')[0] for part in head.split('data-key="')[1:]]
    assert keys[:5] == ["model", "rank", "k_error_gpa", "k_error_gpa_ci", "k_error_gpa_std"]
    interval = head.split('data-key="k_error_gpa_ci"')[1].split(">")[0]
    assert "detail" not in interval  # the headline metric's interval is always shown
    assert keys.index("stable_fraction") < keys.index("group_ranked") < keys.index("done")
    assert 'data-key="k_error_gpa_std" class="num detail"' in head  # hidden until asked
    assert 'class="show-more">' in html and 'class="show-more" checked>' not in html
    assert 'class="show-more" checked>' in client.get(url, {"more": "1"}).content.decode()

    rows = csv_of(client, url)
    header = rows[0]
    assert header[:3] == ["model", "rank", "k_error_gpa (GPa)"]
    for name in ("k_error_gpa_std (GPa)", "k_error_gpa_rank", "k_error_gpa_signed (GPa)",
                 "coverage_n", "coverage_total"):  # fmt: skip
        assert name in header
    assert "coverage" not in header  # "3/3" would read as a date
    emt = next(r for r in records(rows) if r["model"] == "EMT")
    assert (emt["coverage_n"], emt["coverage_total"]) == ("3", "3")
    assert float(emt["k_error_gpa_signed (GPa)"]) == pytest.approx((-10 + 20 + 3) / 3)
    # The mean |error| 11 of 10, 20 and 3: its interval lies within the least and the
    # largest value a resample's mean can take.
    low, high = float(emt["k_error_gpa_ci_low (GPa)"]), float(emt["k_error_gpa_ci_high (GPa)"])
    assert 3 <= low < 11 < high <= 20


def spreadsheet_numbers_stay_numbers(rows: list[list[str]]) -> None:
    """What a spreadsheet does: a cell starting with ' is text; none may be a number."""
    for row in rows:
        for cell in row:
            if cell.startswith("'"):
                with pytest.raises(ValueError):
                    float(cell[1:])


def test_the_compare_csv_names_models_and_units_and_holds_plain_numbers(client, arena):
    """EMT against SevenNet-0 (energies × 0.8): B0 differences are negative, the V0 error
    a fraction; CHGNet and EMT-twin named after them are left out, and the page says so."""
    from models_app.models import MLIP

    twin = MLIP.objects.get(name="EMT")
    twin.pk, twin.name, twin.slug = None, "EMT twin", "emt-twin"
    twin.save()
    url = reverse("leaderboard:compare")
    wanted = "emt,sevennet-0,CHGNet,emt-twin,emt"
    page = client.get(url, {"models": wanted}).content.decode()
    left_out = page.split('id="left-out"')[1].split("</div>")[0]
    assert "EMT twin: the page compares at most 3 models" in left_out
    assert "Structure relaxation: no structure that all of them have" in left_out  # EMT's only
    assert "1 structure left out: not done by all of them." in page  # Ni: SevenNet-0 failed

    metrics = csv_of(client, url, models="emt,sevennet-0", table="compare-eos")
    spreadsheet_numbers_stay_numbers(metrics)
    assert metrics[0] == ["metric", "key", "unit", "EMT", "EMT rank", "SevenNet-0",
                          "SevenNet-0 rank", "difference_ci_low", "difference_ci_high",
                          "verdict"]  # fmt: skip
    by_key = {r["key"]: r for r in records(metrics)}
    for row in by_key.values():  # a verdict per metric, from the paired interval
        low, high = float(row["difference_ci_low"]), float(row["difference_ci_high"])
        assert row["verdict"] == (
            "≈ not distinguishable" if low <= 0 <= high else "distinguishable"
        )
    v0 = by_key["v0_rel_error"]
    assert v0["unit"] == "fraction" and 0 < float(v0["EMT"]) < 1  # not "3.2%"
    assert by_key["delta_mev_per_atom"]["unit"] == "meV/atom"

    differences = csv_of(client, url, models="emt,sevennet-0", table="difference-eos")
    spreadsheet_numbers_stay_numbers(differences)
    assert "b0_gpa SevenNet-0 - EMT (GPa)" in differences[0]
    negative = [r["b0_gpa SevenNet-0 - EMT (GPa)"] for r in records(differences)]
    assert all(float(v) < 0 for v in negative) and not any(v.startswith("'") for v in negative)
    html = client.get(url, {"models": "emt,sevennet-0"}).content.decode()
    for i, name in enumerate(["EMT", "SevenNet-0"]):  # each model's error per element
        assert figure_of(html, f"compare-eos-elements-{i}")["data"]
        assert f"per element: {name}</" in html
    assert html.count('class="num signed-neg"') >= 2  # ΔB0 cells on the diverging scale
    difference = figure_of(html, "compare-table-eos")["data"][1]  # V0 differences, all ≤ 0
    assert difference["colorscale"] == DIVERGING and difference["zmid"] == 0


def test_public_pages_leave_out_the_operator_commands_of_a_jobs_message(client, arena):
    from tasks_app.models import Job

    job = Job.objects.get(pk=arena.failed_job_id)
    Job.objects.filter(pk=job.pk).update(
        error=f"run {job.run_id} was interrupted; run_benchmark --resume {job.run_id} goes on"
    )
    pages = [
        client.get(reverse("leaderboard:job", args=[job.pk])).content.decode(),
        client.get(reverse("leaderboard:jobs")).content.decode(),
    ]
    for html in pages:
        assert f"run {job.run_id} was interrupted" in html and "--resume" not in html
