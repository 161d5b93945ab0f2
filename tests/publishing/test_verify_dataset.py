"""verify --from-hf: a published dataset's results re-run on this machine and compared
within the tolerances their tasks declare, without storing anything."""

from __future__ import annotations

import json

import ase
import pytest
from ase.calculators.emt import EMT
from django.core.management import call_command
from django.core.management.base import CommandError

from compute.provenance import provenance
from publishing.export import export_dataset
from tasks_app.models import Job, Result
from tests.conftest import database_url_for_subprocess, manage
from tests.publishing.conftest import SECOND_MODEL, folder_files
from tests.publishing.test_import import REPO, forget_everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(arena_results, tmp_path):
    """The export of EMT's EOS and relax results, with the provenance this process has
    (but torch's threads: torch may load only later here, and a field not stored is no
    difference)."""
    made_with = provenance(EMT(), family="emt", environment="main")
    Job.objects.update(ran_with={k: v for k, v in made_with.items() if k != "torch_threads"})
    return export_dataset(repo_id=REPO, folder=tmp_path / "export").folder


def verify(capsys, *args, **options) -> tuple[list[str], str]:
    capsys.readouterr()
    try:
        call_command("verify", *args, **options)
        error = ""
    except CommandError as exc:
        error = str(exc)
    return capsys.readouterr().out.splitlines(), error


def edit_rows(folder, slug, edit) -> None:
    path = folder / "data" / f"{slug}.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(edit(row)) + "\n" for row in rows))


def test_an_honest_dataset_is_reproduced_without_the_database_holding_it(dataset, capsys):
    forget_everything()  # the dataset alone describes the models, tasks and structures
    lines, error = verify(capsys, "eos", from_hf=str(dataset), models="EMT", structures="Al,Au")
    assert error == ""
    assert lines == [
        "eos EMT Al: agrees",
        "eos EMT Au: agrees",
        f"{dataset}: 2 of 2 results reproduced, 0 differ or could not be re-run",
    ]
    assert not Result.objects.exists()  # verify stores nothing


def test_a_tampered_number_is_named_with_its_structure(dataset, capsys):
    def tamper(row):
        if row["structure"] == "Cu" and row["model"] == "EMT":
            row["headline.b0_gpa"] = round(row["headline.b0_gpa"] * 1.01, 6)
            row["provenance.packages.ase"] = "3.0.0"
        return row

    edit_rows(dataset, "eos", tamper)
    lines, error = verify(capsys, from_hf=str(dataset), structures="Cu,Al", models="EMT")
    assert error == "1 of 4 results not reproduced"
    assert lines[0] == "eos EMT Al: agrees"
    assert lines[1].startswith("eos EMT Cu: differs: headline.b0_gpa: ")
    assert lines[1].endswith(f"(provenance differs: packages.ase: 3.0.0 → {ase.__version__})")
    assert lines[2:4] == ["relax EMT Al: agrees", "relax EMT Cu: agrees"]


def test_a_task_at_another_version_is_not_re_run(dataset, capsys):
    path = dataset / "registry" / "tasks.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({**r, "version": 99}) + "\n" for r in rows))
    lines, error = verify(capsys, "relax", from_hf=str(dataset), sample=1, seed=1)
    assert error == "1 of 1 results not reproduced"
    assert lines[0].endswith(
        "could not re-run: task 'relax' is at version 99 in the dataset but version 1 here"
    )


def test_bad_selections_and_sources_are_one_line_errors(dataset, capsys, tmp_path):
    assert verify(capsys, from_hf=str(dataset), models="nobody")[1] == (
        f"no results in the dataset {str(dataset)!r} match the selection"
    )
    assert verify(capsys, from_hf=str(tmp_path))[1].endswith("it has no registry/models.jsonl")
    assert verify(capsys)[1] == "name a task to verify, or a dataset with --from-hf"


def test_a_dataset_on_the_hub_is_verified_from_its_repo(dataset, hub_env):
    hub_env.seed("dataset", REPO, folder_files(dataset), "a push")
    # The migrated test database; the child sees none of this test's uncommitted rows.
    database_url = database_url_for_subprocess()
    if database_url is None:  # SQLite in memory (mutation runs): no child can open it
        pytest.skip("the command runs in a child process that needs DATABASE_URL")
    env = {"DATABASE_URL": database_url}
    checked = manage(
        "verify", "eos", "--from-hf", REPO, "--models", SECOND_MODEL, "--sample", "1", env=env
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines()[-1] == (
        f"{REPO}: 1 of 1 results reproduced, 0 differ or could not be re-run"
    )
