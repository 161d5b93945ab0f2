"""Each worker takes its share of the cores: torch, OpenMP and BLAS pools all limited."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from compute.threads import physical_device, threads_per_worker
from tests.conftest import ROOT

PROBE = """
import json, sys
import numpy, torch
from threadpoolctl import threadpool_info
from compute.threads import apply_threads
chosen = apply_threads(int(sys.argv[1]))
import scipy.linalg  # its own OpenBLAS, loaded after the limit (as a model's import does)
pools = {i["filepath"]: i["num_threads"] for i in threadpool_info()}
print(json.dumps({"chosen": chosen, "torch": torch.get_num_threads(), "pools": pools}))
"""


def test_share_is_cores_divided_by_workers_and_never_zero():
    assert threads_per_worker(cores=16, workers=4) == 4
    assert threads_per_worker(cores=16, workers=3) == 5
    assert threads_per_worker(cores=2, workers=4) == 1
    assert threads_per_worker(cores=8, workers=0) == 8


def fresh_python(script: str, *args: str) -> dict:
    """What ``script`` prints last as JSON, run in a fresh process with no thread count set."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_apply_threads_limits_torch_and_every_native_pool_in_a_fresh_process():
    report = fresh_python(PROBE, "1")
    assert report["torch"] == 1
    assert report["chosen"]["torch_inter_op"] == 1
    # OpenMP, numpy's OpenBLAS, and scipy's, loaded after the call, alike.
    assert len(report["pools"]) >= 3 and set(report["pools"].values()) == {1}, report


@pytest.mark.skipif(not shutil.which("nvidia-smi"), reason="needs an NVIDIA GPU")
def test_cuda_and_its_index_name_the_gpu_nvidia_smi_knows_by_that_uuid():
    import torch

    uuids = subprocess.run(
        ["nvidia-smi", "--query-gpu=uuid", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert torch.cuda.current_device() == 0  # what "cuda" means unless a worker sets it
    assert physical_device("cuda") == physical_device("cuda:0")
    assert any(physical_device("cuda:0") in uuid for uuid in uuids), uuids


# A worker's threads while its job runs (ThreadShare): reports come from another thread,
# the model's calls see the count. In a fresh process: the counts are process-wide.
GROWTH = """
import json, threading
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator
from compute.threads import ThreadShare, apply_threads, follow

class Probe(Calculator):
    implemented_properties = ["energy"]
    def calculate(self, atoms=None, properties=("energy",), system_changes=()):
        seen.append(torch.get_num_threads())
        self.results = {"energy": 0.0}

def report(share, busy):  # as a heartbeat thread does
    thread = threading.Thread(target=share.peers, kwargs={"busy": busy, "cores": 2})
    thread.start()
    thread.join()

apply_threads(1)
out = {}
for grows in (True, False):
    seen = []
    share = ThreadShare()
    calculator = follow(Probe(), share)

    def call():
        calculator.reset()
        calculator.get_potential_energy(Atoms("H"))

    share.start(1, grows=grows)
    call()
    report(share, 1); call()          # the sibling idle once: maybe between two jobs
    report(share, 1); call()          # idle twice running: its core is taken
    report(share, 2); call()          # busy again: given back at once
    report(share, 1); report(share, 1); share.start(1, grows=grows); call()  # next job
    out[str(grows)] = seen
print(json.dumps(out))
"""


def test_a_job_takes_an_idle_siblings_core_only_after_two_reports_and_gives_it_back_at_once():
    seen = fresh_python(GROWTH)
    assert seen["True"] == [1, 1, 2, 1, 1]
    assert seen["False"] == [1, 1, 1, 1, 1]  # ARENA_WORKER_THREADS: the share stays fixed
