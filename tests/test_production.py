"""The production switch, ARENA_PRODUCTION=1, checked by Django in a child process."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.conftest import ROOT, manage
from tests.serving import PATH, procfile_command, production_env


def plain_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = production_env(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "static")
    return {**env, **overrides}


def test_check_deploy_finds_nothing_under_the_production_switch(tmp_path):
    done = manage("check", "--deploy", "--fail-level", "WARNING", env=plain_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_each_production_setting_still_comes_from_the_environment(tmp_path):
    env = plain_env(tmp_path, SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0")
    done = manage("check", "--deploy", env=env)
    assert re.findall(r"security\.W\d+", done.stdout + done.stderr) == [
        "security.W004",
        "security.W008",
    ]


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    done = manage("check", env=plain_env(tmp_path, SECRET_KEY=""))
    assert done.returncode != 0
    assert "SECRET_KEY must be set when ARENA_PRODUCTION is on" in done.stderr


def one_line_error(done) -> str:
    """The command failed with exactly one line on stderr, no traceback."""
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def test_a_missing_secret_key_is_one_line(tmp_path):
    line = one_line_error(manage("check", env=plain_env(tmp_path, SECRET_KEY="")))
    assert line == "error: SECRET_KEY must be set when ARENA_PRODUCTION is on"


def test_a_sqlite_path_in_a_missing_folder_is_one_line(tmp_path):
    path = tmp_path / "nowhere" / "db.sqlite3"
    env = {"DATABASE_URL": "", "SQLITE_PATH": str(path)}
    line = one_line_error(manage("migrate", env=env))
    assert line == (
        f"error: SQLITE_PATH {path}: its folder does not exist; create it or set another path"
    )
    assert not path.parent.exists()


def test_a_database_url_to_a_missing_database_is_one_line(tmp_path):
    env = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/no_such_arena_database"}
    line = one_line_error(manage("migrate", env=env))
    assert line.startswith("error: cannot use the database: ")
    assert "no_such_arena_database" in line


def test_a_binary_registry_file_is_one_line(migrated_sqlite, tmp_path):
    registry = tmp_path / "registry.yaml"
    registry.write_bytes(bytes(range(256)))
    env = {"DATABASE_URL": "", "SQLITE_PATH": str(migrated_sqlite.copy(tmp_path / "db.sqlite3"))}
    line = one_line_error(manage("seed_registry", "--models-yaml", str(registry), env=env))
    assert line.startswith(f"CommandError: cannot read registry {registry}: ")


def test_gunicorn_without_a_secret_key_stops_with_one_line_and_no_traceback(tmp_path):
    """The Procfile's web process: the worker says why in one line, the master stops
    (gunicorn's boot-error status) instead of restarting it; its own status lines only."""
    env = {**os.environ, **plain_env(tmp_path, SECRET_KEY=""), "PATH": PATH, "PORT": "0"}
    done = subprocess.run(
        procfile_command("web"),
        shell=True,
        cwd=ROOT,
        env={**env, "HOST": "127.0.0.1", "WEB_CONCURRENCY": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "error: SECRET_KEY must be set when ARENA_PRODUCTION is on" in output
    assert "Traceback" not in output, output
