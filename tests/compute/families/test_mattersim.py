"""MatterSim in its worker environment: a tiny random M3GNet saved by mattersim's Potential.save."""

from __future__ import annotations

import pytest

pytest.importorskip("mattersim", reason="runs in the mattersim worker environment")

import torch  # noqa: E402
from mattersim.forcefield.m3gnet.m3gnet import M3Gnet  # noqa: E402
from mattersim.forcefield.potential import MatterSimCalculator, Potential  # noqa: E402

from compute.calculators import load_calculator  # noqa: E402
from compute.errors import CalculatorLoadError  # noqa: E402
from compute.model_spec import ModelSpec  # noqa: E402
from tests.compute.families.physics import (  # noqa: E402
    assert_forces_are_energy_gradients,
    assert_stress_is_strain_derivative,
    rattled_copper,
)


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    torch.manual_seed(0)
    model = M3Gnet(num_blocks=1, units=16, max_l=2, max_n=2, cutoff=4.5, device="cpu")
    path = tmp_path_factory.mktemp("mattersim") / "tiny.pth"
    Potential(model, device="cpu").save(str(path))
    return path


@pytest.fixture(scope="module")
def calc(tiny_file, tmp_path_factory):
    spec = ModelSpec("tiny MatterSim", "mattersim", str(tiny_file))
    return load_calculator(spec, device="cpu", cache_dir=tmp_path_factory.mktemp("cache"))


def test_energy_matches_mattersims_own_loader(calc, tiny_file):
    atoms = rattled_copper()
    atoms.calc = calc
    reference = rattled_copper()
    reference.calc = MatterSimCalculator.from_checkpoint(str(tiny_file), device="cpu")
    assert atoms.get_potential_energy() == pytest.approx(reference.get_potential_energy(), rel=1e-6)


def test_forces_and_stress_are_in_ev_and_angstrom(calc):
    # MatterSim computes in float32: wider steps keep rounding out of the differences.
    atoms = rattled_copper(stdev=0.2)
    assert_forces_are_energy_gradients(atoms, calc, h=1e-2, rel=3e-2, abs_tol=1e-5)
    assert_stress_is_strain_derivative(atoms, calc, eps=1e-2, rel=3e-2, abs_tol=1e-6)


def test_released_name_offline_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(CalculatorLoadError) as info:
        load_calculator(ModelSpec("MatterSim", "mattersim", "MatterSim-v1.0.0-5M"), device="cpu")
    assert "\n" not in str(info.value)
    assert "cannot fetch MatterSim weights MatterSim-v1.0.0-5M" in str(info.value)
