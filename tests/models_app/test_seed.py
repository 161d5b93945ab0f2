"""Seeding the registries from YAML: idempotent, reports changes, refuses bad entries."""

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from arena_site.errors import ArenaError
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
    changed = {"name": "EMT", "family": "emt", "license": "BSD", "checkpoint": "x"}
    report = seed_models(path=write_registry(tmp_path, [changed]))
    assert report.updated == ["EMT (checkpoint, license)"]  # in the model's field order


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


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"cpu_tasks": "eos"}, 'cpu_tasks: must be a JSON list of names such as ["eos"]'),
        ({"gpu_tasks": ["eos", 3]}, 'gpu_tasks: must be a JSON list of names such as ["eos"]'),
        ({"training_datasets": "MPtrj"}, "training_datasets: must be a JSON list of names"),
        ({"release_date": "2023-13-01"}, "release_date:"),
        ({"prediction_type": "EFGH"}, "prediction_type: Value 'EFGH' is not a valid choice."),
        ({"calculator_kwargs": "cutoff=5"}, "calculator_kwargs: must be a JSON object"),
    ],
)
def test_a_refused_update_keeps_the_stored_row_and_names_the_field(tmp_path, entry, message):
    seed_models(path=write_registry(tmp_path, [{"name": "EMT", "family": "emt"}]))
    before = MLIP.objects.filter(name="EMT").values().get()
    report = seed_models(
        path=write_registry(
            tmp_path, [{"name": "EMT", "family": "emt", **entry}, {"name": "B", "family": "emt"}]
        )
    )
    assert len(report.errors) == 1 and report.errors[0].startswith(f"EMT: {message}")
    assert "\n" not in report.errors[0]
    assert MLIP.objects.filter(name="EMT").values().get() == before
    assert report.created == ["B"] and report.updated == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- name: EMT\n", "needs a top-level list named 'models'"),
        ("models: {EMT: emt}\n", "needs a top-level list named 'models'"),
        ("", "needs a top-level list named 'models'"),
    ],
)
def test_a_registry_without_a_list_of_models_is_refused_whole(tmp_path, text, message):
    path = tmp_path / "registry.yaml"
    path.write_text(text)
    with pytest.raises(Exception, match=message):
        seed_models(path=path)
    assert not MLIP.objects.exists()


def test_entries_that_are_not_mappings_are_refused_by_position(tmp_path):
    entries = ["EMT", {"name": "B", "family": "emt"}, {"name": ""}, {"name": 7, "family": "emt"}]
    report = seed_models(path=write_registry(tmp_path, entries))
    assert report.errors == [
        "entry 1 in registry.yaml has no name",
        "entry 3 in registry.yaml has no name",
        "entry 4 in registry.yaml: name must be text, not int",
    ]
    assert report.created == ["B"]


def test_the_command_prints_an_unreadable_registry_in_one_line_and_fails(tmp_path):
    path = tmp_path / "registry.yaml"
    path.write_text("models: [unclosed")
    with pytest.raises(CommandError) as error:
        call_command("seed_registry", models_yaml=path)
    assert str(error.value).startswith(
        f"cannot read registry {path}: while parsing a flow sequence"
    )
    assert "\n" not in str(error.value)
    assert not MLIP.objects.exists()


def test_task_rows_carry_each_specs_title_category_and_description():
    from compute.tasks import TASKS
    from tasks_app.services import seed_tasks

    seed_tasks()
    for slug, spec in TASKS.items():
        row = Task.objects.get(slug=slug)
        assert (row.name, row.category, row.description, row.function) == (
            spec.title,
            spec.category,
            spec.description,
            spec.name,
        )
    assert Task.objects.get(slug="eos").category == "Physical soundness"


def test_a_task_spec_the_database_refuses_is_reported_and_the_others_are_seeded(monkeypatch):
    from compute.tasks import TASKS
    from compute.tasks.spec import TaskSpec
    from tasks_app import services

    broken = TaskSpec(
        name="eos", title="T" * 130, category="C" * 61, description="", run=TASKS["eos"].run
    )
    monkeypatch.setattr(services, "TASKS", {"broken": broken, **TASKS})
    report = services.seed_tasks()
    assert report.errors == [
        "broken: Ensure this value has at most 120 characters (it has 130). "
        "Ensure this value has at most 60 characters (it has 61)."
    ]
    assert sorted(report.created) == sorted(TASKS)
    assert not Task.objects.filter(slug="broken").exists()


def test_task_rows_the_specs_no_longer_have_stay_unless_pruning():
    from tasks_app.services import seed_tasks

    Task.objects.create(slug="old-eos", name="Old", function="eos")
    assert seed_tasks().deleted == []
    assert Task.objects.filter(slug="old-eos").exists()


def test_a_name_given_twice_is_refused_and_the_first_entry_stands(tmp_path):
    path = write_registry(
        tmp_path,
        [{"name": "Twin", "family": "emt"}, {"name": "Twin", "family": "emt", "license": "x"}],
    )
    report = seed_models(path=path)
    assert report.created == ["Twin"]
    assert report.errors == ["Twin: named again by entry 2; names must be unique"]
    assert MLIP.objects.get(name="Twin").license == ""


def test_a_yaml_alias_bomb_is_refused_and_writes_nothing(tmp_path):
    from tests.compute.test_bounded_input import alias_bomb

    path = tmp_path / "registry.yaml"
    path.write_text(
        alias_bomb() + "models:\n  - name: Bomb\n    family: emt\n    calculator_kwargs: {x: *a9}\n"
    )
    assert path.stat().st_size < 700
    with pytest.raises(CommandError) as error:
        call_command("seed_registry", models_yaml=path)
    assert str(error.value) == (
        f"cannot read registry {path}: its YAML expands to more than 100000 values "
        "(aliases repeated inside aliases)"
    )
    assert not MLIP.objects.exists()


def test_a_registry_file_over_the_yaml_limit_is_refused_by_its_size(tmp_path):
    """Refused by the file's size before it is read (a 256 MiB file would be read whole)."""
    from compute.bounded_input import MAX_YAML_BYTES

    path = tmp_path / "registry.yaml"
    path.write_text("#" * MAX_YAML_BYTES + "\n")
    with pytest.raises(ArenaError) as error:
        seed_models(path=path)
    assert str(error.value) == (
        f"cannot read registry {path}: 1048577 bytes, more than the limit of 1048576"
    )


def test_each_refused_entry_is_skipped_and_the_entries_after_it_are_seeded(tmp_path):
    entries = [
        {"name": 7, "family": "emt"},
        {"name": "A", "family": "emt"},
        {"name": "A", "family": "emt"},
        {"name": "B", "family": "emt", "colour": "red", "bogus": 1},
        {"name": "C", "family": "emt", "checkpoint_sha256": "0" * 64},
        {"name": "D", "family": "emt"},
    ]
    report = seed_models(path=write_registry(tmp_path, entries))
    assert report.errors == [
        "entry 1 in registry.yaml: name must be text, not int",
        "A: named again by entry 3; names must be unique",
        "B: unknown field(s) bogus, colour",
        "C: checkpoint_sha256 is pinned only by an admin's 'Approve checkpoint', never by the seed",
    ]
    assert report.created == ["A", "D"]
