"""Seeding the registries from YAML: idempotent, reports changes, refuses bad entries."""

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from compute.tasks import TASKS
from models_app.models import MLIP
from models_app.services import REGISTRY_PATH, seed_models
from tasks_app.models import Structure, StructureSet, Task
from tasks_app.services import run_create

pytestmark = pytest.mark.django_db


def test_seed_registry_creates_everything_then_changes_nothing(capsys):
    call_command("seed_registry")
    first = capsys.readouterr().out
    entries = yaml.safe_load(REGISTRY_PATH.read_text())["models"]
    assert sorted(MLIP.objects.values_list("name", flat=True)) == sorted(e["name"] for e in entries)
    assert f"created model {entries[0]['name']}" in first
    assert set(Task.objects.values_list("slug", flat=True)) == set(TASKS)
    assert Structure.objects.filter(structure_set__name="delta-dcdft").count() == 71
    snapshot = list(MLIP.objects.order_by("pk").values())

    call_command("seed_registry")
    assert capsys.readouterr().out.strip() == "registry up to date: nothing changed"
    assert list(MLIP.objects.order_by("pk").values()) == snapshot


def test_seed_rows_hold_the_yaml_values():
    seed_models()
    chgnet = MLIP.objects.get(name="CHGNet")
    assert chgnet.family == "chgnet"
    assert chgnet.checkpoint == "0.3.0"
    assert chgnet.training_datasets == ["MPtrj"]
    assert chgnet.prediction_type == "EFSM"
    assert str(chgnet.release_date) == "2023-02-28"


def write_registry(tmp_path: Path, models: list[dict]) -> Path:
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump({"models": models}))
    return path


def test_changed_field_is_updated_and_reported(tmp_path):
    seed_models(path=write_registry(tmp_path, [{"name": "EMT", "family": "emt"}]))
    report = seed_models(
        path=write_registry(tmp_path, [{"name": "EMT", "family": "emt", "license": "MIT"}])
    )
    assert report.updated == ["EMT (license)"]
    assert MLIP.objects.get(name="EMT").license == "MIT"


def test_bad_entries_are_refused_one_line_each_and_the_rest_go_on(tmp_path):
    path = write_registry(
        tmp_path,
        [
            {"name": "Bad family", "family": "vasp"},
            {"name": "Bad kwargs", "family": "emt", "calculator_kwargs": [1, 2]},
            {"name": "Typo", "family": "emt", "chekpoint": "x"},
            {"family": "emt"},
            {"name": "Good", "family": "emt"},
        ],
    )
    report = seed_models(path=path)
    assert report.created == ["Good"]
    assert len(report.errors) == 4
    assert all("\n" not in line for line in report.errors)
    assert (
        "unknown family 'vasp'; choose one of: ani, chgnet, deepmd, emt, fairchem, grace, "
        "mace, matgl, mattersim, nequip" in (report.errors[0])
    )
    assert "must be a JSON object" in report.errors[1]
    assert "unknown field(s) chekpoint" in report.errors[2]
    assert "has no name" in report.errors[3]


def test_command_exits_non_zero_on_refused_entries_but_keeps_the_good_ones(tmp_path, capsys):
    path = write_registry(
        tmp_path, [{"name": "Bad", "family": "nope"}, {"name": "Good", "family": "emt"}]
    )
    with pytest.raises(CommandError) as refused:
        call_command("seed_registry", models_yaml=path)
    assert str(refused.value).startswith("refused model Bad: family: unknown family 'nope'")
    assert "\n" not in str(refused.value)
    assert "created model Good" in capsys.readouterr().out
    assert MLIP.objects.filter(name="Good").exists()


def test_unreadable_yaml_is_one_clear_error(tmp_path):
    path = tmp_path / "registry.yaml"
    path.write_text("models: [unclosed")
    with pytest.raises(Exception, match=r"cannot read registry .*registry.yaml"):
        seed_models(path=path)


def test_nothing_is_deleted_unless_pruning(tmp_path):
    seed_models(path=write_registry(tmp_path, [{"name": "A", "family": "emt"}]))
    seed_models(path=write_registry(tmp_path, [{"name": "B", "family": "emt"}]))
    assert set(MLIP.objects.values_list("name", flat=True)) == {"A", "B"}
    report = seed_models(
        path=write_registry(tmp_path, [{"name": "B", "family": "emt"}]), prune=True
    )
    assert report.deleted == ["A"]
    assert set(MLIP.objects.values_list("name", flat=True)) == {"B"}


def test_pruning_keeps_a_model_that_has_jobs(tmp_path, seeded, inline_jobs):
    delta = StructureSet.objects.get(name="delta-dcdft")
    run_create(
        task=Task.objects.get(slug="eos"),
        models=[MLIP.objects.get(name="EMT")],
        structure_set=delta,
        structures=list(delta.structures.all()[:1]),
    )
    only_chgnet = write_registry(tmp_path, [{"name": "CHGNet", "family": "chgnet"}])
    report = seed_models(path=only_chgnet, prune=True)
    assert "EMT" not in report.deleted
    assert any(line.startswith("EMT: has benchmark jobs") for line in report.errors)
    assert MLIP.objects.filter(name="EMT").exists()


def test_task_rows_carry_mlip_arenas_protocols_from_the_task_specs():
    from tasks_app.services import seed_tasks

    report = seed_tasks()
    assert sorted(report.created) == sorted(TASKS)
    eos = Task.objects.get(slug="eos")
    # MLIP Arena's eos_bulk: FIRE + FrechetCell to fmax 0.1, 21 points over ±20 % volume.
    assert eos.default_params == {
        "optimizer": "FIRE",
        "cell_filter": "FrechetCell",
        "fmax": 0.1,
        "steps": 500,
        "npoints": 21,
        "min_volume_factor": 0.8,
        "max_volume_factor": 1.2,
        "symmetry": False,
    }
    assert (eos.function, eos.version, eos.default_structure_set) == ("eos", 1, "delta-dcdft")
    # MLIP Arena's tasks/ev.py: 21 points, linear strain up to ±0.2, no relaxation.
    assert Task.objects.get(slug="ev").default_params == {"max_abs_strain": 0.2, "npoints": 21}

    Task.objects.filter(slug="eos").update(version=7, name="Renamed")
    report = seed_tasks()
    assert report.updated == ["eos (name, version)"]
    assert Task.objects.get(slug="eos").version == 1


def test_task_pruning_deletes_only_unlisted_rows_without_jobs(seeded, inline_jobs):
    from tasks_app.services import seed_tasks

    Task.objects.create(slug="old-eos", name="Old", function="eos")
    used = Task.objects.create(slug="used-eos", name="Used", function="eos")
    delta = StructureSet.objects.get(name="delta-dcdft")
    run_create(
        task=used,
        models=[MLIP.objects.get(name="EMT")],
        structure_set=delta,
        structures=list(delta.structures.all()[:1]),
    )
    report = seed_tasks(prune=True)
    assert report.deleted == ["Old"]
    assert any(line.startswith("Used: has benchmark jobs") for line in report.errors)
    assert set(Task.objects.values_list("slug", flat=True)) == {*TASKS, "used-eos"}
