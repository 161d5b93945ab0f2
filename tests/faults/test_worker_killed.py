"""A worker killed with SIGKILL mid-job: RQ's abandoned-job handling re-runs the job on
another worker within about two leases, and the key gets exactly one result."""

import signal

import pytest
import redis
from django.utils import timezone

from tasks_app.models import Job, JobStatus, Result
from tests.faults.conftest import SET
from tests.faults.harness import (
    arena_env,
    outcome,
    run_benchmark,
    wait_for,
    worker,
    worker_running,
)

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]
HEARTBEAT_S = 1.0
# A lease (3 heartbeats) for RQ to see the worker is gone, up to a lease more for an
# idle worker to wake and run the abandoned-job handling (or 2 s for the follower), and
# slack for a loaded machine.
RECOVERY_BOUND_S = 2 * 3 * HEARTBEAT_S + 6


@pytest.mark.parametrize("followed", [True, False], ids=["followed", "unfollowed"])
def test_a_job_whose_worker_is_killed_runs_again_on_another(
    database_url, private_redis, spawn, followed
):
    env = arena_env(database_url, private_redis.url, heartbeat_s=HEARTBEAT_S)
    workers = [spawn(worker(env)) for _ in range(2)]
    connection = redis.Redis.from_url(private_redis.url)
    wait_for(lambda: len(_live_pids(connection)) == 2, 60, "two workers registered")
    # Followed: run_benchmark waits to the end. Unfollowed: it gives up waiting at once,
    # as after a lost SSH session, and only the workers are left to notice the death.
    timeout = [] if followed else ["--timeout", "0.5"]
    args = ["eos", "--models", "EMT", "--set", SET, "--structures", "Cu256-0", *timeout]
    first = spawn(run_benchmark(*args, env=env))

    job = wait_for(
        lambda: Job.objects.filter(status=JobStatus.RUNNING).first(), 60, "the job started"
    )
    victim = wait_for(lambda: worker_running(connection, job.rq_job_id), 10, "its worker")
    killed_at = timezone.now()
    next(w for w in workers if w.pid == victim).signal(signal.SIGKILL)

    job = wait_for(lambda: _restarted(job.pk, killed_at), 60, "the job started again")
    recovery_s = (job.started_at - killed_at).total_seconds()
    assert recovery_s < RECOVERY_BOUND_S
    assert job.attempts == 2
    if followed:
        assert first.wait(120) == 0, first.output()
        assert f"job {job.pk} runs again (attempt 2)" in first.output()
    else:
        assert first.wait(60) == 1  # gave up waiting: 1 unfinished
        wait_for(lambda: Job.objects.get(pk=job.pk).status == JobStatus.DONE, 120, "done")
        resumed = spawn(run_benchmark("--resume", str(job.run_id), env=env))
        assert resumed.wait(60) == 0, resumed.output()
        assert "EMT" in resumed.output().splitlines()[-1]

    result = outcome("EMT", SET)
    assert (result.planned, result.results, result.duplicates, result.stuck) == (1, 1, 0, 0)
    assert Result.objects.get().job_id == job.pk
    survivor = next(w for w in workers if w.pid != victim)
    assert survivor.popen.poll() is None  # the other worker ran it and is still there


def _live_pids(connection: redis.Redis) -> set[int]:
    from rq.worker import Worker

    return {w.pid for w in Worker.all(connection=connection)}


def _restarted(job_id: int, since) -> Job | None:
    job = Job.objects.get(pk=job_id)
    return job if job.started_at > since and job.status != JobStatus.QUEUED else None
