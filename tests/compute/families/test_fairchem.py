"""fairchem in its worker environment. UMA and eSEN checkpoints are gated downloads and a
tiny one would need fairchem's training configs, so this tests the offline message, the
trust rule, and the adapter's calculator on a stand-in predict unit whose outputs (fairchem's
tensors: energy (1,), forces (N, 3), stress (1, 9)) come from ASE's Lennard-Jones."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fairchem.core", reason="runs in the fairchem worker environment")

import torch  # noqa: E402
from ase import Atoms  # noqa: E402
from ase.calculators.lj import LennardJones  # noqa: E402
from fairchem.core.units.mlip_unit.api.inference import InferenceSettings  # noqa: E402

from compute.calculators import load_calculator  # noqa: E402
from compute.calculators.fairchem import calculator_for_unit  # noqa: E402
from compute.errors import CalculatorLoadError  # noqa: E402
from compute.model_spec import ModelSpec  # noqa: E402
from compute.trust import UntrustedCheckpoint  # noqa: E402
from tests.compute.crafted import build_crafted_checkpoint  # noqa: E402
from tests.compute.families.physics import rattled_copper  # noqa: E402

LJ = {"sigma": 2.3, "epsilon": 0.4, "rc": 5.0, "smooth": True}


class Task:
    def __init__(self, name: str):
        self.property = name


class LennardJonesUnit:
    """A stand-in for fairchem's MLIPPredictUnit that answers with ASE's Lennard-Jones."""

    inference_settings = InferenceSettings()
    dataset_to_tasks = {"omat": [Task("energy"), Task("forces"), Task("stress")]}

    def validate_atoms_data(self, atoms: Atoms, task_name: str) -> None:
        assert task_name == "omat"

    def predict(self, data, undo_element_references: bool = True) -> dict:
        atoms = Atoms(
            numbers=data.atomic_numbers.numpy(),
            positions=data.pos.numpy(),
            cell=data.cell[0].numpy(),
            pbc=True,
        )
        atoms.calc = LennardJones(**LJ)
        stress = atoms.get_stress(voigt=False)
        return {
            "energy": torch.tensor([atoms.get_potential_energy()]),
            "forces": torch.tensor(atoms.get_forces()),
            "stress": torch.tensor(stress.reshape(1, 9)),
        }


def test_the_calculator_passes_energy_forces_and_voigt_stress_through():
    atoms, reference = rattled_copper(), rattled_copper()
    atoms.calc = calculator_for_unit(LennardJonesUnit(), task_name="omat")
    reference.calc = LennardJones(**LJ)
    assert atoms.get_potential_energy() == pytest.approx(reference.get_potential_energy(), rel=1e-6)
    np.testing.assert_allclose(atoms.get_forces(), reference.get_forces(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(atoms.get_stress(), reference.get_stress(), rtol=1e-5, atol=1e-7)


def test_a_gated_model_offline_says_to_set_a_token(tmp_path, monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(CalculatorLoadError) as info:
        load_calculator(
            ModelSpec("UMA-S", "fairchem", "uma-s-1p1"), device="cpu", cache_dir=tmp_path
        )
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("model 'UMA-S': fairchem model uma-s-1p1 ")
    assert message.endswith(
        "UMA checkpoints are gated: accept the license at https://huggingface.co/facebook/UMA "
        "and set HF_TOKEN"
    )


def test_a_checkpoint_file_needs_a_pin_and_its_pickle_never_runs(tmp_path):
    marker = tmp_path / "marker"
    path = build_crafted_checkpoint(tmp_path / "uma.pt", marker)
    with pytest.raises(UntrustedCheckpoint):
        load_calculator(ModelSpec("UMA", "fairchem", str(path)), device="cpu", cache_dir=tmp_path)
    assert not marker.exists()
