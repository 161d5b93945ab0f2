"""export_hf: a dataset folder that `datasets` reads back as the database holds it, byte-stable."""

from __future__ import annotations

import json
import statistics

import datasets
import pytest
import yaml
from ase.collections import dcdft
from django.core.management import call_command
from django.core.management.base import CommandError

from models_app.models import MLIP
from publishing.export import export_dataset
from tasks_app.models import Result, Structure, Task
from tasks_app.services import TASK_FIELDS
from tests.publishing.conftest import SECOND_MODEL, folder_files

pytestmark = pytest.mark.django_db
REPO = "arena-test/results"


def without_nulls(value):
    """`datasets` gives every row of a struct column every key, filling None."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def read_config(folder, name, cache_dir) -> list[dict]:
    rows = datasets.load_dataset(str(folder), name, split="train", cache_dir=str(cache_dir))
    return [without_nulls(row) for row in rows]


def card_configs(folder) -> list[str]:
    front = (folder / "README.md").read_text().split("---\n")[1]
    return [config["config_name"] for config in yaml.safe_load(front)["configs"]]


def columns(row: dict) -> dict:
    """A row as the dataset's columns: dict fields flattened to ``field.key``."""
    flat = {}
    for name, value in row.items():
        if isinstance(value, dict):
            flat |= {f"{name}.{key}": item for key, item in value.items()}
        else:
            flat[name] = value
    return without_nulls(flat)


def result_as_stored(result: Result) -> dict:
    structure = result.structure
    return columns(
        {
            "key": result.key,
            "model": result.model.name,
            "task": result.task.slug,
            "task_version": result.task.version,
            "structure_set": structure.structure_set.name,
            "structure": structure.label,
            "formula": structure.formula,
            "natoms": structure.natoms,
            "structure_hash": structure.content_hash,
            "params": result.job.params,
            "headline": result.headline,
            "metrics": result.metrics,
            "output": result.output,
            "compute_seconds": result.job.compute_seconds,
        }
    )


def test_every_config_reads_back_with_datasets_as_the_database_holds_it(arena_results, tmp_path):
    report = export_dataset(repo_id=REPO, folder=tmp_path / "export")
    folder = report.folder
    assert report.results == {"eos": 5, "relax": 3} and report.stale == 0
    assert card_configs(folder) == [
        "eos", "relax", "leaderboard-eos", "leaderboard-relax", "leaderboard",
        "registry-models", "registry-tasks", "registry-structures",
    ]  # fmt: skip
    cache = tmp_path / "datasets-cache"

    for slug in ("eos", "relax"):
        results = Result.objects.filter(task__slug=slug).select_related(
            "model", "task", "structure__structure_set", "job"
        )
        expected = sorted(
            (result_as_stored(r) for r in results),
            key=lambda row: (row["model"], ["Al", "Cu", "Au"].index(row["structure"])),
        )
        assert read_config(folder, slug, cache) == expected

    models = read_config(folder, "registry-models", cache)
    assert [m["name"] for m in models] == ["EMT", SECOND_MODEL]
    emt = MLIP.objects.get(name="EMT")
    assert models[0]["checkpoint"] == emt.checkpoint
    assert models[0]["release_date"].date() == emt.release_date  # pyarrow reads ISO dates
    tasks = {t["slug"]: t for t in read_config(folder, "registry-tasks", cache)}
    eos = Task.objects.get(slug="eos")
    assert tasks["eos"] == columns({"slug": "eos", **{f: getattr(eos, f) for f in TASK_FIELDS}})
    # Every structure that counts for a task: the tasks' default set (the 71 Delta
    # crystals) and the structures with results, so an import reproduces "missing".
    structures = read_config(folder, "registry-structures", cache)
    assert [(s["structure_set"], s["label"]) for s in structures] == [
        *(("delta-dcdft", label) for label in dcdft.names),
        ("hf-metals", "Al"), ("hf-metals", "Cu"), ("hf-metals", "Au"),
    ]  # fmt: skip
    cu = Structure.objects.get(structure_set__name="hf-metals", label="Cu")
    assert structures[-2] == columns(
        {
            "structure_set": "hf-metals",
            "structure_set_description": "fcc metals of the Delta set",
            "label": "Cu",
            "position": 1,
            "formula": cu.formula,
            "natoms": cu.natoms,
            "atoms": cu.atoms,
            "content_hash": cu.content_hash,
            "reference": cu.reference,
        }
    )

    board = read_config(folder, "leaderboard-eos", cache)
    # Missing counts as on the site: 71 Delta crystals + 3 metals = 74 structures.
    assert [(row["model"], row["results"], row["missing"]) for row in board] == [
        ("EMT", 3, 71),
        (SECOND_MODEL, 2, 72),
    ]
    # Each model's means are over its own results: EMT's Al, Cu and Au, the twin's Al and Cu.
    emt_eos = Result.objects.filter(task__slug="eos", model__name="EMT")
    tortuosity = [r.metrics["tortuosity"] for r in emt_eos]
    assert len(tortuosity) == 3
    assert board[0]["tortuosity"] == pytest.approx(statistics.fmean(tortuosity))
    assert (board[0]["compared"], board[0]["partial"]) == (3, False)
    assert board[0]["rank"] == 1
    assert [row["model"] for row in read_config(folder, "leaderboard", cache)][0] == "EMT"
    assert read_config(folder, "leaderboard-relax", cache) == [
        {"model": "EMT", "results": 3, "missing": 71, "failed": 0, "not_applicable": 0}
    ]
    assert "EMT \\| twin" in (folder / "README.md").read_text()  # pipes escaped in tables


def test_two_exports_are_byte_identical_and_a_second_one_changes_nothing(arena_results, tmp_path):
    first = export_dataset(repo_id=REPO, folder=tmp_path / "a")
    second = export_dataset(repo_id=REPO, folder=tmp_path / "b")
    assert folder_files(first.folder) == folder_files(second.folder)
    assert len(first.changed) == len(folder_files(first.folder)) == 9

    mtimes = {p: p.stat().st_mtime_ns for p in first.folder.rglob("*.*")}
    again = export_dataset(repo_id=REPO, folder=first.folder)
    assert again.changed == []
    assert {p: p.stat().st_mtime_ns for p in first.folder.rglob("*.*")} == mtimes

    result = Result.objects.get(model__name=SECOND_MODEL, structure__label="Cu")
    result.metrics = {**result.metrics, "delta_mev_per_atom": 100.0}
    result.save()
    changed = export_dataset(repo_id=REPO, folder=first.folder)
    # The twin falls behind EMT on Δ, its one win (below), so the arena changes too.
    assert changed.changed == [
        "README.md",
        "data/eos.jsonl",
        "leaderboard/arena.jsonl",
        "leaderboard/eos.jsonl",
    ]


def test_results_of_an_older_task_version_are_left_out(arena_results, tmp_path):
    Task.objects.filter(slug="relax").update(version=2)
    report = export_dataset(repo_id=REPO, folder=tmp_path / "export")
    assert report.results == {"eos": 5} and report.stale == 3
    assert not (tmp_path / "export" / "data" / "relax.jsonl").exists()
    assert "relax" not in card_configs(report.folder)


def test_export_errors_are_one_line(seeded, tmp_path):
    with pytest.raises(CommandError, match="^no results to export; run a benchmark first"):
        call_command("export_hf", "--repo", REPO, "--out", str(tmp_path))
    with pytest.raises(CommandError, match=r"^bad dataset repo 'results'; write ORG/NAME"):
        call_command("export_hf", "--repo", "results", "--out", str(tmp_path))


def test_the_card_declares_license_configs_and_each_leaderboard_as_a_table(arena_results, tmp_path):
    """EMT and its twin have the same curves on Al and Cu; EMT also has Au, and each is
    scored on its own results. Au's smooth curve lowers EMT's mean tortuosity (1.006
    against 1.008): EMT wins physical soundness; Au's Δ (43.5 meV/atom) raises EMT's mean
    Δ (21 against 10): the twin wins accuracy. A tie: both rank 1 (the twin's 2 of EMT's
    3 results is above half, so it is not partial). Relax ranks nobody, so the arena is
    EOS: rank sums 1 and 1."""
    from publishing.format import card_metadata

    folder = export_dataset(repo_id=REPO, folder=tmp_path / "export").folder
    card = (folder / "README.md").read_text()
    front = card_metadata(card)
    assert (front["license"], front["pretty_name"]) == ("cc-by-4.0", "MLIP Arena results")
    assert front["tags"] == ["mlip", "interatomic-potentials", "materials-science", "chemistry",
                             "benchmark"]  # fmt: skip
    assert front["mlip_arena"] == {"format_version": 2}
    assert front["configs"][0] == {
        "config_name": "eos",
        "data_files": [{"split": "train", "path": "data/eos.jsonl"}],
        "default": True,
    }
    assert all("default" not in c for c in front["configs"][1:])
    assert f'rows = load_dataset("{REPO}", "eos", split="train")' in card
    assert "| `leaderboard` | `leaderboard/arena.jsonl` | 2 | arena rank over tasks |" in card
    assert "| `registry-structures` | `registry/structures.jsonl` | 74 | structures |" in card
    lines = card.splitlines()
    eos = lines.index("## Equation of state (bulk) (`eos`, version 1)")
    assert lines[eos + 2].startswith("| rank | model | results | Flips | Tortuosity |")
    assert lines[eos + 4].startswith("| 1 | EMT | 3 | 1.00 ± 0.00 |")
    assert lines[eos + 5].startswith("| 1 | EMT \\| twin | 2 | 1.00 ± 0.00 |")
    assert "- Δ (meV/atom): Delta-test distance" in card
    relax = lines.index("## Structure relaxation (`relax`, version 1)")
    assert lines[relax + 4] == "| not benchmarked | EMT | 3 |"
    arena = [json.loads(line) for line in (folder / "leaderboard" / "arena.jsonl").open()]
    assert arena == [
        {"rank": 1, "model": "EMT", "rank_sum": 1, "eos_rank": 1},
        {"rank": 1, "model": SECOND_MODEL, "rank_sum": 1, "eos_rank": 1},
    ]


def test_the_default_folder_is_named_after_the_repo(settings):
    from publishing.export import default_export_dir

    assert default_export_dir("my-lab/arena") == settings.BASE_DIR / "var" / "hf" / "my-lab--arena"
    with pytest.raises(Exception, match="bad dataset repo 'arena'; write ORG/NAME"):
        default_export_dir("arena")


def test_the_commit_message_counts_results_per_task(arena_results, tmp_path):
    report = export_dataset(repo_id=REPO, folder=tmp_path / "export")
    assert report.total == 8
    assert (
        report.commit_message() == "Update MLIP Arena results: 8 results; tasks eos (5), relax (3)"
    )
