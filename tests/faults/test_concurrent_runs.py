"""Two run_benchmark processes at once over the same keys, on PostgreSQL: one job per
key (a partial unique constraint), each computed once, and both summaries whole."""

import pytest
import redis

from tasks_app.models import Job
from tests.faults.conftest import SET
from tests.faults.harness import arena_env, outcome, run_benchmark, wait_for, worker

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]
ARGS = ("eos", "--models", "EMT", "--set", SET)


@pytest.mark.parametrize("mode", ["in-process", "rq"])
def test_two_runs_of_the_same_keys_compute_each_key_once(database_url, spawn, request, mode):
    redis_url = ""
    if mode == "rq":
        redis_url = request.getfixturevalue("private_redis").url
        spawn(worker(arena_env(database_url, redis_url)))
        connection = redis.Redis.from_url(redis_url)
        wait_for(lambda: connection.smembers("rq:workers"), 60, "the worker registered")
    env = arena_env(database_url, redis_url)
    runs = [spawn(run_benchmark(*ARGS, env=env)) for _ in range(2)]

    for run in runs:
        assert run.wait(240) == 0, run.output()
        assert run.output().rstrip().splitlines()[-1].split()[:4] == ["EMT", "3", "0", "0"]
    planned = sorted(run.output().splitlines()[0].split(", ", 1)[1] for run in runs)
    # Whichever planned first made the three jobs; the other followed them.
    assert planned[0].startswith("0 jobs (") and planned[1].startswith("3 jobs (")
    assert Job.objects.count() == 3
    result = outcome("EMT", SET)
    assert (result.planned, result.results, result.duplicates, result.stuck) == (3, 3, 0, 0)
    assert result.attempts == 3
