"""run_benchmark --workers N without Redis: local worker processes sharing one run.

Real processes on a real SQLite file: every job runs once and gives what the protocol
gives when computed here (a worker killed mid-job: tests/faults/test_local_worker_killed.py).
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.eos import EquationOfState
from ase.units import GPa
from django.core.management import call_command
from django.core.management.base import CommandError

from compute.tasks import run_task
from tasks_app.execution.local_workers import local_worker_count, rotated
from tasks_app.models import BenchmarkRun, Job
from tasks_app.selectors import next_claimable_job
from tasks_app.services import run_create
from tasks_app.structure_sets import store_structure_set
from tests.conftest import manage

# Four fcc metals EMT covers, as 32-atom cells: distinct curves, a second or two each.
METALS = {"Al": 4.05, "Cu": 3.61, "Ag": 4.09, "Ni": 3.52}
# The database of a fresh install with the registry and the metals, in one process.
PREPARE = f"""
from ase.build import bulk
from django.core.management import call_command
from models_app.services import seed_models
from tasks_app.services import seed_tasks
from tasks_app.structure_sets import store_structure_set
call_command("migrate", verbosity=0)
seed_models()
seed_tasks()
metals = [(el, bulk(el, "fcc", a=a, cubic=True).repeat(2), {{}}) for el, a in {METALS!r}.items()]
store_structure_set(name="m", description="", structures=metals)
"""


def test_two_workers_on_sqlite_run_each_job_once_with_the_protocols_numbers(tmp_path):
    env = {
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "SQLITE_PATH": str(tmp_path / "arena.sqlite3"),
        "OMP_NUM_THREADS": "1",
    }
    prepared = manage("shell", "-c", PREPARE, env=env)
    assert prepared.returncode == 0, prepared.stderr

    run = manage("run_benchmark", "eos", "--models", "EMT", "--set", "m", "--workers", "2", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 jobs (in-process)" in run.stdout
    assert "2 local workers, 1 compute threads each" in run.stdout
    assert "4/4" in run.stderr  # the progress bar reached the end
    assert run.stdout.splitlines()[-1].split()[:5] == ["EMT", "4", "0", "0", "0"]

    with sqlite3.connect(tmp_path / "arena.sqlite3") as db:
        assert db.execute("pragma journal_mode").fetchone() == ("wal",)
        jobs = db.execute("select status, attempts from tasks_app_job").fetchall()
        results = db.execute(
            "select s.label, r.headline, r.output from tasks_app_result r "
            "join tasks_app_structure s on s.id = r.structure_id"
        ).fetchall()
    assert jobs == [("done", 1)] * 4
    assert sorted(label for label, *_ in results) == sorted(METALS)

    for label, headline, output in results:
        headline, output = json.loads(headline), json.loads(output)
        # EMT is deterministic and each worker runs the same protocol as this process;
        # 1e-9 leaves room for summation order only.
        atoms = bulk(label, "fcc", a=METALS[label], cubic=True).repeat(2)
        here = run_task("eos", atoms, EMT(), {})
        assert headline["b0_gpa"] == pytest.approx(here["b0_gpa"], rel=1e-9)
        assert headline["v0_a3_per_atom"] == pytest.approx(here["v0_a3_per_atom"], rel=1e-9)
        assert output["energies_ev"] == pytest.approx(here["energies_ev"], rel=1e-9)
        # and the fit is ASE's own (its Birch–Murnaghan, within the fit's 1e-3 spread)
        v0, _, b0 = EquationOfState(
            output["volumes_a3"], output["energies_ev"], "birchmurnaghan"
        ).fit()
        assert headline["b0_gpa"] == pytest.approx(b0 / GPa, rel=1e-3)


# The choices behind the processes ---------------------------------------------------


@pytest.fixture
def two_models_run(seeded, inline_jobs):
    from models_app.models import MLIP
    from tasks_app.models import StructureSet, Task

    store_structure_set(
        name="pair",
        description="",
        structures=[(el, bulk(el, "fcc", a=METALS[el]), {}) for el in ("Cu", "Al")],
    )
    structure_set = StructureSet.objects.get(name="pair")
    emt = MLIP.objects.get(name="EMT")
    other = MLIP.objects.create(name="EMT copy", family="emt", cpu_tasks=["eos"])
    run, _ = run_create(
        task=Task.objects.get(slug="eos"),
        models=[emt, other],
        structure_set=structure_set,
        structures=list(structure_set.structures.all()),
    )
    return run, emt, other


@pytest.mark.django_db
def test_each_worker_starts_with_its_own_model(two_models_run):
    run, emt, other = two_models_run
    first = Job.objects.get(pk=next_claimable_job(run=run))
    assert first.model == emt  # one process: by model name
    assert rotated([emt.pk, other.pk], 1) == (other.pk, emt.pk)
    preferred = Job.objects.get(pk=next_claimable_job(run=run, models_first=(other.pk, emt.pk)))
    assert (preferred.model, preferred.structure.label) == (other, "Cu")


@pytest.mark.django_db
def test_one_worker_where_other_processes_cannot_see_the_run(two_models_run):
    run, *_ = two_models_run
    # Inside the test's transaction no other process sees the run: one worker, said why.
    assert local_worker_count(run=run, requested=8) == (
        1,
        "one worker: the run's rows are inside an open transaction",
    )
    assert BenchmarkRun.objects.count() == 1


@pytest.mark.django_db
def test_workers_needs_no_redis_and_at_least_one(seeded, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    with pytest.raises(CommandError, match="start more rqworker processes instead"):
        call_command("run_benchmark", "eos", models="EMT", workers=2)
    settings.REDIS_URL = ""
    with pytest.raises(CommandError, match="--workers must be at least 1, not 0"):
        call_command("run_benchmark", "eos", models="EMT", workers=0)
    assert not BenchmarkRun.objects.exists()
