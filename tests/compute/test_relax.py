"""The relax task: its output is the relaxed structure, and a runaway cell is a failure."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT

from compute.errors import TaskFailed
from compute.relaxation import MAX_VOLUME_CHANGE, relax_atoms
from compute.tasks import run_task


class LinearInVolume(Calculator):
    """E = slope × V (eV): a constant pressure −slope that never stops pushing the cell."""

    implemented_properties = ["energy", "forces", "stress"]

    def __init__(self, slope_ev_per_a3: float):
        super().__init__()
        self.slope = slope_ev_per_a3

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        volume = self.atoms.get_volume()
        # σ = (1/V) ∂E/∂ε: isotropic, equal to the slope.
        self.results = {
            "energy": self.slope * volume,
            "forces": np.zeros((len(self.atoms), 3)),
            "stress": np.array([self.slope] * 3 + [0.0] * 3),
        }


@pytest.mark.parametrize("slope", [-0.05, 0.05])
def test_a_cell_that_runs_away_fails_with_its_volumes(slope):
    """A cell pulled open (or squeezed) forever passes 4× (or 1/4) its start volume well
    within the step budget; the guard stops it there, naming both volumes."""
    atoms = bulk("Cu", "fcc", a=3.6)  # 11.664 Å³
    with pytest.raises(TaskFailed, match=r"relaxation diverged: volume [\d.]+ Å³ from 11\.7 Å³"):
        relax_atoms(atoms, LinearInVolume(slope), steps=5000)
    assert MAX_VOLUME_CHANGE == 4.0


def test_a_cell_that_shrinks_by_less_than_four_relaxes_normally():
    """Cu started at a = 5.0 Å relaxes to EMT's 3.59 Å: the volume falls to
    (3.59/5.0)³ = 0.37 of the start, a large change but within the factor of four."""
    relaxed, converged, _ = relax_atoms(bulk("Cu", "fcc", a=5.0), EMT(), fmax=1e-3, steps=1000)
    assert converged
    assert relaxed.get_volume() == pytest.approx(11.57, abs=0.01)


def test_a_molecule_without_a_cell_relaxes_without_the_volume_guard():
    """No periodic cell, no volume: a stretched N2 in EMT relaxes to its bond length."""
    molecule = Atoms("N2", positions=[[0, 0, 0], [0, 0, 1.3]])
    relaxed, converged, _ = relax_atoms(molecule, EMT(), cell_filter=None, fmax=1e-3)
    reference = molecule.copy()
    reference.calc = EMT()
    from ase.optimize import BFGS

    BFGS(reference, logfile=None).run(fmax=1e-4)
    assert converged
    assert relaxed.get_distance(0, 1) == pytest.approx(reference.get_distance(0, 1), abs=1e-3)


def test_the_stored_output_is_the_relaxed_structure_with_its_own_energy_and_forces():
    """Cu strained to a = 3.75 Å: the output's cell, positions and numbers rebuild a
    structure whose EMT energy, volume and largest force are the ones reported, and
    which is not the input (the relaxed volume is EMT's, 11.57 Å³/atom, not 13.18)."""
    atoms = bulk("Cu", "fcc", a=3.75).repeat((2, 1, 1))
    atoms.rattle(0.05, seed=1)
    output = run_task("relax", atoms, EMT(), {"fmax": 1e-3, "steps": 1000})
    rebuilt = Atoms(
        numbers=output["numbers"], positions=output["positions"], cell=output["cell"], pbc=True
    )
    rebuilt.calc = EMT()
    energy = rebuilt.get_potential_energy()
    assert output["energy_ev"] == pytest.approx(energy, abs=1e-9)
    assert output["energy_per_atom_ev"] == pytest.approx(energy / 2, abs=1e-9)
    assert output["volume_a3"] == pytest.approx(rebuilt.get_volume(), rel=1e-9)
    forces = np.linalg.norm(rebuilt.get_forces(), axis=1)
    assert output["max_force_ev_per_a"] == pytest.approx(forces.max(), abs=1e-9)
    assert output["max_force_ev_per_a"] < 1e-3
    assert output["converged"] is True and 0 < output["steps"] < 1000
    assert output["volume_a3"] / 2 == pytest.approx(11.57, abs=0.01)
    assert atoms.get_volume() / 2 == pytest.approx(13.18, abs=0.01)  # the input is untouched


def test_a_relaxation_that_runs_out_of_steps_says_so():
    atoms = bulk("Cu", "fcc", a=3.75)
    output = run_task("relax", atoms, EMT(), {"fmax": 1e-6, "steps": 3})
    assert (output["converged"], output["steps"]) == (False, 3)
    assert output["max_force_ev_per_a"] >= 0


def test_relaxations_write_no_optimizer_log_and_refuse_unknown_filters(capsys):
    relax_atoms(bulk("Cu", "fcc", a=3.65), EMT(), steps=5)
    assert capsys.readouterr().out == ""  # workers' logs stay readable
    with pytest.raises(TaskFailed) as error:
        relax_atoms(bulk("Cu"), EMT(), cell_filter="Cubic")
    assert str(error.value) == (
        "unknown cell filter 'Cubic'; choose from FrechetCell, UnitCell, ExpCell, Strain or null"
    )
    with pytest.raises(TaskFailed) as error:
        relax_atoms(bulk("Cu"), EMT(), optimizer="Newton")
    assert str(error.value) == (
        "unknown optimizer 'Newton'; choose from FIRE, BFGS, LBFGS, BFGSLineSearch, "
        "LBFGSLineSearch, MDMin, GPMin"
    )


def test_the_step_budget_is_the_one_given():
    """From a = 3.75 Å FIRE needs well over 7 steps to reach 1e-6 eV/Å: it stops at 7."""
    relaxed, converged, steps = relax_atoms(bulk("Cu", "fcc", a=3.75), EMT(), fmax=1e-6, steps=7)
    assert (converged, steps) == (False, 7)


class BreaksAfterFirstMove(EMT):
    """EMT until the atoms first move, then NaN: a model that blows up at step 1."""

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        if not hasattr(self, "start"):
            self.start = self.atoms.positions.copy()
        if not np.allclose(self.atoms.positions, self.start):
            self.results["energy"] = float("nan")


def test_a_relaxation_is_checked_after_every_step():
    atoms = bulk("Cu", "fcc", a=3.6).repeat((2, 1, 1))
    atoms.rattle(0.05, seed=1)
    with pytest.raises(TaskFailed) as error:
        relax_atoms(atoms, BreaksAfterFirstMove(), cell_filter=None)
    assert str(error.value) == "non-finite energy or forces at step 1"


def test_a_molecule_has_no_volume():
    molecule = Atoms("N2", positions=[[0, 0, 0], [0, 0, 1.3]])
    output = run_task("relax", molecule, EMT(), {"cell_filter": None})
    assert output["volume_a3"] is None and output["converged"]


def test_the_relax_task_passes_symmetry_and_cell_filter_on():
    """bcc Cu with c stretched by 0.05 %: with symmetry the relaxed cell is cubic again,
    without it the strain survives; without a cell filter the cell stays as given."""
    atoms = bulk("Cu", "bcc", a=2.87, cubic=True)
    atoms.set_cell(atoms.cell * [1.0, 1.0, 1.0005], scale_atoms=True)
    params = {"fmax": 0.001, "steps": 1000}
    fixed = run_task("relax", atoms, EMT(), {**params, "symmetry": True})
    a, _, c = Atoms(cell=fixed["cell"]).cell.cellpar()[:3]
    assert c / a == pytest.approx(1.0, abs=1e-9)
    still = run_task("relax", atoms, EMT(), {**params, "cell_filter": None})
    assert np.allclose(still["cell"], atoms.cell, rtol=0, atol=1e-12)
