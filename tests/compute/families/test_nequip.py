"""NequIP and Allegro in their worker environment. A saved NequIP model comes only out of a
training session (a Lightning checkpoint, then nequip-package or nequip-compile), so this
tests the offline message for nequip.net IDs and that package files are pickles to trust."""

from __future__ import annotations

import pytest

pytest.importorskip("nequip", reason="runs in the nequip worker environment")

from compute.calculators import load_calculator  # noqa: E402
from compute.errors import CalculatorLoadError  # noqa: E402
from compute.model_spec import ModelSpec  # noqa: E402
from compute.trust import UntrustedCheckpoint  # noqa: E402
from tests.compute.crafted import build_crafted_checkpoint  # noqa: E402


def test_allegro_is_installed_beside_nequip():
    import allegro  # noqa: F401


def test_a_nequip_net_model_offline_is_one_line(tmp_path):
    name = "nequip.net:mir-group/NequIP-OAM-L:0.1"
    with pytest.raises(CalculatorLoadError) as info:
        load_calculator(ModelSpec("NequIP-OAM-L", "nequip", name), device="cpu", cache_dir=tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"model 'NequIP-OAM-L': cannot fetch {name} (")
    assert message.endswith("use its path as the checkpoint")


@pytest.mark.parametrize("filename", ["model.nequip.zip", "model.ckpt", "model.nequip.pth"])
def test_saved_models_need_a_pin_and_never_run_unpinned(filename, tmp_path):
    marker = tmp_path / "marker"
    path = build_crafted_checkpoint(tmp_path / filename, marker)
    with pytest.raises(UntrustedCheckpoint):
        load_calculator(ModelSpec("N", "nequip", str(path)), device="cpu", cache_dir=tmp_path)
    assert not marker.exists()
