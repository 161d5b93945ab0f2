"""import_hf: exports move between installations (PostgreSQL, SQLite) and back, idempotently."""

from __future__ import annotations

import json
import platform

import ase
import pytest
from ase.calculators.emt import EMT
from django.core.management import call_command
from django.core.management.base import CommandError

from compute.provenance import provenance
from models_app.models import MLIP
from publishing.export import export_dataset
from publishing.imports import import_dataset
from tasks_app.models import BenchmarkRun, Job, JobStatus, Result, Structure, StructureSet, Task
from tests.conftest import manage
from tests.publishing.conftest import SECOND_MODEL, folder_files, sqlite_env

pytestmark = pytest.mark.django_db
REPO = "arena-test/results"


def forget_everything() -> None:
    for model in (Result, Job, BenchmarkRun, Structure, StructureSet, Task, MLIP):
        model.objects.all().delete()


def test_round_trip_between_this_database_and_a_fresh_sqlite_one(
    arena_results, migrated_sqlite, tmp_path
):
    original = export_dataset(repo_id=REPO, folder=tmp_path / "original").folder
    env = sqlite_env(migrated_sqlite.copy(tmp_path / "other.sqlite3"))
    assert migrated_sqlite.outcomes["migrate"]["returncode"] == 0

    first = manage("import_hf", str(original), env=env)
    assert first.returncode == 0, first.stderr
    assert f"{arena_results} results created, 0 updated, 0 unchanged" in first.stdout
    assert "added 2 models, 2 tasks, 74 structures" in first.stdout
    again = manage("import_hf", str(original), env=env)
    assert f"0 results created, 0 updated, {arena_results} unchanged" in again.stdout
    exported = manage("export_hf", "--repo", REPO, "--out", str(tmp_path / "sqlite"), env=env)
    assert exported.returncode == 0, exported.stderr
    assert folder_files(tmp_path / "sqlite") == folder_files(original)

    back = import_dataset(source=str(tmp_path / "sqlite"))
    assert (back.created, back.updated, back.unchanged) == (0, 0, arena_results)

    forget_everything()
    report = import_dataset(source=str(tmp_path / "sqlite"))
    assert (report.created, report.models, report.structures) == (
        arena_results,
        ["EMT", SECOND_MODEL],
        74,
    )
    assert set(Job.objects.values_list("status", flat=True)) == {JobStatus.DONE}
    runs = BenchmarkRun.objects.all()
    assert {(run.task.slug, run.options["imported_from"]) for run in runs} == {
        ("eos", str(tmp_path / "sqlite")),
        ("relax", str(tmp_path / "sqlite")),
    }
    again = export_dataset(repo_id=REPO, folder=tmp_path / "again").folder
    assert folder_files(again) == folder_files(original)


def test_a_changed_imported_result_is_replaced_through_a_new_job(arena_results, tmp_path):
    folder = export_dataset(repo_id=REPO, folder=tmp_path / "export").folder
    forget_everything()
    import_dataset(source=str(folder))  # every result here now came from the dataset
    result = Result.objects.get(model__name="EMT", task__slug="eos", structure__label="Cu")
    exported_metrics, old_job = dict(result.metrics), result.job_id
    exported_headline = dict(result.headline)
    Result.objects.filter(pk=result.pk).update(
        metrics={"tortuosity": 9.0}, headline={**exported_headline, "b0_gpa": 1.0}
    )

    report = import_dataset(source=str(folder))
    assert (report.created, report.updated, report.unchanged) == (0, 1, arena_results - 1)
    result.refresh_from_db()
    assert result.metrics == exported_metrics and result.headline == exported_headline
    assert result.job_id != old_job and result.job.status == JobStatus.DONE
    assert result.job.run.options["imported_from"] == str(folder)


def result_rows() -> list[dict]:
    return list(Result.objects.order_by("pk").values())


def tamper(folder, edit) -> None:
    """Apply ``edit`` to every result row of the export's EOS file."""
    path = folder / "data" / "eos.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(edit(row)) + "\n" for row in rows))


def test_a_tampered_export_never_replaces_results_computed_here(arena_results, tmp_path, capsys):
    folder = export_dataset(repo_id=REPO, folder=tmp_path / "export").folder

    def better(row):
        row["headline.b0_gpa"] *= 1.5
        row["metrics.delta_mev_per_atom"] = 0.001
        return row

    tamper(folder, better)
    before = result_rows()
    call_command("import_hf", str(folder))
    eos_results = Result.objects.filter(task__slug="eos").count()
    assert capsys.readouterr().out.strip() == (
        f"imported {folder}: 0 results created, 0 updated, {arena_results - eos_results} "
        f"unchanged; added 0 models, 0 tasks, 0 structures; kept {eos_results} results "
        "computed here that the export differs from (an import never replaces them)"
    )
    assert result_rows() == before


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_in_an_export_are_refused(arena_results, tmp_path, number):
    folder = export_dataset(repo_id=REPO, folder=tmp_path / "export").folder
    forget_everything()
    path = folder / "data" / "eos.jsonl"
    lines = path.read_text().splitlines()
    row = json.loads(lines[0])
    row["headline.b0_gpa"] = "PLACEHOLDER"
    lines[0] = json.dumps(row).replace('"PLACEHOLDER"', number)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CommandError) as error:
        call_command("import_hf", str(folder))
    assert str(error.value) == (
        f"data/eos.jsonl:1: {number} is not a finite number; an export holds finite numbers or null"
    )
    assert not Result.objects.exists() and not MLIP.objects.exists()


def test_an_export_whose_wien2k_reference_differs_from_the_task_is_refused(arena_results, tmp_path):
    folder = export_dataset(repo_id=REPO, folder=tmp_path / "export").folder
    forget_everything()
    path = folder / "registry" / "structures.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    copper = next(r for r in rows if r["structure_set"] == "delta-dcdft" and r["label"] == "Cu")
    copper["reference.b0_gpa"] *= 1.5
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(CommandError) as error:
        call_command("import_hf", str(folder))
    assert str(error.value) == (
        "structure 'Cu' of set 'delta-dcdft' has another reference in the export than the "
        "task's own; references come only from the task specs"
    )
    assert not Structure.objects.exists() and not Result.objects.exists()


def test_import_refuses_a_model_that_differs_and_imports_nothing(arena_results, tmp_path):
    folder = export_dataset(repo_id=REPO, folder=tmp_path / "export").folder
    forget_everything()
    MLIP.objects.create(name="EMT", family="emt", checkpoint="other.model")
    with pytest.raises(CommandError) as error:
        call_command("import_hf", str(folder))
    assert str(error.value) == (
        "model 'EMT' has checkpoint 'other.model' here but '' in the export; "
        "rename one of them or align them before importing"
    )
    assert not Result.objects.exists() and not Task.objects.exists()


def test_bad_sources_fail_with_one_line(db, tmp_path):
    with pytest.raises(CommandError, match="is not an export of export_hf: it has no registry"):
        call_command("import_hf", str(tmp_path))
    (tmp_path / "registry").mkdir()
    (tmp_path / "registry" / "models.jsonl").write_text('{"name": "EMT"\n')
    with pytest.raises(CommandError, match=r"^registry/models.jsonl:1 is not JSON \("):
        call_command("import_hf", str(tmp_path))
    with pytest.raises(CommandError, match="is neither a folder nor a dataset repo ORG/NAME"):
        call_command("import_hf", "no/such/folder")


def test_import_from_a_hub_dataset_repo_then_offline_from_the_cache(
    arena_results, migrated_sqlite, hub_env, monkeypatch, tmp_path
):
    folder = export_dataset(repo_id=REPO, folder=tmp_path / "export").folder
    hub_env.seed("dataset", REPO, folder_files(folder), "an earlier push")
    online = sqlite_env(migrated_sqlite.copy(tmp_path / "online.sqlite3"))
    imported = manage("import_hf", REPO, env=online)
    assert imported.returncode == 0, imported.stderr
    assert f"{arena_results} results created" in imported.stdout
    assert hub_env.calls("GET", f"^/datasets/{REPO}/resolve/[0-9a-f]{{40}}/data/eos.jsonl$")

    hub_env.stop()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cached = manage("import_hf", REPO, env=online)
    assert cached.returncode == 0, cached.stderr
    assert f"0 results created, 0 updated, {arena_results} unchanged" in cached.stdout
    missing = manage("import_hf", "arena-test/never-pushed", env=online)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "CommandError: no folder 'arena-test/never-pushed', and from the Hub: "
        "dataset arena-test/never-pushed is not in the Hub cache and the Hub cannot be "
        "reached (no network, or HF_HUB_OFFLINE=1); download it once while online"
    )


def as_format_1(folder, target) -> None:
    """Rewrite an export the way format 1 wrote it: no format version in the card, EOS
    headline numbers as top-level columns, relax's inside ``output``."""
    import json
    import shutil

    shutil.copytree(folder, target)
    card = (target / "README.md").read_text()
    (target / "README.md").write_text(card.replace("mlip_arena:\n  format_version: 2\n", ""))
    for path in (target / "data").glob("*.jsonl"):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        for row in rows:
            for column in [c for c in row if c.startswith("headline.")]:
                key = column.removeprefix("headline.")
                row[key if row["task"] == "eos" else f"output.{key}"] = row.pop(column)
        path.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))


def test_an_export_in_format_1_imports_to_the_same_results(arena_results, tmp_path):
    folder = export_dataset(repo_id=REPO, folder=tmp_path / "v2").folder
    assert "format_version: 2" in (folder / "README.md").read_text()
    as_format_1(folder, tmp_path / "v1")
    before = {
        (r.model.name, r.task.slug, r.structure.label): (r.headline, r.output, r.metrics)
        for r in Result.objects.select_related("model", "task", "structure")
    }
    forget_everything()
    report = import_dataset(source=str(tmp_path / "v1"))
    assert report.created == arena_results
    after = {
        (r.model.name, r.task.slug, r.structure.label): (r.headline, r.output, r.metrics)
        for r in Result.objects.select_related("model", "task", "structure")
    }
    assert after == before
    assert set(Result.objects.get(task__slug="relax", structure__label="Cu").headline) == {
        "energy_per_atom_ev",
        "volume_a3",
        "max_force_ev_per_a",
    }


def test_an_export_of_an_unknown_format_is_refused_in_one_line(arena_results, tmp_path):
    folder = export_dataset(repo_id=REPO, folder=tmp_path / "export").folder
    card = (folder / "README.md").read_text()
    (folder / "README.md").write_text(card.replace("format_version: 2", "format_version: 9"))
    with pytest.raises(CommandError, match=r"^export format 9 is not known here"):
        call_command("import_hf", str(folder))


def test_provenance_is_exported_with_each_result_and_imported_back(arena_results, tmp_path):
    made_with = {**provenance(EMT(), family="emt", environment="main"), "pid": 4242}
    Job.objects.update(ran_with=made_with)
    folder = export_dataset(repo_id=REPO, folder=tmp_path / "export").folder
    row = json.loads((folder / "data" / "eos.jsonl").read_text().splitlines()[0])
    assert row["provenance.packages.ase"] == ase.__version__
    assert row["provenance.python"] == platform.python_version()
    assert "provenance.pid" not in row  # a process id means nothing elsewhere

    forget_everything()
    import_dataset(source=str(folder))
    kept = {k: v for k, v in made_with.items() if k != "pid"}
    assert [job.ran_with for job in Job.objects.all()] == [kept] * arena_results
