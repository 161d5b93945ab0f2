"""What launch_workers asks a scheduler's commands and how it reads their answers.

The commands are stand-ins on PATH that record their arguments and print what SLURM's
and PBS's print (``sbatch --parsable``: ``id;cluster``; ``qsub``: ``id.server``); a real
one-node SLURM cluster runs under ``-m slurm`` (tests/cluster).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from arena_site.errors import ArenaError
from tasks_app.execution.launch import ClusterJob, WorkerJob, batch_script, cancel, running, submit

ENV = {"DATABASE_URL": "postgres://db/arena", "REDIS_URL": "redis://r:6379/0"}


@pytest.fixture
def scheduler_bin(tmp_path, monkeypatch):
    """A PATH holding only the stand-ins that ``command`` makes."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))

    def command(name: str, *, prints: str = "", errors: str = "", exit_code: int = 0) -> Path:
        calls = tmp_path / f"{name}.calls"
        script = folder / name
        script.write_text(
            "#!/bin/sh\n"
            f'echo "$@" >> {calls}\n'
            f"printf '%s' '{prints}'\n"
            f"printf '%s' '{errors}' >&2\n"
            f"exit {exit_code}\n"
        )
        script.chmod(0o755)
        return calls

    return command


def worker_job(tmp_path: Path, scheduler: str) -> WorkerJob:
    return WorkerJob(
        scheduler=scheduler,
        queues=("cpu",),
        python="/usr/bin/python3",
        project_dir=Path("/opt/arena"),
        log_dir=tmp_path / "logs",
        environment=ENV,
        name="arena-test",
    )


def test_slurm_submit_writes_the_script_for_its_owner_only_and_reads_the_parsable_id(
    tmp_path, scheduler_bin
):
    calls = scheduler_bin("sbatch", prints="4711;cluster-a\n")
    job = worker_job(tmp_path, "slurm")
    job_id, path = submit(job)
    assert job_id == "4711"
    assert path.parent == tmp_path / "logs" and path.name.startswith("arena-test-")
    assert path.suffix == ".sbatch"
    assert path.read_text() == batch_script(job)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # the script holds DATABASE_URL
    assert calls.read_text() == f"--parsable {path}\n"


def test_pbs_submit_returns_qsub_s_whole_id(tmp_path, scheduler_bin):
    calls = scheduler_bin("qsub", prints="812.pbs-server\n")
    job_id, path = submit(worker_job(tmp_path, "pbs"))
    assert (job_id, path.suffix) == ("812.pbs-server", ".pbs")
    assert calls.read_text() == f"{path}\n"


def test_running_reads_squeue_lines_and_qselect_ids(scheduler_bin):
    squeue = scheduler_bin("squeue", prints="17|RUNNING|1:02 1 node(s) n01\n\n18|PENDING|0:00|x\n")
    assert running("slurm", "arena-test") == [
        ClusterJob("17", "RUNNING", "1:02 1 node(s) n01"),
        ClusterJob("18", "PENDING", "0:00|x"),  # only the first two bars split
    ]
    assert squeue.read_text() == ("--noheader --name=arena-test --format=%i|%T|%M %D node(s) %R\n")
    qselect = scheduler_bin("qselect", prints="5.s\n6.s\n")
    assert running("pbs", "arena-test") == [
        ClusterJob("5.s", "queued or running", ""),
        ClusterJob("6.s", "queued or running", ""),
    ]
    assert qselect.read_text() == "-N arena-test\n"


def test_cancel_given_ids_cancels_those_and_none_given_every_job_of_the_name(scheduler_bin):
    scancel = scheduler_bin("scancel")
    scheduler_bin("squeue", prints="3|RUNNING|x\n4|PENDING|y\n")
    assert cancel("slurm", "arena-test", ["9"]) == ["9"]
    assert cancel("slurm", "arena-test", []) == ["3", "4"]
    assert scancel.read_text() == "9\n3 4\n"


def test_cancel_with_nothing_running_runs_no_cancel(scheduler_bin):
    qdel = scheduler_bin("qdel")
    scheduler_bin("qselect", prints="")
    assert cancel("pbs", "arena-test", []) == []
    assert not qdel.exists()


def test_a_missing_command_and_a_failing_one_are_one_line_errors(tmp_path, scheduler_bin):
    with pytest.raises(ArenaError) as missing:
        running("slurm", "arena-test")
    assert str(missing.value) == (
        "squeue is not on PATH: run this on a SLURM login node "
        "(or choose the other scheduler with --scheduler)"
    )
    scheduler_bin("qselect", errors="qselect: first\nqselect: Unknown option -N\n", exit_code=2)
    with pytest.raises(ArenaError) as failed:
        running("pbs", "arena-test")
    assert str(failed.value) == "qselect failed: qselect: Unknown option -N"
    scheduler_bin("scancel", prints="only stdout\n", exit_code=1)
    with pytest.raises(ArenaError, match=r"^scancel failed: only stdout$"):
        cancel("slurm", "arena-test", ["1"])
    scheduler_bin("qdel", exit_code=3)
    with pytest.raises(ArenaError, match=r"^qdel failed: exit 3$"):
        cancel("pbs", "arena-test", ["1"])
