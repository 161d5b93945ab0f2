"""An MD job whose run_benchmark process is killed (SIGKILL) mid-run goes on from its last
checkpoint and ends in the state of a run never stopped."""

from __future__ import annotations

import signal

import numpy as np
import pytest
from ase.calculators.emt import EMT

from compute.structure_sets.md_cells import md_cells
from compute.tasks import run_task
from tasks_app.models import Job, JobStatus, Result
from tasks_app.structure_sets import store_structure_set
from tests.faults.harness import arena_env, run_benchmark, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]
SHORT = {"steps": 150, "sample_every": 10}


def test_a_killed_md_job_resumes_to_the_state_of_an_unbroken_run(database_url, tmp_path, spawn):
    url = database_url
    label, atoms, _ = md_cells()[0]
    store_structure_set(name="md-kill", description="", structures=[(label, atoms, {})])
    env = {
        **arena_env(url, heartbeat_s=0.5),
        "ARENA_FILE_STORE": str(tmp_path),
        "ARENA_PROGRESS_SECONDS": "0",
        "ARENA_CHECKPOINT_SECONDS": "0",
    }
    args = ["nve", "--models", "EMT", "--set", "md-kill"]
    args += [f"--param={k}={v}" for k, v in SHORT.items()]
    first = spawn(run_benchmark(*args, env=env))
    job = wait_for(
        lambda: Job.objects.filter(task__slug="nve", steps_done__gte=60).first(),
        120,
        "the job reporting 60 steps",
    )
    first.signal(signal.SIGKILL)  # no handler runs: the lease just stops being renewed
    first.wait(10)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.steps_done < SHORT["steps"]
    resumed = spawn(run_benchmark("--resume", str(job.run_id), env=env))
    assert resumed.wait(120) == 0, resumed.output()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.attempts == 2
    assert 0 < job.resumed_from_step < SHORT["steps"]
    final = Result.objects.get(job=job).output["final_frame"]
    expected = run_task("nve", atoms, EMT(), SHORT)["final_frame"]
    for field in ("positions", "momenta", "cell"):
        assert np.abs(np.subtract(final[field], expected[field])).max() < 1e-8, field
    assert not (tmp_path / "checkpoints" / f"{job.key}.json").exists()  # done: removed
