"""The diatomics task against analytic answers (ASE's Morse potential, hand-built curves),
ASE's EMT on the real grid, and CHGNet against experimental bond lengths."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.constants as si
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT
from ase.calculators.morse import MorsePotential
from ase.data import atomic_masses, atomic_numbers, chemical_symbols, covalent_radii, vdw_alvarez

from compute.errors import TaskFailed
from compute.tasks import evaluate, run_task, task_spec
from compute.tasks.diatomics.dimers import DIMER_SET, experimental_reference
from compute.tasks.diatomics.metrics import curve_metrics
from compute.tasks.diatomics.protocol import distance_grid


def dimer(symbol: str) -> Atoms:
    return Atoms(f"{symbol}2", positions=[[0, 0, 0], [2.0, 0, 0]])


def morse_wavenumber_cm1(epsilon: float, rho0: float, r0: float, mass_amu: float) -> float:
    """ω_e of a Morse well from SI constants: k = 2ε(ρ0/r0)², μ = m/2."""
    k = 2 * epsilon * (rho0 / r0) ** 2 * si.electron_volt / si.angstrom**2
    reduced_mass = mass_amu / 2 * si.atomic_mass
    return math.sqrt(k / reduced_mass) / (2 * math.pi * si.c * 100)


@pytest.mark.parametrize(
    ("symbol", "epsilon", "rho0", "r0", "cutoff"),
    [
        ("H", 4.75, 1.44, 0.74, (2.5, 5.0)),  # an H2-like well, soft, with a long cutoff
        ("Cu", 2.0, 4.0, 2.2, (1.9, 2.7)),  # a narrow well with a steep wall, ASE's cutoff
    ],
)
def test_morse_dimer_gives_its_bond_length_depth_and_frequency(symbol, epsilon, rho0, r0, cutoff):
    """ASE's Morse potential has its minimum -ε at r0, force constant 2ε(ρ0/r0)², and is
    zero beyond its cutoff (inside both grids), where MLIP Arena's zero lies. The cutoffs
    are wide enough that the smoothing adds less attraction than the well's own inflection
    point (ε ρ0 / 2 r0), so the force keeps a single most attractive point."""
    rcut1, rcut2 = cutoff
    calculator = MorsePotential(epsilon=epsilon, rho0=rho0, r0=r0, rcut1=rcut1, rcut2=rcut2)
    output = run_task("diatomics", dimer(symbol), calculator, {})
    assert output["energies_ev"][-1] == 0.0
    # The quartic fit over ±0.05 Å leaves errors of ~1e-6 Å in r_e and ~1e-4 in k.
    assert output["r_e_a"] == pytest.approx(r0, abs=1e-5)
    assert output["d_e_ev"] == pytest.approx(epsilon, abs=1e-6)
    assert output["k_e_ev_per_a2"] == pytest.approx(2 * epsilon * (rho0 / r0) ** 2, rel=2e-4)
    mass = atomic_masses[atomic_numbers[symbol]]
    assert output["omega_e_cm1"] == pytest.approx(
        morse_wavenumber_cm1(epsilon, rho0, r0, mass), rel=1e-4
    )
    metrics = evaluate("diatomics", output, None)
    assert metrics["tortuosity"] == pytest.approx(1.0, abs=1e-12)
    assert metrics["force_flips"] == 1
    assert metrics["spearman_repulsion_energy"] == pytest.approx(-1.0, abs=1e-12)
    assert metrics["spearman_descending_force"] == pytest.approx(-1.0, abs=1e-12)


def test_forces_are_the_exact_bond_forces_in_float64():
    """F·r̂ on the outer atom is -dE/dr of the Morse pair energy, positive when repulsive."""
    epsilon, rho0, r0 = 4.75, 1.44, 0.74
    calculator = MorsePotential(epsilon=epsilon, rho0=rho0, r0=r0)
    output = run_task("diatomics", dimer("H"), calculator, {})
    r = np.array(output["distances_a"])
    inside = r < 1.9 * r0  # before ASE's smooth cutoff begins
    expf = np.exp(rho0 * (1 - r[inside] / r0))
    exact = 2 * epsilon * rho0 / r0 * expf * (expf - 1)  # -dE/dr
    assert np.array(output["forces_ev_per_a"])[inside] == pytest.approx(exact, rel=1e-12)
    assert all(type(v) is float for v in output["energies_ev"] + output["forces_ev_per_a"])


def test_grid_is_mlip_arenas():
    """0.9 r_cov to 3.1 r_vdW (Alvarez) in int((r_max − r_min) / 0.01) points; 6 Å where
    no vdW radius is known. Upstream's progress bar shows 344 points for H."""
    h = run_task("diatomics", dimer("H"), EMT(), {})["distances_a"]
    assert len(h) == 344
    assert h[0] == pytest.approx(0.9 * 0.31) and h[-1] == pytest.approx(3.1 * 1.2)
    po = atomic_numbers["Po"]  # no Alvarez radius
    assert math.isnan(vdw_alvarez.vdw_radii[po])
    grid = distance_grid(po)
    assert grid[-1] == 6.0 and grid[0] == pytest.approx(0.9 * covalent_radii[po])


def test_the_50_angstrom_box_is_as_good_as_no_box():
    """EMT's cutoff is far below the 25 Å to the nearest image, so the periodic scan and
    the isolated one (``periodic=False``) are the same curve."""

    class SeenBox(EMT):
        def calculate(self, atoms=None, properties=("energy",), system_changes=()):
            self.box = (tuple(atoms.pbc), atoms.cell.lengths().tolist())
            super().calculate(atoms, properties, system_changes)

    in_box, no_box = SeenBox(), SeenBox()
    periodic = run_task("diatomics", dimer("Cu"), in_box, {})
    isolated = run_task("diatomics", dimer("Cu"), no_box, {"periodic": False})
    assert in_box.box == ((True,) * 3, [50.0] * 3)
    assert no_box.box[0] == (False,) * 3
    assert isolated["energies_ev"] == pytest.approx(periodic["energies_ev"], abs=1e-12)
    assert isolated["forces_ev_per_a"] == pytest.approx(periodic["forces_ev_per_a"], abs=1e-12)


def test_conservation_deviation_is_zero_for_exact_forces_of_a_linear_curve_and_the_offset():
    """np.gradient is exact on a straight line, so a constant force error δ is all that shows."""
    r = np.linspace(1.0, 4.0, 301)
    slope, offset = 0.7, 0.013
    exact = curve_metrics(r.tolist(), (slope * r).tolist(), [-slope] * len(r))
    shifted = curve_metrics(r.tolist(), (slope * r).tolist(), [-slope + offset] * len(r))
    assert exact["conservation_deviation_ev_per_a"] == pytest.approx(0.0, abs=1e-12)
    assert shifted["conservation_deviation_ev_per_a"] == pytest.approx(offset, rel=1e-9)


def test_conservation_deviation_of_a_parabola_is_the_edge_error_of_np_gradient():
    """For E = a(r − r0)² with exact forces, central differences are exact inside and the
    one-sided end differences are off by a·h each: the mean is 2ah/N."""
    a, r0, n = 3.0, 2.0, 201
    r = np.linspace(1.0, 3.0, n)
    h = r[1] - r[0]
    metrics = curve_metrics(r.tolist(), (a * (r - r0) ** 2).tolist(), (-2 * a * (r - r0)).tolist())
    assert metrics["conservation_deviation_ev_per_a"] == pytest.approx(2 * a * h / n, rel=1e-6)


def test_energy_jump_and_flips_by_hand():
    """Far end first, E steps -0.1, -0.2, +0.05, -0.25, +2.5 (eV) and a 0.5 meV wiggle that
    is ignored: flips after the 2nd, 3rd and 4th steps, jump (0.2 + 0.05) + (0.05 + 0.25) +
    (0.25 + 2.5) = 3.3 eV. Forces +, -, -, tiny +, -, +, + flip twice: the tiny one (under
    10 meV/Å) counts as zero, where it would add two flips."""
    far_first = [0.0, -0.1, -0.3, -0.25, -0.2505, -0.5005, 1.9995]
    distances = list(range(7, 0, -1))
    forces = [0.5, -0.2, -0.3, 0.005, -0.4, 0.2, 9.0]
    metrics = curve_metrics(distances, far_first, forces)
    assert metrics["energy_jump_ev"] == pytest.approx(3.3, abs=1e-12)
    assert metrics["force_flips"] == 2
    assert metrics["tortuosity"] == pytest.approx(
        (0.1 + 0.2 + 0.05 + 0.0005 + 0.25 + 2.5) / (0.5005 + 2.5), rel=1e-12
    )


@pytest.mark.parametrize("symbol", ["Cu", "Al", "Ni", "Au"])
def test_emt_dimers_on_the_real_grid_are_smooth_with_monotone_repulsion(symbol):
    output = run_task("diatomics", dimer(symbol), EMT(), {})
    metrics = evaluate("diatomics", output, experimental_reference(symbol))
    assert metrics["tortuosity"] == pytest.approx(1.0, abs=1e-9)
    assert metrics["spearman_repulsion_energy"] == pytest.approx(-1.0, abs=1e-12)
    r = np.array(output["distances_a"])
    energies = np.array(output["energies_ev"])
    forces = np.array(output["forces_ev_per_a"])
    inside = r < output["r_e_a"] - 0.01
    assert np.all(np.diff(energies[inside]) < 0)  # E falls all the way in to the minimum
    assert np.all(forces[inside] > 0)  # and pushes the atoms apart there
    assert metrics["force_flips"] == 1


def test_experimental_references_cite_their_source_and_derive_d_e():
    """D_e = D_0 + ω_e/2 − ω_e x_e/4: for H₂ 4.4781 eV + 2170.27 cm⁻¹ = 4.7472 eV."""
    h2 = experimental_reference("H")
    assert h2["r_e_a"] == 0.74144 and h2["omega_e_cm1"] == 4401.21
    assert h2["d_e_ev"] == pytest.approx(4.4781 + 2170.27 * si.h * si.c * 100 / si.e, abs=1e-4)
    assert h2["d_e_ev"] == 4.7472  # 4.74718 rounded to D_0's four decimals
    assert h2["d0_ev"] == 4.4781 and h2["isotope_mass_amu"] == 1.007825
    assert "Huber & Herzberg" in h2["source"]
    for symbol in ("N", "O", "F", "Cl", "Na", "K", "Cu", "Au"):
        assert "r_e_a" in experimental_reference(symbol)
    assert experimental_reference("Fe") == {}


def test_errors_against_experiment_use_the_measured_isotopes():
    """A model with ³⁵Cl₂'s exact r_e and force constant has no errors, although the
    standard atomic mass of Cl (35.45) would give a frequency 0.7 % lower."""
    reference = experimental_reference("Cl")
    mu = reference["isotope_mass_amu"] / 2 * si.atomic_mass
    omega = 2 * math.pi * si.c * 100 * reference["omega_e_cm1"]
    k = mu * omega**2 / (si.electron_volt / si.angstrom**2)
    output = {
        "element": "Cl",
        "distances_a": [1.0, 2.0, 3.0],
        "energies_ev": [1.0, -2.0, 0.0],
        "forces_ev_per_a": [5.0, 0.0, -0.1],
        "r_e_a": reference["r_e_a"],
        "k_e_ev_per_a2": k,
        "d_e_ev": reference["d_e_ev"] + 0.25,
    }
    metrics = evaluate("diatomics", output, reference)
    assert metrics["r_e_error_a"] == 0.0
    # ASE's constants are CODATA 2014, SciPy's 2018: they differ by ~1e-8.
    assert metrics["omega_e_rel_error"] == pytest.approx(0.0, abs=1e-7)
    assert metrics["d_e_error_ev"] == pytest.approx(0.25, abs=1e-12)
    # Without an isotope mass ASE's standard one (Cl: 35.45) is used, ω scaling as μ^(-1/2).
    standard = {key: value for key, value in reference.items() if key != "isotope_mass_amu"}
    lighter = evaluate("diatomics", output, standard)["omega_e_rel_error"]
    assert lighter == pytest.approx(math.sqrt(34.968853 / 35.45) - 1, rel=1e-6)
    assert lighter == pytest.approx(-0.0068, abs=1e-4)


def test_frequency_error_for_a_soft_bond_and_none_without_curvature():
    """A van der Waals bond: ω_e = 30 cm⁻¹ for ⁴⁰Ar₂ means k = μ(2πcω)² = 1.06 N/m = 0.066 eV/Å²,
    below 1, and is compared; a zero force constant gives no frequency to compare."""
    reference = {"r_e_a": 3.76, "omega_e_cm1": 30.0, "isotope_mass_amu": 39.962383}
    mu = reference["isotope_mass_amu"] / 2 * si.atomic_mass
    k = mu * (2 * math.pi * si.c * 100 * 30.0) ** 2 / (si.electron_volt / si.angstrom**2)
    assert k == pytest.approx(0.0661, abs=1e-4)
    output = {
        "element": "Ar",
        "distances_a": [3.0, 3.76, 5.0],
        "energies_ev": [0.1, -0.01, 0.0],
        "forces_ev_per_a": [1.0, 0.0, -0.001],
        "r_e_a": 3.76,
        "k_e_ev_per_a2": k,
    }
    assert evaluate("diatomics", output, reference)["omega_e_rel_error"] == pytest.approx(
        0.0, abs=1e-7
    )  # CODATA 2014 (ASE) against 2018 (SciPy)
    assert "omega_e_rel_error" not in evaluate(
        "diatomics", {**output, "k_e_ev_per_a2": 0.0}, reference
    )


@pytest.mark.parametrize(
    ("atoms", "message"),
    [
        (Atoms("CuAu", positions=[[0, 0, 0], [2, 0, 0]]), "two atoms of one element, not AuCu"),
        (Atoms("Cu3", positions=[[0, 0, 0], [2, 0, 0], [4, 0, 0]]), "not Cu3"),
    ],
)
def test_other_structures_are_one_line_task_failures(atoms, message):
    with pytest.raises(TaskFailed, match=message):
        run_task("diatomics", atoms, EMT(), {})


def test_a_box_too_small_for_the_scan_is_refused():
    with pytest.raises(TaskFailed, match="box_a 10.0 Å is too small"):
        run_task("diatomics", dimer("Cs"), EMT(), {"box_a": 10.0})


def test_spec_ranks_mlip_arenas_six_metrics_and_shows_the_rest():
    spec = task_spec("diatomics")
    soundness, dft = spec.metric_groups
    ranked = {m.key: (m.direction, m.ideal) for m in spec.ranked_metrics}
    assert {key: ranked[key] for key in soundness.metrics} == {
        "conservation_deviation_ev_per_a": ("lower", 0),
        "spearman_repulsion_energy": ("lower", -1),
        "spearman_descending_force": ("lower", -1),
        "tortuosity": ("lower", 1),
        "energy_jump_ev": ("lower", 0),
        "force_flips": ("target", 1),
        "failure_rate": ("lower", 0),  # ours: a failed dimer counts against the model
    }
    assert dft.title == "Accuracy against DFT"
    assert {key: ranked[key] for key in dft.metrics} == {
        "pbe_energy_mae_ev": ("lower", 0),
        "pbe_force_mae_ev_per_a": ("lower", 0),
        "pbe_r_e_error_a": ("lower", 0),
        "pbe_d_e_error_ev": ("lower", 0),
    }
    assert spec.default_params() == {"step_a": 0.01, "box_a": 50.0, "periodic": True}
    assert spec.default_structure_set == "homonuclear-dimers"
    assert [q.unit for q in spec.quantities] == ["Å", "eV", "eV/Å²", "cm⁻¹"]


@pytest.mark.slow
@pytest.mark.parametrize("symbol", ["H", "O"])
def test_chgnet_bond_lengths_of_h2_and_o2_are_near_experiment(symbol):
    """Within 0.04 Å of experiment: PBE, whose data CHGNet learnt, already gives r_e about
    0.01 Å long for both (0.750 and 1.218 Å), and a bulk-trained model adds a few 0.01 Å."""
    from compute.calculators import load_calculator
    from compute.model_spec import ModelSpec

    calculator = load_calculator(ModelSpec("CHGNet", "chgnet", "0.3.0"), device="cpu")
    reference = experimental_reference(symbol)
    output = run_task("diatomics", dimer(symbol), calculator, {})
    assert output["r_e_a"] == pytest.approx(reference["r_e_a"], abs=0.04)
    metrics = evaluate("diatomics", output, reference)
    assert abs(metrics["r_e_error_a"]) < 0.04


def test_models_rank_on_a_true_rank_of_flips_minus_one():
    """Mean flips 0, 0.9, 1.5 and 3 are 1, 0.1, 0.5 and 2 from the ideal: ranks 3, 1, 2, 4.
    MLIP Arena's np.argsort of |flips − 1| over the flips-sorted table gives 2, 3, 1, 4."""
    from leaderboard_app.ranking import ModelEvidence, score_task

    spec = task_spec("diatomics")
    evidence = [
        ModelEvidence(name, [{"force_flips": flips}])
        for name, flips in zip("ABCD", (0, 0.9, 1.5, 3), strict=True)
    ]
    scores = {s.model: s.ranks["force_flips"] for s in score_task(evidence, metrics=spec.metrics)}
    assert scores == {"A": 3, "B": 1, "C": 2, "D": 4}


def test_grid_ends_at_6_angstrom_beyond_the_alvarez_table_too():
    """ASE's Alvarez table stops at Lr (103): Rf (104) has no radius, so r_max is 6 Å.
    By hand: r_min = 0.9 × 2.00 = 1.80 Å, (6 − 1.80)/0.01 = 420 points; for Po (NaN
    radius) 0.9 × 1.40 = 1.26 Å, (6 − 1.26)/0.01 = 474 points."""
    assert len(vdw_alvarez.vdw_radii) == 104 and covalent_radii[104] == 2.0
    rf = distance_grid(104)
    assert (len(rf), rf[0], rf[-1]) == (420, pytest.approx(1.8, abs=1e-12), 6.0)
    assert len(distance_grid(atomic_numbers["Po"])) == 474


class MorsePair(Calculator):
    """E = D(1 − e^(−a(r − r0)))² − D for two atoms, in closed form: cheap enough for
    thousands of points."""

    implemented_properties = ("energy", "forces")

    def __init__(self, depth=4.75, a=1.95, r0=0.74):
        super().__init__()
        self.depth, self.a, self.r0 = depth, a, r0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        bond = atoms.positions[1] - atoms.positions[0]
        r = np.linalg.norm(bond)
        decay = math.exp(-self.a * (r - self.r0))
        de_dr = 2 * self.depth * self.a * decay * (1 - decay)
        self.results = {
            "energy": self.depth * (1 - decay) ** 2 - self.depth,
            "forces": np.array([de_dr * bond / r, -de_dr * bond / r]),
        }


@pytest.mark.parametrize(
    ("step_a", "points"),
    [(0.1, 34), (0.001, 3440)],  # int(3.441 / step) of 34.41 and of 3440.9999999999995
)
def test_step_bounds_are_accepted_with_whole_steps_between_the_same_ends(step_a, points):
    """H: 0.9 × 0.31 = 0.279 Å to 3.1 × 1.2 = 3.72 Å whatever the step; 3.441/0.001 is
    3440.9999999999995 in floats, so upstream's int() gives 3440."""
    r = run_task("diatomics", dimer("H"), MorsePair(), {"step_a": step_a})["distances_a"]
    assert (len(r), r[0], r[-1]) == (points, pytest.approx(0.279, abs=1e-12), 3.1 * 1.2)


@pytest.mark.parametrize("step_a", [0.0009999, 0.1000001, 1.0])
def test_steps_outside_a_thousandth_to_a_tenth_of_an_angstrom_are_refused(step_a):
    with pytest.raises(TaskFailed, match=f"between 0.001 and 0.1 Å, not {step_a}"):
        run_task("diatomics", dimer("H"), EMT(), {"step_a": step_a})


def test_the_box_must_hold_twice_r_max():
    """H's r_max is 3.1 × 1.2 = 3.72 Å: a box of twice that puts an image at r_max, refused;
    7.45 Å is allowed. The Morse pair ignores the cell: a scan in that box still finds r0."""
    calculator = MorsePair()
    with pytest.raises(TaskFailed, match="small for r_max 3.72 Å: periodic images would be nearer"):
        run_task("diatomics", dimer("H"), calculator, {"box_a": 2 * (3.1 * 1.2)})
    output = run_task("diatomics", dimer("H"), calculator, {"box_a": 7.45})
    assert output["r_e_a"] == pytest.approx(0.74, abs=1e-5)  # the quartic fit's error


class Recording(MorsePair):
    """The closed-form Morse pair that notes what the scan asks of it."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def calculate(self, atoms=None, properties=("energy",), system_changes=()):
        self.calls.append((list(properties), list(system_changes), atoms.positions.copy()))
        super().calculate(atoms, properties, system_changes)


def test_each_point_asks_energy_and_forces_of_a_dimer_centred_in_the_box():
    """The first point is a new system (all of ASE's changes), the rest moved positions
    only; the dimer lies along x with its midpoint at the box centre (25, 25, 25)."""
    calculator = Recording()
    output = run_task("diatomics", dimer("H"), calculator, {})
    assert output["element"] == "H"
    assert len(calculator.calls) == len(output["distances_a"])
    assert calculator.calls[0][:2] == (["energy", "forces"], list(all_changes))
    assert all(call[:2] == (["energy", "forces"], ["positions"]) for call in calculator.calls[1:])
    for (*_, positions), r in zip(calculator.calls, output["distances_a"], strict=True):
        assert positions.mean(axis=0) == pytest.approx([25.0] * 3, abs=1e-12)
        assert positions[1] - positions[0] == pytest.approx([r, 0, 0], abs=1e-12)


class NonFinite(MorsePair):
    """The closed-form Morse pair with a NaN energy or force inside ``below_a``."""

    def __init__(self, which, below_a):
        super().__init__()
        self.which, self.below_a = which, below_a

    def calculate(self, atoms=None, properties=("energy",), system_changes=()):
        super().calculate(atoms, properties, system_changes)
        if atoms.get_distance(0, 1) < self.below_a:
            if self.which == "energy":
                self.results["energy"] = math.nan
            else:
                self.results["forces"] = self.results["forces"] * math.nan


@pytest.mark.parametrize("which", ["energy", "forces"])
def test_a_non_finite_energy_or_force_fails_the_scan_at_its_distance(which):
    """NaN below 0.3 Å: H's first point, 0.279 Å, fails; the message names it."""
    calculator = NonFinite(which, 0.3)
    with pytest.raises(TaskFailed, match=r"non-finite energy or forces at r = 0\.279 Å"):
        run_task("diatomics", dimer("H"), calculator, {})


def test_the_structure_set_has_one_dimer_per_element_at_twice_its_covalent_radius():
    """H to Og (ASE's numbers 1 … 118), labelled "H2" … "Og2", each along x at twice ASE's
    covalent radius (H: 2 × 0.31 = 0.62 Å), with the element's experimental reference:
    H₂'s r_e 0.74144 Å, none for Fe₂."""
    structures = {label: (atoms, ref) for label, atoms, ref in DIMER_SET.build()}
    assert len(structures) == 118
    assert list(structures)[0] == "H2" and list(structures)[-1] == "Og2"
    for number, symbol in enumerate(chemical_symbols[1:119], start=1):
        atoms, _ = structures[f"{symbol}2"]
        assert atoms.numbers.tolist() == [number, number]
        bond = 2 * covalent_radii[number]
        assert atoms.positions.tolist() == [[0, 0, 0], [bond, 0, 0]]
    assert structures["H2"][0].get_distance(0, 1) == pytest.approx(0.62, abs=1e-12)
    assert structures["H2"][1]["r_e_a"] == 0.74144
    assert structures["Fe2"][1] == {}


def test_a_morse_curve_rises_and_its_force_ascends_outside_the_well():
    """Closed-form Morse E = D(1 − e^(−a(r − r0)))² − D on 0.5 … 3 Å, no cutoff: outside the
    minimum E rises with r and outside the most attractive point (the inflection) the force
    climbs back to zero, so both shown Spearman coefficients are +1."""
    depth, a, r0 = 4.75, 1.95, 0.74
    r = np.linspace(0.5, 3.0, 251)
    decay = np.exp(-a * (r - r0))
    energies = depth * (1 - decay) ** 2 - depth
    forces = -2 * depth * a * decay * (1 - decay)
    metrics = curve_metrics(r.tolist(), energies.tolist(), forces.tolist())
    assert metrics["spearman_attraction_energy"] == pytest.approx(1.0, abs=1e-12)
    assert metrics["spearman_ascending_force"] == pytest.approx(1.0, abs=1e-12)


def test_tortuosity_of_a_shallow_well_and_of_a_curve_lowest_at_both_ends():
    """A 0.3 eV well sampled far end first: 0, −0.3, +0.2 (eV), total variation 0.3 + 0.5
    over the span |0 − (−0.3)| + (0.2 − (−0.3)) = 0.8: tortuosity 1. A barrier 0, 1, 0
    has both ends at its minimum, a span of 0, and no tortuosity (NaN)."""
    well = curve_metrics([3.0, 2.0, 1.0], [0.0, -0.3, 0.2], [-0.1, 0.0, 1.0])
    assert well["tortuosity"] == pytest.approx(1.0, abs=1e-12)
    barrier = curve_metrics([3.0, 2.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, -1.0])
    assert math.isnan(barrier["tortuosity"])


def test_thresholds_keep_steps_of_one_mev_and_forces_of_ten_mev_per_angstrom():
    """Steps |ΔE| < 1 meV and forces |F| < 10 meV/Å are dropped; exactly 1 meV and
    10 meV/Å are kept: E 0, 0.001, 0 flips once with a jump of 0.002 eV, and forces 0.01,
    −0.01, 0.01 flip twice. A 5 meV/Å force between two attractive ones is no flip."""
    kept = curve_metrics([3.0, 2.0, 1.0], [0.0, 0.001, 0.0], [0.01, -0.01, 0.01])
    assert kept["energy_jump_ev"] == pytest.approx(0.002, abs=1e-15)
    assert kept["force_flips"] == 2
    dropped = curve_metrics([3.0, 2.0, 1.0], [0.0, -1.0, 1.0], [-0.5, 0.005, -0.5])
    assert dropped["force_flips"] == 0
