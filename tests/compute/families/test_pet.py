"""PET in its worker environment: a tiny random metatrain PET saved as a metatrain checkpoint."""

from __future__ import annotations

import copy

import pytest

pytest.importorskip("upet", reason="runs in the pet worker environment")

import torch  # noqa: E402
from metatrain.pet import PET  # noqa: E402
from metatrain.utils.architectures import get_default_hypers  # noqa: E402
from metatrain.utils.data import DatasetInfo  # noqa: E402
from metatrain.utils.data.target_info import get_energy_target_info  # noqa: E402

from compute.calculators import load_calculator  # noqa: E402
from compute.errors import CalculatorLoadError  # noqa: E402
from compute.model_spec import ModelSpec  # noqa: E402
from compute.trust import UntrustedCheckpoint, file_sha256  # noqa: E402
from tests.compute.families.physics import (  # noqa: E402
    assert_forces_are_energy_gradients,
    assert_stress_is_strain_derivative,
    rattled_copper,
)


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    torch.manual_seed(0)
    hypers = copy.deepcopy(get_default_hypers("pet")["model"])
    hypers.update(d_pet=8, d_head=8, d_node=8, d_feedforward=8, num_heads=1)
    hypers.update(num_attention_layers=1, num_gnn_layers=1)
    info = DatasetInfo(
        length_unit="Angstrom",
        atomic_types=[1, 6, 8, 29],
        targets={"energy": get_energy_target_info("energy", {"quantity": "energy", "unit": "eV"})},
    )
    model = PET(hypers, info)
    path = tmp_path_factory.mktemp("pet") / "tiny-pet.ckpt"
    torch.save(model.get_checkpoint(), path)
    return path


@pytest.fixture(scope="module")
def calc(tiny_file, tmp_path_factory):
    spec = ModelSpec("tiny PET", "pet", str(tiny_file), checkpoint_sha256=file_sha256(tiny_file))
    return load_calculator(spec, device="cpu", cache_dir=tmp_path_factory.mktemp("cache"))


def test_forces_and_stress_are_in_ev_and_angstrom(calc):
    assert_forces_are_energy_gradients(rattled_copper(), calc, rel=2e-2)
    assert_stress_is_strain_derivative(rattled_copper(), calc, rel=3e-2)


def test_an_unpinned_checkpoint_is_refused(tiny_file, tmp_path):
    with pytest.raises(UntrustedCheckpoint):
        load_calculator(ModelSpec("PET", "pet", str(tiny_file)), device="cpu", cache_dir=tmp_path)


def test_released_name_offline_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(CalculatorLoadError) as info:
        load_calculator(ModelSpec("PET-MAD", "pet", "pet-mad-s"), device="cpu", cache_dir=tmp_path)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("model 'PET-MAD': PET model pet-mad-s ")
