"""Shared fixtures: a seeded registry, real Redis, and subprocess helpers.

The test command (scripts/test) points DATABASE_URL at the local PostgreSQL and
TEST_REDIS_URL at a scratch Redis database; without them the suite runs on SQLite
and the tests that need Redis are skipped.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# bench/mutation.py names the test paths that may kill a package's mutants.
MUTATION_TESTS = [p for p in os.environ.get("ARENA_MUTATION_TESTS", "").split(",") if p]
# mutmut's phases that map tests to functions: they see the package's tests, unsorted.
MUTMUT_MAPPING_PHASES = {"stats", "list_all_tests", "mutant_generation"}


def pytest_configure(config):
    """Under pytest-xdist each worker's torch takes its share of the cores: torch takes
    every core in every process, and two that fight run slower than one alone. Only this
    process: child processes (workers, commands) choose their own threads."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        from compute.threads import threads_per_worker, usable_cores

        torch.set_num_threads(threads_per_worker(cores=usable_cores(), workers=workers))


def pytest_collection_modifyitems(config, items):
    """Under bench/mutation.py: only the package's tests, cheapest first: without a
    database, then without a module-scoped fixture of their file, then by the time
    mutmut recorded for each.

    A mutant stops at its first failing test (-x), so cheap tests first make kills cheap.
    mutmut times only a test's call, not the module fixture it shares (a long MD run).
    """
    if not MUTATION_TESTS:
        return
    kept = [item for item in items if item.nodeid.startswith(tuple(MUTATION_TESTS))]
    dropped = [item for item in items if item not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    if os.environ.get("MUTANT_UNDER_TEST") in MUTMUT_MAPPING_PHASES:
        items[:] = kept
        return
    seconds = _mutmut_test_seconds()
    kept.sort(
        key=lambda item: (
            bool({"db", "transactional_db"} & set(item.fixturenames)),
            _uses_module_fixture(item),
            seconds.get(item.nodeid, 0.0),
        )
    )
    items[:] = kept


# A mutant that makes a run wait for ever (a lease never seen to expire, a lock never
# freed) burns no CPU, so mutmut's CPU limit never ends it, and its wall limit is 15
# times all its tests: a test past this many seconds more than 20 times its recorded
# call ends the mutant as a timeout (exit 36), which mutmut and bench/mutation.py count
# as caught, as a hanging test in CI would be.
MUTANT_HANG_S = 300.0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if not MUTATION_TESTS or "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        yield
        return
    limit = MUTANT_HANG_S + 20 * _mutmut_test_seconds().get(item.nodeid, 0.0)
    timer = threading.Timer(limit, os._exit, args=(36,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _mutmut_test_seconds() -> dict[str, float]:
    """Each test's call time from mutmut's first pass (its working copy is ROOT)."""
    try:
        return json.loads((ROOT / "mutmut-stats.json").read_text())["duration_by_test"]
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        return {}


def _uses_module_fixture(item) -> bool:
    fixtures = getattr(item, "_fixtureinfo", None)
    if fixtures is None:
        return False
    return any(
        definitions[-1].scope == "module" for definitions in fixtures.name2fixturedefs.values()
    )


# Reference sets larger than this (elasticity's 3,953 crystals, phonons' 1,170, WBM's 972)
# take seconds to store in every test: ``seeded`` leaves them out, ``seeded_full`` stores all.
SEEDED_SET_LIMIT = 200


@functools.cache
def _built_structure_sets() -> list[tuple[Any, list]]:
    """Each task spec's structure set with its structures, built once per process."""
    from compute.tasks import structure_sets

    return [(spec, spec.build()) for spec in structure_sets()]


def _seed(limit: int | None) -> None:
    from models_app.services import seed_models
    from tasks_app.services import seed_tasks
    from tasks_app.structure_sets import store_structure_set

    seed_models()
    seed_tasks()
    for spec, structures in _built_structure_sets():
        if limit is None or len(structures) <= limit:
            store_structure_set(name=spec.name, description=spec.description, structures=structures)


# A commit that waits for the disk takes about 5 ms here, one that does not 0.05 ms.
NO_WAIT_FOR_DISK = "-c synchronous_commit=off"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """This process's PostgreSQL sessions commit without waiting for the disk
    (synchronous_commit off): a commit is seen by every other session at once, as
    before; only a crash of the server could lose the last ones, and a test database
    is dropped at the end anyway. It speeds the migrations and every test's commits."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql"):
        database.setdefault("OPTIONS", {})["options"] = NO_WAIT_FOR_DISK


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker) -> None:
    """pytest-django's test database, which child processes (workers, commands,
    gunicorn) also reach with synchronous_commit off: its default for new sessions."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")


@pytest.fixture
def seeded(db):
    """Models, tasks and the task specs' structure sets up to SEEDED_SET_LIMIT structures,
    seeded from the real YAML and specs."""
    _seed(SEEDED_SET_LIMIT)


@pytest.fixture
def seeded_full(db):
    """As ``seeded``, with every structure set, the large reference sets included."""
    _seed(None)


@pytest.fixture
def inline_jobs(settings):
    """Run jobs in-process whatever the environment says."""
    settings.REDIS_URL = ""


@pytest.fixture
def redis_url(settings):
    """A real Redis database, emptied before and after; RQ queues point at it."""
    url = _worker_redis_url(os.environ.get("TEST_REDIS_URL", ""))
    if not url:
        pytest.skip("TEST_REDIS_URL is not set (scripts/test sets it)")
    import redis

    connection = redis.Redis.from_url(url)
    connection.flushdb()
    settings.REDIS_URL = url
    settings.RQ_QUEUES = {name: {"URL": url} for name in (*settings.ARENA_QUEUES, "default")}
    yield url
    connection.flushdb()


def _worker_redis_url(url: str) -> str:
    """Under pytest-xdist each worker empties its own Redis database (15, 14, …)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker.startswith("gw"):
        return url
    base, _, number = url.rpartition("/")
    return f"{base}/{int(number or 0) - int(worker[2:])}"


def database_url_for_subprocess() -> str | None:
    """DATABASE_URL of the test database pytest-django created, for child processes."""
    from django.db import connection

    config = connection.settings_dict
    if config["ENGINE"].endswith("postgresql"):
        host = config["HOST"] or "127.0.0.1"
        port = config["PORT"] or 5432
        return f"postgres://{config['USER']}@{host}:{port}/{config['NAME']}"
    return None


def manage(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run ``manage.py`` in a child process, as a user would."""
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def shared_once(tmp_path_factory, name: str, build: Callable[[Path], dict]) -> dict:
    """``build(folder)``'s result, made once per test run: under pytest-xdist the first
    worker to ask builds it under a lock in the run's shared temporary folder, the others
    read what it wrote. The result must be JSON."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' folders share this parent
    folder, done = root / name, root / f"{name}.json"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # freed when the file closes
        if not done.exists():
            folder.mkdir(exist_ok=True)
            done.write_text(json.dumps(build(folder)))
    return json.loads(done.read_text())


@dataclass(frozen=True)
class Install:
    """A SQLite database made by ``manage.py`` commands as a user makes one, with each
    command's outcome (returncode, stdout, stderr) by name; tests work on copies."""

    path: Path
    outcomes: dict[str, dict[str, Any]]

    def copy(self, path: Path) -> Path:
        """The database copied to ``path`` (through SQLite: its log may hold pages)."""
        with sqlite3.connect(self.path) as source, sqlite3.connect(path) as copy:
            source.backup(copy)
        return path


def _install(tmp_path_factory, name: str, commands: list[tuple[str, ...]]) -> Install:
    """``commands`` run in order on a fresh SQLite file, once per test run."""

    def build(folder: Path) -> dict:
        path = folder / "arena.sqlite3"
        env = {"DATABASE_URL": "", "REDIS_URL": "", "SQLITE_PATH": str(path)}
        outcomes = {}
        for command in commands:
            done = manage(*command, env=env)
            outcomes[command[0]] = {
                "returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
            }  # fmt: skip
        return {"path": str(path), "outcomes": outcomes}

    built = shared_once(tmp_path_factory, name, build)
    return Install(Path(built["path"]), built["outcomes"])


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Install:
    """A fresh SQLite database after ``manage.py migrate``: no registry."""
    return _install(tmp_path_factory, "sqlite-migrated", [("migrate", "-v0")])


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory) -> Install:
    """A fresh SQLite database after ``manage.py migrate`` and ``seed_registry``, as the
    README's install makes it (the seeding takes seconds: done once per test run)."""
    return _install(tmp_path_factory, "sqlite-seeded", [("migrate", "-v0"), ("seed_registry",)])


@pytest.fixture(scope="session")
def built_environments() -> str:
    """Every environment under var/envs, built three at a time (-m envs); build_env's output."""
    from compute.environments import environment_names

    built = manage("build_env", *environment_names(), "--jobs", "3", timeout=3600)
    assert built.returncode == 0, built.stderr[-3000:]
    return built.stdout


@pytest.fixture(scope="session")
def released(django_db_setup, tmp_path_factory) -> dict[str, str]:
    """A production environment on the test database, after the Procfile's release step.

    The release runs once per test run: its static files serve every pytest-xdist
    worker, whose own test database pytest-django has migrated as the release would."""
    from tests.serving import production_env, run_process

    url = database_url_for_subprocess()
    if url is None:
        pytest.skip("a server in another process needs PostgreSQL (scripts/test sets it)")

    def release(folder: Path) -> dict[str, str]:
        run_process("release", production_env(url, folder / "static"))
        return {"static_root": str(folder / "static")}

    static_root = shared_once(tmp_path_factory, "released", release)["static_root"]
    return production_env(url, Path(static_root))


@pytest.fixture(scope="session")
def web_site(released) -> Iterator[str]:
    """The Procfile's web process (gunicorn) with production settings, started once per
    session; yields its URL."""
    from tests.serving import web_server

    with web_server(released) as url:
        yield url


@pytest.fixture
def gunicorn(web_site, transactional_db) -> str:
    """The deployed site's URL; what the test commits (transactional_db) is what it serves."""
    return web_site
