"""export_hf --push: the real huggingface_hub client against the Hub stand-in, in a child."""

from __future__ import annotations

import socket

import pytest

from tasks_app.models import Result
from tests.conftest import database_url_for_subprocess, manage
from tests.publishing.conftest import SECOND_MODEL, folder_files

pytestmark = pytest.mark.django_db(transaction=True)
REPO = "arena-test/results"


@pytest.fixture
def push(arena_results, hub_env, tmp_path):
    """Run ``export_hf --push`` as a user would, against the test database."""
    database_url = database_url_for_subprocess()
    if database_url is None:
        pytest.skip("a child manage.py needs a shared database server (DATABASE_URL)")
    folder = tmp_path / "export"

    def run(*args: str):
        command = ["export_hf", "--repo", REPO, "--out", str(folder), "--push", *args]
        return manage(*command, env={"DATABASE_URL": database_url})

    run.folder = folder
    return run


def test_push_creates_the_repo_and_commits_only_what_changed(push, hub_env):
    first = push("--message", "First export of the arena")
    assert first.returncode == 0, first.stderr
    assert "pushed 9 files, deleted 0: " in first.stdout
    repo = hub_env.repo("dataset", REPO)
    head = repo.commits[repo.branches["main"]]
    assert head.message == "First export of the arena"
    assert head.added == sorted(folder_files(push.folder))
    assert {p: c for p, c in head.files.items() if p != ".gitattributes"} == folder_files(
        push.folder
    )
    for pattern in ("^/api/repos/create$", f"^/api/datasets/{REPO}/(preupload|commit)/main$"):
        assert {auth for *_, auth in hub_env.calls("POST", pattern)} == {f"Bearer {hub_env.token}"}

    unchanged = push()
    assert unchanged.returncode == 0, unchanged.stderr
    assert unchanged.stdout.splitlines()[-1].endswith("(main) is up to date: no commit")
    assert len(repo.history) == 2

    Result.objects.filter(model__name=SECOND_MODEL, structure__label="Cu").update(
        metrics={"tortuosity": 1.5}
    )
    changed = push()
    assert changed.returncode == 0, changed.stderr
    head = repo.commits[repo.branches["main"]]
    assert len(repo.history) == 3
    assert head.message == "Update MLIP Arena results: 8 results; tasks eos (5), relax (3)"
    # The twin's EOS numbers change; EMT is a baseline (never ranked), so the twin stays
    # alone at the arena's first place and arena.jsonl is not committed again.
    assert head.added == ["README.md", "data/eos.jsonl", "leaderboard/eos.jsonl"]
    assert {p: c for p, c in head.files.items() if p != ".gitattributes"} == folder_files(
        push.folder
    )

    branch = push("--revision", "dev")
    assert branch.returncode == 0, branch.stderr
    assert repo.branches["dev"] == repo.branches["main"]
    assert "(dev) is up to date: no commit" in branch.stdout


def test_push_without_a_token_fails_with_one_line_and_keeps_the_export(push, hub_env, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    result = push()
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "CommandError: no Hugging Face token: set HF_TOKEN or run `hf auth login`; "
        f"the export stays in {push.folder}"
    )
    assert len(folder_files(push.folder)) == 9
    assert hub_env.requests == []


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        (
            "HF_ENDPOINT",
            "http://127.0.0.1:{port}",
            "cannot reach the Hub at http://127.0.0.1:{port}",
        ),
        ("HF_HUB_OFFLINE", "1", "HF_HUB_OFFLINE is set; unset it to push"),
    ],
)
def test_push_without_network_fails_with_one_line_and_keeps_the_export(
    push, monkeypatch, variable, value, reason
):
    port = closed_port()
    monkeypatch.setenv(variable, value.format(port=port))
    result = push()
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"CommandError: push to {REPO} failed: {reason.format(port=port)}")
    assert line.endswith(f"; the export stays in {push.folder}")
    assert len(folder_files(push.folder)) == 9
