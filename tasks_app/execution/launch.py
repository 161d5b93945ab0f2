"""Start RQ workers as batch jobs on a SLURM or PBS cluster, list them and stop them.

One batch job holds one node's worth of workers (``workers_per_node`` processes of
``cpus_per_worker`` cores and ``gpus_per_worker`` GPUs each); several nodes are an
array job of such elements. Each worker gets its share of threads and, on GPUs, its own
device. The script carries the environment a worker needs (database, Redis, caches),
so it is written readable by its owner only.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from arena_site.errors import ArenaError

SCHEDULERS = ("slurm", "pbs")
WALLTIME = re.compile(r"^(\d+-)?\d{1,3}:\d{2}:\d{2}$")
COMMANDS = {
    "slurm": {"submit": "sbatch", "list": "squeue", "cancel": "scancel"},
    "pbs": {"submit": "qsub", "list": "qselect", "cancel": "qdel"},
}


@dataclass(frozen=True)
class WorkerJob:
    """What to ask the scheduler for, and what each worker process runs."""

    scheduler: str
    queues: tuple[str, ...]
    python: str
    project_dir: Path
    log_dir: Path
    environment: dict[str, str] = field(default_factory=dict)
    nodes: int = 1
    workers_per_node: int = 1
    cpus_per_worker: int = 1
    gpus_per_worker: int = 0
    time: str = "04:00:00"
    partition: str = ""
    account: str = ""
    prologue: str = ""
    name: str = "arena-workers"

    def check(self) -> None:
        """Raise ArenaError naming the first option a scheduler would refuse."""
        if self.scheduler not in SCHEDULERS:
            raise ArenaError(
                f"unknown scheduler {self.scheduler!r}; choose {' or '.join(SCHEDULERS)}"
            )
        if not self.queues or not all(re.fullmatch(r"[\w.-]+", q) for q in self.queues):
            raise ArenaError(
                f"give the worker queues as names, e.g. cpu or gpu,cpu (not {self.queues})"
            )
        for option in ("nodes", "workers_per_node", "cpus_per_worker"):
            if getattr(self, option) < 1:
                raise ArenaError(f"--{option.replace('_', '-')} must be at least 1")
        if self.gpus_per_worker < 0:
            raise ArenaError("--gpus-per-worker cannot be negative")
        if not WALLTIME.match(self.time):
            raise ArenaError(f"--time {self.time!r} is not HH:MM:SS or D-HH:MM:SS")
        if not re.fullmatch(r"[\w.-]+", self.name):
            raise ArenaError(f"--name {self.name!r} may hold letters, digits, '.', '_', '-'")
        if not self.environment.get("REDIS_URL") or not self.environment.get("DATABASE_URL"):
            raise ArenaError(
                "cluster workers need a database and a Redis that every node reaches: "
                "set DATABASE_URL and REDIS_URL before launching"
            )


@dataclass(frozen=True)
class ClusterJob:
    id: str
    state: str
    detail: str


def batch_script(job: WorkerJob) -> str:
    """The whole batch script for ``job``'s scheduler."""
    job.check()
    directives = _slurm_directives(job) if job.scheduler == "slurm" else _pbs_directives(job)
    body = _slurm_body(job) if job.scheduler == "slurm" else _pbs_body(job)
    exports = {
        **job.environment,
        "ARENA_WORKERS_PER_HOST": str(job.workers_per_node),
        "ARENA_WORKER_THREADS": str(job.cpus_per_worker),
    }
    lines = [
        "#!/bin/bash",
        *directives,
        "set -eu",
        *([job.prologue] if job.prologue else []),
        f"cd {shlex.quote(str(job.project_dir))}",
        *(f"export {k}={shlex.quote(v)}" for k, v in sorted(exports.items())),
        *body,
    ]
    return "\n".join(lines) + "\n"


def redacted(environment: dict[str, str]) -> dict[str, str]:
    """The environment with secrets (keys, tokens, passwords in URLs) masked, for printing."""
    masked = {}
    for name, value in environment.items():
        if any(word in name for word in ("SECRET", "TOKEN", "PASSWORD")):
            value = "***"
        masked[name] = re.sub(r"(://[^:/@]*:)[^/]*@", r"\1***@", value)
    return masked


def submit(job: WorkerJob) -> tuple[str, Path]:
    """Write the script under ``job.log_dir`` and submit it; returns (job id, script path)."""
    script = batch_script(job)
    job.log_dir.mkdir(parents=True, exist_ok=True)
    suffix = "sbatch" if job.scheduler == "slurm" else "pbs"
    path = job.log_dir / f"{job.name}-{time.strftime('%Y%m%d-%H%M%S')}.{suffix}"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(script)
    if job.scheduler == "slurm":
        output = _run(job.scheduler, "submit", ["--parsable", str(path)])
        return output.strip().split(";")[0], path
    return _run(job.scheduler, "submit", [str(path)]).strip(), path


def running(scheduler: str, name: str) -> list[ClusterJob]:
    """The scheduler's jobs named ``name`` (pending or running)."""
    if scheduler == "slurm":
        output = _run(
            scheduler, "list", ["--noheader", f"--name={name}", "--format=%i|%T|%M %D node(s) %R"]
        )
        return [ClusterJob(*line.split("|", 2)) for line in output.splitlines() if line.strip()]
    return [
        ClusterJob(job_id, "queued or running", "")
        for job_id in _run(scheduler, "list", ["-N", name]).split()
    ]


def cancel(scheduler: str, name: str, ids: list[str]) -> list[str]:
    """Cancel ``ids``, or every job named ``name`` when none are given; returns the ids."""
    chosen = ids or [job.id for job in running(scheduler, name)]
    if chosen:
        _run(scheduler, "cancel", chosen)
    return chosen


def _slurm_directives(job: WorkerJob) -> list[str]:
    log = job.log_dir / f"{job.name}-{'%A_%a' if job.nodes > 1 else '%j'}.out"
    lines = [
        f"#SBATCH --job-name={job.name}",
        "#SBATCH --nodes=1",
        f"#SBATCH --ntasks-per-node={job.workers_per_node}",
        f"#SBATCH --cpus-per-task={job.cpus_per_worker}",
        f"#SBATCH --time={job.time}",
        f"#SBATCH --output={log}",
    ]
    if job.nodes > 1:
        lines.append(f"#SBATCH --array=0-{job.nodes - 1}")
    if job.gpus_per_worker:
        lines.append(f"#SBATCH --gpus-per-task={job.gpus_per_worker}")
    if job.partition:
        lines.append(f"#SBATCH --partition={job.partition}")
    if job.account:
        lines.append(f"#SBATCH --account={job.account}")
    return lines


def _slurm_body(job: WorkerJob) -> list[str]:
    # srun starts one worker per task; with GPUs each task sees only its own device.
    device = ["export ARENA_DEVICE=cuda"] if job.gpus_per_worker else []
    worker = [job.python, "manage.py", "rqworker", *job.queues]
    return [*device, f"exec srun --kill-on-bad-exit=0 {shlex.join(worker)}"]


def _pbs_directives(job: WorkerJob) -> list[str]:
    resources = f"select=1:ncpus={job.workers_per_node * job.cpus_per_worker}"
    if job.gpus_per_worker:
        resources += f":ngpus={job.workers_per_node * job.gpus_per_worker}"
    lines = [
        f"#PBS -N {job.name}",
        f"#PBS -l {resources}",
        f"#PBS -l walltime={job.time}",
        "#PBS -j oe",
        f"#PBS -o {job.log_dir}/",
    ]
    if job.nodes > 1:
        lines.append(f"#PBS -J 0-{job.nodes - 1}")
    if job.partition:
        lines.append(f"#PBS -q {job.partition}")
    if job.account:
        lines.append(f"#PBS -A {job.account}")
    return lines


def _pbs_body(job: WorkerJob) -> list[str]:
    # PBS has no per-task launcher of its own: start the workers here and wait for them.
    worker = shlex.join([job.python, "manage.py", "rqworker", *job.queues])
    device = "ARENA_DEVICE=cuda:$i " if job.gpus_per_worker else ""
    return [
        f"for i in $(seq 0 {job.workers_per_node - 1}); do {device}{worker} & done",
        "wait",
    ]


def _run(scheduler: str, action: str, args: list[str]) -> str:
    command = COMMANDS[scheduler][action]
    if shutil.which(command) is None:
        raise ArenaError(
            f"{command} is not on PATH: run this on a {scheduler.upper()} login node "
            f"(or choose the other scheduler with --scheduler)"
        )
    done = subprocess.run([command, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise ArenaError(f"{command} failed: {reason[-1] if reason else f'exit {done.returncode}'}")
    return done.stdout
