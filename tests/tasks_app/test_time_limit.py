"""A task's time limit holds in-process as on RQ: the job is failed with a clear line, and
a re-run goes on from its last checkpoint to the state of a run never stopped."""

from __future__ import annotations

import time

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from django.core.management import call_command
from django.core.management.base import CommandError

from compute.tasks import TASKS, run_task
from tasks_app.execution.time_limits import TimeLimitExceeded, job_time_limit_s, time_limit
from tasks_app.models import Job, JobStatus, Result
from tasks_app.structure_sets import store_structure_set

# 32 Cu atoms: EMT runs some 100 steps a second here, so 1 s stops the run early.
PARAMS = {"steps": 400, "sample_every": 10}


@pytest.mark.django_db
def test_an_md_job_past_its_limit_fails_and_a_rerun_resumes_to_an_unbroken_runs_state(
    seeded, inline_jobs, settings, tmp_path
):
    settings.ARENA_FILE_STORE = tmp_path
    settings.ARENA_PROGRESS_SECONDS = 0.0
    settings.ARENA_CHECKPOINT_SECONDS = 0.0  # a checkpoint every step
    settings.ARENA_TIME_LIMIT_S = 1.0
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    store_structure_set(name="md-limit", description="", structures=[("Cu32", atoms, {})])
    args = ["run_benchmark", "nve", "--models", "EMT", "--set", "md-limit"]
    args += [f"--param={k}={v}" for k, v in PARAMS.items()]
    with pytest.raises(CommandError, match="1 failed"):
        call_command(*args)
    stopped = Job.objects.get(task__slug="nve")
    assert stopped.status == JobStatus.FAILED
    assert stopped.error.startswith("time limit of 1 s exceeded")
    assert stopped.compute_seconds >= 1.0  # not before its time
    assert 0 < stopped.steps_done < PARAMS["steps"]  # stopped mid-run
    assert (tmp_path / "checkpoints" / f"{stopped.key}.json").exists()

    settings.ARENA_TIME_LIMIT_S = 0.0  # the task's own limit: hours
    call_command(*args)
    resumed = Job.objects.exclude(pk=stopped.pk).get(task__slug="nve")
    assert resumed.status == JobStatus.DONE and resumed.key == stopped.key
    assert 0 < resumed.resumed_from_step < PARAMS["steps"]
    final = Result.objects.get(job=resumed).output["final_frame"]
    expected = run_task("nve", atoms, EMT(), PARAMS)["final_frame"]
    # Not bitwise: EMT's neighbour list, rebuilt on resume, sums in another order (1e-14).
    for field in ("positions", "momenta", "cell"):
        assert np.abs(np.subtract(final[field], expected[field])).max() < 1e-8, field


@pytest.mark.django_db
def test_a_limit_passing_during_a_query_stops_the_job_after_it_and_the_connection_works():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("pg_sleep: a query that takes a known time needs PostgreSQL")
    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded), time_limit(0.05):
        with connection.cursor() as cursor:
            cursor.execute("select pg_sleep(0.3)")
        raise AssertionError("the limit passed during the query: it must stop the job here")
    assert time.monotonic() - started >= 0.3  # the query ran to its end
    # The transaction is usable: a query cut off mid-way would have aborted it.
    assert Job.objects.count() == 0


def test_a_timer_already_running_is_put_back_after_the_block(settings):
    import signal

    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(time.monotonic()))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.4)  # as RQ's job timeout would be
        started = time.monotonic()
        with time_limit(5.0):
            time.sleep(0.1)
        assert not fired
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0.2 < left <= 0.3 + 0.05  # 0.4 less the 0.1 s spent (timer slack: 50 ms)
        time.sleep(0.5)
        assert len(fired) == 1 and fired[0] - started < 0.5
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class SlowEMT(EMT):
    """EMT that takes 50 ms a call: a time limit passes inside the model's call."""

    def calculate(self, *args, **kwargs):
        time.sleep(0.05)
        super().calculate(*args, **kwargs)


def test_a_limit_passing_inside_the_models_call_is_not_taken_for_the_models_error():
    # The MD loop records a model's exception as a "calculator_error" failure of a
    # finished run; the time limit must pass through it and stop the job.
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded), time_limit(0.3):
        run_task("nve", atoms, SlowEMT(), PARAMS)
    assert time.monotonic() - started < 0.3 + 0.1  # at once, not at the run's end (20 s)


def test_the_setting_caps_each_tasks_limit_and_never_raises_it(settings):
    settings.ARENA_TIME_LIMIT_S = 0.0
    assert job_time_limit_s(TASKS["nve"]) == TASKS["nve"].time_limit_s == 6 * 3600
    settings.ARENA_TIME_LIMIT_S = 90.0
    assert job_time_limit_s(TASKS["nve"]) == 90.0
    settings.ARENA_TIME_LIMIT_S = 10 * 3600.0
    assert job_time_limit_s(TASKS["speed"]) == TASKS["speed"].time_limit_s == 2 * 3600


@pytest.mark.django_db
def test_a_runs_timeout_stops_the_job_in_hand_and_leaves_it_interrupted(
    seeded, inline_jobs, settings, tmp_path
):
    settings.ARENA_FILE_STORE = tmp_path
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    store_structure_set(name="md-timeout", description="", structures=[("Cu32", atoms, {})])
    before = Result.objects.count()
    started = time.monotonic()
    with pytest.raises(CommandError) as error:
        # 2000 steps take some 20 s here; the run's timeout, not the task's 6 h limit, stops it.
        call_command(
            "run_benchmark", "nve", models="EMT", set_name="md-timeout", workers=1,
            param=["steps=2000"], timeout=1.0,
        )  # fmt: skip
    assert time.monotonic() - started < 10
    job = Job.objects.get(task__slug="nve", structure__label="Cu32")
    assert str(error.value) == f"0 failed, 1 unfinished (run {job.run_id})"
    assert job.status == JobStatus.INTERRUPTED
    assert Result.objects.count() == before


def test_a_shorter_outer_limit_fires_first_through_an_inner_one():
    class RunOver(BaseException):
        pass

    started = time.monotonic()
    with pytest.raises(RunOver), time_limit(0.2, error=RunOver), time_limit(30.0):
        time.sleep(5)
    assert time.monotonic() - started < 1
    import signal

    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # nothing left armed
