"""Batch scripts for cluster workers: what each scheduler is asked for and what runs."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import pytest

from arena_site.errors import ArenaError
from tasks_app.execution.launch import WorkerJob, batch_script, redacted

ENV = {"DATABASE_URL": "postgres://arena:pa ss@db:5432/arena", "REDIS_URL": "redis://r:6379/0"}


def job(**changes) -> WorkerJob:
    base = WorkerJob(
        scheduler="slurm",
        queues=("gpu", "cpu"),
        python="/opt/arena/.venv/bin/python",
        project_dir=Path("/opt/arena"),
        log_dir=Path("/opt/arena/var/cluster"),
        environment=ENV,
        workers_per_node=4,
        cpus_per_worker=2,
    )
    return dataclasses.replace(base, **changes)


def directives(script: str, prefix: str) -> list[str]:
    return [line.removeprefix(prefix) for line in script.splitlines() if line.startswith(prefix)]


def exports(script: str) -> dict[str, str]:
    found = {}
    for line in script.splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            found[name] = shlex.split(value)[0] if value else ""
    return found


def test_slurm_script_asks_for_one_node_of_workers_and_starts_one_per_task():
    script = batch_script(job(partition="gpu-a100", account="m1234", time="12:00:00"))
    assert directives(script, "#SBATCH ") == [
        "--job-name=arena-workers",
        "--nodes=1",
        "--ntasks-per-node=4",
        "--cpus-per-task=2",
        "--time=12:00:00",
        "--output=/opt/arena/var/cluster/arena-workers-%j.out",
        "--partition=gpu-a100",
        "--account=m1234",
    ]
    assert script.splitlines()[-1] == (
        "exec srun --kill-on-bad-exit=0 /opt/arena/.venv/bin/python manage.py rqworker gpu cpu"
    )
    # Each worker knows its share: 4 workers on the node, 2 threads each.
    assert exports(script) == {**ENV, "ARENA_WORKERS_PER_HOST": "4", "ARENA_WORKER_THREADS": "2"}
    assert "cd /opt/arena" in script.splitlines()


def test_several_nodes_are_an_array_and_gpus_give_each_worker_its_own_device():
    script = batch_script(job(nodes=3, gpus_per_worker=1))
    assert "--array=0-2" in directives(script, "#SBATCH ")
    assert "--gpus-per-task=1" in directives(script, "#SBATCH ")
    assert "--output=/opt/arena/var/cluster/arena-workers-%A_%a.out" in directives(
        script, "#SBATCH "
    )
    assert "export ARENA_DEVICE=cuda" in script.splitlines()


def test_pbs_script_asks_for_the_node_and_starts_the_workers_itself():
    script = batch_script(job(scheduler="pbs", nodes=2, gpus_per_worker=1, partition="workq"))
    assert directives(script, "#PBS ") == [
        "-N arena-workers",
        "-l select=1:ncpus=8:ngpus=4",
        "-l walltime=04:00:00",
        "-j oe",
        "-o /opt/arena/var/cluster/",
        "-J 0-1",
        "-q workq",
    ]
    assert script.splitlines()[-2:] == [
        "for i in $(seq 0 3); do ARENA_DEVICE=cuda:$i "
        "/opt/arena/.venv/bin/python manage.py rqworker gpu cpu & done",
        "wait",
    ]


def test_values_are_quoted_for_the_shell():
    script = batch_script(job(environment={**ENV, "HF_HOME": "/data/my hf; rm -rf /"}))
    assert exports(script)["HF_HOME"] == "/data/my hf; rm -rf /"
    assert "export HF_HOME='/data/my hf; rm -rf /'" in script


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scheduler": "lsf"}, "unknown scheduler 'lsf'"),
        ({"queues": ()}, "give the worker queues as names"),
        ({"queues": ("cpu; reboot",)}, "give the worker queues as names"),
        ({"workers_per_node": 0}, "--workers-per-node must be at least 1"),
        ({"gpus_per_worker": -1}, "--gpus-per-worker cannot be negative"),
        ({"time": "2 hours"}, "--time '2 hours' is not HH:MM:SS"),
        ({"name": "a b"}, "--name 'a b' may hold"),
        ({"environment": {"REDIS_URL": "redis://r"}}, "set DATABASE_URL and REDIS_URL"),
    ],
)
def test_options_a_scheduler_would_refuse_are_one_line_errors(changes, message):
    with pytest.raises(ArenaError, match=message) as error:
        batch_script(job(**changes))
    assert "\n" not in str(error.value)


def test_printed_scripts_hide_secrets():
    shown = redacted(
        {
            "DATABASE_URL": "postgres://arena:s3cr%40t@db:5432/arena",
            "REDIS_URL": "redis://:pw@cache:6379/0",
            "SECRET_KEY": "k",
            "HF_TOKEN": "hf_abc",
            "HF_HOME": "/data/hf",
        }
    )
    assert shown == {
        "DATABASE_URL": "postgres://arena:***@db:5432/arena",
        "REDIS_URL": "redis://:***@cache:6379/0",
        "SECRET_KEY": "***",
        "HF_TOKEN": "***",
        "HF_HOME": "/data/hf",
    }


def test_a_pbs_script_for_one_cpu_node_is_no_array_and_names_no_device():
    script = batch_script(job(scheduler="pbs", account="m99"))
    assert directives(script, "#PBS ") == [
        "-N arena-workers",
        "-l select=1:ncpus=8",
        "-l walltime=04:00:00",
        "-j oe",
        "-o /opt/arena/var/cluster/",
        "-A m99",
    ]
    assert script.splitlines()[-2] == (
        "for i in $(seq 0 3); do /opt/arena/.venv/bin/python manage.py rqworker gpu cpu & done"
    )


def test_two_slurm_nodes_are_an_array_of_two():
    script = batch_script(job(nodes=2))
    assert "--array=0-1" in directives(script, "#SBATCH ")
    assert "--output=/opt/arena/var/cluster/arena-workers-%A_%a.out" in directives(
        script, "#SBATCH "
    )


def test_the_script_is_bash_stopping_at_the_first_error_then_the_prologue():
    lines = batch_script(job(prologue="module load cuda/12")).splitlines()
    first_body = lines.index("set -eu")
    assert lines[0] == "#!/bin/bash"
    assert lines[first_body + 1 : first_body + 3] == ["module load cuda/12", "cd /opt/arena"]
    lines = batch_script(job()).splitlines()
    assert lines[lines.index("set -eu") + 1] == "cd /opt/arena"


def test_the_refusals_say_what_to_do_in_full():
    cases = [
        ({"scheduler": "lsf"}, "unknown scheduler 'lsf'; choose slurm or pbs"),
        ({"gpus_per_worker": -1}, "--gpus-per-worker cannot be negative"),
        (
            {"environment": {"REDIS_URL": "redis://r"}},
            "cluster workers need a database and a Redis that every node reaches: "
            "set DATABASE_URL and REDIS_URL before launching",
        ),
    ]
    for changes, message in cases:
        with pytest.raises(ArenaError) as error:
            batch_script(job(**changes))
        assert str(error.value) == message


def test_a_password_variable_is_hidden_too():
    assert redacted({"DB_PASSWORD": "hunter2", "PATH": "/bin"}) == {
        "DB_PASSWORD": "***",
        "PATH": "/bin",
    }
