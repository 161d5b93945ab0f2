"""A crafted checkpoint never runs on the job path, whether the model was added here or
imported; an admin's approval pins the file's SHA-256 and only then does a pickle load."""

from __future__ import annotations

import hashlib

import pytest
import yaml
from ase.build import bulk
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.core.management.base import CommandError

from compute.calculators import clear_cache
from models_app.models import MLIP
from publishing.export import export_dataset
from publishing.imports import import_dataset
from tasks_app.models import Job, JobStatus, Result
from tasks_app.services import job_finish, job_start, run_create
from tasks_app.structure_sets import store_structure_set
from tests.compute.crafted import build_crafted_checkpoint, build_crafted_matgl_folder
from tests.compute.tiny_models import build_tiny_mace

pytestmark = pytest.mark.django_db


@pytest.fixture
def cu_set(seeded, inline_jobs):
    structure_set, _ = store_structure_set(
        name="cu-only", description="", structures=[("Cu", bulk("Cu", "fcc", a=3.6), {})]
    )
    return structure_set


@pytest.fixture
def evil(tmp_path):
    marker = tmp_path / "marker"
    path = build_crafted_checkpoint(tmp_path / "evil.model", marker)
    return path, marker


def test_a_job_for_a_crafted_checkpoint_fails_with_one_line_and_never_runs_it(cu_set, evil):
    path, marker = evil
    MLIP.objects.create(name="Evil", family="mace", checkpoint=str(path), cpu_tasks=["eos"])
    with pytest.raises(CommandError, match="1 failed"):
        call_command("run_benchmark", "eos", models="Evil", set_name="cu-only")
    job = Job.objects.get(model__name="Evil")
    assert job.status == JobStatus.FAILED
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert job.error == (
        f"model 'Evil': checkpoint {str(path)!r} can run code when loaded and is "
        f"not from a trusted source; if you trust it, approve its SHA-256 {digest} "
        "(admin action 'Approve checkpoint')"
    )
    assert not marker.exists()


def test_approving_in_the_admin_pins_the_file_and_lets_the_model_run(client, cu_set, tmp_path):
    user = User.objects.create_superuser("curator", "c@example.org", "pw")
    client.force_login(user)
    path = build_tiny_mace(tmp_path / "tiny.model")
    model = MLIP.objects.create(
        name="Tiny MACE", family="mace", checkpoint=str(path), cpu_tasks=["relax"]
    )
    with pytest.raises(CommandError, match="1 failed"):
        call_command("run_benchmark", "relax", models="Tiny MACE", set_name="cu-only")

    response = client.post(
        "/admin/models_app/mlip/",
        {"action": "approve_checkpoint", "_selected_action": [model.pk]},
        follow=True,
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts == [f"Tiny MACE: approved checkpoint {path} with SHA-256 {digest}"]
    model.refresh_from_db()
    assert model.checkpoint_sha256 == digest and model.checkpoint_approved_by == "curator"
    assert model.checkpoint_approved_at is not None

    call_command("run_benchmark", "relax", models="Tiny MACE", set_name="cu-only", force=True)
    assert Result.objects.get(model=model).output["converged"] in (True, False)

    # The file changes after approval: a fresh worker finds the pin no longer matches.
    build_tiny_mace(path, seed=1)
    clear_cache()
    with pytest.raises(CommandError, match="1 failed"):
        call_command("run_benchmark", "relax", models="Tiny MACE", set_name="cu-only", force=True)
    assert "the file changed since its approval" in Job.objects.order_by("-pk").first().error


def test_approving_a_missing_file_says_there_is_nothing_to_approve(client, seeded, tmp_path):
    client.force_login(User.objects.create_superuser("curator", "c@example.org", "pw"))
    model = MLIP.objects.create(name="Gone", family="mace", checkpoint=str(tmp_path / "x.model"))
    response = client.post(
        "/admin/models_app/mlip/",
        {"action": "approve_checkpoint", "_selected_action": [model.pk]},
        follow=True,
    )
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts == [
        f"Gone: nothing to approve: checkpoint file '{tmp_path}/x.model' does not exist"
    ]


def test_imported_models_come_in_disabled_and_unpinned_and_their_pickle_never_runs(
    cu_set, evil, tmp_path
):
    path, marker = evil
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    # Elsewhere, someone approved the crafted file and published a result for it.
    model = MLIP.objects.create(
        name="Evil",
        family="mace",
        checkpoint=str(path),
        cpu_tasks=["eos"],
        checkpoint_sha256=digest,
    )
    from tasks_app.models import Task

    run, jobs = run_create(
        task=Task.objects.get(slug="relax"),
        models=[model],
        structure_set=cu_set,
        structures=list(cu_set.structures.all()),
    )
    job_start(job_id=jobs[0].id)
    job_finish(job_id=jobs[0].id, output={"energy_ev": -3.0}, metrics={}, compute_seconds=1.0)
    folder = export_dataset(repo_id="arena-test/evil", folder=tmp_path / "export").folder
    assert digest not in (folder / "registry" / "models.jsonl").read_text()
    Result.objects.all().delete()
    Job.objects.all().delete()
    run.delete()
    model.delete()

    report = import_dataset(source=str(folder))
    assert report.models == ["Evil"]
    imported = MLIP.objects.get(name="Evil")
    assert (imported.enabled, imported.checkpoint_sha256) == (False, "")

    MLIP.objects.exclude(name__in=["EMT", "Evil"]).update(enabled=False)
    call_command("run_benchmark", "eos", set_name="cu-only")  # enabled models: EMT alone
    assert set(Job.objects.filter(task__slug="eos").values_list("model__name", flat=True)) == {
        "EMT"
    }
    with pytest.raises(CommandError, match="1 failed"):
        call_command("run_benchmark", "eos", models="Evil", set_name="cu-only")
    job = Job.objects.get(model=imported, task__slug="eos")
    assert "can run code when loaded" in job.error and "\n" not in job.error
    assert not marker.exists()


def test_a_pin_in_the_yaml_seed_is_refused_and_no_row_changes(cu_set, evil, tmp_path):
    path, marker = evil
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    before = list(MLIP.objects.order_by("pk").values())
    registry = tmp_path / "registry.yaml"
    entry = {"name": "Evil", "family": "mace", "checkpoint": str(path), "checkpoint_sha256": digest}
    registry.write_text(yaml.safe_dump({"models": [entry]}))
    with pytest.raises(CommandError) as error:
        call_command("seed_registry", models_yaml=registry)
    assert str(error.value) == (
        "refused model Evil: checkpoint_sha256 is pinned only by an admin's "
        "'Approve checkpoint', never by the seed"
    )
    assert list(MLIP.objects.order_by("pk").values()) == before


def test_a_pin_without_an_approval_on_record_does_not_let_a_pickle_run(cu_set, evil):
    # A pin written past the admin action (an old seed, a database edit) counts for nothing.
    path, marker = evil
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    MLIP.objects.create(
        name="Evil",
        family="mace",
        checkpoint=str(path),
        checkpoint_sha256=digest,
        cpu_tasks=["eos"],
    )
    with pytest.raises(CommandError, match="1 failed"):
        call_command("run_benchmark", "eos", models="Evil", set_name="cu-only")
    job = Job.objects.get(model__name="Evil")
    assert job.error.startswith(f"model 'Evil': checkpoint {str(path)!r} can run code when loaded")
    assert not Result.objects.exists()
    assert not marker.exists()


def test_an_imported_matgl_folder_never_runs_its_code_on_check_model(seeded, tmp_path):
    marker = tmp_path / "marker"
    folder = build_crafted_matgl_folder(tmp_path / "evil-matgl", marker)
    MLIP.objects.create(name="Evil MatGL", family="matgl", checkpoint=str(folder), enabled=False)
    with pytest.raises(CommandError) as error:
        call_command("check_model", "Evil MatGL")
    assert "can run code when loaded" in str(error.value) and "\n" not in str(error.value)
    assert not MLIP.objects.get(name="Evil MatGL").last_check_ok
    assert not marker.exists()


def test_the_approve_command_records_who_and_when_and_the_model_then_runs(cu_set, tmp_path):
    path = build_tiny_mace(tmp_path / "tiny.model")
    MLIP.objects.create(name="Tiny MACE", family="mace", checkpoint=str(path), cpu_tasks=["relax"])
    with pytest.raises(CommandError, match="--by is empty"):
        call_command("approve_checkpoint", "Tiny MACE", by=" ")
    assert MLIP.objects.get(name="Tiny MACE").checkpoint_sha256 == ""
    call_command("approve_checkpoint", "Tiny MACE", by="curator")
    model = MLIP.objects.get(name="Tiny MACE")
    assert model.checkpoint_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert model.checkpoint_approved_by == "curator" and model.checkpoint_approved_at
    call_command("run_benchmark", "relax", models="Tiny MACE", set_name="cu-only")
    assert Result.objects.filter(model=model).count() == 1
