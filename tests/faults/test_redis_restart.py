"""Redis restarted under a run, with and without its data: the database is the source of
truth, so jobs whose RQ job vanished are sent again; run_benchmark and the worker wait
Redis out and say so."""

import re

import pytest
import redis

from tasks_app.models import Job, JobStatus
from tests.faults.conftest import SET
from tests.faults.harness import arena_env, outcome, run_benchmark, wait_for, worker

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]
DOWN_S = 3.0


@pytest.mark.parametrize(
    "private_redis", [False, True], indirect=True, ids=["without-data", "append-only-file"]
)
def test_a_run_outlives_a_redis_restart(database_url, private_redis, spawn):
    env = arena_env(database_url, private_redis.url)
    spawn(the_worker := worker(env))
    connection = redis.Redis.from_url(private_redis.url)
    wait_for(lambda: connection.smembers("rq:workers"), 60, "the worker registered")
    run = spawn(run_benchmark("eos", "--models", "EMT", "--set", SET, env=env))
    wait_for(lambda: Job.objects.filter(status=JobStatus.RUNNING).exists(), 60, "a job ran")

    private_redis.restart(down_s=DOWN_S)

    assert run.wait(240) == 0, run.output()
    said = run.output()
    assert f"waiting for Redis at 127.0.0.1:{private_redis.port}/0 (" in said
    assert "Redis answers again after" in said
    if not private_redis.persistent:
        # The jobs still queued were lost with Redis (two, or one if the worker took the
        # next before the restart); the running one kept its lease. run_benchmark or the
        # worker's maintenance, whichever looks first, sends them again.
        resent = re.findall(
            r"sent again (\d+) jobs whose RQ job had vanished", said + the_worker.output()
        )
        assert resent and 1 <= sum(map(int, resent)) <= 2, said
    result = outcome("EMT", SET)
    assert (result.planned, result.results, result.duplicates, result.stuck) == (3, 3, 0, 0)
    assert the_worker.popen.poll() is None  # the worker outlived the outage
    assert connection.smembers("rq:workers")  # and is registered again


def test_jobs_planned_but_never_sent_are_sent_by_a_worker(database_url, private_redis, spawn):
    # run_benchmark died between planning the jobs and sending them to RQ: no one
    # follows the run, and the worker's maintenance sends them from their rows.
    from models_app.models import MLIP
    from tasks_app.models import StructureSet, Task
    from tasks_app.services import run_create

    structure_set = StructureSet.objects.get(name=SET)
    _, jobs = run_create(
        task=Task.objects.get(slug="ev"),
        models=[MLIP.objects.get(name="EMT")],
        structure_set=structure_set,
        structures=list(structure_set.structures.all()),
        queued_on="rq",
    )
    assert {job.rq_job_id for job in jobs} == {""}
    spawn(worker(arena_env(database_url, private_redis.url)))
    wait_for(lambda: not Job.objects.exclude(status=JobStatus.DONE).exists(), 120, "all jobs done")
    assert Job.objects.filter(attempts=1).count() == 3
