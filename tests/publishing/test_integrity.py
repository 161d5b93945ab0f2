"""An export does not depend on the database's row order, cleans its folder, and an import
refuses rows whose hashes or keys do not hold, naming the row, and then imports nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena_site.errors import ArenaError
from models_app.models import MLIP
from publishing.export import export_dataset
from publishing.imports import import_dataset
from tasks_app.models import BenchmarkRun, Job, Result, Structure, StructureSet, Task
from tests.publishing.conftest import folder_files

pytestmark = pytest.mark.django_db
REPO = "arena-test/results"


def test_the_export_is_the_same_when_the_database_returns_rows_in_another_order(
    arena_results, tmp_path, monkeypatch
):
    first = folder_files(export_dataset(repo_id=REPO, folder=tmp_path / "a").folder)
    for model in (Result, Job, MLIP, Task, Structure, StructureSet):
        monkeypatch.setattr(model._meta, "ordering", ["-pk"])
    assert list(Result.objects.values_list("pk", flat=True)) == sorted(
        Result.objects.values_list("pk", flat=True), reverse=True
    )  # the database now hands rows over in reverse
    second = folder_files(export_dataset(repo_id=REPO, folder=tmp_path / "b").folder)
    assert second == first


def test_an_export_removes_its_own_stale_files_and_leaves_other_files_alone(
    arena_results, tmp_path
):
    folder = export_dataset(repo_id=REPO, folder=tmp_path / "export").folder
    (folder / "data" / "phonons.jsonl").write_text('{"left": "by an older export"}\n')
    (folder / "NOTES.txt").write_text("kept\n")
    (folder / "data" / "notes.md").write_text("kept\n")
    Task.objects.filter(slug="relax").update(version=2)  # relax results are stale now

    report = export_dataset(repo_id=REPO, folder=folder)
    assert report.changed == [
        "README.md",
        "data/phonons.jsonl",
        "data/relax.jsonl",
        "leaderboard/relax.jsonl",
        "registry/tasks.jsonl",
    ]
    files = folder_files(folder)
    assert "data/relax.jsonl" not in files and "leaderboard/relax.jsonl" not in files
    assert "data/phonons.jsonl" not in files
    assert files["NOTES.txt"] == files["data/notes.md"] == b"kept\n"
    imported = [
        json.loads(line) for line in (folder / "registry" / "tasks.jsonl").read_text().splitlines()
    ]
    assert [t["slug"] for t in imported] == ["eos"]


def rewrite(path: Path, change) -> None:
    """Apply ``change`` to each JSON row of ``path`` in place (it returns the new row)."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(change(row), sort_keys=True) + "\n" for row in rows))


def counts() -> tuple[int, int, int]:
    return Result.objects.count(), Job.objects.count(), BenchmarkRun.objects.count()


@pytest.fixture
def exported(arena_results, tmp_path) -> Path:
    return export_dataset(repo_id=REPO, folder=tmp_path / "export").folder


def test_atoms_that_do_not_match_their_content_hash_are_refused(exported):
    def move_copper(row):
        if row["label"] == "Cu" and row["structure_set"] == "hf-metals":
            row["atoms.positions"] = [[0.1, 0.0, 0.0]]
        return row

    rewrite(exported / "registry" / "structures.jsonl", move_copper)
    before = counts()
    with pytest.raises(ArenaError) as error:
        import_dataset(source=str(exported))
    assert str(error.value) == (
        "structure 'Cu' of set 'hf-metals': its atoms do not match its content_hash in the export"
    )
    assert counts() == before


def test_a_row_whose_key_does_not_match_its_parameters_is_refused_by_file_and_line(exported):
    def loosen_second_row(row, seen=[]):  # noqa: B006 - counts the rows
        seen.append(row)
        if len(seen) == 2:
            row["params.fmax"] = 0.5
        return row

    rewrite(exported / "data" / "eos.jsonl", loosen_second_row)
    before = counts()
    with pytest.raises(ArenaError) as error:
        import_dataset(source=str(exported))
    assert str(error.value) == (
        "data/eos.jsonl:2: its key does not match its model, task, structure, params"
    )
    assert counts() == before


def test_a_local_structure_with_other_atoms_under_the_same_name_is_not_overwritten(exported):
    local = Structure.objects.get(structure_set__name="hf-metals", label="Cu")
    Result.objects.all().delete()
    Job.objects.all().delete()
    BenchmarkRun.objects.all().delete()
    atoms = {**local.atoms, "positions": [[0.2, 0.0, 0.0]]}
    Structure.objects.filter(pk=local.pk).update(atoms=atoms, content_hash="local")
    with pytest.raises(ArenaError) as error:
        import_dataset(source=str(exported))
    assert str(error.value) == (
        "structure 'Cu' of set 'hf-metals' has other atoms here than in the export; "
        "import into another set name or remove the local one"
    )
    local.refresh_from_db()
    assert local.atoms == atoms and not Result.objects.exists()


def test_a_local_task_of_another_version_is_refused(exported):
    Task.objects.filter(slug="eos").update(version=3)
    with pytest.raises(ArenaError) as error:
        import_dataset(source=str(exported))
    assert str(error.value) == (
        "task 'eos' has version 3 here but 1 in the export; "
        "rename one of them or align them before importing"
    )


def test_a_result_of_a_model_missing_from_the_registry_file_is_named(exported):
    rewrite(exported / "registry" / "models.jsonl", lambda row: {**row, "name": f"{row['name']}-x"})
    before = counts()
    with pytest.raises(ArenaError) as error:
        import_dataset(source=str(exported))
    assert str(error.value) == (
        "data/eos.jsonl:1: model 'EMT' is not in the export's registry files"
    )
    assert counts() == before and not MLIP.objects.filter(name="EMT-x").exists()


def test_a_row_without_a_field_is_named(exported):
    rewrite(
        exported / "registry" / "structures.jsonl",
        lambda row: {k: v for k, v in row.items() if k != "natoms"},
    )
    with pytest.raises(ArenaError) as error:
        import_dataset(source=str(exported))
    assert str(error.value) == (
        "structure 'H' of set 'delta-dcdft': the row has no 'natoms'; "
        "is this an export of export_hf?"
    )


def test_an_import_into_an_empty_database_keeps_every_number_and_the_ranking(exported):
    before = {
        r.key: (r.model.name, r.structure.label, r.headline, r.metrics, r.output)
        for r in Result.objects.select_related("model", "structure")
    }
    board = (exported / "leaderboard" / "eos.jsonl").read_bytes()
    for model in (Result, Job, BenchmarkRun, Structure, StructureSet, Task, MLIP):
        model.objects.all().delete()
    report = import_dataset(source=str(exported))
    after = {
        r.key: (r.model.name, r.structure.label, r.headline, r.metrics, r.output)
        for r in Result.objects.select_related("model", "structure")
    }
    assert after == before
    assert (report.created, report.updated, report.unchanged) == (len(before), 0, 0)
    assert report.summary() == (
        f"imported {exported}: {len(before)} results created, 0 updated, 0 unchanged; "
        "added 2 models, 2 tasks, 74 structures"
    )
    again = export_dataset(repo_id=REPO, folder=exported.parent / "again").folder
    assert (again / "leaderboard" / "eos.jsonl").read_bytes() == board
    jobs = Job.objects.select_related("run")
    assert {(j.run.task.slug, j.status, j.compute_seconds) for j in jobs} == {
        ("eos", "done", 1.5),
        ("relax", "done", 1.5),
    }


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("my-lab/arena", ("my-lab/arena", None)),
        ("hf://datasets/my-lab/arena", ("my-lab/arena", None)),
        ("hf://datasets/my-lab/arena@v2", ("my-lab/arena", "v2")),
        ("hf://my-lab/model-repo", None),  # a model repo, not a dataset
        ("hf://datasets/my-lab/arena/data/eos.jsonl", None),  # a file, not a repo
        ("no/such/folder", None),
    ],
)
def test_sources_that_name_a_dataset_repo(source, expected):
    from publishing.imports import _repo_id

    assert _repo_id(source) == expected


def test_a_repo_that_is_not_in_the_cache_offline_is_one_line(db, settings, tmp_path):
    from publishing.imports import source_folder

    settings.ARENA_CACHE_DIR = tmp_path
    with pytest.raises(ArenaError) as error:
        source_folder("my-lab/never-pushed")
    assert str(error.value) == (
        "no folder 'my-lab/never-pushed', and from the Hub: dataset my-lab/never-pushed is not "
        "in the Hub cache and the Hub cannot be reached (no network, or HF_HUB_OFFLINE=1); "
        "download it once while online"
    )


def test_a_result_of_a_structure_missing_from_the_registry_file_is_named(exported):
    rewrite(
        exported / "registry" / "structures.jsonl",
        # the results' set only: the task specs' own sets are checked against the specs
        lambda row: (
            {**row, "label": f"{row['label']}-x"} if row["structure_set"] == "hf-metals" else row
        ),
    )
    with pytest.raises(ArenaError) as error:
        import_dataset(source=str(exported))
    assert str(error.value) == (
        "data/eos.jsonl:1: structure ('hf-metals', 'Al') is not in the export's registry files"
    )


def test_a_structure_of_a_task_specs_set_that_the_specs_lack_is_refused(exported):
    rewrite(
        exported / "registry" / "structures.jsonl",
        lambda row: {**row, "label": f"{row['label']}-x"},
    )
    with pytest.raises(ArenaError) as error:
        import_dataset(source=str(exported))
    assert str(error.value) == (
        "structure 'H-x' of set 'delta-dcdft' is not in that set of the task specs; an import "
        "never adds one"
    )


def test_an_import_records_its_runs_and_what_it_added(exported):
    for model in (Result, Job, BenchmarkRun, Task, MLIP):
        model.objects.all().delete()
    report = import_dataset(source=str(exported))
    assert (report.models, report.tasks) == (["EMT", "EMT | twin"], ["eos", "relax"])
    runs = {run.task.slug: run for run in BenchmarkRun.objects.select_related("task")}
    assert runs["eos"].options == {
        "models": ["EMT", "EMT | twin"],
        "structures": ["Al", "Cu", "Au"],
        "imported_from": str(exported),
    }
    assert runs["eos"].structure_set.name == "hf-metals"
    assert runs["eos"].params == Task.objects.get(slug="eos").default_params
    assert Job.objects.filter(run=runs["eos"]).count() == 5


def test_an_invalid_registry_row_in_the_export_is_refused_by_name(exported):
    for model in (Result, Job, BenchmarkRun, Task, MLIP):
        model.objects.all().delete()
    rewrite(exported / "registry" / "models.jsonl", lambda row: {**row, "family": "vasp"})
    with pytest.raises(ArenaError) as error:
        import_dataset(source=str(exported))
    assert str(error.value).startswith(
        "model 'EMT' in the export is invalid: unknown family 'vasp'; choose one of: "
    )
    assert not MLIP.objects.exists()


def test_a_result_of_a_task_missing_from_the_registry_file_is_named(exported):
    rewrite(exported / "registry" / "tasks.jsonl", lambda row: {**row, "slug": f"{row['slug']}-x"})
    with pytest.raises(ArenaError) as error:
        import_dataset(source=str(exported))
    assert str(error.value) == "data/eos.jsonl:1: task 'eos' is not in the export's registry files"


def test_imported_sets_keep_their_description(exported):
    for model in (Result, Job, BenchmarkRun, Structure, StructureSet):
        model.objects.all().delete()
    import_dataset(source=str(exported))
    assert StructureSet.objects.get(name="hf-metals").description == "fcc metals of the Delta set"


def test_a_registry_row_without_its_name_is_named_by_file(exported):
    rewrite(
        exported / "registry" / "models.jsonl",
        lambda row: {k: v for k, v in row.items() if k != "name"},
    )
    with pytest.raises(ArenaError) as error:
        import_dataset(source=str(exported))
    assert str(error.value) == (
        "registry/models.jsonl: the row has no 'name'; is this an export of export_hf?"
    )


def test_a_structure_row_without_its_label_is_named_by_file(exported):
    rewrite(
        exported / "registry" / "structures.jsonl",
        lambda row: {k: v for k, v in row.items() if k != "label"},
    )
    with pytest.raises(ArenaError) as error:
        import_dataset(source=str(exported))
    assert str(error.value) == (
        "registry/structures.jsonl: the row has no 'label'; is this an export of export_hf?"
    )


def test_the_card_text_starts_right_after_its_front_matter(exported):
    card = (exported / "README.md").read_text()
    front, _, body = card[len("---\n") :].partition("\n---\n")
    assert body.startswith("\n# MLIP Arena results\n\nBenchmark results of")
    assert "\n| `registry-models` | `registry/models.jsonl` | 2 | models and checkpoints |" in card
    assert "| `registry-tasks` | `registry/tasks.jsonl` | 2 | tasks and their parameters |" in card
    assert "| structures |\n\n## Equation of state (bulk) (`eos`, version 1)\n" in card
