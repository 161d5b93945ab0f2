"""ANI in the main environment: a tiny random ANI built with torchani's simple_ani. Its
network answers in Hartree; the calculator must give eV, eV/Å and eV/Å³."""

from __future__ import annotations

import pytest

pytest.importorskip("torchani", reason="torchani is part of the main environment")

import torch  # noqa: E402
import torchani  # noqa: E402
from ase.units import Hartree  # noqa: E402

from compute.calculators import load_calculator  # noqa: E402
from compute.calculators.ani import calculator_for_model  # noqa: E402
from compute.errors import CalculatorLoadError  # noqa: E402
from compute.model_spec import ModelSpec  # noqa: E402
from tests.compute.families.physics import (  # noqa: E402
    assert_forces_are_energy_gradients,
    assert_stress_is_strain_derivative,
    rattled_methane,
)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return torchani.arch.simple_ani(("H", "C", "N", "O"), "wb97x-631gd", repulsion=False)


def test_energy_is_the_networks_hartree_times_the_conversion(model):
    atoms = rattled_methane()
    atoms.calc = calculator_for_model(model)
    species = torch.tensor([atoms.numbers])
    coordinates = torch.tensor(atoms.positions[None])
    hartree = model((species, coordinates)).energies.item()
    assert atoms.get_potential_energy() == pytest.approx(hartree * Hartree, rel=1e-9)


def test_forces_and_stress_are_in_ev_and_angstrom(model):
    calc = calculator_for_model(model)
    assert_forces_are_energy_gradients(rattled_methane(), calc)
    assert_stress_is_strain_derivative(rattled_methane(), calc, abs_tol=1e-6)


def test_a_model_name_offline_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(CalculatorLoadError) as info:
        load_calculator(ModelSpec("ANI-2x", "ani", "ANI2x"), device="cpu", cache_dir=tmp_path)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(
        "model 'ANI-2x': cannot fetch the weights of torchani's ANI2x"
    )
