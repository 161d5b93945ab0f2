"""Fixtures for the Hugging Face tests: real EMT results, the Hub stand-in and its environment.

huggingface_hub reads HF_ENDPOINT, HF_HUB_OFFLINE and the token file's path once, when
it is imported. Every test that talks to the stand-in therefore runs the client in a
child process (manage.py or a short script), with the variables set by monkeypatch.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ase.calculators.emt import EMT

from compute.structures import atoms_from_dict
from compute.tasks import evaluate, run_task
from tasks_app.keys import stable_hash
from tests.conftest import ROOT
from tests.publishing.hub_stub import HubStub

LABELS = ("Al", "Cu", "Au")
SECOND_MODEL = "EMT | twin"  # a pipe and a space, as a model name may have
COMPUTE_SECONDS = 1.5
# EMT outputs by (task function, structure hash, params hash): computed once per session.
_OUTPUTS: dict[tuple[str, str, str], tuple[dict, dict]] = {}


@pytest.fixture
def arena_results(seeded, inline_jobs) -> int:
    """EOS and relax results of EMT on Al, Cu and Au, and EOS of a second model on Al and Cu;
    EMT is no baseline here, so that the two are ranked.

    The jobs go through run_create, job_start and job_finish as a benchmark's do.
    Returns the number of results.
    """
    from models_app.models import MLIP
    from tasks_app.models import Job, Structure, Task
    from tasks_app.selectors import job_payload
    from tasks_app.services import job_finish, job_start, run_create, store_structure_set

    delta = {s.label: s for s in Structure.objects.filter(label__in=LABELS)}
    metals, _ = store_structure_set(
        name="hf-metals",
        description="fcc metals of the Delta set",
        structures=[(n, atoms_from_dict(delta[n].atoms), delta[n].reference) for n in LABELS],
    )
    MLIP.objects.filter(name="EMT").update(baseline=False)  # ranked here, against its twin
    emt = MLIP.objects.get(name="EMT")
    twin = MLIP.objects.create(name=SECOND_MODEL, family="emt", cpu_tasks=["eos"])
    structures = list(metals.structures.all())
    plan = [("eos", emt, structures), ("relax", emt, structures), ("eos", twin, structures[:2])]
    for slug, model, chosen in plan:
        task = Task.objects.get(slug=slug)
        run_create(task=task, models=[model], structure_set=metals, structures=chosen)
    jobs = list(Job.objects.select_related("structure"))
    for job in jobs:
        payload = job_payload(job_id=job.id)
        key = (payload.function, job.structure.content_hash, stable_hash(payload.params))
        if key not in _OUTPUTS:
            atoms = atoms_from_dict(payload.atoms)
            output = run_task(payload.function, atoms, EMT(), payload.params)
            _OUTPUTS[key] = (output, evaluate(payload.function, output, payload.reference))
        output, metrics = _OUTPUTS[key]
        job_start(job_id=job.id)
        job_finish(job_id=job.id, output=output, metrics=metrics, compute_seconds=COMPUTE_SECONDS)
    return len(jobs)


@pytest.fixture
def hub():
    with HubStub() as stub:
        yield stub


@pytest.fixture
def hub_env(hub, monkeypatch, tmp_path) -> HubStub:
    """Child processes talk to the stand-in with its token, from an empty HF home and cache."""
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_TOKEN", hub.token)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("ARENA_CACHE_DIR", str(tmp_path / "arena-cache"))
    return hub


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative POSIX path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def sqlite_env(path: Path) -> dict[str, str]:
    """Environment for a child manage.py on its own SQLite file."""
    return {"DATABASE_URL": "", "REDIS_URL": "", "SQLITE_PATH": str(path)}


def run_python(code: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a child Python process in the project root."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
