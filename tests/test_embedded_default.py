"""The embedded default, as a user runs it: SQLite, no Redis, in-process jobs."""

import sqlite3

from ase.build import bulk
from ase.io import write

from tests.conftest import manage


def test_fresh_sqlite_install_runs_a_benchmark_end_to_end(tmp_path):
    env = {"DATABASE_URL": "", "REDIS_URL": "", "SQLITE_PATH": str(tmp_path / "arena.sqlite3")}
    assert manage("migrate", "-v0", env=env).returncode == 0
    seeded = manage("seed_registry", env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert "stored 71 structures in set delta-dcdft" in seeded.stdout

    write(tmp_path / "metals.extxyz", [bulk("Cu", "fcc", a=3.6), bulk("Au", "fcc", a=4.1)])
    imported = manage("import_structures", str(tmp_path / "metals.extxyz"), "--set", "m", env=env)
    assert imported.returncode == 0, imported.stderr

    run = manage("run_benchmark", "eos", "--models", "EMT", "--set", "m", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 jobs (in-process)" in run.stdout
    assert "2/2" in run.stderr  # the progress bar reached the end

    again = manage("run_benchmark", "eos", "--models", "EMT", "--set", "m", env=env)
    assert "0 jobs (in-process), 2 already done" in again.stdout

    with sqlite3.connect(tmp_path / "arena.sqlite3") as db:
        rows = db.execute("select b0_gpa from tasks_app_result").fetchall()
    assert len(rows) == 2 and all(b0 > 0 for (b0,) in rows)


def test_failed_jobs_make_the_command_exit_non_zero_and_list_them(tmp_path):
    env = {"DATABASE_URL": "", "REDIS_URL": "", "SQLITE_PATH": str(tmp_path / "arena.sqlite3")}
    manage("migrate", "-v0", env=env)
    manage("seed_registry", env=env)
    run = manage("run_benchmark", "eos", "--models", "EMT", "--limit", "3", env=env)
    assert run.returncode == 1
    assert "FAILED EMT / He: NotImplementedError: No EMT-potential for He" in run.stdout
    assert "CommandError: 3 failed, 0 unfinished" in run.stderr
    assert "Traceback" not in run.stderr
