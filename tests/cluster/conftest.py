"""A real one-node SLURM cluster on 127.0.0.1, started by the tests that need it (as root).

munged, slurmctld and slurmd run from Debian's munge and slurm-wlm packages with a
configuration written into a temporary folder, on free ports; everything the fixture
started is stopped after the test.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

CONFIG = """\
ClusterName=arena-test
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
ReturnToService=2
KillWait=5
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise TimeoutError(f"timed out waiting for {what}")


def munge_works() -> bool:
    return subprocess.run(["munge", "-n"], capture_output=True).returncode == 0


@pytest.fixture
def slurm(tmp_path) -> dict[str, str]:
    """Environment (SLURM_CONF) of a running one-node cluster; skipped without the packages."""
    missing = [c for c in ("munged", "slurmctld", "slurmd", "sbatch") if shutil.which(c) is None]
    if missing or os.geteuid() != 0:
        pytest.skip(f"needs root and Debian's slurm-wlm and munge (missing: {missing or 'root'})")
    started: list[int] = []
    if not munge_works():
        Path("/run/munge").mkdir(parents=True, exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        subprocess.run(["munged", "--force"], check=True, capture_output=True)
        wait_for(munge_works, 10, "munged")
        started.append(int(Path("/run/munge/munged.pid").read_text()))
    root = tmp_path / "slurm"
    for folder in ("state", "spool"):
        (root / folder).mkdir(parents=True)
    config = root / "slurm.conf"
    config.write_text(
        CONFIG.format(
            root=root, ctld_port=free_port(), slurmd_port=free_port(), cpus=os.cpu_count()
        )
    )
    env = {**os.environ, "SLURM_CONF": str(config)}
    subprocess.run(["slurmctld", "-c"], env=env, check=True)
    wait_for(lambda: (root / "slurmctld.pid").exists(), 20, "slurmctld")
    subprocess.run(["slurmd", "-c", "-N", "localhost"], env=env, check=True)
    wait_for(lambda: (root / "slurmd.pid").exists(), 20, "slurmd")
    started += [int((root / f"{d}.pid").read_text()) for d in ("slurmctld", "slurmd")]

    def idle() -> bool:
        sinfo = subprocess.run(
            ["sinfo", "--noheader", "--format=%T"], env=env, capture_output=True, text=True
        )
        return sinfo.stdout.strip() == "idle"

    wait_for(idle, 30, "the node to come up idle")
    yield {"SLURM_CONF": str(config)}
    subprocess.run(["scancel", "--full", "--user=root"], env=env, capture_output=True)
    for pid in reversed(started):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
