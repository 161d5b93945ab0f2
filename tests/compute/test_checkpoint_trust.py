"""Checkpoints that need full unpickling load only when pinned or from a trusted source;
weights-only families refuse anything but weights. A crafted pickle never runs."""

from __future__ import annotations

import functools
import hashlib
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import chgnet
import numpy as np
import pytest
from ase.build import bulk

from compute.calculators import clear_cache, load_calculator
from compute.errors import CalculatorLoadError
from compute.model_spec import ModelSpec
from compute.trust import UntrustedCheckpoint, from_trusted_source
from tests.compute.crafted import build_crafted_checkpoint, build_crafted_matgl_folder
from tests.compute.tiny_models import build_tiny_mace
from tests.conftest import ROOT

CHGNET_FILE = Path(chgnet.__file__).parent / "pretrained/0.3.0/chgnet_0.3.0_e29f68s314m37.pth.tar"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def crafted(tmp_path) -> tuple[Path, Path]:
    marker = tmp_path / "marker"
    return build_crafted_checkpoint(tmp_path / "evil.model", marker), marker


def load_error(spec: ModelSpec, cache_dir: Path, **kwargs) -> CalculatorLoadError:
    clear_cache()
    with pytest.raises(CalculatorLoadError) as info:
        load_calculator(spec, device="cpu", cache_dir=cache_dir, **kwargs)
    assert "\n" not in str(info.value)
    return info.value


def test_crafted_pickle_without_a_pin_is_refused_before_it_runs(crafted, tmp_path):
    path, marker = crafted
    error = load_error(ModelSpec("Evil", "mace", str(path)), tmp_path)
    assert isinstance(error, UntrustedCheckpoint)
    assert str(error) == (
        f"model 'Evil': checkpoint {str(path)!r} can run code when loaded and is "
        f"not from a trusted source; if you trust it, approve its SHA-256 "
        f"{sha256_of(path)} (admin action 'Approve checkpoint')"
    )
    assert not marker.exists()


def test_a_pin_of_another_file_is_refused(crafted, tmp_path):
    path, marker = crafted
    other = "0" * 64
    error = load_error(ModelSpec("Evil", "mace", str(path), checkpoint_sha256=other), tmp_path)
    assert f"has SHA-256 {sha256_of(path)}, not the approved {other}" in str(error)
    assert not marker.exists()


def test_the_crafted_file_really_runs_code_once_an_admin_pins_it(crafted, tmp_path):
    # The control for the tests above: the same file, approved, is unpickled.
    path, marker = crafted
    load_error(ModelSpec("Evil", "mace", str(path), checkpoint_sha256=sha256_of(path)), tmp_path)
    assert marker.read_text() == "ran"


@pytest.mark.parametrize(("family", "inside"), [("chgnet", "model"), ("sevennet", None)])
def test_weights_only_families_never_unpickle_code_even_when_pinned(family, inside, tmp_path):
    marker = tmp_path / "marker"
    path = build_crafted_checkpoint(tmp_path / "evil.pth", marker, inside=inside)
    spec = ModelSpec("Evil", family, str(path), checkpoint_sha256=sha256_of(path))
    error = load_error(spec, tmp_path)
    assert f"checkpoint {str(path)!r} holds more than weights and plain data" in str(error)
    assert not marker.exists()


def energy_and_forces(spec: ModelSpec, cache_dir: Path, **kwargs) -> tuple[float, np.ndarray]:
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.rattle(0.05, seed=1)
    atoms.calc = load_calculator(spec, device="cpu", cache_dir=cache_dir, **kwargs)
    return atoms.get_potential_energy(), atoms.get_forces()


def test_chgnet_and_sevennet_files_load_weights_only_like_their_shipped_names(tmp_path):
    from compute.calculators.sevennet import pretrained_name_to_path

    for family, shipped, path in [
        ("chgnet", "0.3.0", CHGNET_FILE),
        ("sevennet", "7net-0", pretrained_name_to_path("7net-0")),
    ]:
        energy, forces = energy_and_forces(ModelSpec("S", family, shipped), tmp_path)
        file_energy, file_forces = energy_and_forces(ModelSpec("F", family, str(path)), tmp_path)
        assert file_energy == pytest.approx(energy, rel=1e-6)
        np.testing.assert_allclose(file_forces, forces, rtol=1e-5, atol=1e-6)


@pytest.fixture
def served(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path/www``."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_pickle_from_a_trusted_source_loads_without_a_pin(served, tmp_path):
    root, url = served
    (root / "authors").mkdir()
    build_tiny_mace(root / "authors" / "tiny.model")
    spec = ModelSpec("tiny MACE", "mace", f"{url}/authors/tiny.model")
    trusted = [f"{url}/authors/"]
    energy, _ = energy_and_forces(spec, tmp_path / "cache", trusted_sources=trusted)
    local = ModelSpec("local", "mace", str(root / "authors" / "tiny.model"))
    pinned = ModelSpec(**{**local.__dict__, "checkpoint_sha256": sha256_of(Path(local.checkpoint))})
    assert energy_and_forces(pinned, tmp_path)[0] == pytest.approx(energy, rel=1e-12)
    # The same file under another prefix is not trusted.
    error = load_error(spec, tmp_path / "cache", trusted_sources=[f"{url}/auth/"])
    assert isinstance(error, UntrustedCheckpoint)


@pytest.mark.parametrize("escape", ["../evil", "%2e%2e/evil", "x/../../evil"])
def test_a_url_that_climbs_out_of_a_trusted_prefix_is_not_trusted(served, tmp_path, escape):
    root, url = served
    (root / "trusted").mkdir()
    (root / "evil").mkdir()
    marker = tmp_path / "marker"
    build_crafted_checkpoint(root / "evil" / "evil.model", marker)
    spec = ModelSpec("Evil", "mace", f"{url}/trusted/{escape}/evil.model")
    error = load_error(spec, tmp_path / "cache", trusted_sources=[f"{url}/trusted/"])
    assert isinstance(error, UntrustedCheckpoint)
    assert "is not from a trusted source" in str(error)
    assert not marker.exists()


def test_a_symlink_out_of_a_trusted_folder_is_not_trusted(crafted, tmp_path):
    path, marker = crafted
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    (trusted / "link.model").symlink_to(path)
    spec = ModelSpec("Evil", "mace", str(trusted / "link.model"))
    error = load_error(spec, tmp_path, trusted_sources=[f"{trusted}/"])
    assert isinstance(error, UntrustedCheckpoint)
    assert not marker.exists()
    # The control: the same file inside the trusted folder is trusted, and runs.
    (trusted / "evil.model").write_bytes(path.read_bytes())
    load_error(
        ModelSpec("Evil", "mace", str(trusted / "evil.model")),
        tmp_path,
        trusted_sources=[f"{trusted}/"],
    )
    assert marker.read_text() == "ran"


def test_a_matgl_folder_names_code_to_run_so_it_needs_a_pin(tmp_path):
    marker = tmp_path / "marker"
    folder = build_crafted_matgl_folder(tmp_path / "evil-matgl", marker)
    error = load_error(ModelSpec("Evil", "matgl", str(folder)), tmp_path)
    assert isinstance(error, UntrustedCheckpoint)
    assert str(error).startswith(
        f"model 'Evil': checkpoint {str(folder)!r} can run code when loaded"
    )
    assert not marker.exists()
    # The control: pinned, matgl imports subprocess.run from the data and calls it.
    from compute.trust import file_sha256

    pinned = ModelSpec("Evil", "matgl", str(folder), checkpoint_sha256=file_sha256(folder))
    load_error(pinned, tmp_path)
    assert marker.read_text() == "ran"


def test_a_matgl_model_from_another_hub_repo_is_refused_before_any_download(tmp_path):
    error = load_error(ModelSpec("Other", "matgl", "someone/M3GNet-PES"), tmp_path)
    assert str(error) == (
        "model 'Other': matgl checkpoint 'someone/M3GNet-PES' is neither a folder here nor a "
        "model name of materialyze; download the repo's model.json, model.pt, state.pt into a "
        "folder and use it"
    )


@pytest.mark.parametrize(
    ("checkpoint", "trusted"),
    [
        ("hf://facebook/UMA/uma-s-1.pt", True),
        ("hf://facebook-mirror/UMA/uma-s-1.pt", False),
        ("https://github.com/ACEsuit/mace-mp/releases/download/x.model", True),
        ("https://github.com/ACEsuit/mace-mpx/releases/download/x.model", False),
        ("https://github.com/ACEsuit/mace-mp/releases/download/%252E%252E/x.model", False),
        ("https://GitHub.com/ACEsuit/mace-mp/releases/download/x.model", True),
        ("https://github.com@evil.org/ACEsuit/mace-mp/releases/download/x.model", False),
        ("hf://facebook/UMA/../../evil/x.pt", False),
    ],
)
def test_trusted_sources_are_prefixes_that_end_in_a_slash(checkpoint, trusted):
    sources = ["hf://facebook/", "https://github.com/ACEsuit/mace-mp/releases/download/", "hf:"]
    assert from_trusted_source(checkpoint, sources) is trusted


def test_importing_the_mace_adapter_keeps_torch_loads_weights_only_by_default():
    # mace sets TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 on import, which would turn every later
    # torch.load without an explicit weights_only (e.g. inside another package) into a pickle.
    code = (
        "import os, compute.calculators.mace; "
        "print(os.environ.get('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "None"


def test_a_torchscript_sevennet_is_code_and_needs_a_pin(crafted, tmp_path):
    path, marker = crafted
    spec = ModelSpec("Evil", "sevennet", str(path), {"file_type": "torchscript"})
    assert isinstance(load_error(spec, tmp_path), UntrustedCheckpoint)
    assert not marker.exists()
