"""Many structures per model call: the same numbers as ASE's one-at-a-time calls.

References are the families' own ASE calculators (CHGNet's ``CHGNetCalculator``,
SevenNet's ``SevenNetCalculator`` over the same loaded model) and ASE's ``FIRE``.
The models run in float32, and a batch sums over a joined graph in another order than
a single structure does, so "float precision" here is float32's rounding of the values
and of their sums: energies of ~10 eV to 1e-5 eV, forces to 1e-5 of their size (the
66 eV/Å of a squeezed O₂ differ by 1.4e-4, a relative 2.7e-6) or 1e-5 eV/Å, stresses
to 1e-6 eV/Å³.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.collections import dcdft
from ase.optimize import FIRE
from chgnet.model.dynamics import CHGNetCalculator

from compute.batch import default_batch_size, evaluate_batch
from compute.batched_relaxation import relax_together
from compute.cached_model import CachedModel
from compute.calculators import load_calculator
from compute.errors import TaskFailed
from compute.model_spec import ModelSpec
from compute.relaxation import Relaxation
from compute.tasks import run_task
from compute.torch_compat import e3nn_import_allowed

with e3nn_import_allowed():
    from sevenn.calculator import SevenNetCalculator

PROPERTIES = ("energy", "forces", "stress")
SPECS = {
    "chgnet": ModelSpec("CHGNet", "chgnet", "0.3.0"),
    "sevennet": ModelSpec("SevenNet-0", "sevennet", "7net-0"),
}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(params=sorted(SPECS))
def batched(request, cache_dir):
    return load_calculator(SPECS[request.param], device="cpu", cache_dir=cache_dir)


def one_at_a_time(batched):
    """The family's own ASE calculator over the same model: no batch call."""
    if isinstance(batched, CHGNetCalculator):
        return CHGNetCalculator(batched.model, use_device="cpu")
    return SevenNetCalculator(model=batched.model, file_type="model_instance", device="cpu")


def small_crystals() -> list[Atoms]:
    """Three cells of one and two atoms, rattled so that forces and shear stresses are not
    zero by symmetry."""
    crystals = [
        bulk("Cu", "fcc", a=3.6),
        bulk("Si", "diamond", a=5.4),
        bulk("NaCl", "rocksalt", a=5.6),
    ]
    rng = np.random.default_rng(7)
    for atoms in crystals:
        atoms.rattle(0.05, rng=rng)
        atoms.set_cell(atoms.cell * (1 + 0.02 * rng.standard_normal((3, 3))), scale_atoms=True)
    return crystals


def ase_results(atoms: Atoms, calculator) -> tuple[float, np.ndarray, np.ndarray]:
    atoms = atoms.copy()
    atoms.calc = calculator
    return atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()


def assert_same_as_ase(evaluation, atoms, calculator):
    energy, forces, stress = ase_results(atoms, calculator)
    assert not evaluation.failed
    assert evaluation.energy == pytest.approx(energy, abs=1e-5)
    assert evaluation.forces == pytest.approx(forces, abs=1e-5)
    assert evaluation.stress == pytest.approx(stress, abs=1e-6)


def test_batched_results_equal_one_at_a_time(batched):
    crystals = small_crystals()
    evaluations = evaluate_batch(crystals, batched, properties=PROPERTIES)
    reference = one_at_a_time(batched)
    for evaluation, atoms in zip(evaluations, crystals, strict=True):
        assert_same_as_ase(evaluation, atoms, reference)


def test_chgnets_single_structure_call_gives_chgnets_own_numbers(cache_dir):
    """Our CHGNet calculator's ASE path (one backward pass for forces and stress) against
    CHGNet's own calculator (two passes), magnetic moments included."""
    calculator = load_calculator(SPECS["chgnet"], device="cpu", cache_dir=cache_dir)
    reference = one_at_a_time(calculator)
    for atoms in small_crystals():
        ours, theirs = atoms.copy(), atoms.copy()
        ours.calc, theirs.calc = calculator, reference
        assert ours.get_potential_energy() == pytest.approx(theirs.get_potential_energy(), abs=1e-5)
        assert ours.get_forces() == pytest.approx(theirs.get_forces(), abs=1e-5)
        assert ours.get_stress() == pytest.approx(theirs.get_stress(), abs=1e-6)
        moments = theirs.get_magnetic_moments()
        assert ours.get_magnetic_moments() == pytest.approx(moments, abs=1e-5)


def test_a_structure_failing_inside_a_batch_fails_alone(batched):
    """Americium (Z = 95) lies outside both models' elements: its cell fails with the
    model's own reason, the cells on either side of it come out as if run alone."""
    crystals = small_crystals()
    crystals.insert(1, bulk("Am", "fcc", a=4.9))
    evaluations = evaluate_batch(crystals, batched, properties=PROPERTIES)
    assert [evaluation.failed for evaluation in evaluations] == [False, True, False, False]
    assert evaluations[1].error.split(":")[0] in {"RuntimeError", "ValueError"}
    reference = one_at_a_time(batched)
    for index in (0, 2, 3):
        assert_same_as_ase(evaluations[index], crystals[index], reference)


def test_a_family_without_a_batch_call_loops_and_fails_alone():
    """EMT has no batch call: the loop gives ASE's numbers exactly, and silicon, which
    EMT does not know, fails alone with EMT's message."""
    crystals = [bulk("Cu", "fcc", a=3.6), bulk("Si", "diamond", a=5.4), bulk("Al", "fcc", a=4.0)]
    evaluations = evaluate_batch(crystals, EMT(), properties=PROPERTIES)
    assert evaluations[1].error == "NotImplementedError: No EMT-potential for Si"
    for index in (0, 2):
        energy, forces, stress = ase_results(crystals[index], EMT())
        assert evaluations[index].energy == energy
        assert np.array_equal(evaluations[index].forces, forces)
        assert np.array_equal(evaluations[index].stress, stress)


def test_batch_size_comes_from_the_registry_or_from_memory(cache_dir):
    spec = ModelSpec("CHGNet in pairs", "chgnet", "0.3.0", calculator_kwargs={"batch_size": 2})
    calculator = load_calculator(spec, device="cpu", cache_dir=cache_dir)
    crystals = small_crystals()
    assert default_batch_size(calculator, crystals) == 2
    reference = one_at_a_time(calculator)
    for evaluation, atoms in zip(
        evaluate_batch(crystals, calculator, properties=PROPERTIES), crystals, strict=True
    ):
        assert_same_as_ase(evaluation, atoms, reference)
    unset = load_calculator(SPECS["chgnet"], device="cpu", cache_dir=cache_dir)
    # on the CPU, batches of at most 50 atoms: cells of two atoms go 25 at a time
    assert default_batch_size(unset, crystals) == 25
    assert default_batch_size(unset, [bulk("Cu"), bulk("Cu", cubic=True).repeat((3, 1, 1))]) == 4
    assert default_batch_size(unset, [bulk("Cu", cubic=True).repeat(4)]) == 1  # 256 atoms


def vacancy_cells() -> list[Atoms]:
    """A copper vacancy at three volumes: its neighbours relax differently at each."""
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    del atoms[0]
    cells = []
    for factor in (0.9, 1.0, 1.1):
        cell = atoms.copy()
        cell.set_cell(atoms.cell * factor ** (1 / 3), scale_atoms=True)
        cells.append(cell)
    return cells


@pytest.mark.parametrize(("fmax", "steps"), [(1e-3, 500), (1e-3, 4)])
def test_batched_fire_takes_ase_fires_steps(fmax, steps):
    """Each structure moves as ASE's FIRE moves it alone: same positions to rounding,
    same step count, and the step bound stops it unconverged as ASE's does."""
    relaxed = relax_together(Relaxation("FIRE", None, fmax, steps), vacancy_cells(), EMT())
    for outcome, cell in zip(relaxed, vacancy_cells(), strict=True):
        cell.calc = EMT()
        optimizer = FIRE(cell, logfile=None)
        converged = optimizer.run(fmax=fmax, steps=steps)
        assert (outcome.converged, outcome.steps) == (converged, optimizer.nsteps)
        assert outcome.atoms.positions == pytest.approx(cell.positions, abs=1e-12)
        assert outcome.atoms.get_potential_energy() == pytest.approx(
            cell.get_potential_energy(), abs=1e-12
        )
    assert relaxed[0].converged == (steps == 500)


def test_batched_fire_keeps_symmetry_as_ase_does():
    from ase.constraints import FixSymmetry

    cells = vacancy_cells()
    for cell in cells:
        cell.rattle(0.02, seed=1)
    relaxed = relax_together(Relaxation("FIRE", None, 1e-3, symmetry=True), cells, EMT())
    for outcome, cell in zip(relaxed, cells, strict=True):
        cell.set_constraint(FixSymmetry(cell))
        cell.calc = EMT()
        FIRE(cell, logfile=None).run(fmax=1e-3, steps=500)
        assert outcome.atoms.positions == pytest.approx(cell.positions, abs=1e-12)
        assert not outcome.atoms.constraints


def test_a_relaxation_failing_inside_a_batch_fails_alone():
    cells = vacancy_cells()
    cells[1].positions[1] = cells[1].positions[2]  # two atoms on one site: NaN forces in EMT
    relaxed = relax_together(Relaxation("FIRE", None, 1e-3), cells, EMT())
    assert [outcome.error for outcome in relaxed] == [
        "",
        "non-finite energy or forces at step 0",
        "",
    ]
    assert relaxed[0].converged and relaxed[2].converged


@pytest.mark.slow
def test_eos_with_batched_relaxations_equals_one_at_a_time(batched):
    """Arsenic (Delta set, two atoms with a free coordinate): each fixed-cell point is
    relaxed by batched FIRE or by ASE's FIRE one at a time, on the same model call (the
    calculator behind ``CachedModel``, which has no batch call), so the cell relaxation
    before them is the same. Both stop below fmax = 0.01 eV/Å, so the energies agree
    within ~F²/k ≪ 1e-4 eV per cell, and B0 and V0 within the Birch–Murnaghan fit's own
    scatter."""
    params = {"fmax": 0.01, "npoints": 11}
    batch = run_task("eos", dcdft["As"], batched, params)
    alone = run_task("eos", dcdft["As"], CachedModel(batched), params)
    assert alone["relaxed_volume_a3"] == batch["relaxed_volume_a3"]
    assert batch["energies_ev"] == pytest.approx(alone["energies_ev"], abs=1e-4)
    assert batch["v0_a3_per_atom"] == pytest.approx(alone["v0_a3_per_atom"], rel=1e-4)
    assert batch["b0_gpa"] == pytest.approx(alone["b0_gpa"], rel=1e-3)
    assert max(batch["points_steps"]) > 0  # the points did relax


@pytest.mark.parametrize("task", ["ev", "diatomics"])
def test_scans_without_relaxation_give_the_same_curves(batched, task):
    atoms = (
        bulk("Cu", "fcc", a=3.6)
        if task == "ev"
        else Atoms("O2", positions=[[0, 0, 0], [1.2, 0, 0]])
    )
    params = {"npoints": 11} if task == "ev" else {"step_a": 0.1}
    batch = run_task(task, atoms, batched, params)
    alone = run_task(task, atoms, one_at_a_time(batched), params)
    # To float precision: SevenNet computes in float32 (1.2e-7 relative a rounding) and a
    # batch sums its atoms in another order, so a few roundings apart: 1e-6 relative.
    assert batch["energies_ev"] == pytest.approx(alone["energies_ev"], rel=1e-6, abs=1e-5)
    if task == "diatomics":
        forces = pytest.approx(alone["forces_ev_per_a"], rel=1e-5, abs=1e-5)
        assert batch["forces_ev_per_a"] == forces


def test_a_failing_point_fails_the_scan_with_its_place():
    with pytest.raises(
        TaskFailed, match=r"^NotImplementedError: No EMT-potential for Si at strain -0\.200$"
    ):
        run_task("ev", bulk("Si", "diamond", a=5.4), EMT(), {})


def test_batched_cell_relaxations_equal_ases_one_at_a_time(cache_dir):
    """CHGNet, FIRE with the FrechetCell filter at the EOS protocol's fmax = 0.1 eV/Å, on the
    three rattled and sheared cells: each batched result is relaxed by the protocol's own
    measure (ASE's FrechetCellFilter forces on it, from CHGNet's ASE calculator, below
    fmax), and its energy is ASE's one-at-a-time result's within fmax²/k ≈ 1e-3 eV per
    cell (k ≳ 10 eV/Å² for these bonds)."""
    from ase.filters import FrechetCellFilter

    calculator = load_calculator(SPECS["chgnet"], device="cpu", cache_dir=cache_dir)
    reference = one_at_a_time(calculator)
    crystals = small_crystals()
    relaxed = relax_together(Relaxation("FIRE", "FrechetCell", 0.1), crystals, calculator)
    for outcome, atoms in zip(relaxed, crystals, strict=True):
        alone = atoms.copy()
        alone.calc = reference
        assert FIRE(FrechetCellFilter(alone), logfile=None).run(fmax=0.1, steps=500)
        assert outcome.converged and outcome.steps > 0
        check = outcome.atoms.copy()
        check.calc = reference
        assert np.linalg.norm(FrechetCellFilter(check).get_forces(), axis=1).max() < 0.1
        assert outcome.atoms.get_potential_energy() == pytest.approx(
            alone.get_potential_energy(), abs=1e-3
        )
