"""Fixtures of the fault tests: a seeded database that child processes share, a
private Redis, and child processes that are always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import database_url_for_subprocess
from tests.faults.harness import Process, RedisServer, slow_structures

SET = "faults"


@pytest.fixture
def database_url(transactional_db) -> str:
    """The test database for child processes, with the registry and a set of slow jobs."""
    from models_app.services import seed_models
    from tasks_app.services import seed_tasks
    from tasks_app.structure_sets import store_structure_set

    url = database_url_for_subprocess()
    if url is None:
        pytest.skip("processes sharing a database need PostgreSQL (scripts/test sets it)")
    seed_models()
    seed_tasks()
    store_structure_set(name=SET, description="slow EMT jobs", structures=slow_structures(3))
    return url


@pytest.fixture
def spawn() -> Iterator[Callable[[Process], Process]]:
    """Register a child process to be stopped when the test ends, whatever happens."""
    started: list[Process] = []

    def register(process: Process) -> Process:
        started.append(process)
        return process

    yield register
    for process in reversed(started):
        process.stop()


@pytest.fixture
def private_redis(tmp_path_factory, request) -> Iterator[RedisServer]:
    """A redis-server of the test's own; ``persistent`` by indirect parametrisation."""
    persistent = getattr(request, "param", False)
    server = RedisServer(tmp_path_factory.mktemp("redis"), persistent=persistent)
    server.start()
    yield server
    server.stop()
