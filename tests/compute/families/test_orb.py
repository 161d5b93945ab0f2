"""ORB in its worker environment: the orb-v3 conservative architecture, randomly
initialised with orb-models' own builder, saved as a state dict and loaded back."""

from __future__ import annotations

import pytest

pytest.importorskip("orb_models", reason="runs in the orb worker environment")

import torch  # noqa: E402
from orb_models.forcefield.calculator import ORBCalculator  # noqa: E402
from orb_models.forcefield.pretrained import orb_v3_conservative_architecture  # noqa: E402

from compute.calculators import load_calculator  # noqa: E402
from compute.errors import CalculatorLoadError  # noqa: E402
from compute.model_spec import ModelSpec  # noqa: E402
from tests.compute.families.physics import (  # noqa: E402
    assert_forces_are_energy_gradients,
    assert_stress_is_strain_derivative,
    rattled_copper,
)

ARCHITECTURE = "orb-v3-conservative-inf-omat"
KWARGS = {"architecture": ARCHITECTURE, "precision": "float64"}


@pytest.fixture(scope="module")
def state_dict_file(tmp_path_factory):
    from orb_models.forcefield.pretrained import SystemConfig

    torch.manual_seed(0)
    model = orb_v3_conservative_architecture(
        device="cpu", system_config=SystemConfig(radius=6.0, max_num_neighbors=120)
    )
    path = tmp_path_factory.mktemp("orb") / "random-orb-v3.ckpt"
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def calc(state_dict_file, tmp_path_factory):
    spec = ModelSpec("random ORB", "orb", str(state_dict_file), KWARGS)
    return load_calculator(spec, device="cpu", cache_dir=tmp_path_factory.mktemp("cache"))


def test_energy_matches_orbs_own_loader(calc, state_dict_file):
    from orb_models.forcefield.pretrained import orb_v3_conservative_inf_omat

    reference = rattled_copper()
    reference.calc = ORBCalculator(
        orb_v3_conservative_inf_omat(
            weights_path=str(state_dict_file), device="cpu", precision="float64", compile=False
        ),
        device="cpu",
    )
    atoms = rattled_copper()
    atoms.calc = calc
    assert atoms.get_potential_energy() == pytest.approx(reference.get_potential_energy(), rel=1e-9)


def test_forces_and_stress_are_in_ev_and_angstrom(calc):
    assert_forces_are_energy_gradients(rattled_copper(), calc)
    assert_stress_is_strain_derivative(rattled_copper(), calc)


def test_pretrained_name_offline_is_one_line(tmp_path):
    with pytest.raises(CalculatorLoadError) as info:
        load_calculator(ModelSpec("ORB", "orb", "orb-v2"), device="cpu", cache_dir=tmp_path)
    assert "\n" not in str(info.value)
    assert "cannot fetch orb weights orb-v2" in str(info.value)
