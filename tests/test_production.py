"""The production switch, ARENA_PRODUCTION=1, checked by Django in a child process."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import manage
from tests.serving import production_env


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
