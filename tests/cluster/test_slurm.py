"""Workers launched as a real SLURM batch job run a benchmark, then are cancelled."""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

import pytest
import redis
from ase.build import bulk
from django.core.management import call_command
from rq import Worker
from rq.job import Job as RQJob

from tasks_app.models import Job, JobStatus
from tasks_app.structure_sets import store_structure_set
from tests.cluster.conftest import wait_for
from tests.conftest import database_url_for_subprocess, manage

pytestmark = [pytest.mark.slurm, pytest.mark.django_db(transaction=True)]

# EMT EOS jobs on rattled 256-atom Cu cells take about 2 s each on an idle core: long
# enough that the second worker takes one while the first runs (6 jobs on small Delta
# crystals took 0.7 s in all, and one worker could run every one).
CELLS = 4


def store_busy_cells() -> None:
    cells = []
    for seed in range(CELLS):
        atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(4)
        atoms.rattle(0.05, seed=seed)
        cells.append((f"Cu256-{seed}", atoms, {}))
    store_structure_set(name="busy", description="EMT jobs of about 2 s", structures=cells)


def test_two_slurm_workers_run_a_benchmark_and_stop_when_cancelled(
    slurm, seeded, redis_url, settings
):
    database_url = database_url_for_subprocess()
    if database_url is None:
        pytest.skip("workers on a cluster need a database server (DATABASE_URL)")
    env = {**slurm, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    connection = redis.Redis.from_url(redis_url)

    submitted = manage(
        "launch_workers", "submit", "--workers-per-node", "2",
        "--cpus-per-worker", "1", "--time", "00:15:00", env=env,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    found = re.search(
        r"submitted slurm job (\d+): 2 worker\(s\) on cpu\.main \((\S+)\)", submitted.stdout
    )
    job_id, script = found.groups()
    assert stat.S_IMODE(Path(script).stat().st_mode) == 0o600  # it holds DATABASE_URL
    wait_for(lambda: len(Worker.all(connection=connection)) == 2, 90, "two workers in Redis")
    listed = manage("launch_workers", "list", env=env)
    assert re.search(rf"^{job_id}\s+RUNNING", listed.stdout, re.M), listed.stdout

    store_busy_cells()
    call_command("run_benchmark", "eos", models="EMT", set_name="busy", timeout=300)
    jobs = list(Job.objects.all())
    assert [j.status for j in jobs] == [JobStatus.DONE] * CELLS
    assert {j.queue for j in jobs} == {"cpu.main"}  # the main environment's CPU queue
    names = {RQJob.fetch(j.rq_job_id, connection=connection).worker_name for j in jobs}
    assert len(names) == 2 and names <= {w.name for w in Worker.all(connection=connection)}

    log = Path(script).parent / f"arena-workers-{job_id}.out"
    shares = re.findall(r"compute threads: (\d+) \((\d+) cores, (\d+) workers", log.read_text())
    assert len(shares) == 2 and all(share[0] == "1" and share[2] == "2" for share in shares)

    stopped = manage("launch_workers", "stop", env=env)
    assert stopped.stdout.strip() == f"cancelled {job_id}", stopped.stderr

    def gone() -> bool:
        queue = subprocess.run(
            ["squeue", "--noheader"], env={**env, "PATH": "/usr/bin:/bin"}, capture_output=True
        )
        return not queue.stdout.strip() and not Worker.all(connection=connection)

    wait_for(gone, 60, "the batch job and its workers to end")
    assert manage("launch_workers", "list", env=env).stdout.strip() == (
        "no slurm jobs named arena-workers"
    )
