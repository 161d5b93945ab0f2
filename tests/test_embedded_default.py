"""The embedded default, as a user runs it: SQLite, no Redis, in-process jobs."""

import sqlite3
from pathlib import Path

from ase.build import bulk
from ase.io import write

from tests.conftest import manage
from tests.serving import fetch, server


def test_fresh_sqlite_install_runs_a_benchmark_end_to_end(seeded_sqlite, tmp_path):
    """The install (migrate, seed_registry on a new file) is made once per test run."""
    migrated, seeded = (seeded_sqlite.outcomes[name] for name in ("migrate", "seed_registry"))
    assert migrated["returncode"] == 0, migrated["stderr"]
    assert seeded["returncode"] == 0, seeded["stderr"]
    assert "stored 71 structures in set delta-dcdft" in seeded["stdout"]
    env = {"DATABASE_URL": "", "REDIS_URL": "", "SQLITE_PATH": str(tmp_path / "arena.sqlite3")}
    seeded_sqlite.copy(tmp_path / "arena.sqlite3")

    write(tmp_path / "metals.extxyz", [bulk("Cu", "fcc", a=3.6), bulk("Au", "fcc", a=4.1)])
    imported = manage("import_structures", str(tmp_path / "metals.extxyz"), "--set", "m", env=env)
    assert imported.returncode == 0, imported.stderr

    run = manage("run_benchmark", "eos", "--models", "EMT", "--set", "m", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 jobs (in-process)" in run.stdout
    assert "2/2" in run.stderr  # the progress bar reached the end

    again = manage("run_benchmark", "eos", "--models", "EMT", "--set", "m", env=env)
    assert "0 jobs (in-process), 2 already done" in again.stdout

    scan = manage("run_benchmark", "ev", "--models", "EMT", "--set", "m", env=env)
    assert scan.returncode == 0, scan.stdout + scan.stderr
    assert "Tortuosity" in scan.stdout.splitlines()[-2]  # the E–V task's summary columns

    with sqlite3.connect(tmp_path / "arena.sqlite3") as db:
        rows = db.execute(
            "select t.slug, json_extract(r.headline, '$.b0_gpa'), r.headline "
            "from tasks_app_result r join tasks_app_task t on t.id = r.task_id"
        ).fetchall()
    assert sorted(slug for slug, *_ in rows) == ["eos", "eos", "ev", "ev"]
    assert all(b0 > 0 for slug, b0, _ in rows if slug == "eos")
    assert all('"v_min_ratio"' in headline for slug, _, headline in rows if slug == "ev")


def test_failed_jobs_make_the_command_exit_non_zero_and_list_them(seeded_sqlite, tmp_path):
    """H, He, Li: EMT's H EOS has no minimum (failed); EMT has no He or Li (not applicable)."""
    env = {"DATABASE_URL": "", "REDIS_URL": "", "SQLITE_PATH": str(tmp_path / "arena.sqlite3")}
    seeded_sqlite.copy(tmp_path / "arena.sqlite3")
    run = manage("run_benchmark", "eos", "--models", "EMT", "--limit", "3", env=env)
    assert run.returncode == 1
    assert "FAILED EMT / H: EOS curve has no energy minimum" in run.stdout
    assert "FAILED EMT / He" not in run.stdout and "FAILED EMT / Li" not in run.stdout
    summary = next(line for line in run.stdout.splitlines() if line.startswith("EMT "))
    assert summary.split()[:5] == ["EMT", "0", "1", "2", "1"]  # done, failed, n/a, missing
    assert "CommandError: 1 failed, 0 unfinished" in run.stderr
    assert "Traceback" not in run.stderr


def embedded_env(tmp_path) -> dict[str, str]:
    """No settings at all, as on a fresh machine (the key file and database in tmp_path)."""
    return {
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "DEBUG": "",
        "ARENA_PRODUCTION": "",
        "SECRET_KEY": "",
        "SQLITE_PATH": str(tmp_path / "arena.sqlite3"),
        "SECRET_KEY_FILE": str(tmp_path / "var" / "secret_key"),
    }


def test_debug_is_off_and_the_key_is_generated_once_into_an_owner_only_file(tmp_path):
    env = embedded_env(tmp_path)
    show = "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"
    first, second = (manage("shell", "-v0", "-c", show, env=env) for _ in range(2))
    assert first.returncode == 0, first.stderr
    debug, key = first.stdout.split()
    assert debug == "False" and len(key) >= 50 and second.stdout == first.stdout
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.read_text() == key and key_file.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]


def test_runserver_serves_pages_and_static_files_with_debug_off(migrated_sqlite, tmp_path):
    from django.contrib.staticfiles import finders

    env = embedded_env(tmp_path)
    assert migrated_sqlite.outcomes["migrate"]["returncode"] == 0
    migrated_sqlite.copy(tmp_path / "arena.sqlite3")
    with server("python manage.py runserver --noreload $HOST:$PORT", env) as url:
        page = fetch(f"{url}/")
        assert page.status == 200 and b"No tasks registered yet" in page.body
        for name in ("leaderboard/arena.css", "plotly/plotly-cartesian.min.js"):
            static = fetch(f"{url}/static/{name}")
            assert static.status == 200
            assert static.body == Path(finders.find(name)).read_bytes()
        missing = fetch(f"{url}/models/nope/")
        assert missing.status == 404 and b"URLconf" not in missing.body
