"""Checkpoints hf://ORG/REPO/FILE: fetched from the Hub stand-in, then offline from the cache."""

from __future__ import annotations

import pytest
from ase.build import bulk

from compute.calculators import load_calculator
from compute.errors import CalculatorLoadError
from compute.hub import HubFile, parse_hub_checkpoint
from compute.model_spec import ModelSpec
from compute.trust import file_sha256
from tests.compute.tiny_models import build_tiny_mace
from tests.publishing.conftest import run_python

MODEL_REPO = "arena-test/tiny-mace"
# In a child process, so that huggingface_hub reads HF_ENDPOINT and HF_HUB_OFFLINE afresh.
LOAD_AND_EVALUATE = """
import sys
from pathlib import Path
from ase.build import bulk
from compute.calculators import load_calculator
from compute.errors import ComputeError
from compute.model_spec import ModelSpec

spec = ModelSpec("tiny MACE", "mace", sys.argv[1], checkpoint_sha256=sys.argv[3])
try:
    calculator = load_calculator(spec, device="cpu", cache_dir=Path(sys.argv[2]))
except ComputeError as exc:
    sys.exit(f"error: {exc}")
atoms = bulk("Cu", "fcc", a=3.6)
atoms.calc = calculator
print(repr(atoms.get_potential_energy()))
"""
RESOLVE = """
import sys
from pathlib import Path
from compute.checkpoints import resolve_checkpoint
from compute.errors import ComputeError

for checkpoint in sys.argv[2:]:
    try:
        print(resolve_checkpoint(checkpoint, Path(sys.argv[1])))
    except ComputeError as exc:
        print(f"error: {exc}")
"""


@pytest.mark.parametrize(
    ("checkpoint", "expected"),
    [
        ("hf://org/repo/mace.model", HubFile("org/repo", "mace.model")),
        ("hf://org/repo@v1.0/sub/mace.model", HubFile("org/repo", "sub/mace.model", "v1.0")),
        ("hf://org/repo/mace.model@v1.0", HubFile("org/repo", "mace.model", "v1.0")),
        ("hf://datasets/org/data/x.pt", HubFile("org/data", "x.pt", None, "dataset")),
    ],
)
def test_checkpoint_names(checkpoint, expected):
    assert parse_hub_checkpoint(checkpoint) == expected


@pytest.mark.parametrize("checkpoint", ["hf://org/repo", "hf://org", "hf://spaces/org/app/x"])
def test_bad_checkpoint_names_fail_with_one_line(checkpoint):
    with pytest.raises(CalculatorLoadError, match=f"^bad Hub checkpoint '{checkpoint}'") as error:
        parse_hub_checkpoint(checkpoint)
    assert "\n" not in str(error.value)


def test_a_tiny_mace_loads_from_a_hub_repo_then_offline_from_the_cache(
    hub_env, monkeypatch, tmp_path
):
    local = build_tiny_mace(tmp_path / "tiny.model")
    hub_env.seed("model", MODEL_REPO, {"weights/tiny.model": local.read_bytes()}, "add model")
    checkpoint = f"hf://{MODEL_REPO}/weights/tiny.model"
    cache = tmp_path / "arena-cache"

    pin = file_sha256(local)
    online = run_python(LOAD_AND_EVALUATE, checkpoint, str(cache), pin)
    assert online.returncode == 0, online.stderr
    assert len(hub_env.calls("GET", f"^/{MODEL_REPO}/resolve/main/weights/tiny.model$")) == 1
    (cached,) = (cache / "huggingface").glob("models--arena-test--tiny-mace/snapshots/*/weights/*")
    assert cached.read_bytes() == local.read_bytes()

    hub_env.stop()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    offline = run_python(LOAD_AND_EVALUATE, checkpoint, str(cache), pin)
    assert offline.returncode == 0, offline.stderr

    atoms = bulk("Cu", "fcc", a=3.6)
    spec = ModelSpec("tiny MACE here", "mace", str(local), checkpoint_sha256=pin)
    atoms.calc = load_calculator(spec, device="cpu", cache_dir=tmp_path)
    energy = atoms.get_potential_energy()
    assert float(online.stdout) == pytest.approx(energy, rel=1e-12)
    assert float(offline.stdout) == pytest.approx(energy, rel=1e-12)


def test_hub_checkpoints_that_cannot_be_had_fail_with_one_line(hub_env, monkeypatch, tmp_path):
    hub_env.seed("model", MODEL_REPO, {"tiny.model": b"weights"}, "add model")
    cache = str(tmp_path / "arena-cache")
    online = run_python(
        RESOLVE,
        cache,
        f"hf://{MODEL_REPO}/missing.model",
        "hf://arena-test/no-such-repo/tiny.model",
        f"hf://{MODEL_REPO}@v9/tiny.model",
    )
    assert online.stdout.splitlines() == [
        f"error: checkpoint hf://{MODEL_REPO}/missing.model: no such file in Hub repo {MODEL_REPO}",
        "error: checkpoint hf://arena-test/no-such-repo/tiny.model: Hub repo "
        "arena-test/no-such-repo not found (a private repo needs HF_TOKEN)",
        f"error: checkpoint hf://{MODEL_REPO}@v9/tiny.model: revision not found in Hub repo "
        f"{MODEL_REPO}",
    ]

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    offline = run_python(RESOLVE, cache, f"hf://{MODEL_REPO}/tiny.model")
    assert offline.stdout.splitlines() == [
        f"error: checkpoint hf://{MODEL_REPO}/tiny.model is not in the Hub cache and the Hub "
        "cannot be reached (no network, or HF_HUB_OFFLINE=1); download it once while online"
    ]
