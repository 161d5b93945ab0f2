"""RQ workers on one host share its cores however they are started (issue 28).

Each real ``rqworker`` process takes, before each job, the usable cores divided by the
live workers registered on its host, itself included; the expected share is that hand
division. What a job ran with is its own record (``Job.ran_with``: the torch threads
read in the worker's process as the job computed), checked against each worker's log.

They start and stop real worker processes for minutes, so they run in the fault step
(``-m faults``) beside the killed-worker tests.
"""

from __future__ import annotations

import re
import signal
import time

import pytest
import redis
from ase.build import bulk
from rq import Worker
from rq.suspension import resume, suspend

from compute.threads import usable_cores
from models_app.models import MLIP
from tasks_app.execution.rq import reconcile, rq_connection
from tasks_app.execution.rq_worker import JOIN_S
from tasks_app.models import Job, JobStatus, StructureSet, Task
from tasks_app.services import run_create
from tasks_app.structure_sets import seed_structure_sets, store_structure_set
from tests.conftest import database_url_for_subprocess
from tests.faults.harness import Process, wait_for, worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]

SHARE = re.compile(r"compute threads: (\d+) \(\d+ cores, (\d+) workers on this host\)")
SET = "share"
JOBS = 7  # EMT EOS of rattled Cu cells
# The first two jobs, which two workers must be seen running at once, are 256-atom cells
# (about 2 s each on an idle core); the rest 32 atoms (about 0.5 s). Jobs shorter than the
# spread of two workers' start-up let the first worker run both, one after the other.
BUSY_REPEAT, REPEAT = 4, 2
HEARTBEAT_S = 1  # a lease of three: a killed worker stops counting 2 leases + JOIN_S later


@pytest.fixture
def worker_env(redis_url, monkeypatch) -> dict[str, str]:
    """What the workers need, with no thread count given: they must find their share."""
    from models_app.services import seed_models
    from tasks_app.services import seed_tasks

    database_url = database_url_for_subprocess()
    if database_url is None:
        pytest.skip("worker processes need a shared database server (DATABASE_URL)")
    for name in ("OMP_NUM_THREADS", "ARENA_WORKER_THREADS", "ARENA_WORKERS_PER_HOST"):
        monkeypatch.delenv(name, raising=False)
    seed_models()
    seed_tasks()
    seed_structure_sets()
    cells = []
    for seed in range(JOBS):
        atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(BUSY_REPEAT if seed < 2 else REPEAT)
        atoms.rattle(0.05, seed=seed)
        cells.append((f"Cu-{seed}", atoms, {}))
    store_structure_set(name=SET, description="EMT jobs of a few seconds", structures=cells)
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
        "ARENA_HEARTBEAT_S": str(HEARTBEAT_S),
    }


@pytest.fixture
def workers():
    """Start worker processes; every one is stopped when the test ends."""
    started: list[Process] = []

    def start(env: dict[str, str], count: int = 1) -> list[Process]:
        started.extend(worker(env) for _ in range(count))
        return started[-count:]

    yield start
    for process in started:
        process.stop()


def send(seeds: range) -> list[int]:
    """EOS jobs of EMT on the cells ``seeds``, sent to RQ; their ids."""
    structure_set = StructureSet.objects.get(name=SET)
    labels = [f"Cu-{seed}" for seed in seeds]
    _, jobs = run_create(
        task=Task.objects.get(slug="eos"),
        models=[MLIP.objects.get(name="EMT")],
        structure_set=structure_set,
        structures=list(structure_set.structures.filter(label__in=labels)),
        queued_on="rq",
    )
    reconcile(jobs, connection=rq_connection())
    return [job.pk for job in jobs]


def finished(ids: list[int], timeout_s: float = 180) -> list[Job]:
    wait_for(
        lambda: not Job.objects.filter(pk__in=ids).exclude(status=JobStatus.DONE).exists(),
        timeout_s,
        f"jobs {ids} done",
    )
    return list(Job.objects.filter(pk__in=ids))


def shares(log: str) -> list[tuple[int, int]]:
    """(threads, workers on the host) each time a worker logged its share."""
    return [(int(t), int(n)) for t, n in SHARE.findall(log)]


def share_of(workers: int) -> int:
    return max(1, usable_cores() // workers)


def test_two_workers_started_at_the_same_instant_take_half_the_cores_each(worker_env, workers):
    ids = send(range(4))
    first, second = workers(worker_env, 2)
    jobs = finished(ids)

    half = share_of(2)
    assert shares(first.output()) == [(half, 2)] and shares(second.output()) == [(half, 2)], (
        first.output() + second.output()
    )
    assert {job.ran_with["pid"] for job in jobs} == {first.pid, second.pid}
    assert all(job.ran_with["torch_threads"] == half for job in jobs), [j.ran_with for j in jobs]
    assert {job.ran_with["device"] for job in jobs} == {"cpu"}


def test_a_thread_count_or_a_count_of_workers_given_overrides_the_count(worker_env, workers):
    ids = send(range(4))
    (told_workers,) = workers({**worker_env, "ARENA_WORKERS_PER_HOST": "4"})
    (told_threads,) = workers({**worker_env, "ARENA_WORKER_THREADS": "2"})
    jobs = finished(ids)

    assert shares(told_workers.output()) == [(share_of(4), 4)]
    assert shares(told_threads.output()) == [(2, 2)]  # two counted, two threads as told
    threads = {told_workers.pid: share_of(4), told_threads.pid: 2}
    assert {job.ran_with["pid"] for job in jobs} == set(threads)
    assert all(job.ran_with["torch_threads"] == threads[job.ran_with["pid"]] for job in jobs)


def test_a_worker_that_joins_or_leaves_changes_the_others_share_at_their_next_job(
    worker_env, workers, redis_url
):
    connection = redis.Redis.from_url(redis_url)
    busy = send(range(2))
    first, second = workers(worker_env, 2)
    wait_for(
        lambda: Job.objects.filter(pk__in=busy, status=JobStatus.RUNNING).count() == 2,
        120,
        "both workers busy",
    )
    # They finish the job they hold and take no other until the third has registered.
    suspend(connection)
    (third,) = workers(worker_env, 1)
    wait_for(lambda: Worker.count(connection=connection) == 3, 120, "the third worker")
    finished(busy)
    joined = send(range(2, 5))
    resume(connection)
    jobs = finished(joined)

    busy_jobs = Job.objects.filter(pk__in=busy)
    assert all(job.ran_with["torch_threads"] == share_of(2) for job in busy_jobs)
    ran_busy = {job.ran_with["pid"] for job in busy_jobs}
    ran_joined = {job.ran_with["pid"] for job in jobs}
    assert ran_busy == {first.pid, second.pid}
    assert ran_joined & {first.pid, second.pid}, (
        "neither of the first two took a job after the join"
    )
    assert all(job.ran_with["torch_threads"] == share_of(3) for job in jobs)

    # Two leave, one stopped and one killed; the first, which ran with a half share,
    # goes on alone.
    logs = {process: process.output() for process in (second, third)}
    second.stop()
    third.signal(signal.SIGKILL)
    wait_for(lambda: Worker.count(connection=connection) == 2, 60, "the second gone")
    time.sleep(2 * 3 * HEARTBEAT_S + JOIN_S)  # the killed one's last heartbeat is too old
    left = finished(send(range(5, 7)))
    assert {job.ran_with["pid"] for job in left} == {first.pid}
    assert all(job.ran_with["torch_threads"] == share_of(1) for job in left)
    logs[first] = first.output()

    # Each logged a share when it changed: before the first job of each phase it ran in.
    phases = [(ran_busy, 2), (ran_joined, 3), ({first.pid}, 1)]
    for process, log in logs.items():
        expected = []
        for pids, count in phases:
            if process.pid in pids and (share_of(count), count) not in expected[-1:]:
                expected.append((share_of(count), count))
        assert shares(log) == expected, log
