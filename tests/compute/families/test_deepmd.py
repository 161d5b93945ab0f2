"""DeePMD in its worker environment (torch 2.11): a tiny random se_e2_a model built with
deepmd-kit's get_model and frozen to TorchScript as ``dp --pt freeze`` does."""

from __future__ import annotations

import pytest

pytest.importorskip("deepmd", reason="runs in the deepmd worker environment")

import torch  # noqa: E402
from deepmd.pt.model.model import get_model  # noqa: E402

from compute.calculators import load_calculator  # noqa: E402
from compute.errors import CalculatorLoadError  # noqa: E402
from compute.model_spec import ModelSpec  # noqa: E402
from compute.trust import UntrustedCheckpoint, file_sha256  # noqa: E402
from tests.compute.families.physics import (  # noqa: E402
    assert_forces_are_energy_gradients,
    assert_stress_is_strain_derivative,
    rattled_copper,
)

PARAMS = {
    "type_map": ["H", "C", "O", "Cu"],
    "descriptor": {
        "type": "se_e2_a",
        "sel": [20, 20, 20, 40],
        "rcut_smth": 0.5,
        "rcut": 4.5,
        "neuron": [4, 8],
        "axis_neuron": 2,
    },
    "fitting_net": {"neuron": [8, 8]},
}


@pytest.fixture(scope="module")
def frozen(tmp_path_factory):
    torch.manual_seed(0)
    model = get_model(PARAMS).eval()
    path = tmp_path_factory.mktemp("deepmd") / "tiny.pth"
    torch.jit.save(torch.jit.script(model), str(path), {"data_modifier.pth": ""})
    return path


@pytest.fixture(scope="module")
def calc(frozen, tmp_path_factory):
    spec = ModelSpec("tiny DP", "deepmd", str(frozen), checkpoint_sha256=file_sha256(frozen))
    return load_calculator(spec, device="cpu", cache_dir=tmp_path_factory.mktemp("cache"))


def test_forces_and_stress_are_in_ev_and_angstrom(calc):
    assert_forces_are_energy_gradients(rattled_copper(), calc, abs_tol=1e-7)
    assert_stress_is_strain_derivative(rattled_copper(), calc, abs_tol=1e-7)


def test_an_unpinned_frozen_model_is_refused(frozen, tmp_path):
    with pytest.raises(UntrustedCheckpoint):
        load_calculator(ModelSpec("DP", "deepmd", str(frozen)), device="cpu", cache_dir=tmp_path)


def test_a_pretrained_name_offline_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    spec = ModelSpec("DPA-3.1-3M", "deepmd", "DPA-3.1-3M")
    with pytest.raises(CalculatorLoadError) as info:
        load_calculator(spec, device="cpu", cache_dir=tmp_path)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("model 'DPA-3.1-3M': cannot fetch DeePMD model DPA-3.1-3M (")
