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


def test_failed_jobs_make_the_command_exit_non_zero_and_list_them(tmp_path):
    env = {"DATABASE_URL": "", "REDIS_URL": "", "SQLITE_PATH": str(tmp_path / "arena.sqlite3")}
    manage("migrate", "-v0", env=env)
    manage("seed_registry", env=env)
    run = manage("run_benchmark", "eos", "--models", "EMT", "--limit", "3", env=env)
    assert run.returncode == 1
    assert "FAILED EMT / He: NotImplementedError: No EMT-potential for He" in run.stdout
    assert "CommandError: 3 failed, 0 unfinished" in run.stderr
    assert "Traceback" not in run.stderr
