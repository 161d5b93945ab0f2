"""A job's lease in real time, with a heartbeat of a fraction of a second: renewed while the
heartbeat runs, so no other process can take the job; expired one lease after the beats
stop, so that another process takes it over.

The heartbeat thread opens its own database connection, so this test commits
(transaction=True). No time is asserted: the waits are bounded polls of job states.
"""

from __future__ import annotations

import time

import pytest
from ase.build import bulk

from models_app.models import MLIP
from tasks_app.execution.heartbeat import job_lease
from tasks_app.models import Job, JobStatus, Task
from tasks_app.selectors import job_state, lease_seconds
from tasks_app.services import job_start, run_create, seed_tasks
from tasks_app.structure_sets import store_structure_set

pytestmark = pytest.mark.django_db(transaction=True)
HEARTBEAT_S = 0.3  # a lease of 0.9 s: three beats, so one beat late on a busy machine is fine


@pytest.fixture
def job(settings) -> Job:
    settings.ARENA_HEARTBEAT_S = HEARTBEAT_S
    seed_tasks()
    structure_set, _ = store_structure_set(
        name="one", description="", structures=[("Cu", bulk("Cu", "fcc", a=3.6), {})]
    )
    _, (planned,) = run_create(
        task=Task.objects.get(slug="ev"),
        models=[MLIP.objects.create(name="EMT", family="emt", cpu_tasks=["ev"])],
        structure_set=structure_set,
        structures=list(structure_set.structures.all()),
    )
    return planned


def state(job: Job) -> str:
    return Job.objects.annotate(state=job_state()).values_list("state", flat=True).get(pk=job.pk)


def test_a_heartbeat_keeps_the_lease_and_its_end_lets_another_process_take_over(job):
    assert lease_seconds() == pytest.approx(3 * HEARTBEAT_S)
    assert job_start(job_id=job.pk)
    with job_lease(job.pk):
        # Past more than one lease, and checked every beat: still held, never taken twice.
        until = time.monotonic() + 1.5 * lease_seconds()
        while time.monotonic() < until:
            assert state(job) == JobStatus.RUNNING
            assert not job_start(job_id=job.pk)
            time.sleep(HEARTBEAT_S)
    # The process "died": no beat renews the lease any more.
    deadline = time.monotonic() + 10 * lease_seconds()  # a bound, not a measurement
    while state(job) == JobStatus.RUNNING and time.monotonic() < deadline:
        time.sleep(HEARTBEAT_S / 3)
    assert state(job) == JobStatus.INTERRUPTED
    assert job_start(job_id=job.pk)  # another process takes it over
    taken = Job.objects.get(pk=job.pk)
    assert (taken.status, taken.attempts) == (JobStatus.RUNNING, 2)
    assert state(job) == JobStatus.RUNNING
