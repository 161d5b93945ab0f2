"""Every page through Django's test client: with data, empty, filtered and downloaded."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from compute.tasks import TASKS
from leaderboard_app import run_pages
from tests.leaderboard_app.conftest import RUN_LABELS, Arena

PLOTLY = "/static/plotly/plotly-cartesian.min.js"
TRACEBACK = "Traceback (most recent call last)"


def csv_rows(client, url: str, **params) -> list[dict[str, str]]:
    response = client.get(url, {**params, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_leaderboard_ranks_models_and_shows_metadata(client, arena):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("Arena ranking", "eos rank", "Training sets", "BSD-3-Clause", "EFSM", "link"):
        assert text in html
    assert reverse("leaderboard:model", args=["chgnet"]) in html
    rows = csv_rows(client, "/")
    ranked = {r["model"]: r["rank"] for r in rows}
    # EOS ranks by hand (conftest's data), each model on its own results: CHGNet on Cu, Al
    # and Ni (Fe and W failed: 2 of 5), SevenNet-0 on Cu and Al (Ni, Fe, W failed: 3 of
    # 5); EMT is a baseline, never ranked. Physical soundness: SevenNet-0's smooth curves
    # beat CHGNet's zigzag on tortuosity and ρ comp. dE/dV, CHGNet wins the failure rate:
    # sums 7 and 8, SevenNet-0 1, CHGNet 2. Accuracy against DFT: Δ SevenNet-0 1; V0 does
    # not change with the energy scale (CHGNet 3.1 %, SevenNet-0 3.2 %): CHGNet 1; B0
    # scales with it (SevenNet-0 ×0.8: 44 %; CHGNet ×1.15: 19 %): CHGNet 1; sums 5 and 4.
    # Task: 1 + 2 = 3 each, a tie. No other ranked task has results: both rank 1.
    assert {m: ranked[m] for m in ("EMT", "SevenNet-0", "CHGNet")} == {
        "EMT": "",
        "SevenNet-0": "1",
        "CHGNet": "1",
    }
    assert [r["model"] for r in rows[:3]] == ["CHGNet", "SevenNet-0", "EMT"]
    assert rows[2]["baseline"] == "True" and "baseline" in html
    # No results at all: not benchmarked, so unranked and listed after the ranked ones.
    without_results = set(ranked) - {"EMT", "CHGNet", "SevenNet-0"}
    assert {ranked[m] for m in without_results} == {""}
    assert {r["model"] for r in rows[3:]} == without_results
    assert "not benchmarked" in html
    assert rows[0]["training_datasets"] in {"", "MPtrj"}


@pytest.mark.parametrize(
    ("params", "ranks"),
    [
        # The two MPtrj models with results tie as on the whole board (EMT, a baseline,
        # never changed their numbers). The unrun MACE: no rank.
        ({"compliant": "on"}, {"SevenNet-0": "1", "CHGNet": "1", "MACE-MP(M)": ""}),
        ({"dataset": "MatPES-PBE"}, {"TensorNet-MatPES-PBE": ""}),
        (
            {"license": "MIT"},
            dict.fromkeys(
                ["MACE-MP(M)", "MACE-MPA-0", "ANI-2x", "MatterSim-v1-5M", "NequIP-OAM-L"]
                + ["Allegro-OAM-L"],
                "",
            ),
        ),
        ({"prediction_type": "EFSM"}, {"CHGNet": "1"}),
        ({"license": "no-such-license"}, None),  # an unknown choice filters nothing
    ],
)
def test_filters_keep_matching_models_and_rerank_them(client, arena, params, ranks):
    from models_app.models import MLIP

    if ranks is None:  # every registered model; only the three with results are ranked
        ranks = dict.fromkeys(MLIP.objects.values_list("name", flat=True), "")
        ranks |= {"EMT": "", "SevenNet-0": "1", "CHGNet": "1"}
    rows = csv_rows(client, "/", **params)
    assert {r["model"]: r.get("rank", "") for r in rows} == ranks  # no column when none ranks


def test_a_model_trained_on_mptrj_and_more_is_not_compliant(client, arena, emt_curves):
    """SevenNet-0, retrained on MPtrj and OMat24, keeps its rank 1 overall but leaves the
    compliant board (MPtrj only), where CHGNet ranks alone; it is listed under each of its
    datasets."""
    from models_app.models import MLIP

    MLIP.objects.filter(name="SevenNet-0").update(training_datasets=["MPtrj", "OMat24"])
    url = reverse("leaderboard:task", args=["eos"])
    compliant = {r["model"]: r["rank"] for r in csv_rows(client, url, compliant="on")}
    assert compliant == {"CHGNet": "1", "MACE-MP(M)": ""}
    for dataset in ("MPtrj", "OMat24"):
        rows = {r["model"]: r["rank"] for r in csv_rows(client, url, dataset=dataset)}
        assert rows["SevenNet-0"] == "1", dataset
    ranked = {r["model"] for r in csv_rows(client, url, dataset="OMat24") if r["rank"]}
    assert ranked == {"SevenNet-0"}


def test_compliant_preset_reranks_among_mptrj_models(client, arena):
    rows = csv_rows(client, reverse("leaderboard:task", args=["eos"]), compliant="on")
    assert [(r["model"], r["rank"]) for r in rows[:2]] == [("CHGNet", "1"), ("SevenNet-0", "1")]
    # MACE-MP(M) lists eos but has no result: shown last, not benchmarked.
    assert (rows[-1]["model"], rows[-1]["rank"], rows[-1]["done"]) == ("MACE-MP(M)", "", "0")


def test_eos_task_page_has_metrics_table_and_embedded_charts(client, arena):
    url = reverse("leaderboard:task", args=["eos"])
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    for label in (
        "Flips",
        "Tortuosity",
        "ρ comp. E",
        "ρ comp. dE/dV",
        "ρ tension E",
        "Δ (meV/atom)",
        "|V0 error|",
        "|B0 error|",
        "Missing",
    ):
        assert label in html
    assert 'class="sortable"' in html and "±" in html
    for figure_id in ("eos-curves", "eos-parity", "eos-element-table"):
        assert f'id="{figure_id}" type="application/json"' in html
    assert f'src="{PLOTLY}"' in html and "cdn" not in html.lower()
    figure = json.loads(
        html.split('id="eos-curves" type="application/json">')[1].split("</script>")[0]
    )
    assert {t["name"] for t in figure["data"]} == {
        "EMT",
        "CHGNet",
        "SevenNet-0",
        "WIEN2k (BM shape)",
    }
    rows = {r["model"]: r for r in csv_rows(client, url)}
    assert (rows["EMT"]["done"], rows["EMT"]["missing"], rows["EMT"]["failed"]) == ("3", "68", "2")
    assert rows["SevenNet-0"]["done"] == "2"
    assert float(rows["EMT"]["tortuosity"]) >= 1.0 and "tortuosity_std" in rows["EMT"]
    assert rows["EMT"]["delta_mev_per_atom (meV/atom)"] != ""


def test_chart_choices_pick_the_structure_and_the_periodic_table_model(client, arena):
    aluminium = arena.structure_ids["Al"]
    url = reverse("leaderboard:task", args=["eos"])
    html = client.get(url, {"structure": aluminium, "model": "SevenNet-0"}).content.decode()
    assert f'<option value="{aluminium}" selected>' in html
    assert "E(V), models overlaid: Al (Al4)" in html
    assert "Δ (meV/atom) per element: SevenNet-0" in html
    assert reverse("leaderboard:structure", args=[aluminium]) in html
    # Any per-element metric: EMT's |B0 error| in % on Cu, Al and Ni.
    from tasks_app.models import Result

    html = client.get(url, {"model": "EMT", "metric": "b0_rel_error"}).content.decode()
    assert "|B0 error| per element: EMT" in html
    figure = json.loads(
        html.split('id="eos-element-table" type="application/json">')[1].split("</script>")[0]
    )
    shown = {t for t in figure["data"][1]["text"] for t in t if t}
    assert shown == {"Cu", "Al", "Ni"}
    copper = Result.objects.get(task__slug="eos", model__name="EMT", structure__label="Cu")
    values = [v for row in figure["data"][1]["customdata"] for v in row if v is not None]
    assert any(
        v == pytest.approx(abs(copper.metrics["b0_rel_error"]) * 100, rel=1e-3) for v in values
    )
    assert "grey cells: no value" in html
    fallback = client.get(url, {"structure": "999999", "model": "nobody"})
    assert fallback.status_code == 200


def test_task_without_metrics_lists_results_and_says_so(client, arena, relaxed_copper):
    html = client.get(reverse("leaderboard:task", args=["relax"])).content.decode()
    assert "no ranking metrics" in html
    assert "data-figure" not in html
    rows = csv_rows(client, reverse("leaderboard:task", args=["relax"]))
    assert (rows[0]["model"], rows[0]["done"]) == ("EMT", "1")
    assert {r["done"] for r in rows[1:]} == {"0"}  # models that list relax but never ran it
    latest = csv_rows(client, reverse("leaderboard:task", args=["relax"]), table="results-relax")
    assert [(r["model"], r["structure"], r["steps"]) for r in latest] == [
        ("EMT", "fcc Cu", str(relaxed_copper["steps"]))
    ]
    assert float(latest[0]["energy_per_atom_ev (eV/atom)"]) == pytest.approx(
        relaxed_copper["energy_per_atom_ev"]
    )


def test_a_new_task_row_adds_a_page_and_a_navigation_entry(client, seeded):
    from tasks_app.models import Task

    Task.objects.create(slug="kappa", name="Thermal conductivity", function="kappa")
    assert "Thermal conductivity" in client.get("/").content.decode()
    html = client.get(reverse("leaderboard:task", args=["kappa"])).content.decode()
    assert "No results yet." in html


def test_model_page_shows_metadata_results_and_failed_jobs(client, arena):
    response = client.get(reverse("leaderboard:model", args=["emt"]))
    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        "LGPL-2.1",
        "Results on every task",
        "Equation of state (bulk): per structure",
        "Failed jobs",
    ):
        assert text in html
    assert "No EMT-potential for" in html
    assert reverse("leaderboard:structure", args=[arena.structure_ids["Cu"]]) in html
    failed = csv_rows(client, reverse("leaderboard:model", args=["emt"]), table="failed-jobs")
    assert {r["structure"] for r in failed} == {"Fe", "W"}
    tasks = csv_rows(client, reverse("leaderboard:model", args=["emt"]), table="tasks")
    assert {r["task"]: r["done"] for r in tasks} == {
        **{spec.title: "0" for spec in TASKS.values()},  # every registered task is listed
        "Equation of state (bulk)": "3",
        "Structure relaxation": "1",
    }
    per_structure = csv_rows(
        client, reverse("leaderboard:model", args=["emt"]), table="results-eos"
    )
    assert {r["structure"] for r in per_structure} == {"Cu", "Al", "Ni"}
    relax = csv_rows(client, reverse("leaderboard:model", args=["emt"]), table="results-relax")
    assert float(relax[0]["energy_per_atom_ev (eV/atom)"]) < 0.1


def test_structure_page_shows_cell_reference_and_every_models_curve(client, arena):
    url = reverse("leaderboard:structure", args=[arena.structure_ids["Cu"]])
    html = client.get(url).content.decode()
    assert "Cu4" in html and "B₀ (GPa)" in html and "WIEN2k PBE" in html
    figure = json.loads(
        html.split('id="eos-curves" type="application/json">')[1].split("</script>")[0]
    )
    assert {t["name"] for t in figure["data"]} >= {"EMT", "CHGNet", "SevenNet-0"}
    assert {r["model"] for r in csv_rows(client, url)} == {"EMT", "CHGNet", "SevenNet-0"}


def test_runs_page_counts_states_and_durations(client, arena):
    rows = {int(r["run"]): r for r in csv_rows(client, reverse("leaderboard:runs"))}
    eos_run = rows[arena.run_ids[0]]
    assert (eos_run["total"], eos_run["done"], eos_run["failed"]) == ("15", "8", "7")
    assert float(eos_run["wall_seconds"]) >= 0 and float(eos_run["compute_seconds"]) > 0
    html = client.get(reverse("leaderboard:run", args=[arena.run_ids[0]])).content.decode()
    assert "Jobs per model" in html and "Median job (s)" in html
    models = {
        r["model"]: r for r in csv_rows(client, reverse("leaderboard:run", args=[arena.run_ids[0]]))
    }
    assert (models["SevenNet-0"]["done"], models["SevenNet-0"]["failed"]) == ("2", "3")


def test_jobs_filter_by_state_model_and_task(client, arena, monkeypatch):
    url = reverse("leaderboard:jobs")
    html = client.get(url, {"status": "failed", "model": "EMT", "task": "eos"}).content.decode()
    assert "No EMT-potential for" in html
    rows = csv_rows(client, url, status="failed", model="EMT", task="eos")
    assert len(rows) == 2
    assert {(r["status"], r["model"], r["task"]) for r in rows} == {("failed", "EMT", "eos")}
    assert len(csv_rows(client, url, status="done")) == 9
    assert len(csv_rows(client, url, run=arena.run_ids[1])) == 1
    monkeypatch.setattr(run_pages, "JOBS_PER_PAGE", 4)
    page_two = client.get(url, {"page": 2})
    assert page_two.status_code == 200 and "page 2 of 4" in page_two.content.decode()


def test_job_pages_show_error_and_result(client, arena):
    from tasks_app.models import Job

    ran_with = {"device": "cpu", "torch_threads": 3, "pid": 1, "cpu": "Test CPU 9000"}
    ran_with |= {"python": "3.12.1", "packages": {"ase": "3.23.0", "torch": "2.5.1"}}
    ran_with |= {"arena": "abc123", "environment": "main", "environment_lock": "0f1e2d"}
    Job.objects.filter(pk=arena.done_job_id).update(ran_with=ran_with)
    failed = client.get(reverse("leaderboard:job", args=[arena.failed_job_id])).content.decode()
    assert "NotImplementedError: No EMT-potential for" in failed
    done = client.get(reverse("leaderboard:job", args=[arena.done_job_id])).content.decode()
    assert "Result" in done and "GPa" in done
    assert "cpu, 3 torch threads" in done
    assert (
        "Test CPU 9000 · Python 3.12.1 · ase 3.23.0, torch 2.5.1 · arena <code>abc123</code>"
        in done
    )
    assert "environment main (lock <code>0f1e2d</code>)" in done


def failed_job_pages(arena: Arena) -> dict[str, tuple[str, dict[str, Any]]]:
    """Pages that list failed jobs: their URL and which failed jobs they list."""
    nickel = arena.structure_ids["Ni"]
    return {
        "jobs": (reverse("leaderboard:jobs") + "?status=failed", {}),
        "model": (reverse("leaderboard:model", args=["emt"]), {"model__name": "EMT"}),
        "structure": (reverse("leaderboard:structure", args=[nickel]), {"structure_id": nickel}),
    }


def traceback_links(**filters: Any) -> set[str]:
    from tasks_app.models import Job

    failed = Job.objects.filter(status="failed", **filters).values_list("pk", flat=True)
    assert failed
    return {f'href="{reverse("leaderboard:job", args=[pk])}#traceback"' for pk in failed}


@pytest.mark.parametrize("viewer", ["anonymous", "logged-in, not staff"])
def test_tracebacks_are_hidden_from_visitors_who_are_not_staff(
    client, arena, django_user_model, viewer
):
    if viewer != "anonymous":
        client.force_login(django_user_model.objects.create_user("visitor", password="pw"))
    for page, (url, listed) in failed_job_pages(arena).items():
        html = client.get(url).content.decode()
        assert "No EMT-potential for" in html and TRACEBACK not in html, page
        assert not any(link in html for link in traceback_links(**listed)), page
    job_page = client.get(reverse("leaderboard:job", args=[arena.failed_job_id])).content.decode()
    assert "Shown to staff only" in job_page and TRACEBACK not in job_page


def test_staff_see_tracebacks_on_the_job_page_and_a_link_to_them_from_every_list(
    client, arena, django_user_model
):
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    job_page = client.get(reverse("leaderboard:job", args=[arena.failed_job_id])).content.decode()
    assert TRACEBACK in job_page and '<h2 id="traceback">' in job_page
    for page, (url, listed) in failed_job_pages(arena).items():
        html = client.get(url).content.decode()
        assert all(link in html for link in traceback_links(**listed)), page
        assert TRACEBACK not in html, page  # linked, never inlined


def test_csv_downloads_escape_text_that_a_spreadsheet_would_run(client, arena):
    from models_app.models import MLIP
    from tasks_app.models import Job

    formula = '=HYPERLINK("https://example.org/x","click")'
    MLIP.objects.create(name="@SUM(A1)", family="emt", license="-MIT")
    job = Job.objects.filter(status="failed").first()
    Job.objects.filter(pk=job.pk).update(error=formula)
    errors = {r["job"]: r["error"] for r in csv_rows(client, reverse("leaderboard:jobs"))}
    assert errors[str(job.pk)] == "'" + formula
    rows = {r["model"]: r for r in csv_rows(client, "/")}
    assert rows["'@SUM(A1)"]["license"] == "'-MIT"
    assert rows["EMT"]["license"] == "LGPL-2.1"


def test_json_downloads_are_lists_of_records(client, arena):
    response = client.get("/", {"format": "json"})
    assert response["Content-Disposition"] == 'attachment; filename="leaderboard.json"'
    records = json.loads(response.content)
    assert {"model", "rank", "rank_sum", "license", "training_datasets"} <= set(records[0])


@pytest.mark.parametrize(
    "url",
    [
        "/tasks/nope/",
        "/models/nope/",
        "/structures/999999/",
        "/runs/999999/",
        "/jobs/999999/",
        "/?format=csv&table=nope",
    ],
)
def test_unknown_objects_are_404(client, seeded, url):
    assert client.get(url).status_code == 404


def test_empty_site_says_it_has_no_tasks(client, db):
    html = client.get("/").content.decode()
    assert "No tasks registered yet." in html and "manage.py" not in html


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("index", "No results yet"),
        ("task", "No results yet."),
        ("model", "No results yet for this model."),
        ("structure", "No results yet for this structure."),
        ("runs", "No runs yet."),
        ("jobs", "No job matches these filters."),
        ("cite", "publishes no dataset yet"),
    ],
)
def test_pages_without_results_say_so_and_show_no_operator_commands(client, seeded, name, said):
    """Visitors cannot run management commands: public pages never print one."""
    from tasks_app.models import Structure

    args = {
        "task": ["eos"],
        "model": ["emt"],
        "structure": [Structure.objects.get(label="Cu").pk],
    }.get(name, [])
    response = client.get(reverse(f"leaderboard:{name}", args=args))
    html = response.content.decode()
    assert response.status_code == 200
    assert said in html
    for command in ("manage.py", "run_benchmark", "seed_registry", "export_hf", "--resume"):
        assert command not in html, command
    assert "data-figure" not in html


def test_run_without_jobs_and_queued_job_pages(client, seeded):
    from models_app.models import MLIP
    from tasks_app.models import StructureSet, Task
    from tasks_app.services import run_create

    eos = Task.objects.get(slug="eos")
    delta = StructureSet.objects.get(name="delta-dcdft")
    emt = [MLIP.objects.get(name="EMT")]
    empty, _ = run_create(task=eos, models=emt, structure_set=delta, structures=[])
    html = client.get(reverse("leaderboard:run", args=[empty.pk])).content.decode()
    assert "This run has no jobs." in html
    _, jobs = run_create(
        task=eos, models=emt, structure_set=delta, structures=[delta.structures.first()]
    )
    html = client.get(reverse("leaderboard:job", args=[jobs[0].pk])).content.decode()
    assert "queued" in html and "Traceback" not in html and "Result" not in html


def test_the_plotly_bundle_is_the_plotly_js_version_the_plotly_package_writes_figures_for():
    from plotly.offline import get_plotlyjs_version

    bundle = Path(finders.find("plotly/plotly-cartesian.min.js"))
    banner = bundle.read_text()[:200]
    assert f"plotly.js (cartesian - minified) v{get_plotlyjs_version()}\n" in banner
    assert (bundle.parent / "LICENSE").read_text().startswith("MIT License")


def grow(arena: Arena, curves) -> None:
    """Seven more models, results on nine structures each: more of everything."""
    from models_app.models import MLIP
    from tests.leaderboard_app.conftest import record_eos_run

    MLIP.objects.bulk_create(
        MLIP(name=f"Extra-{i}", family="emt", training_datasets=["MPtrj"], license="MIT")
        for i in range(5)
    )
    more = {
        name: (1.0 + i / 10, 0.0, ())
        for i, name in enumerate(
            ["MACE-MP(M)", "TensorNet-MatPES-PBE", *(f"Extra-{i}" for i in range(5))]
        )
    }
    elements = ("Cu", "Al", "Ni", "Ag", "Au", "Pd", "Pt", "C", "Fe")
    record_eos_run(curves, more, labels=(*elements, *RUN_LABELS), elements=elements)


PAGE_LIMITS = {
    "index": 6,
    "task-eos": 8,
    "task-relax": 8,
    "model": 10,
    "structure": 8,
    "runs": 4,
    "run": 4,
    "jobs": 5,
    "job": 3,
}


def page_url(page: str, arena: Arena) -> str:
    return {
        "index": "/",
        "task-eos": reverse("leaderboard:task", args=["eos"]),
        "task-relax": reverse("leaderboard:task", args=["relax"]),
        "model": reverse("leaderboard:model", args=["emt"]),
        "structure": reverse("leaderboard:structure", args=[arena.structure_ids["Cu"]]),
        "runs": reverse("leaderboard:runs"),
        "run": reverse("leaderboard:run", args=[arena.run_ids[0]]),
        "jobs": reverse("leaderboard:jobs") + "?status=failed",
        "job": reverse("leaderboard:job", args=[arena.failed_job_id]),
    }[page]


@pytest.mark.parametrize("page", PAGE_LIMITS)
def test_query_count_does_not_grow_with_models_and_structures(
    client, arena, emt_curves, django_assert_max_num_queries, page
):
    url = page_url(page, arena)
    with django_assert_max_num_queries(PAGE_LIMITS[page]) as before:
        assert client.get(url).status_code == 200
    grow(arena, emt_curves)
    with django_assert_max_num_queries(PAGE_LIMITS[page]) as after:
        assert client.get(url).status_code == 200
    assert len(after) == len(before)


def record_ev_run(models: dict[str, float]) -> None:
    """Real EMT E–V scans of Cu, Al and Ni, energies scaled per model, through the services."""
    from ase.calculators.emt import EMT

    from compute.structures import atoms_from_dict
    from compute.tasks import evaluate, run_task
    from models_app.models import MLIP
    from tasks_app.models import StructureSet, Task
    from tasks_app.services import job_finish, job_start, run_create

    delta = StructureSet.objects.get(name="delta-dcdft")
    structures = list(delta.structures.filter(label__in=("Cu", "Al", "Ni")))
    _, jobs = run_create(
        task=Task.objects.get(slug="ev"),
        models=list(MLIP.objects.filter(name__in=models)),
        structure_set=delta,
        structures=structures,
    )
    outputs = {s.pk: run_task("ev", atoms_from_dict(s.atoms), EMT(), {}) for s in structures}
    for job in jobs:
        scale = models[job.model.name]
        output = dict(outputs[job.structure_id])
        output["energies_ev"] = [e * scale for e in output["energies_ev"]]
        job_start(job_id=job.pk)
        job_finish(
            job_id=job.pk,
            output=output,
            metrics=evaluate("ev", output, None),
            compute_seconds=0.1,
        )


def test_ev_task_is_ranked_charted_and_counted_in_the_arena(client, arena):
    record_ev_run({"EMT": 1.0, "CHGNet": 1.1})
    url = reverse("leaderboard:task", args=["ev"])
    html = client.get(url).content.decode()
    assert 'id="ev-curves" type="application/json"' in html
    figure = json.loads(
        html.split('id="ev-curves" type="application/json">')[1].split("</script>")[0]
    )
    assert {t["name"] for t in figure["data"]} == {"EMT", "CHGNet"}
    rows = {r["model"]: r for r in csv_rows(client, url)}
    # CHGNet is the only model ranked: EMT is a baseline, shown with its results.
    assert (rows["EMT"]["rank"], rows["CHGNet"]["rank"]) == ("", "1")
    assert (rows["EMT"]["standing"], rows["EMT"]["done"], rows["EMT"]["missing"]) == (
        "baseline",
        "3",
        "68",
    )
    assert rows["SevenNet-0"]["rank"] == ""  # lists ev, has no result: not benchmarked
    arena_rows = {r["model"]: r for r in csv_rows(client, "/")}
    # SevenNet-0 did not run ev: it ranks after the one model ranked there, 2.
    assert arena_rows["CHGNet"]["rank_ev"] == "1" and arena_rows["SevenNet-0"]["rank_ev"] == "2"
    assert arena_rows["EMT"]["rank_ev"] == ""
    structure = client.get(reverse("leaderboard:structure", args=[arena.structure_ids["Cu"]]))
    assert 'id="ev-curves" type="application/json"' in structure.content.decode()


def test_the_export_ranks_exactly_as_the_site_does(client, arena, tmp_path):
    from publishing.export import export_dataset

    folder = export_dataset(repo_id="arena-test/site", folder=tmp_path / "export").folder
    exported = [
        json.loads(line) for line in (folder / "leaderboard" / "eos.jsonl").read_text().splitlines()
    ]
    site = csv_rows(client, reverse("leaderboard:task", args=["eos"]))
    with_results = [r for r in site if r["done"] != "0"]
    assert [(r["model"], r["rank"], r["missing"], r["failed"]) for r in with_results] == [
        (r["model"], str(r["rank"] or ""), str(r["missing"]), str(r["failed"])) for r in exported
    ]
    assert {r["model"]: r["failed"] for r in exported} == {"EMT": 2, "CHGNet": 2, "SevenNet-0": 3}


def site_and_export_ranks(client, tmp_path) -> tuple[dict[str, str], dict[str, str]]:
    from publishing.export import export_dataset

    folder = export_dataset(repo_id="arena-test/site", folder=tmp_path / "export").folder
    lines = (folder / "leaderboard" / "eos.jsonl").read_text().splitlines()
    exported = {r["model"]: str(r["rank"] or "") for r in map(json.loads, lines)}
    site = csv_rows(client, reverse("leaderboard:task", args=["eos"]))
    return {r["model"]: r["rank"] for r in site if r["done"] != "0"}, exported


def test_site_and_export_rank_the_latest_results_after_a_new_checkpoint_and_a_redone_failure(
    client, arena, emt_curves, tmp_path
):
    """CHGNet gets a new checkpoint: its zigzag results stop counting, and SevenNet-0 is
    the only model ranked (EMT is a baseline). CHGNet's new results are EMT's curves on
    Cu, Al and Ni (Fe, W failed: 2 of 5); SevenNet-0 has Cu and Al (3 of 5 failed).
    Soundness: CHGNet wins tortuosity (its mean takes in Ni) and the failure rate: 1, 2.
    Accuracy: SevenNet-0 wins Δ, CHGNet V0 (3.1 % against 3.2 %) and B0 (24 % against
    44 %): 1, 2. CHGNet 1, SevenNet-0 2. Then SevenNet-0's failed Ni is redone: both have
    the same structures and failures, the same shapes (tie on soundness) and the same V0;
    SevenNet-0 wins Δ (10.8 against 11.1 meV/atom), CHGNet B0 (its energies ×1.0 against
    ×0.8, both below WIEN2k): accuracy sums 4 and 4, a tie: both rank 1."""
    from models_app.models import MLIP
    from tests.leaderboard_app.conftest import record_eos_run

    MLIP.objects.filter(name="CHGNet").update(checkpoint="0.3.1")
    site, exported = site_and_export_ranks(client, tmp_path)
    assert site == exported == {"EMT": "", "SevenNet-0": "1"}

    record_eos_run(emt_curves, {"CHGNet": (1.0, 0.0, ())})
    site, exported = site_and_export_ranks(client, tmp_path)
    assert site == exported == {"EMT": "", "CHGNet": "1", "SevenNet-0": "2"}

    record_eos_run(emt_curves, {"SevenNet-0": (0.8, 0.0, ())}, labels=("Ni",))
    site, exported = site_and_export_ranks(client, tmp_path)
    assert site == exported == {"EMT": "", "CHGNet": "1", "SevenNet-0": "1"}
    rows = {r["model"]: r for r in csv_rows(client, reverse("leaderboard:task", args=["eos"]))}
    assert (rows["SevenNet-0"]["done"], rows["SevenNet-0"]["failed"]) == ("3", "2")
    assert rows["SevenNet-0"]["coverage_n"] == "3"


def test_the_jobs_list_groups_failures_by_message_with_counts(client, arena):
    """conftest's run: all three models fail on Fe and on W, SevenNet-0 on Ni as well."""
    rows = csv_rows(client, reverse("leaderboard:jobs"), table="failures")
    counted = [(r["error"].rsplit(" ", 1)[-1], r["jobs"], r["models"]) for r in rows]
    assert counted == [("Fe", "3", "3"), ("W", "3", "3"), ("Ni", "1", "1")]
    only_emt = csv_rows(client, reverse("leaderboard:jobs"), table="failures", model="EMT")
    assert [(r["jobs"], r["models"]) for r in only_emt] == [("1", "1"), ("1", "1")]
    page = client.get(reverse("leaderboard:jobs"), {"status": "done"}).content.decode()
    assert "Failures by message" not in page


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        (
            "checkpoint /srv/arena/models/x.model does not exist",
            "checkpoint …/x.model does not exist",
        ),
        ("No such file or directory: '/home/ci/w/y.pt'", "No such file or directory: '…/y.pt'"),
        ('File "/usr/lib/python3/site-packages/ase/emt.py", line 3', 'File "…/emt.py", line 3'),
        ("in (/opt/a/b.txt) and /tmp/c", "in (…/b.txt) and …/c"),
        # not a server's folders: units, URLs, a lone slash, relative and home paths
        ("force 60 eV/Å above 50 eV/Å; drift 3 meV/atom/ps", None),
        ("see https://huggingface.co/a/b or a / b", None),
        ("in /tmp, ./rel/x.pt, ~/x/y.pt", None),
    ],
)
def test_public_text_shows_a_paths_file_name_not_its_folders(said, shown):
    from leaderboard_app.public_text import without_server_paths

    assert without_server_paths(said) == (shown or said)


def test_public_pages_show_errors_and_load_checks_without_server_folders(client, arena):
    """EMT's and CHGNet's Fe failures name the same file in two servers' folders: pages
    show the file's name only, and the two messages are one group (2 jobs, 2 models)."""
    from models_app.models import MLIP
    from tasks_app.models import Job, JobStatus

    fe = Job.objects.filter(structure__label="Fe", status=JobStatus.FAILED)
    fe.filter(model__name="EMT").update(error="cannot read /srv/a/models/x.model")
    fe.filter(model__name="CHGNet").update(error="cannot read /home/b/x.model")
    MLIP.objects.filter(name="CHGNet").update(
        last_check_ok=False, last_check_message="no file /srv/secret/ckpt.pt"
    )
    groups = csv_rows(client, reverse("leaderboard:jobs"), table="failures")
    assert {"error": "cannot read …/x.model", "jobs": "2", "models": "2"} in groups
    listed = csv_rows(client, reverse("leaderboard:jobs"), status="failed", model="EMT")
    assert "cannot read …/x.model" in {row["error"] for row in listed}
    job = fe.get(model__name="EMT")
    pages = [
        client.get(reverse("leaderboard:job", args=[job.pk])).content.decode(),
        client.get(reverse("leaderboard:jobs")).content.decode(),
        client.get(reverse("leaderboard:model", args=["chgnet"])).content.decode(),
        client.get(reverse("leaderboard:task", args=["eos"])).content.decode(),
    ]
    assert "cannot read …/x.model" in pages[0] and "no file …/ckpt.pt" in pages[2]
    assert not any("/srv/" in page or "/home/b" in page for page in pages)


def test_compare_puts_two_models_side_by_side_on_their_shared_structures(client, arena):
    """EMT and SevenNet-0 share Cu and Al (SevenNet-0 failed Ni). SevenNet-0's energies are
    EMT's times 0.8, so its B0 is 0.8 × EMT's and ΔB0 = −0.2 × EMT's B0, V0 is the same."""
    from tasks_app.models import Result

    url = reverse("leaderboard:compare")
    response = client.get(url, {"models": "EMT,sevennet-0,nobody"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "No model named nobody" in html
    assert "2 shared structures" in html
    rows = csv_rows(client, url, models="emt,sevennet-0", table="difference-eos")
    assert [r["structure"] for r in rows] == ["Al", "Cu"]
    for row in rows:
        emt_b0 = Result.objects.get(
            task__slug="eos", model__name="EMT", structure__label=row["structure"]
        ).headline["b0_gpa"]
        assert float(row["b0_gpa EMT (GPa)"]) == pytest.approx(emt_b0)
        # fits of scaled energies: B0 scales exactly, up to the fit's rounding (1e-6)
        diff = float(row["b0_gpa SevenNet-0 - EMT (GPa)"])
        assert diff == pytest.approx(-0.2 * emt_b0, rel=1e-6)
        assert float(row["v0_a3_per_atom SevenNet-0 - EMT (Å³/atom)"]) == pytest.approx(0, abs=1e-6)
        assert float(row["b0_gpa reference (GPa)"]) > 0  # WIEN2k beside them
    metrics = csv_rows(client, url, models="emt,sevennet-0", table="compare-eos")
    tortuosity = next(r for r in metrics if r["metric"].startswith("Tortuosity"))
    # The same shapes: equal up to float rounding of the scaled energies (1e-15 relative)
    assert float(tortuosity["EMT"]) == pytest.approx(float(tortuosity["SevenNet-0"]), rel=1e-12)
    assert "compare-eos-curves" in html and "compare-table-eos" in html
    one = client.get(url, {"models": "EMT"}).content.decode()
    assert "Name two or three models" in one
    from django.utils.html import escape

    from models_app.models import MLIP

    for model in MLIP.objects.all():  # every registered model is offered by name
        assert f'<option value="{model.slug}">{escape(model.name)}</option>' in one


def drawn_styles(html: str, figure_id: str) -> dict[str, tuple[str, str]]:
    """(line colour, marker) of each model's trace in an embedded figure."""
    figure = json.loads(
        html.split(f'id="{figure_id}" type="application/json">')[1].split("</script>")[0]
    )
    return {
        t["name"]: (t["line"]["color"], t["marker"]["symbol"])
        for t in figure["data"]
        if t.get("mode") == "lines+markers"
    }


def test_a_model_looks_the_same_on_every_page_and_unlike_any_other_model(client, arena):
    """The task page shows three models, the compare page two, the structure page all:
    each model keeps one colour and marker, and no two registered models share both."""
    from leaderboard_app.charts import model_styles
    from models_app.models import MLIP

    task = client.get(reverse("leaderboard:task", args=["eos"])).content.decode()
    compare = client.get(reverse("leaderboard:compare"), {"models": "SevenNet-0,EMT"})
    cu = reverse("leaderboard:structure", args=[arena.structure_ids["Cu"]])
    on_task = drawn_styles(task, "eos-curves")
    on_compare = drawn_styles(compare.content.decode(), "compare-eos-curves")
    on_structure = drawn_styles(client.get(cu).content.decode(), "eos-curves")
    assert set(on_task) == {"EMT", "CHGNet", "SevenNet-0"} and set(on_compare) == {
        "EMT",
        "SevenNet-0",
    }
    assert on_compare == {name: on_task[name] for name in on_compare}
    assert on_structure == on_task
    registry = model_styles(MLIP.objects.values_list("pk", "name"))
    assert len(set(registry.values())) == MLIP.objects.count() >= 19


def test_model_card_shows_parameters_authors_coverage_bibtex_and_references(client, arena):
    """EMT has results on Cu, Al and Ni; its EOS rows put WIEN2k's B0 beside its own."""
    from models_app.models import MLIP
    from tasks_app.models import Structure

    MLIP.objects.filter(name="CHGNet").update(parameter_count=412_525)
    html = client.get(reverse("leaderboard:model", args=["emt"])).content.decode()
    assert "Jacobsen, K. W." in html and "K. W. Jacobsen" in html  # BibTeX and authors
    assert "Elements with results</dt><dd>3: Al, Ni, Cu" in html
    rows = csv_rows(client, reverse("leaderboard:model", args=["emt"]), table="results-eos")
    copper = next(r for r in rows if r["structure"] == "Cu")
    wien2k = Structure.objects.get(structure_set__name="delta-dcdft", label="Cu").reference
    assert float(copper["b0_gpa_ref (GPa)"]) == wien2k["b0_gpa"] == 141.335
    assert "412525" in client.get(reverse("leaderboard:model", args=["chgnet"])).content.decode()
    # No count: a classical potential has none; a learned one is counted when it first loads.
    assert "<dt>Parameters</dt><dd>none learned (a classical potential)" in html
    MLIP.objects.filter(name="CHGNet").update(parameter_count=None)
    unknown = client.get(reverse("leaderboard:model", args=["chgnet"])).content.decode()
    assert "<dt>Parameters</dt><dd>not published; counted when the model is first loaded" in unknown
    cite = client.get(reverse("leaderboard:cite")).content.decode()
    assert "10.1126/science.aad3000" in cite and "deng2023chgnet" in cite


def test_the_cite_page_names_the_dataset_when_one_is_set(client, seeded, settings):
    settings.ARENA_DATASET_REPO = "my-lab/arena-results"
    cite = client.get(reverse("leaderboard:cite")).content.decode()
    assert "https://huggingface.co/datasets/my-lab/arena-results" in cite
