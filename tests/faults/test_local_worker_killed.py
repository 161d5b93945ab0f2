"""run_benchmark --workers 2 on PostgreSQL: a worker process killed mid-job (SIGKILL)
leaves its job to the other once its lease runs out; the run completes with every result
stored once."""

import os
import signal
from pathlib import Path

import pytest
from ase.build import bulk

from tasks_app.models import Job, JobStatus
from tasks_app.structure_sets import store_structure_set
from tests.faults.harness import arena_env, outcome, run_benchmark, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_job_leaves_it_to_another_and_the_run_completes(database_url, spawn):
    # Six jobs of 256 atoms (seconds each): the command's own worker cannot
    # finish them all while the second process is still importing torch (which took
    # 3 jobs of 108 atoms' time on a cold fresh clone, so that the two never overlapped).
    slow = [
        (f"Cu256-{i}", bulk("Cu", "fcc", a=3.6 + 0.02 * i, cubic=True).repeat(4), {})
        for i in range(6)
    ]
    store_structure_set(name="slow", description="", structures=slow)
    env = arena_env(database_url, heartbeat_s=1.0)
    command = spawn(
        run_benchmark("eos", "--models", "EMT", "--set", "slow", "--workers", "2", env=env)
    )

    def both_running() -> bool:
        return Job.objects.filter(status=JobStatus.RUNNING).count() == 2

    wait_for(both_running, 120, "both workers running a job")
    child = worker_child(command.pid)
    os.kill(child, signal.SIGKILL)

    assert command.wait(180) == 0, command.output()
    said = command.output()
    assert f"worker 1 (pid {child}) stopped: signal 9; job " in said
    assert "goes to another worker once its lease runs out (3 s)" in said
    assert "Traceback" not in said
    got = outcome("EMT", "slow")
    assert (got.planned, got.results, got.duplicates, got.stuck) == (6, 6, 0, 0)
    assert got.attempts == 7  # the killed job ran again, once


def worker_child(pid: int) -> int:
    """The spawned worker process of the command ``pid``."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in children:
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
            return int(child)
    raise AssertionError(f"no spawned worker among {children}")
