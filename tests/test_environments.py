"""Two worker environments with conflicting pins (e3nn 0.4.4 for MACE, e3nn 0.6 for
MatterSim), built by build_env, each serving one job through a real RQ worker.

Slow: the first run builds every environment under var/envs, three at a time
(conftest's built_environments); later runs find them up to date.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from ase.build import bulk
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from compute.trust import file_sha256
from models_app.models import MLIP
from tasks_app.models import Job, JobStatus, Result
from tasks_app.structure_sets import store_structure_set
from tests.compute.tiny_models import build_tiny_mace
from tests.conftest import ROOT, database_url_for_subprocess, manage
from tests.tasks_app.test_rq_worker import wait_for_workers

pytestmark = [pytest.mark.envs, pytest.mark.django_db(transaction=True)]

BUILD_TINY_MATTERSIM = """
import sys, torch
from mattersim.forcefield.m3gnet.m3gnet import M3Gnet
from mattersim.forcefield.potential import Potential
torch.manual_seed(0)
model = M3Gnet(num_blocks=1, units=16, max_l=2, max_n=2, cutoff=4.5, device="cpu")
Potential(model, device="cpu").save(sys.argv[1])
"""
# The energy of a structure from each package's own loader, not the arena's adapters.
REFERENCE_ENERGY = """
import json, sys
from ase import Atoms
family, path, structure = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if family == "mace":
    from mace.calculators import MACECalculator
    calc = MACECalculator(model_paths=path, device="cpu", default_dtype="float64")
else:
    from mattersim.forcefield.potential import MatterSimCalculator
    calc = MatterSimCalculator.from_checkpoint(path, device="cpu")
atoms = Atoms(numbers=structure["numbers"], positions=structure["positions"],
              cell=structure["cell"], pbc=True)
atoms.calc = calc
print(float(atoms.get_potential_energy()))
"""


def env_python(environment: str) -> str:
    return str(settings.ARENA_ENVS_DIR / environment / "bin" / "python")


def run_in(environment: str, code: str, *args: str) -> str:
    done = subprocess.run(
        [env_python(environment), "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


@pytest.fixture(scope="module")
def environments(built_environments):
    for environment in ("main", "mattersim"):
        assert f"rqworker cpu.{environment}" in built_environments
    again = manage("build_env", "main", "mattersim")
    for environment in ("main", "mattersim"):
        assert f"{settings.ARENA_ENVS_DIR / environment}: up to date" in again.stdout
    return {
        env: run_in(env, "import e3nn; print(e3nn.__version__)") for env in ("main", "mattersim")
    }


@pytest.fixture
def workers(environments, redis_url):
    database_url = database_url_for_subprocess()
    if database_url is None:
        pytest.skip("worker processes need a shared database server (DATABASE_URL)")
    processes = [
        subprocess.Popen(
            [env_python(env), "manage.py", "rqworker", f"cpu.{env}"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for env in ("main", "mattersim")
    ]
    wait_for_workers(redis_url, 2)
    yield
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


def test_each_environment_serves_its_own_queue(environments, workers, seeded, settings, tmp_path):
    assert environments["main"] == "0.4.4"
    assert environments["mattersim"] >= "0.5"
    mace_path = build_tiny_mace(tmp_path / "tiny.model")
    mattersim_path = tmp_path / "tiny-mattersim.pth"
    run_in("mattersim", BUILD_TINY_MATTERSIM, str(mattersim_path))
    MLIP.objects.create(
        name="Tiny MACE",
        family="mace",
        checkpoint=str(mace_path),
        checkpoint_sha256=file_sha256(mace_path),
        checkpoint_approved_by="curator",
        checkpoint_approved_at=timezone.now(),
        cpu_tasks=["relax"],
    )
    MLIP.objects.create(
        name="Tiny MatterSim",
        family="mattersim",
        checkpoint=str(mattersim_path),
        cpu_tasks=["relax"],
    )
    store_structure_set(
        name="cu-only", description="", structures=[("Cu", bulk("Cu", "fcc", a=3.6), {})]
    )
    call_command(
        "run_benchmark", "relax", models="Tiny MACE,Tiny MatterSim", set_name="cu-only", timeout=300
    )

    jobs = {job.model.name: job for job in Job.objects.select_related("model")}
    assert {name: (j.queue, j.status) for name, j in jobs.items()} == {
        "Tiny MACE": ("cpu.main", JobStatus.DONE),
        "Tiny MatterSim": ("cpu.mattersim", JobStatus.DONE),
    }
    for family, env, name, path in [
        ("mace", "main", "Tiny MACE", mace_path),
        ("mattersim", "mattersim", "Tiny MatterSim", mattersim_path),
    ]:
        output = Result.objects.get(model__name=name).output
        structure = {k: output[k] for k in ("numbers", "positions", "cell")}
        printed = run_in(env, REFERENCE_ENERGY, family, str(path), json.dumps(structure))
        reference = float(printed.splitlines()[-1])
        assert output["energy_ev"] == pytest.approx(reference, rel=1e-5)

    # check_model from the main environment runs the check in MatterSim's own Python.
    checked = manage(
        "check_model", "Tiny MatterSim", env={"DATABASE_URL": database_url_for_subprocess()}
    )
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert checked.stdout.startswith("Tiny MatterSim loads: fcc Cu energy ")
    assert checked.stdout.strip().endswith("with MatterSimCalculator")
    row = MLIP.objects.get(name="Tiny MatterSim")
    assert (row.last_check_ok, row.last_check_message) == (True, checked.stdout.strip())
