"""The move of EOS headline columns into Result.headline keeps every number as it was."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("tasks_app", "0001_initial")]
AFTER = [("tasks_app", "0002_result_headline")]
BEFORE_JOB_LEASES = [("tasks_app", "0002_result_headline")]
# Floats that a decimal round trip could disturb: many digits, tiny, huge, negative.
EOS = {
    "v0_a3_per_atom": 11.951099999999997,
    "e0_ev_per_atom": -3.7152391876543219,
    "b0_gpa": 141.33500000000001,
    "b0_prime": 4.860000000000001e-05,
}


def migrate(targets):
    """Migrate tasks_app to ``targets`` with every other app at its latest migration."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    others = [n for n in executor.loader.graph.leaf_nodes() if n[0] != "tasks_app"]
    executor.migrate([*targets, *others])
    return executor.loader.project_state([*targets, *others]).apps


def make_result(apps, function: str, output: dict, **columns):
    models = apps.get_model("models_app", "MLIP")
    task_model = apps.get_model("tasks_app", "Task")
    set_model = apps.get_model("tasks_app", "StructureSet")
    structure_model = apps.get_model("tasks_app", "Structure")
    run_model = apps.get_model("tasks_app", "BenchmarkRun")
    job_model = apps.get_model("tasks_app", "Job")
    result_model = apps.get_model("tasks_app", "Result")
    model, _ = models.objects.get_or_create(name="EMT", family="emt")
    task = task_model.objects.create(slug=function, name=function, function=function)
    structure_set, _ = set_model.objects.get_or_create(name="s")
    structure = structure_model.objects.create(
        structure_set=structure_set,
        label=function,
        formula="Cu",
        natoms=1,
        atoms={},
        content_hash="h",
    )
    run = run_model.objects.create(task=task, structure_set=structure_set)
    job = job_model.objects.create(
        run=run, model=model, task=task, structure=structure, key=function, params_hash=""
    )
    return result_model.objects.create(
        key=function, job=job, model=model, task=task, structure=structure, output=output, **columns
    ).pk


@pytest.fixture
def latest_schema_after():
    """Every app back at its latest migration when the test ends, for the tests after it."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_headline_numbers_move_unchanged_and_back(latest_schema_after):
    apps = migrate(BEFORE)
    eos = make_result(apps, "eos", {"volumes_a3": [1.0, 2.0]}, **EOS)
    relax = make_result(apps, "relax", {"energy_per_atom_ev": -3.5, "volume_a3": 11.8, "steps": 12})

    apps = migrate(AFTER)
    results = apps.get_model("tasks_app", "Result").objects
    moved = results.get(pk=eos)
    assert moved.headline == EOS  # exact float equality, key by key
    assert moved.output == {"volumes_a3": [1.0, 2.0]}
    relaxed = results.get(pk=relax)
    assert relaxed.headline == {"energy_per_atom_ev": -3.5, "volume_a3": 11.8}
    assert relaxed.output == {"steps": 12}
    assert results.filter(headline__b0_gpa__gt=141).count() == 1  # JSON key lookups work

    apps = migrate(BEFORE)
    back = apps.get_model("tasks_app", "Result").objects.get(pk=eos)
    assert {k: getattr(back, k) for k in EOS} == EOS
    assert apps.get_model("tasks_app", "Result").objects.get(pk=relax).output == {
        "energy_per_atom_ev": -3.5,
        "volume_a3": 11.8,
        "steps": 12,
    }


def test_duplicate_unfinished_jobs_keep_their_oldest_before_the_one_per_key_constraint(
    latest_schema_after,
):
    apps = migrate(BEFORE_JOB_LEASES)
    make_result(apps, "eos", {})  # a done job with a result, key "eos"
    jobs = apps.get_model("tasks_app", "Job").objects
    jobs.update(status="done")
    done = jobs.get()
    copies = []
    for status in ("queued", "running", "queued"):
        done.pk = None
        done.status = status
        done.save()
        copies.append(done.pk)

    apps = migrate([("tasks_app", "0003_job_lease_and_reuse")])
    statuses = dict(apps.get_model("tasks_app", "Job").objects.values_list("pk", "status"))
    assert [statuses[pk] for pk in copies] == ["queued", "failed", "failed"]
    errors = apps.get_model("tasks_app", "Job").objects.filter(pk__in=copies[1:])
    assert set(errors.values_list("error", flat=True)) == {
        f"superseded by job {copies[0]} for the same key"
    }
