"""run_benchmark interrupted (SIGINT) or killed (SIGKILL): nothing reads as running for
longer than a lease, a re-run of the same keys reuses the unfinished jobs, and
``--resume RUN`` goes on with a run in-process or re-attaches to its RQ jobs."""

import signal
import time

import pytest
import redis

from tasks_app.models import BenchmarkRun, Job, JobStatus
from tasks_app.selectors import run_status_counts
from tests.faults.conftest import SET
from tests.faults.harness import arena_env, outcome, run_benchmark, wait_for, worker

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]
HEARTBEAT_S = 1.0
LEASE_S = 3 * HEARTBEAT_S
ARGS = ("eos", "--models", "EMT", "--set", SET)
ONE_PROCESS = (*ARGS, "--workers", "1")  # the in-process runs here are one process


def second_job_running() -> bool:
    jobs = Job.objects.all()
    return (
        jobs.filter(status=JobStatus.DONE).count() == 1
        and jobs.filter(status=JobStatus.RUNNING).exists()
    )


def states(run: BenchmarkRun) -> dict[str, int]:
    return {state: n for state, n in run_status_counts(run=run).items() if n}


def test_ctrl_c_leaves_the_run_interrupted_and_resume_finishes_it(database_url, spawn):
    env = arena_env(database_url, heartbeat_s=HEARTBEAT_S)
    first = spawn(run_benchmark(*ONE_PROCESS, env=env))
    wait_for(second_job_running, 120, "the second job started")
    first.signal(signal.SIGINT)

    assert first.wait(60) == 130
    run = BenchmarkRun.objects.get()
    said = first.output()
    assert said.rstrip().splitlines()[-1] == (
        f"CommandError: interrupted: run {run.pk}'s unfinished jobs are left interrupted "
        f"(run_benchmark --resume {run.pk} goes on)"
    )
    assert "Traceback" not in said
    assert states(run) == {JobStatus.DONE: 1, JobStatus.INTERRUPTED: 2}

    resumed = spawn(run_benchmark("--resume", str(run.pk), env=env))
    assert resumed.wait(120) == 0, resumed.output()
    assert f"run {run.pk}: eos on {SET}, resuming 2 unfinished of 3 jobs (in-process)" in (
        resumed.output()
    )
    result = outcome("EMT", SET)
    assert (result.planned, result.results, result.duplicates, result.stuck) == (3, 3, 0, 0)
    assert result.attempts == 4  # the interrupted job started twice


def test_a_killed_run_reads_interrupted_after_a_lease_and_a_rerun_reuses_its_jobs(
    database_url, spawn
):
    env = arena_env(database_url, heartbeat_s=HEARTBEAT_S)
    first = spawn(run_benchmark(*ONE_PROCESS, env=env))
    wait_for(second_job_running, 120, "the second job started")
    first.signal(signal.SIGKILL)
    killed_at = time.monotonic()
    first.wait(10)

    run = BenchmarkRun.objects.get()
    # The killed process cannot say anything: its job reads as running until its lease
    # runs out, then as interrupted. Nothing stays running.
    wait_for(lambda: not run_status_counts(run=run)[JobStatus.RUNNING], 30, "lease expired")
    assert time.monotonic() - killed_at < LEASE_S + 2
    assert states(run) == {JobStatus.DONE: 1, JobStatus.INTERRUPTED: 1, JobStatus.QUEUED: 1}

    rerun = spawn(run_benchmark(*ONE_PROCESS, env=env))
    assert rerun.wait(120) == 0, rerun.output()
    assert (
        ": eos on faults, 0 jobs (in-process), 1 already done or not applicable, "
        "2 unfinished in earlier runs (followed, not rerun)" in rerun.output()
    )
    assert Job.objects.count() == 3  # no job planned twice
    result = outcome("EMT", SET)
    assert (result.planned, result.results, result.duplicates, result.stuck) == (3, 3, 0, 0)


def test_resume_reattaches_to_the_rq_jobs_of_a_killed_run(database_url, private_redis, spawn):
    env = arena_env(database_url, private_redis.url, heartbeat_s=HEARTBEAT_S)
    spawn(worker(env))
    connection = redis.Redis.from_url(private_redis.url)
    wait_for(lambda: connection.smembers("rq:workers"), 60, "the worker registered")
    first = spawn(run_benchmark(*ARGS, env=env))
    wait_for(lambda: Job.objects.filter(status=JobStatus.RUNNING).exists(), 120, "a job started")
    first.signal(signal.SIGKILL)
    first.wait(10)

    run = BenchmarkRun.objects.get()
    resumed = spawn(run_benchmark("--resume", str(run.pk), env=env))
    assert resumed.wait(180) == 0, resumed.output()
    summary = resumed.output().rstrip().splitlines()[-1].split()
    assert summary[:4] == ["EMT", "3", "0", "0"]  # done, failed, missing
    result = outcome("EMT", SET)
    assert (result.planned, result.results, result.duplicates, result.stuck) == (3, 3, 0, 0)
    assert result.attempts == 3  # the workers went on: nothing ran twice
