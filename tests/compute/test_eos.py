"""EOS task and fit, checked against ASE's own EquationOfState and closed forms."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.eos import EquationOfState, birchmurnaghan
from ase.units import GPa

from compute.errors import TaskFailed
from compute.optimize import relax_atoms
from compute.tasks import check_params, run_task
from compute.tasks.eos.birch_murnaghan import fit_birch_murnaghan


def test_fit_recovers_exact_birch_murnaghan_parameters():
    v0, b0_gpa, bp, e0 = 11.8, 140.0, 4.8, -3.7
    volumes = np.linspace(0.8, 1.2, 21) * v0
    energies = birchmurnaghan(volumes, e0, b0_gpa * GPa, bp, v0)
    fit = fit_birch_murnaghan(volumes, energies)
    assert fit.v0_a3 == pytest.approx(v0, rel=1e-9)
    assert fit.b0_gpa == pytest.approx(b0_gpa, rel=1e-7)
    assert fit.b0_prime == pytest.approx(bp, rel=1e-6)
    assert fit.e0_ev == pytest.approx(e0, abs=1e-9)


def test_eos_on_emt_copper_matches_ase_equation_of_state():
    output = run_task("eos", bulk("Cu", "fcc", a=3.6, cubic=True), EMT(), {})
    volumes, energies = np.array(output["volumes_a3"]), np.array(output["energies_ev"])
    assert len(volumes) == 21
    relaxed = output["relaxed_volume_a3"]
    assert volumes.min() == pytest.approx(0.8 * relaxed, rel=1e-9)
    assert volumes.max() == pytest.approx(1.2 * relaxed, rel=1e-9)

    ase_eos = EquationOfState(volumes, energies, eos="birchmurnaghan")
    v0, e0, b0 = ase_eos.fit()
    _, _, bp, _ = ase_eos.eos_parameters
    natoms = output["natoms"]
    assert output["v0_a3_per_atom"] == pytest.approx(v0 / natoms, rel=1e-4)
    assert output["b0_gpa"] == pytest.approx(b0 / GPa, rel=1e-3)
    assert output["b0_prime"] == pytest.approx(bp, rel=1e-2)
    assert output["e0_ev_per_atom"] == pytest.approx(e0 / natoms, abs=1e-5)
    assert output["relax_converged"] and all(output["points_converged"])


def test_eos_on_aluminium_agrees_with_ase_fit_on_a_curve_with_residuals():
    # EMT Al is not exactly Birch–Murnaghan over ±20 %: the linear and the
    # nonlinear least-squares fits differ, but only slightly.
    output = run_task("eos", bulk("Al", "fcc", a=4.05), EMT(), {})
    ase_eos = EquationOfState(output["volumes_a3"], output["energies_ev"], eos="birchmurnaghan")
    v0, _, b0 = ase_eos.fit()
    assert output["fit_residual"] > 0
    assert output["v0_a3_per_atom"] == pytest.approx(v0 / output["natoms"], rel=5e-3)
    assert output["b0_gpa"] == pytest.approx(b0 / GPa, rel=0.1)


def test_fit_without_a_minimum_is_a_task_failure():
    volumes = np.linspace(10, 14, 21)
    with pytest.raises(TaskFailed, match="no energy minimum"):
        fit_birch_murnaghan(volumes, -volumes)  # energy falls all the way


def test_nan_forces_fail_the_relaxation_with_the_step():
    overlapping = Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 0]], cell=[3, 3, 3], pbc=True)
    with pytest.raises(TaskFailed, match="non-finite energy or forces at step 0"):
        relax_atoms(overlapping, EMT())


@pytest.mark.parametrize("optimizer", ["FIRE", "BFGS", "LBFGS", "BFGSLineSearch"])
@pytest.mark.parametrize("cell_filter", ["FrechetCell", "UnitCell", "ExpCell", "Strain"])
def test_relax_finds_emt_copper_lattice_with_each_optimizer_and_filter(optimizer, cell_filter):
    # Reference: the EMT Cu lattice constant from ASE's own EOS on the primitive cell.
    volumes = np.linspace(0.95, 1.05, 11) * 3.6**3 / 4
    energies = []
    for v in volumes:
        atoms = bulk("Cu", "fcc", a=(4 * v) ** (1 / 3))
        atoms.calc = EMT()
        energies.append(atoms.get_potential_energy())
    v0_ref, _, _ = EquationOfState(volumes, energies).fit()

    output = run_task(
        "relax",
        bulk("Cu", "fcc", a=3.75),
        EMT(),
        {"optimizer": optimizer, "cell_filter": cell_filter, "fmax": 0.001, "steps": 300},
    )
    assert output["converged"]
    assert output["volume_a3"] == pytest.approx(v0_ref, rel=2e-3)
    assert output["max_force_ev_per_a"] < 0.001


def test_symmetry_constraint_symmetrises_a_slightly_strained_cubic_cell():
    # bcc Cu with c stretched by 0.05 %, below FixSymmetry's tolerance: with the
    # constraint the cell is relaxed as cubic; without it, the strain survives.
    atoms = bulk("Cu", "bcc", a=2.87, cubic=True)
    atoms.set_cell(atoms.cell * [1.0, 1.0, 1.0005], scale_atoms=True)
    free, _, _ = relax_atoms(atoms, EMT(), fmax=0.001, steps=1000)
    fixed, _, _ = relax_atoms(atoms, EMT(), fmax=0.001, steps=1000, symmetry=True)
    a, _, c = fixed.cell.cellpar()[:3]
    assert c / a == pytest.approx(1.0, abs=1e-9)
    a, _, c = free.cell.cellpar()[:3]
    assert abs(c / a - 1.0) > 1e-4


def test_unknown_names_are_refused_with_the_valid_choices():
    with pytest.raises(TaskFailed, match="choose from FIRE"):
        run_task("relax", bulk("Cu"), EMT(), {"optimizer": "Newton"})
    with pytest.raises(TaskFailed, match="has no parameter tolerance"):
        check_params("eos", {"tolerance": 1})
    with pytest.raises(TaskFailed, match="known: eos, ev, relax"):
        check_params("phonons", {})
