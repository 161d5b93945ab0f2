"""run_benchmark in-process: jobs, results, skipping done work, and failures kept apart."""

import pytest
from ase import Atoms
from ase.build import bulk
from ase.eos import EquationOfState
from ase.units import GPa
from django.core.management import call_command
from django.core.management.base import CommandError

from compute.tasks import TASKS
from models_app.models import MLIP
from tasks_app.models import BenchmarkRun, Job, JobStatus, Result
from tasks_app.structure_sets import store_structure_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def metals(seeded, inline_jobs):
    """Three fcc metals EMT knows, with the WIEN2k references of the Delta set."""
    from tasks_app.models import Structure

    delta = {s.label: s for s in Structure.objects.filter(label__in=["Cu", "Al", "Ni"])}
    store_structure_set(
        name="metals",
        description="",
        structures=[
            (label, bulk(label, "fcc", a=a), delta[label].reference)
            for label, a in [("Cu", 3.6), ("Al", 4.05), ("Ni", 3.52)]
        ],
    )
    return "metals"


def test_eos_results_are_stored_with_headline_numbers_curves_and_metrics(metals, capsys):
    call_command("run_benchmark", "eos", models="EMT", set_name=metals)
    out = capsys.readouterr().out
    assert ": eos on metals, 3 jobs (in-process), 0 already done" in out
    header, line = out.splitlines()[-2:]
    assert header.split()[:5] == ["model", "done", "failed", "n/a", "missing"]
    assert "Δ (meV/atom)" in header and "|B0 error|" in header

    results = {r.structure.label: r for r in Result.objects.select_related("structure")}
    assert set(results) == {"Cu", "Al", "Ni"}
    cu = results["Cu"]
    ase_eos = EquationOfState(cu.output["volumes_a3"], cu.output["energies_ev"], "birchmurnaghan")
    v0, _, b0 = ase_eos.fit()
    assert cu.headline["b0_gpa"] == pytest.approx(b0 / GPa, rel=1e-3)
    assert cu.headline["v0_a3_per_atom"] == pytest.approx(v0 / cu.output["natoms"], rel=1e-4)
    assert cu.metrics["energy_derivative_flips"] == 1
    ref = cu.structure.reference
    assert cu.metrics["v0_rel_error"] == pytest.approx(
        (cu.headline["v0_a3_per_atom"] - ref["v0_a3_per_atom"]) / ref["v0_a3_per_atom"]
    )
    # The summary line: EMT, 3 done, 0 failed, 0 n/a, 0 missing, then the medians over the three.
    deltas = sorted(r.metrics["delta_mev_per_atom"] for r in results.values())
    errors = sorted(abs(r.metrics["b0_rel_error"]) for r in results.values())
    assert line.split()[:7] == ["EMT", "3", "0", "0", "0", f"{deltas[1]:.2f}", f"{errors[1]:.1%}"]
    job = cu.job
    assert job.status == JobStatus.DONE and job.attempts == 1
    assert job.started_at <= job.finished_at and job.compute_seconds > 0
    assert job.worker_host


def test_done_work_is_skipped_unless_forced(metals, capsys):
    call_command("run_benchmark", "eos", models="EMT", set_name=metals)
    first_ids = sorted(Result.objects.values_list("pk", flat=True))
    call_command("run_benchmark", "eos", models="EMT", set_name=metals)
    assert "0 jobs (in-process), 3 already done" in capsys.readouterr().out
    assert Job.objects.count() == 3

    call_command("run_benchmark", "eos", models="EMT", set_name=metals, limit=1, force=True)
    assert Job.objects.count() == 4
    assert Result.objects.count() == 3  # one current result per key, replaced
    assert sorted(Result.objects.values_list("pk", flat=True)) == first_ids


def test_changed_kwargs_checkpoint_or_parameters_make_new_keys(metals):
    call_command("run_benchmark", "eos", models="EMT", set_name=metals, limit=1)
    MLIP.objects.filter(name="EMT").update(calculator_kwargs={"asap_cutoff": True})
    call_command("run_benchmark", "eos", models="EMT", set_name=metals, limit=1)
    MLIP.objects.filter(name="EMT").update(checkpoint="emt-2")  # EMT ignores it; the key not
    call_command("run_benchmark", "eos", models="EMT", set_name=metals, limit=1)
    assert Job.objects.count() == 3
    assert len(set(Job.objects.values_list("key", flat=True))) == 3

    from tasks_app.models import StructureSet, Task
    from tasks_app.services import run_create

    structure_set = StructureSet.objects.get(name=metals)
    plan = {
        "task": Task.objects.get(slug="eos"),
        "models": [MLIP.objects.get(name="EMT")],
        "structure_set": structure_set,
        "structures": list(structure_set.structures.all()[:1]),
    }
    run, jobs = run_create(**plan)
    assert (len(jobs), run.skipped_done) == (0, 1)  # the same work is done already
    run, jobs = run_create(**plan, params={"fmax": 0.05})
    assert (len(jobs), run.skipped_done) == (1, 0)
    assert jobs[0].params == {**Task.objects.get(slug="eos").default_params, "fmax": 0.05}
    assert jobs[0].key not in set(Job.objects.exclude(pk=jobs[0].pk).values_list("key", flat=True))


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (["kappa"], {}, f"unknown task 'kappa'; valid tasks: {', '.join(sorted(TASKS))}"),
        (["eos"], {"models": "EMT,GAP-20"}, "unknown model(s) GAP-20; valid names: ANI-2x, "),
        (
            ["eos"],
            {"set_name": "wbm"},
            "unknown structure set 'wbm'; valid sets: alexandria-phonons, "
            "alexandria-phonons-small, combustion-h256o128, delta-dcdft",
        ),
        (
            ["eos"],
            {"structures": "Cu,Xx"},
            "structure(s) Xx not in set 'delta-dcdft'; its labels: H,",
        ),
    ],
)
def test_unknown_names_give_one_line_listing_valid_names(seeded_full, args, options, message):
    with pytest.raises(CommandError) as error:
        call_command("run_benchmark", *args, **options)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert not BenchmarkRun.objects.exists()


def test_a_model_that_cannot_load_fails_its_jobs_and_the_others_still_run(metals, tmp_path, capsys):
    MLIP.objects.create(
        name="Lost MACE", family="mace", checkpoint=str(tmp_path / "gone.model"), cpu_tasks=["eos"]
    )
    with pytest.raises(CommandError, match="3 failed, 0 unfinished"):
        call_command("run_benchmark", "eos", models="EMT,Lost MACE", set_name=metals)
    out = capsys.readouterr().out
    assert (
        f"FAILED Lost MACE / Cu: model 'Lost MACE': checkpoint file '{tmp_path}/gone.model'" in out
    )
    assert Result.objects.filter(model__name="EMT").count() == 3
    failed = Job.objects.filter(status=JobStatus.FAILED)
    assert failed.count() == 3
    assert all("does not exist" in job.error and job.traceback for job in failed)


def test_nan_energies_are_a_failed_job_not_a_result(seeded, inline_jobs, capsys):
    overlapping = Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 0]], cell=[3, 3, 3], pbc=True)
    store_structure_set(
        name="broken",
        description="",
        structures=[("overlap", overlapping, {}), ("Cu", bulk("Cu", "fcc", a=3.6), {})],
    )
    with pytest.raises(CommandError, match="1 failed"):
        call_command("run_benchmark", "eos", models="EMT", set_name="broken")
    job = Job.objects.get(structure__label="overlap")
    assert job.status == JobStatus.FAILED
    assert job.error == "non-finite energy or forces at step 0"
    assert not Result.objects.filter(job=job).exists()
    assert Result.objects.filter(structure__label="Cu").exists()


def test_earlier_results_survive_a_later_failing_run(metals, tmp_path):
    call_command("run_benchmark", "eos", models="EMT", set_name=metals)
    before = list(Result.objects.order_by("pk").values_list("pk", "headline"))
    MLIP.objects.filter(name="EMT").update(family="mace", checkpoint=str(tmp_path / "x"))
    with pytest.raises(CommandError):
        call_command("run_benchmark", "eos", models="EMT", set_name=metals)
    assert list(Result.objects.order_by("pk").values_list("pk", "headline")) == before


def test_relax_task_stores_its_output(metals):
    call_command("run_benchmark", "relax", models="EMT", set_name=metals, limit=1)
    result = Result.objects.get(task__slug="relax")
    assert set(result.headline) == {"energy_per_atom_ev", "volume_a3", "max_force_ev_per_a"}
    natoms = len(result.output["numbers"])
    assert result.headline["energy_per_atom_ev"] == pytest.approx(
        result.output["energy_ev"] / natoms
    )
    assert result.output["converged"] is True and "volume_a3" not in result.output
    assert result.headline["max_force_ev_per_a"] < 0.05  # the protocol's fmax


def test_nan_numbers_in_an_outcome_are_stored_as_null(metals):
    from tasks_app.models import StructureSet, Task
    from tasks_app.services import job_finish, run_create

    structure_set = StructureSet.objects.get(name=metals)
    _, jobs = run_create(
        task=Task.objects.get(slug="eos"),
        models=[MLIP.objects.get(name="EMT")],
        structure_set=structure_set,
        structures=list(structure_set.structures.all()[:1]),
    )
    nan = float("nan")
    job_finish(
        job_id=jobs[0].pk,
        output={"b0_gpa": nan, "energies_ev": [1.0, nan]},
        metrics={"tortuosity": nan, "flips": 1},
        compute_seconds=0.1,
    )
    result = Result.objects.get(job=jobs[0])
    assert result.headline == {
        "v0_a3_per_atom": None,
        "b0_gpa": None,
        "b0_prime": None,
        "e0_ev_per_atom": None,
    }
    assert result.output == {"energies_ev": [1.0, None]}
    assert result.metrics == {"tortuosity": None, "flips": 1}


def test_diatomics_curves_are_stored_in_float64_exactly(seeded, inline_jobs):
    """What the database gives back is the scan itself, digit for digit."""
    from ase.calculators.emt import EMT

    from compute.tasks import run_task

    call_command("run_benchmark", "diatomics", models="EMT", structures="Cu2")
    stored = Result.objects.get(structure__label="Cu2")
    direct = run_task("diatomics", Atoms("Cu2", positions=[[0, 0, 0], [2, 0, 0]]), EMT(), {})
    for key in ("distances_a", "energies_ev", "forces_ev_per_a"):
        assert stored.output[key] == direct[key]
    assert stored.headline["r_e_a"] == direct["r_e_a"]
