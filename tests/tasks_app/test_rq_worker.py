"""Jobs through real Redis and a real RQ worker process give the in-process results."""

import os
import subprocess
import sys
import time

import pytest
import redis
from ase import Atoms
from ase.build import bulk
from django.core.management import call_command
from django.core.management.base import CommandError
from rq import Queue, Worker
from rq.registry import FailedJobRegistry

from models_app.models import MLIP
from tasks_app.execution.rq_worker import JOIN_S
from tasks_app.models import Job, JobStatus, Result, Structure
from tasks_app.structure_sets import seed_structure_sets, store_structure_set
from tests.conftest import ROOT, database_url_for_subprocess
from tests.faults.harness import stop_process

pytestmark = [pytest.mark.django_db(transaction=True)]


def wait_for_workers(redis_url: str, count: int, timeout_s: float = 120) -> None:
    """Return once ``count`` RQ workers have registered with Redis."""
    connection = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout_s
    while Worker.count(connection=connection) < count:
        assert time.monotonic() < deadline, "the RQ worker did not start"
        time.sleep(0.2)


def start_worker(redis_url: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``manage.py rqworker gpu.main cpu.main`` in a child process against the test database."""
    database_url = database_url_for_subprocess()
    if database_url is None:
        pytest.skip("a worker process needs a shared database server (DATABASE_URL)")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "rqworker", "gpu.main", "cpu.main"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for_workers(redis_url, 1)
    return process


def stop_worker(process: subprocess.Popen) -> None:
    stop_process(process)


@pytest.fixture
def worker(redis_url):
    process = start_worker(redis_url)
    yield process
    stop_worker(process)


@pytest.fixture
def registry():
    from models_app.services import seed_models
    from tasks_app.services import seed_tasks

    seed_models()
    seed_tasks()
    seed_structure_sets()
    references = {s.label: s.reference for s in Structure.objects.filter(label__in=["Cu", "He"])}
    flat = Atoms("Cu", cell=[[3.6, 0, 0], [0, 3.6, 0], [0, 0, 0]], pbc=True)
    store_structure_set(
        name="rq-set",
        description="",
        structures=[
            ("Cu", bulk("Cu", "fcc", a=3.6), references["Cu"]),
            ("He", bulk("He", "fcc", a=4.2), {}),  # EMT has no He: not applicable
            ("Flat Cu", flat, {}),  # a cell without volume: an unexpected error
        ],
    )
    twin = MLIP.objects.get(name="EMT")
    twin.pk, twin.name, twin.slug = None, "EMT twin", "emt-twin"
    twin.save()


@pytest.mark.parametrize("task", ["eos", "ev"])
def test_worker_result_equals_in_process_result(registry, worker, redis_url, settings, task):
    settings.REDIS_URL = ""
    with pytest.raises(CommandError, match="1 failed"):
        call_command("run_benchmark", task, models="EMT", set_name="rq-set")
    settings.REDIS_URL = redis_url
    with pytest.raises(CommandError, match="1 failed"):
        call_command("run_benchmark", task, models="EMT twin", set_name="rq-set", timeout=240)

    inline = Result.objects.get(model__name="EMT", structure__label="Cu")
    queued = Result.objects.get(model__name="EMT twin", structure__label="Cu")
    assert queued.job.queue == "cpu.main" and queued.job.rq_job_id
    assert inline.job.queue == "inline" and not inline.job.rq_job_id
    assert set(queued.headline) == set(inline.headline) and inline.headline
    for key, value in inline.headline.items():
        assert queued.headline[key] == pytest.approx(value, rel=1e-12)
    assert queued.output["energies_ev"] == pytest.approx(inline.output["energies_ev"], rel=1e-12)
    assert queued.metrics == pytest.approx(inline.metrics, rel=1e-9)

    # He is recorded by the worker as not applicable to EMT, not as a failure.
    not_applicable = Job.objects.get(model__name="EMT twin", structure__label="He")
    assert not_applicable.status == JobStatus.NOT_APPLICABLE and not not_applicable.traceback
    assert not_applicable.error == "model 'EMT twin' does not cover He"
    # The unexpected failure is stored with its traceback and kept in RQ's failed registry.
    failed = Job.objects.get(model__name="EMT twin", structure__label="Flat Cu")
    assert failed.status == JobStatus.FAILED
    assert failed.error == "ValueError: You have 2 lattice vectors: volume not defined"
    assert "Traceback" in failed.traceback
    queue = Queue("cpu.main", connection=redis.Redis.from_url(redis_url))
    assert failed.rq_job_id in FailedJobRegistry(queue=queue).get_job_ids()


def test_worker_records_a_model_that_cannot_load(registry, worker, redis_url, settings, tmp_path):
    MLIP.objects.create(
        name="Lost", family="mace", checkpoint=str(tmp_path / "gone.model"), gpu_tasks=["eos"]
    )
    settings.REDIS_URL = redis_url
    with pytest.raises(CommandError, match="3 failed"):
        call_command("run_benchmark", "eos", models="Lost", set_name="rq-set", timeout=240)
    jobs = Job.objects.filter(model__name="Lost")
    assert {job.queue for job in jobs} == {"gpu.main"}
    assert all("does not exist" in job.error and job.worker_host for job in jobs)


def test_a_job_rq_gave_up_on_is_recorded_as_failed(registry, redis_url, settings):
    # No worker: the job sits in Redis; then RQ marks it failed as it does for a job
    # whose worker died with no retry left, and reconciling records that on the row.
    from rq.job import Job as RQJob
    from rq.job import JobStatus as RQStatus

    from tasks_app.execution.rq import reconcile, rq_connection
    from tasks_app.models import StructureSet, Task
    from tasks_app.services import run_create

    structure_set = StructureSet.objects.get(name="rq-set")
    _, jobs = run_create(
        task=Task.objects.get(slug="eos"),
        models=[MLIP.objects.get(name="EMT")],
        structure_set=structure_set,
        structures=list(structure_set.structures.all()[:1]),
        queued_on="rq",
    )
    connection = rq_connection()
    assert reconcile(jobs, connection=connection) == ["sent 1 jobs to RQ"]
    job = Job.objects.get(pk=jobs[0].pk)
    assert job.rq_job_id and job.status == JobStatus.QUEUED
    assert reconcile([job], connection=connection) == []  # RQ holds it: nothing to do
    RQJob.fetch(job.rq_job_id, connection=connection).set_status(RQStatus.FAILED)

    assert reconcile([job], connection=connection) == [f"job {job.pk}: RQ marked it failed"]
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "RQ marked the job failed"


def planned_rq_jobs(models: list[str]) -> list[Job]:
    """Jobs of a fresh EOS run on rq-set for ``models``, not yet sent to RQ."""
    from tasks_app.models import StructureSet, Task
    from tasks_app.services import run_create

    structure_set = StructureSet.objects.get(name="rq-set")
    _, jobs = run_create(
        task=Task.objects.get(slug="eos"),
        models=list(MLIP.objects.filter(name__in=models)),
        structure_set=structure_set,
        structures=list(structure_set.structures.all()),
        queued_on="rq",
    )
    return jobs


def deliveries(redis_url: str) -> list[str]:
    """Every RQ job id waiting in the arena's queues, once per delivery RQ will make."""
    from django.conf import settings

    connection = redis.Redis.from_url(redis_url)
    return sorted(
        job_id
        for name in settings.ARENA_QUEUES
        for job_id in Queue(name, connection=connection).get_job_ids()
    )


def test_processes_reconciling_at_once_send_each_job_once(registry, redis_url):
    """The command and every worker's maintenance reconcile; four at once (threads here,
    each with its own database connection) must not send a job twice, which would have
    RQ deliver it twice and mark a failed job finished on the second, refused, delivery.
    Without the reconcile lock each job was sent four times."""
    import threading

    from django.db import connection as db_connection

    from tasks_app.execution.rq import reconcile, rq_connection

    jobs = planned_rq_jobs(["EMT", "EMT twin"])
    start = threading.Barrier(4)
    said: list[list[str]] = []

    def one_reconciler():
        start.wait()
        said.append(reconcile(jobs, connection=rq_connection()))
        db_connection.close()

    threads = [threading.Thread(target=one_reconciler) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = sorted(f"arena-job-{job.pk}" for job in jobs)
    assert len(expected) == 6 and deliveries(redis_url) == expected
    assert sorted(said) == [[], [], [], ["sent 6 jobs to RQ"]]


def test_reconcile_waits_its_turn_and_gives_up_while_another_holds_it(
    registry, redis_url, monkeypatch
):
    from tasks_app.execution import rq as rq_side

    jobs = planned_rq_jobs(["EMT"])
    connection = rq_side.rq_connection()
    other = connection.lock(rq_side.RECONCILE_LOCK, timeout=30)
    assert other.acquire(blocking=False)
    monkeypatch.setattr(rq_side, "RECONCILE_LOCK_S", 0.3)
    assert rq_side.reconcile(jobs, connection=connection) == []
    assert deliveries(redis_url) == []
    other.release()
    assert rq_side.reconcile(jobs, connection=connection) == ["sent 3 jobs to RQ"]
    assert len(deliveries(redis_url)) == 3


def test_a_job_whose_environment_has_no_worker_waits_and_the_run_says_so(
    registry, worker, redis_url, settings, capsys
):
    # The worker serves the main environment's queues; MatterSim runs in its own.
    MLIP.objects.create(name="MatterSim", family="mattersim", checkpoint="x", cpu_tasks=["eos"])
    settings.REDIS_URL = redis_url
    with pytest.raises(CommandError, match="0 failed, 1 unfinished"):
        call_command(
            "run_benchmark",
            "eos",
            models="MatterSim,EMT",
            set_name="rq-set",
            structures="Cu",
            timeout=5 + JOIN_S,  # a worker takes no job for JOIN_S after registering
        )
    said = capsys.readouterr().err  # what the run waits for goes beside its progress bar
    python = settings.ARENA_ENVS_DIR / "mattersim" / "bin" / "python"
    assert (
        "no worker serves queue cpu.mattersim, so its jobs wait: build the environment with "
        f"`python manage.py build_env mattersim`, then start `{python} manage.py rqworker "
        "cpu.mattersim`"
    ) in said
    assert "cpu.main" not in said.split("no worker serves")[1]
    waiting = Job.objects.get(model__name="MatterSim")
    assert (waiting.status, waiting.queue, waiting.attempts) == (
        JobStatus.QUEUED,
        "cpu.mattersim",
        0,
    )
    assert Job.objects.get(model__name="EMT", run=waiting.run).status == JobStatus.DONE


def rq_run(settings, redis_url, *, timeout: float, retries: int = 0):
    settings.REDIS_URL = redis_url
    settings.ARENA_JOB_RETRIES = retries
    call_command("run_benchmark", "eos", models="EMT", set_name="rq-set", timeout=timeout)


def test_jobs_no_worker_took_make_the_command_fail_after_its_timeout(
    registry, redis_url, settings, capsys
):
    # No worker runs: after --timeout the three jobs are still queued, and the command
    # says so and exits non-zero; the jobs stay queued in Redis for a worker to take.
    with pytest.raises(CommandError) as error:
        rq_run(settings, redis_url, timeout=1)
    run = Job.objects.first().run
    assert str(error.value) == f"0 failed, 3 unfinished (run {run.pk})"
    said = capsys.readouterr().out
    assert f"3 jobs unfinished: run_benchmark --resume {run.pk} waits for them" in said
    assert set(Job.objects.values_list("status", flat=True)) == {JobStatus.QUEUED}
    queue = Queue("cpu.main", connection=redis.Redis.from_url(redis_url))
    assert sorted(queue.get_job_ids()) == sorted(Job.objects.values_list("rq_job_id", flat=True))


def test_an_unexpected_error_is_not_retried_even_with_retries_configured(
    registry, worker, redis_url, settings
):
    """ARENA_JOB_RETRIES=1 is for jobs whose worker died: the error EMT meets on a cell
    without volume is the job's own, so RQ runs it once and keeps it as failed."""
    from rq.job import Job as RQJob
    from rq.job import JobStatus as RQStatus

    with pytest.raises(CommandError, match="1 failed"):
        rq_run(settings, redis_url, timeout=240, retries=1)
    flat = Job.objects.get(structure__label="Flat Cu")
    assert (flat.status, flat.attempts) == (JobStatus.FAILED, 1) and flat.traceback
    rq_job = RQJob.fetch(flat.rq_job_id, connection=redis.Redis.from_url(redis_url))
    assert rq_job.get_status() == RQStatus.FAILED and rq_job.retries_left == 0
    assert len(rq_job.results()) == 1  # one execution
    copper = Job.objects.get(structure__label="Cu")
    assert (copper.status, copper.attempts) == (JobStatus.DONE, 1)


def test_a_job_past_its_time_limit_on_a_worker_fails_as_such_not_as_the_models_error(
    registry, redis_url, settings, tmp_path
):
    # RQ's own timeout is an Exception that an MD loop's guard around the model would
    # record as a calculator failure of a completed job; the job's own timer is not.
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    store_structure_set(name="rq-md", description="", structures=[("Cu32", atoms, {})])
    limits = {"ARENA_TIME_LIMIT_S": "1", "ARENA_FILE_STORE": str(tmp_path)}
    process = start_worker(redis_url, {**limits, "ARENA_CHECKPOINT_SECONDS": "0.2"})
    settings.REDIS_URL = redis_url
    try:
        with pytest.raises(CommandError, match="1 failed"):
            call_command(
                "run_benchmark", "nve", "--models", "EMT", "--set", "rq-md",
                "--param=steps=400", "--param=sample_every=10", "--timeout=240",
            )  # fmt: skip
    finally:
        stop_worker(process)
    job = Job.objects.get(task__slug="nve")
    assert job.status == JobStatus.FAILED and job.rq_job_id
    assert job.error.startswith("time limit of 1 s exceeded"), job.error
    assert not Result.objects.filter(job=job).exists()
    assert (tmp_path / "checkpoints" / f"{job.key}.json").exists()  # for a re-run to go on


def test_a_worker_counts_the_busy_live_workers_on_its_own_host(redis_url):
    """What a job's ThreadShare is told: RQ's state of each live worker on this host."""
    from rq.worker import WorkerStatus

    from tasks_app.execution.rq_worker import ArenaWorker

    connection = redis.Redis.from_url(redis_url)
    here, idle, elsewhere = (
        ArenaWorker(["cpu.main"], connection=connection, name=f"share-{i}") for i in range(3)
    )
    elsewhere.hostname = "another-node"
    workers = (here, idle, elsewhere)
    try:
        for one in workers:
            one.register_birth()
            one.heartbeat()
        here.set_state(WorkerStatus.BUSY)
        idle.set_state(WorkerStatus.IDLE)
        elsewhere.set_state(WorkerStatus.BUSY)
        assert here.busy_on_host() == 1
        idle.set_state(WorkerStatus.BUSY)
        assert here.busy_on_host() == 2
        idle.register_death()  # gone: no longer counted
        assert here.busy_on_host() == 1
        assert len(here.host_devices()) == 1
    finally:
        for one in (here, elsewhere):
            one.register_death()


def test_a_worker_stops_listening_for_commands_at_once(redis_url):
    """RQ's teardown unsubscribes, then stops the listener thread and waits for it.

    The listener here has already read the unsubscribe confirmation before it is told to
    stop (the race a warm shutdown lost about one time in three): it then waits for a
    subscription, and the stop must not wait its full sleep (RQ's own: 60 s). A command
    sent before that still reaches the worker at once.
    """
    import threading

    from rq.command import send_command

    from tasks_app.execution.rq_worker import PUBSUB_WAKE_S, ArenaWorker

    connection = redis.Redis.from_url(redis_url)
    worker = ArenaWorker(["cpu.main"], connection=connection, name="listener")
    received = threading.Event()
    worker.handle_payload = lambda message: received.set()
    worker.subscribe()
    deadline = time.monotonic() + 5
    while connection.pubsub_numsub(worker.pubsub_channel_name)[0][1] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    send_command(connection, worker.name, "noop")
    assert received.wait(2), "a command did not reach the worker's listener"

    worker.pubsub.unsubscribe()
    while worker.pubsub.subscribed:  # the listener reads the confirmation
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.2)  # now waiting for a subscription
    stopper = threading.Thread(target=worker.unsubscribe, daemon=True)
    started = time.monotonic()
    stopper.start()
    stopper.join(timeout=10)
    assert not stopper.is_alive(), "stopping the listener waited out its sleep"
    # The stop waits at most one wake of the listener, plus scheduling on busy cores.
    assert time.monotonic() - started < PUBSUB_WAKE_S + 2
