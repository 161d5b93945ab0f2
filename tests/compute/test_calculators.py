"""Every model family loads through load_calculator and gives physically sound numbers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.data import atomic_numbers

from compute.calculators import (
    check_supported,
    clear_cache,
    load_calculator,
    pick_device,
    supported_numbers,
)
from compute.checkpoints import cached_path
from compute.errors import CalculatorLoadError, NotApplicable
from compute.model_spec import ModelSpec
from compute.trust import file_sha256
from tests.compute.tiny_models import ATOMIC_NUMBERS, build_tiny_mace, build_tiny_matgl

FAMILIES = ["emt", "chgnet", "sevennet", "mace", "matgl"]
# Families with trained weights, whose answers are physics rather than noise.
TRAINED = {"emt", "chgnet", "sevennet"}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def specs(tmp_path_factory) -> dict[str, ModelSpec]:
    models = tmp_path_factory.mktemp("models")
    mace = build_tiny_mace(models / "mace.model")
    tensornet = build_tiny_matgl(models / "tensornet")  # a folder naming classes: pinned
    return {
        "emt": ModelSpec("EMT", "emt"),
        "chgnet": ModelSpec("CHGNet", "chgnet", "0.3.0"),
        "sevennet": ModelSpec("SevenNet-0", "sevennet", "7net-0"),
        "mace": ModelSpec("tiny MACE", "mace", str(mace), checkpoint_sha256=file_sha256(mace)),
        "matgl": ModelSpec(
            "tiny TensorNet", "matgl", str(tensornet), checkpoint_sha256=file_sha256(tensornet)
        ),
    }


@pytest.fixture(params=FAMILIES)
def family(request) -> str:
    return request.param


@pytest.fixture
def calculator(family, specs, cache_dir):
    return load_calculator(specs[family], device="cpu", cache_dir=cache_dir)


def copper(a: float = 3.6) -> Atoms:
    return bulk("Cu", "fcc", a=a, cubic=True)


def stress_from_strain(atoms: Atoms, eps: float = 2e-3) -> float:
    """sigma_xx in eV/Å^3 as the central difference of E over a uniaxial strain."""
    energies = []
    for sign in (1, -1):
        strained = atoms.copy()
        strained.calc = atoms.calc
        strained.set_cell(atoms.cell.array @ np.diag([1 + sign * eps, 1, 1]), scale_atoms=True)
        energies.append(strained.get_potential_energy())
    return (energies[0] - energies[1]) / (2 * eps * atoms.get_volume())


def test_perfect_lattice_has_no_forces(calculator):
    atoms = copper()
    atoms.calc = calculator
    assert np.isfinite(atoms.get_potential_energy())
    assert np.abs(atoms.get_forces()).max() < 1e-4


def test_displaced_atom_feels_a_force_and_momentum_is_conserved(family, calculator):
    atoms = copper()
    displacement = np.array([0.1, 0.05, 0.0])
    atoms.positions[0] += displacement
    atoms.calc = calculator
    forces = atoms.get_forces()
    assert np.all(np.isfinite(forces))
    assert np.linalg.norm(forces[0]) > 1e-5
    assert np.abs(forces.sum(axis=0)).max() < 1e-5 * max(1.0, np.abs(forces).max())
    if family in TRAINED:
        assert forces[0] @ displacement < 0, "a displaced atom is pulled back"


def test_stress_is_the_strain_derivative_of_energy(family, calculator):
    atoms = copper(a=3.45)
    atoms.positions[0] += [0.1, 0.05, 0.0]
    atoms.calc = calculator
    stress_xx = atoms.get_stress()[0]
    assert stress_from_strain(atoms) == pytest.approx(stress_xx, rel=0.03, abs=2e-6)
    if family in TRAINED:
        assert stress_xx < 0, "a compressed copper crystal pushes outwards"


def test_loading_mace_leaves_ases_shared_property_list_alone(specs, cache_dir):
    from ase.calculators.calculator import Calculator
    from ase.calculators.singlepoint import SinglePointCalculator

    clear_cache()
    calculator = load_calculator(specs["mace"], cache_dir=cache_dir, device="cpu")
    assert {"energy", "forces", "stress"} <= set(calculator.implemented_properties)
    assert Calculator.implemented_properties == []
    assert "stress" not in SinglePointCalculator(copper(), energy=0.0).implemented_properties


def test_emt_matches_ase_directly(specs, cache_dir):
    atoms = copper()
    atoms.rattle(0.05, seed=1)
    direct = atoms.copy()
    direct.calc = EMT()
    atoms.calc = load_calculator(specs["emt"], device="cpu", cache_dir=cache_dir)
    assert atoms.get_potential_energy() == pytest.approx(direct.get_potential_energy())
    np.testing.assert_allclose(atoms.get_forces(), direct.get_forces())


@pytest.mark.parametrize("name", ["chgnet", "sevennet"])
def test_pretrained_copper_energy_is_physical(name, specs, cache_dir):
    atoms = copper()
    atoms.calc = load_calculator(specs[name], device="cpu", cache_dir=cache_dir)
    assert -4.5 < atoms.get_potential_energy() / len(atoms) < -3.0


def test_chgnet_says_once_that_atoms_lie_beyond_its_graph_cutoff(specs, cache_dir, capfd, caplog):
    """Three dimers wider than CHGNet's 6 Å atom graph: one logged line, three counted,
    nothing printed per call."""
    calculator = load_calculator(specs["chgnet"], device="cpu", cache_dir=cache_dir)
    before = calculator.isolated_atom_calls
    for distance in (7.0, 8.0, 9.0):
        dimer = Atoms("H2", positions=[(0, 0, 0), (0, 0, distance)], cell=[20, 20, 20], pbc=True)
        dimer.calc = calculator
        dimer.get_potential_energy()
    assert calculator.isolated_atom_calls - before == 3
    assert "isolated atom(s)" not in capfd.readouterr().err
    said = [r.message for r in caplog.records if "isolated atom(s)" in r.getMessage()]
    assert len(said) == (1 if before == 0 else 0)


def test_second_load_returns_the_cached_calculator(specs, cache_dir):
    clear_cache()
    first = load_calculator(specs["emt"], device="cpu", cache_dir=cache_dir)
    assert load_calculator(specs["emt"], device="cpu", cache_dir=cache_dir) is first
    clear_cache()
    assert load_calculator(specs["emt"], device="cpu", cache_dir=cache_dir) is not first


def test_unknown_family_lists_known_ones(cache_dir):
    with pytest.raises(
        CalculatorLoadError, match="known families: ani, chgnet, deepmd, emt, fairchem, grace, mace"
    ):
        load_calculator(ModelSpec("X", "schnet"), device="cpu", cache_dir=cache_dir)


def one_line_error(spec: ModelSpec, cache_dir) -> str:
    with pytest.raises(CalculatorLoadError) as info:
        load_calculator(spec, device="cpu", cache_dir=cache_dir)
    message = str(info.value)
    assert "\n" not in message
    return message


def unused_local_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mace-mp-medium.model"


def test_mace_url_offline_says_where_to_put_the_file(tmp_path):
    url = unused_local_url()
    message = one_line_error(ModelSpec("MACE-MP", "mace", url), tmp_path)
    assert url in message
    assert f"put it at {cached_path(url, tmp_path)}" in message


def test_matgl_name_offline_says_to_use_a_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    name = "TensorNet-MatPES-PBE-v2025.1-PES"
    message = one_line_error(ModelSpec("TensorNet", "matgl", name), tmp_path)
    assert f"https://huggingface.co/materialyze/{name}" in message
    assert "use that folder as the checkpoint" in message


def test_matgl_folder_without_model_files(tmp_path):
    message = one_line_error(ModelSpec("TensorNet", "matgl", str(tmp_path)), tmp_path)
    assert "lacks model.json, model.pt, state.pt" in message


@pytest.mark.parametrize(
    ("family", "checkpoint"),
    [("chgnet", "0.9.9"), ("sevennet", "7net-99"), ("mace", "missing.model")],
)
def test_unknown_checkpoint_is_a_missing_file(family, checkpoint, tmp_path):
    message = one_line_error(ModelSpec("M", family, checkpoint), tmp_path)
    assert f"checkpoint file {checkpoint!r} does not exist" in message


@pytest.mark.parametrize(
    ("family", "kwargs"),
    [
        ("emt", {"cutoff": 6.0}),
        ("mace", {"default_dtype": "float64", "dtype": "float32"}),
    ],
)
def test_bad_kwargs(family, kwargs, specs, tmp_path):
    spec = ModelSpec("M", family, specs[family].checkpoint, kwargs, specs[family].checkpoint_sha256)
    message = one_line_error(spec, tmp_path)
    assert "bad calculator kwargs" in message


def test_missing_package_is_one_line_naming_it(tmp_path):
    # Shadow chgnet with a package whose import fails as an uninstalled one does.
    (tmp_path / "chgnet").mkdir()
    (tmp_path / "chgnet" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'chgnet'\", name='chgnet')\n"
    )
    code = (
        "from compute.calculators import load_calculator\n"
        "from compute.model_spec import ModelSpec\n"
        "load_calculator(ModelSpec('CHGNet', 'chgnet', '0.3.0'), device='cpu')\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{root}"},
        capture_output=True,
        text=True,
        check=False,
    )
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        "compute.errors.CalculatorLoadError: model 'CHGNet': family 'chgnet' needs "
        "chgnet==0.4.2 (No module named 'chgnet'); install it with pip"
    )


def test_device_is_cuda_where_present_else_cpu_and_can_be_overridden():
    import torch

    assert pick_device(None) == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("cuda:1") == "cuda:1"


# What each adapter should say its model covers, from sources outside our code: ASE's
# EMT parameter table; CHGNet's 94-row atom embedding (H to Pu); SevenNet-0's MPtrj
# species, H to Pu without Po, At, Rn, Fr, Ra (Matbench Discovery's NON_MP_ELEMENTS);
# the element lists the tiny models were built with.
COVERED = {
    "emt": {
        atomic_numbers[s] for s in ("H", "C", "N", "O", "Al", "Ni", "Cu", "Pd", "Ag", "Pt", "Au")
    },
    "chgnet": set(range(1, 95)),
    "sevennet": set(range(1, 95)) - {84, 85, 86, 87, 88},
    "mace": set(ATOMIC_NUMBERS),
    "matgl": set(ATOMIC_NUMBERS),
}


def test_each_adapter_names_the_elements_its_model_covers(family, specs, calculator):
    assert supported_numbers(specs[family], calculator) == COVERED[family]


@pytest.mark.parametrize(
    ("family", "inside", "outside"), [("emt", "Pt", "Fe"), ("sevennet", "Pu", "Po")]
)
def test_the_covered_elements_are_those_the_calculator_takes(
    family, inside, outside, specs, cache_dir
):
    calculator = load_calculator(specs[family], device="cpu", cache_dir=cache_dir)
    dimer = Atoms(f"{inside}2", positions=[[0, 0, 0], [2.5, 0, 0]], cell=[20] * 3, pbc=True)
    dimer.calc = calculator
    assert np.isfinite(dimer.get_potential_energy())
    dimer.numbers = [atomic_numbers[outside]] * 2
    with pytest.raises(Exception):  # noqa: B017  each library raises its own kind
        dimer.get_potential_energy()


def test_elements_outside_the_model_are_not_applicable(specs, cache_dir):
    spec = specs["emt"]
    emt = load_calculator(spec, device="cpu", cache_dir=cache_dir)
    check_supported(spec, emt, copper())
    alloy = Atoms("WCuFe", positions=[[0, 0, 0], [2, 0, 0], [4, 0, 0]])
    with pytest.raises(NotApplicable, match=r"^model 'EMT' does not cover Fe, W$"):
        check_supported(spec, emt, alloy)


def test_a_family_without_the_hook_is_tried_on_every_element(monkeypatch, specs, cache_dir):
    import compute.calculators.emt as adapter

    monkeypatch.delattr(adapter, "supported_numbers")
    spec = specs["emt"]
    emt = load_calculator(spec, device="cpu", cache_dir=cache_dir)
    assert supported_numbers(spec, emt) is None
    check_supported(spec, emt, Atoms("Fe2", positions=[[0, 0, 0], [2, 0, 0]]))
