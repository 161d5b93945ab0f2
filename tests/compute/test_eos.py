"""EOS task and fit, checked against ASE's own EquationOfState and closed forms."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.eos import EquationOfState, birchmurnaghan
from ase.units import GPa

from compute.errors import TaskFailed
from compute.relaxation import relax_atoms
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
    # Both fits minimise the same squared energy residuals over the same four-parameter
    # family (third-order BM is a cubic in V^(-2/3)); they differ only by how far
    # scipy's leastsq, inside ASE, converges (tolerance 1.5e-8), least so for B′.
    # leastsq's default xtol is 1.49e-8: the last bits of the curve move where it stops
    assert output["v0_a3_per_atom"] == pytest.approx(v0 / natoms, rel=1.5e-8)
    assert output["b0_gpa"] == pytest.approx(b0 / GPa, rel=1.5e-8)
    assert output["b0_prime"] == pytest.approx(bp, rel=1e-6)
    assert output["e0_ev_per_atom"] == pytest.approx(e0 / natoms, abs=1e-9)
    assert output["relax_converged"] and all(output["points_converged"])


def test_eos_on_aluminium_agrees_with_ase_fit_on_a_curve_with_residuals():
    # EMT Al is not exactly Birch–Murnaghan over ±20 %, yet ASE's nonlinear fit and our
    # linear one minimise the same residuals over the same family: the same minimum,
    # to the tolerance of scipy's leastsq inside ASE (1.5e-8; B′ converges least: here it
    # is 0.35, so it is held absolutely to 1e-6, about 2e-7 of a typical B′ of 4.5; scipy
    # builds differ by 4e-7 on it).
    output = run_task("eos", bulk("Al", "fcc", a=4.05), EMT(), {})
    ase_eos = EquationOfState(output["volumes_a3"], output["energies_ev"], eos="birchmurnaghan")
    v0, e0, b0 = ase_eos.fit()
    natoms = output["natoms"]
    # leastsq's default xtol is 1.49e-8: the last bits of the curve move where it stops
    assert output["v0_a3_per_atom"] == pytest.approx(v0 / natoms, rel=1.5e-8)
    assert output["b0_gpa"] == pytest.approx(b0 / GPa, rel=1.5e-8)
    assert output["b0_prime"] == pytest.approx(ase_eos.eos_parameters[2], abs=1e-6)
    assert output["e0_ev_per_atom"] == pytest.approx(e0 / natoms, abs=1e-9)
    # 1 − R² of the cubic in x = V^(-2/3), from numpy's least squares on its own.
    x = np.array(output["volumes_a3"]) ** (-2 / 3)
    energies = np.array(output["energies_ev"])
    design = np.vander(x, 4)
    coefficients, *_ = np.linalg.lstsq(design, energies, rcond=None)
    ssr = np.sum((design @ coefficients - energies) ** 2)
    sst = np.sum((energies - energies.mean()) ** 2)
    assert output["fit_residual"] == pytest.approx(ssr / sst, rel=1e-6)
    assert output["fit_residual"] > 1e-4  # EMT Al is visibly not BM: the check bites


def bm_volumes_and_energies(v0: float, volumes: np.ndarray) -> np.ndarray:
    return birchmurnaghan(volumes, -3.7, 140.0 * GPa, 4.8, v0)


@pytest.mark.parametrize("v0_over_sampled", [1.1, 0.9])
def test_a_minimum_a_little_outside_the_sampled_volumes_is_still_found(v0_over_sampled):
    """The minimum may lie up to 10 % beyond the sampled range in x = V^(-2/3), that is
    below 0.9^(-3/2) = 1.171 × the largest volume or above 1.1^(-3/2) = 0.867 × the
    smallest; exact BM energies are a cubic in x, so the fit gives V0 back exactly."""
    volumes = np.linspace(10.0, 12.0, 21)
    edge = volumes.max() if v0_over_sampled > 1 else volumes.min()
    v0 = v0_over_sampled * edge
    fit = fit_birch_murnaghan(volumes, bm_volumes_and_energies(v0, volumes))
    assert fit.v0_a3 == pytest.approx(v0, rel=1e-9)
    assert fit.b0_gpa == pytest.approx(140.0, rel=1e-6)


@pytest.mark.parametrize("v0_over_sampled", [1.25, 0.8])
def test_a_minimum_far_outside_the_sampled_volumes_is_a_task_failure(v0_over_sampled):
    volumes = np.linspace(10.0, 12.0, 21)
    edge = volumes.max() if v0_over_sampled > 1 else volumes.min()
    energies = bm_volumes_and_energies(v0_over_sampled * edge, volumes)
    with pytest.raises(TaskFailed) as error:
        fit_birch_murnaghan(volumes, energies)
    assert str(error.value) == "EOS curve has no energy minimum inside the sampled volumes"


def test_the_fit_takes_the_minimum_when_a_maximum_is_also_in_range():
    """E(x) = c (x³/3 − (a+b) x²/2 + ab x) with c = −1000 eV, a = 0.2, b = 0.24 (Å⁻²):
    dE/dx = c (x − a)(x − b) vanishes at both, and d²E/dx² = c (2x − a − b) is positive
    at x = a only. So V0 = 0.2^(-3/2) Å³, E0 = E(a), and B0 = V0 d²E/dV² at V0, here by
    central finite differences of the closed form, not by the fit's chain rule."""
    a, b, c = 0.2, 0.24, -1000.0

    def energy(volume):
        x = np.asarray(volume, dtype=float) ** (-2 / 3)
        return c * (x**3 / 3 - (a + b) * x**2 / 2 + a * b * x)

    volumes = np.linspace(8.0, 13.0, 21)  # x from 0.25 to 0.18: both roots inside
    fit = fit_birch_murnaghan(volumes, energy(volumes))
    v0 = a**-1.5
    h = 1e-3
    d2e_dv2 = (energy(v0 + h) - 2 * energy(v0) + energy(v0 - h)) / h**2
    assert fit.v0_a3 == pytest.approx(v0, rel=1e-9)
    assert fit.e0_ev == pytest.approx(float(energy(v0)), rel=1e-9)
    assert fit.b0_gpa == pytest.approx(v0 * d2e_dv2 / GPa, rel=1e-5)  # O(h²) of the differences
    assert fit.residual == pytest.approx(0.0, abs=1e-20)  # an exact cubic in x


def test_a_very_soft_crystal_is_fitted_as_well():
    """B0 = 0.1 GPa: the curvature in x = V^(-2/3) at the minimum is below 1 eV·Å⁴,
    which must not matter: exact BM energies still give their parameters back."""
    volumes = np.linspace(0.8, 1.2, 21) * 11.8
    energies = birchmurnaghan(volumes, -3.7, 0.1 * GPa, 4.8, 11.8)
    fit = fit_birch_murnaghan(volumes, energies)
    assert (fit.v0_a3, fit.b0_gpa) == (pytest.approx(11.8, rel=1e-9), pytest.approx(0.1, rel=1e-6))


@pytest.mark.parametrize("npoints", [4, 5])
def test_the_fit_needs_five_points(npoints):
    volumes = np.linspace(10.0, 12.0, npoints)
    energies = bm_volumes_and_energies(11.0, volumes)
    if npoints < 5:
        with pytest.raises(TaskFailed) as error:
            fit_birch_murnaghan(volumes, energies)
        assert str(error.value) == "EOS fit needs at least 5 finite (volume, energy) points"
    else:
        assert fit_birch_murnaghan(volumes, energies).v0_a3 == pytest.approx(11.0, rel=1e-9)


@pytest.mark.parametrize("bad", ["volume", "energy"])
def test_a_non_finite_point_fails_the_fit(bad):
    volumes = np.linspace(10.0, 12.0, 21)
    energies = bm_volumes_and_energies(11.0, volumes)
    (volumes if bad == "volume" else energies)[3] = np.nan
    with pytest.raises(TaskFailed, match="at least 5 finite"):
        fit_birch_murnaghan(volumes, energies)


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
        check_params("kappa", {})


def test_positions_are_relaxed_at_each_volume_of_a_crystal_with_free_coordinates():
    """A copper vacancy (2×2×2 cubic cell less one atom): its neighbours' displacement
    changes with the volume, so scaling the relaxed cell moves them off their minimum,
    by up to 0.14 eV at ±20 %. Each point must hold the energy ASE's BFGS (another
    optimizer than the protocol's FIRE) finds at that fixed cell. Both stop where forces
    are below 1e-3 eV/Å: the energy is then within ~F²/k ≈ 1e-6 eV of the minimum."""
    from ase.optimize import BFGS

    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    del atoms[0]
    params = {"fmax": 1e-3, "steps": 2000, "npoints": 5}
    output = run_task("eos", atoms, EMT(), params)
    relaxed, _, _ = relax_atoms(atoms, EMT(), fmax=1e-3, steps=2000)
    assert output["relaxed_volume_a3"] == pytest.approx(relaxed.get_volume(), rel=1e-6)
    for factor, volume, energy in zip(
        np.linspace(0.8, 1.2, 5), output["volumes_a3"], output["energies_ev"], strict=True
    ):
        point = relaxed.copy()
        point.set_cell(relaxed.cell * factor ** (1 / 3), scale_atoms=True)
        point.calc = EMT()
        unrelaxed = point.get_potential_energy()
        BFGS(point, logfile=None).run(fmax=1e-4, steps=2000)
        assert volume == pytest.approx(factor * relaxed.get_volume(), rel=1e-6)
        assert energy == pytest.approx(point.get_potential_energy(), abs=2e-5)
        if factor != 1.0:
            assert unrelaxed - energy > 1e-3  # the relaxation at this volume did something
    assert output["points_converged"] == [True] * 5
    assert output["points_steps"][2] == 0  # at the relaxed cell the forces are already small


def test_without_relaxation_steps_the_scan_is_the_input_cell_scaled_with_its_atoms():
    """steps=0: no relaxation moves anything, so each point is ASE's isotropic scaling
    of the input cell with the atoms scaled along, at 0.8, 0.9, … of its volume."""
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.rattle(0.05, seed=3)
    output = run_task("eos", atoms, EMT(), {"steps": 0, "npoints": 5})
    assert output["relax_steps"] == 0 and output["points_steps"] == [0] * 5
    for factor, volume, energy in zip(
        np.linspace(0.8, 1.2, 5), output["volumes_a3"], output["energies_ev"], strict=True
    ):
        scaled = atoms.copy()
        scaled.set_cell(atoms.cell * factor ** (1 / 3), scale_atoms=True)
        scaled.calc = EMT()
        assert volume == pytest.approx(scaled.get_volume(), rel=1e-12)
        assert energy == pytest.approx(scaled.get_potential_energy(), abs=1e-12)


def test_the_optimizer_and_step_budget_reach_every_relaxation():
    """With BFGS the first relaxation takes exactly the steps of ASE's BFGS on the
    FrechetCellFilter, and a budget of 2 steps stops every point relaxation at 2."""
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    atoms = bulk("Cu", "fcc", a=3.7, cubic=True)
    atoms.rattle(0.05, seed=4)
    output = run_task("eos", atoms, EMT(), {"optimizer": "BFGS", "fmax": 0.01, "npoints": 5})
    reference = atoms.copy()
    reference.calc = EMT()
    optimizer = BFGS(FrechetCellFilter(reference), logfile=None)
    optimizer.run(fmax=0.01, steps=500)
    assert output["relax_steps"] == optimizer.nsteps

    vacancy = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    del vacancy[0]
    short = run_task("eos", vacancy, EMT(), {"steps": 2, "fmax": 1e-4, "npoints": 5})
    assert short["relax_steps"] == 2 and not short["relax_converged"]
    assert short["points_steps"] == [2] * 5 and short["points_converged"] == [False] * 5


def reference_protocol(atoms, *, optimizer, cell_filter, fmax, steps, symmetry, factors):
    """The EOS protocol written with ASE alone: relax cell and positions, then relax the
    positions at each scaled cell. Returns the steps and each point's (steps, energy)."""
    from ase.constraints import FixSymmetry

    relaxed = atoms.copy()
    relaxed.calc = EMT()
    if symmetry:
        relaxed.set_constraint(FixSymmetry(relaxed))
    first = optimizer(cell_filter(relaxed), logfile=None)
    first.run(fmax=fmax, steps=steps)
    relaxed.set_constraint()
    points = []
    for factor in factors:
        point = relaxed.copy()
        point.set_cell(relaxed.cell * factor ** (1 / 3), scale_atoms=True)
        point.calc = EMT()
        if symmetry:
            point.set_constraint(FixSymmetry(point))
        run = optimizer(point, logfile=None)
        run.run(fmax=fmax, steps=steps)
        points.append((run.nsteps, point.get_potential_energy()))
    return first.nsteps, points


@pytest.mark.parametrize("symmetry", [False, True])
def test_every_protocol_parameter_reaches_the_relaxations(symmetry):
    """Non-default choices of every parameter give what the same choices give in ASE:
    the same steps and energies at each point, on a rattled, strained bcc Cu cell."""
    from ase.filters import UnitCellFilter
    from ase.optimize import BFGS

    atoms = bulk("Cu", "bcc", a=2.9, cubic=True)
    atoms.set_cell(atoms.cell * [1.0, 1.0, 1.02], scale_atoms=True)
    atoms.rattle(0.02, seed=5)
    params = {
        "optimizer": "BFGS",
        "cell_filter": "UnitCell",
        "fmax": 0.02,
        "steps": 60,
        "npoints": 5,
        "min_volume_factor": 0.9,
        "max_volume_factor": 1.1,
        "symmetry": symmetry,
    }
    output = run_task("eos", atoms, EMT(), params)
    steps, points = reference_protocol(
        atoms,
        optimizer=BFGS,
        cell_filter=UnitCellFilter,
        fmax=0.02,
        steps=60,
        symmetry=symmetry,
        factors=np.linspace(0.9, 1.1, 5),
    )
    assert output["relax_steps"] == steps
    assert output["points_steps"] == [n for n, _ in points]
    assert output["energies_ev"] == pytest.approx([e for _, e in points], abs=1e-9)
