"""GRACE in its worker environment. Its models are TensorFlow programs built by
tensorpotential's fitting code, so this tests the offline message and that a model
folder is trusted only when pinned (the pin covers every file in the folder)."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorpotential", reason="runs in the grace worker environment")

from compute.calculators import load_calculator  # noqa: E402
from compute.errors import CalculatorLoadError  # noqa: E402
from compute.model_spec import ModelSpec  # noqa: E402
from compute.trust import UntrustedCheckpoint, file_sha256  # noqa: E402


def test_a_foundation_model_offline_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(CalculatorLoadError) as info:
        load_calculator(
            ModelSpec("GRACE", "grace", "GRACE-2L-OAM"), device="cpu", cache_dir=tmp_path
        )
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("model 'GRACE': cannot fetch GRACE model GRACE-2L-OAM (")


def test_a_model_folder_needs_a_pin_of_all_its_files(tmp_path):
    folder = tmp_path / "saved_model"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"graph")
    (folder / "variables" / "variables.data").write_bytes(b"weights")
    pin = file_sha256(folder)
    with pytest.raises(UntrustedCheckpoint):
        load_calculator(ModelSpec("G", "grace", str(folder)), device="cpu", cache_dir=tmp_path)
    (folder / "variables" / "variables.data").write_bytes(b"other weights")
    spec = ModelSpec("G", "grace", str(folder), checkpoint_sha256=pin)
    with pytest.raises(UntrustedCheckpoint, match="the file changed since its approval"):
        load_calculator(spec, device="cpu", cache_dir=tmp_path)
