"""Phonons task, checked against hand-built dynamical matrices and an independent phonopy run.

The analytic model: fcc with harmonic springs between nearest neighbours,
φ(r) = k/2 (r − r0)². For a pair potential the dynamical matrix is
D(q) = (1/m) Σ_δ (1 − cos q·δ) [φ''(r) δ̂δ̂ᵀ + φ'(r)/r (1 − δ̂δ̂ᵀ)], summed over the 12
neighbours δ; at r = r0 the second term vanishes, under compression it is negative and
the transverse modes turn imaginary. Frequencies are converted here from eV/Å²/amu with
CODATA constants (scipy), independently of phonopy's own unit factor.
"""

import itertools
import math

import numpy as np
import phonopy
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT
from ase.neighborlist import neighbor_list
from phonopy.structure.atoms import PhonopyAtoms
from scipy import constants
from scipy.optimize import minimize_scalar

from compute.run_context import RunContext
from compute.tasks import TASKS, evaluate, run_task
from compute.tasks.phonons.alexandria import (
    ALEXANDRIA_SET,
    ALEXANDRIA_SMALL_SET,
    SMALL_IDS,
)
from compute.tasks.phonons.harmonic import (
    lowest_frequencies,
    phonopy_for,
    produce_force_constants,
)

K_SPRING, R0, MASS = 1.5, 2.5, 40.0  # eV/Å², Å, amu
A_FCC = R0 * math.sqrt(2)
# ν (THz) = sqrt(ω² in eV/(Å² amu)) / 2π
THZ_PER_ROOT_UNIT = math.sqrt(constants.eV / (constants.angstrom**2 * constants.atomic_mass))
THZ_PER_ROOT_UNIT /= 2 * math.pi * 1e12
R = constants.R  # J/K/mol
FAST = {"cell_filter": None, "steps": 0, "mesh_length_a": 30.0, "band_points": 11}


class Springs(Calculator):
    """Harmonic springs k/2 (r − r0)² between atoms closer than ``cutoff``."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, k: float, r0: float, cutoff: float) -> None:
        super().__init__()
        self.k, self.r0, self.cutoff = k, r0, cutoff

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        i, d = neighbor_list("iD", self.atoms, self.cutoff)
        r = np.linalg.norm(d, axis=1)
        stretch = r - self.r0
        forces = np.zeros((len(self.atoms), 3))
        np.add.at(forces, i, (self.k * stretch / r)[:, None] * d)  # each bond seen from i
        self.results = {"energy": 0.25 * self.k * float(stretch @ stretch), "forces": forces}


def springs() -> Springs:
    # nearest neighbours only, down to 0.8 r0 (the next shell is √2 farther)
    return Springs(K_SPRING, R0, cutoff=1.1 * R0)


def fcc_primitive(nn_distance: float = R0) -> Atoms:
    atoms = bulk("Ar", "fcc", a=nn_distance * math.sqrt(2))
    atoms.set_masses([MASS])
    return atoms


def hand_frequencies(q_cartesian: np.ndarray, nn_distance: float = R0) -> np.ndarray:
    """The spring model's frequencies (THz, imaginary negative) at q (1/Å, with 2π)."""
    a = nn_distance * math.sqrt(2)
    tension = K_SPRING * (nn_distance - R0) / nn_distance  # φ'(r)/r
    dynamical = np.zeros((3, 3))
    for signs in itertools.product((1, -1), repeat=2):
        for axes in ((0, 1), (0, 2), (1, 2)):
            delta = np.zeros(3)
            delta[list(axes)] = np.array(signs) * a / 2
            along = np.outer(delta, delta) / (delta @ delta)
            stiffness = K_SPRING * along + tension * (np.eye(3) - along)
            dynamical += (1 - math.cos(q_cartesian @ delta)) * stiffness / MASS
    squares = np.linalg.eigvalsh(dynamical)
    return np.sign(squares) * np.sqrt(np.abs(squares)) * THZ_PER_ROOT_UNIT


def einstein_heat_capacity(frequencies_thz: np.ndarray, temperature: float) -> float:
    """J/K/mol of the cell: the mean over q of Σ modes R x² eˣ/(eˣ − 1)², x = hν/kT."""
    x = constants.h * frequencies_thz.ravel() * 1e12 / (constants.k * temperature)
    per_mode = x**2 * np.exp(x) / np.expm1(x) ** 2
    return R * float(per_mode.sum()) * 3 / frequencies_thz.size


def at_label(output: dict, label: str) -> np.ndarray:
    """The band frequencies at the first tick called ``label``."""
    x = output["band_ticks"][output["band_labels"].index(label)]
    return np.array(output["frequencies_thz"][output["q_distance"].index(x)])


def fcc_points(a: float) -> dict[str, np.ndarray]:
    """Cartesian Γ, X, L, W of the fcc Brillouin zone (1/Å, with 2π)."""
    scale = 2 * math.pi / a
    return {
        "Γ": np.zeros(3),
        "X": scale * np.array([0.0, 1.0, 0.0]),
        "L": scale * np.array([0.5, 0.5, 0.5]),
        "W": scale * np.array([0.5, 1.0, 0.0]),
    }


@pytest.fixture(scope="module")
def spring_output():
    return run_task("phonons", fcc_primitive(), springs(), FAST)


def test_force_constants_give_the_hand_dynamical_matrix_at_any_q():
    phonon = phonopy_for(fcc_primitive(), [4, 4, 4])
    assert produce_force_constants(phonon, springs(), 0.01) == 1  # fcc: one displacement
    reciprocal = 2 * math.pi * np.linalg.inv(np.asarray(phonon.primitive.cell)).T
    for q in ([0.1, 0.2, 0.3], [0.5, 0.0, 0.5], [0.37, -0.21, 0.05], [0.5, 0.5, 0.5]):
        expected = hand_frequencies(np.asarray(q) @ reciprocal)
        # 0.01 Å on 2.5 Å springs: the bond's geometric nonlinearity is ~1e-5 relative
        assert phonon.get_frequencies(q) == pytest.approx(expected, rel=1e-4, abs=1e-4)


def test_band_path_matches_the_hand_frequencies_at_its_labelled_points(spring_output):
    assert spring_output["band_labels"] == ["Γ", "X", "U|K", "Γ", "L", "W", "X"]
    for label, q in fcc_points(A_FCC).items():
        assert at_label(spring_output, label) == pytest.approx(
            hand_frequencies(q), rel=1e-4, abs=1e-4
        ), label
    assert spring_output["acoustic_gamma_thz"] < 1e-4  # translation invariance


def test_rotated_cell_reads_the_path_in_its_own_frame():
    atoms = fcc_primitive()
    atoms.rotate(30, "z", rotate_cell=True)
    atoms.rotate(20, "x", rotate_cell=True)
    output = run_task("phonons", atoms, springs(), FAST)
    rotation = atoms.cell.cellpar()  # the crystal is the same: so are its frequencies
    assert rotation[0] == pytest.approx(R0)
    for label, q in fcc_points(A_FCC).items():
        assert at_label(output, label) == pytest.approx(hand_frequencies(q), rel=1e-4, abs=1e-4)


def mesh_frequencies(output: dict, cell: np.ndarray) -> np.ndarray:
    """Hand frequencies on the Γ-centred mesh phonopy used, in ``cell``'s reciprocal basis."""
    reciprocal = 2 * math.pi * np.linalg.inv(cell).T
    axes = [np.arange(n) / n for n in output["mesh"]]
    grid = np.array(list(itertools.product(*axes)))
    return np.array([hand_frequencies(q @ reciprocal) for q in grid])


def test_thermal_properties_are_the_hand_mode_sums(spring_output):
    frequencies = mesh_frequencies(spring_output, np.asarray(fcc_primitive().cell))
    frequencies = frequencies[np.any(frequencies > 1e-6, axis=1)]  # Γ's zero modes add 0
    size = np.prod(spring_output["mesh"])
    thermal = {row["temperature_k"]: row for row in spring_output["thermal"]}
    for temperature in (10.0, 50.0, 300.0, 1000.0):
        expected = einstein_heat_capacity(frequencies, temperature) * len(frequencies) / size
        assert thermal[temperature]["heat_capacity"] == pytest.approx(expected, rel=2e-4)
    assert spring_output["heat_capacity_300k"] == pytest.approx(thermal[300.0]["heat_capacity"])
    assert thermal[0.0]["heat_capacity"] == 0.0
    assert thermal[10.0]["heat_capacity"] < 0.01 * 3 * R


def test_heat_capacity_reaches_3nr_as_the_high_temperature_series_says(spring_output):
    # Σ over modes of ω² is the trace of D, whose mean over a Γ-centred mesh is 12 k / m
    # (the cosines average to zero): C_V/3R = 1 − ⟨x²⟩/12 + ⟨x⁴⟩/240 − …, ⟨ν²⟩ = 4 k/m
    # in THz²; phonopy leaves out Γ's three zero modes, 1/N_q of the classical 3R.
    mean_nu_squared = 4 * K_SPRING / MASS * THZ_PER_ROOT_UNIT**2
    temperature = 1000.0
    mean_x_squared = mean_nu_squared * (constants.h * 1e12 / (constants.k * temperature)) ** 2
    gamma_share = 1 / np.prod(spring_output["mesh"])
    (row,) = [r for r in spring_output["thermal"] if r["temperature_k"] == temperature]
    # ⟨x⁴⟩/240 ≈ 1.5 ⟨x²⟩²/240 = 4.5e-5 here
    expected = 1 - gamma_share - mean_x_squared / 12
    assert row["heat_capacity"] / (3 * R) == pytest.approx(expected, abs=1e-4)
    assert row["heat_capacity"] / (3 * R) > expected  # the x⁴ term is positive


def test_values_are_per_mole_of_the_input_cell(spring_output):
    conventional = bulk("Ar", "fcc", a=A_FCC, cubic=True)
    conventional.set_masses([MASS] * 4)
    output = run_task("phonons", conventional, springs(), FAST)
    assert output["natoms"] == 4 and output["primitive_natoms"] == 1
    for key in ("heat_capacity_300k", "entropy_300k", "free_energy_300k"):
        assert output[key] == pytest.approx(4 * spring_output[key], rel=1e-3), key
    assert output["max_frequency_thz"] == pytest.approx(
        spring_output["max_frequency_thz"], rel=1e-4
    )


def test_masses_of_the_input_are_used(spring_output):
    lighter = fcc_primitive()
    lighter.set_masses([MASS / 4])
    output = run_task("phonons", lighter, springs(), FAST)  # ν ∝ 1/√m
    assert output["max_frequency_thz"] == pytest.approx(2 * spring_output["max_frequency_thz"])


def test_compressed_crystal_is_reported_unstable_with_its_imaginary_modes():
    squeezed = 0.8 * R0
    output = run_task("phonons", fcc_primitive(squeezed), springs(), FAST)
    hand_l = hand_frequencies(fcc_points(squeezed * math.sqrt(2))["L"], squeezed)
    assert hand_l.min() < -2  # the springs push: the transverse modes at L are imaginary
    assert at_label(output, "L") == pytest.approx(hand_l, rel=1e-4, abs=1e-4)
    assert output["min_frequency_thz"] <= hand_l.min() + 1e-4
    metrics = evaluate("phonons", output, None)
    assert metrics == {"imaginary_modes": 1.0, "acoustic_sum_rule_thz": pytest.approx(0, abs=1e-4)}


def emt_lattice_constant() -> float:
    def energy(a: float) -> float:
        atoms = bulk("Cu", "fcc", a=a)
        atoms.calc = EMT()
        return atoms.get_potential_energy()

    return minimize_scalar(energy, bracket=(3.5, 3.6, 3.7), tol=1e-10).x


def test_emt_copper_agrees_with_an_independent_phonopy_run(tmp_path):
    output = run_task(
        "phonons",
        bulk("Cu", "fcc", a=3.55),
        EMT(),
        {"mesh_length_a": 40.0, "band_points": 11},
        RunContext(file_store=tmp_path),
    )
    a = emt_lattice_constant()
    # fmax 1e-3 eV/Å on the cell leaves ~0.01 GPa of stress: ΔV/V ~ 1e-4 at B = 140 GPa
    assert output["relaxed_volume_a3"] == pytest.approx(a**3 / 4, rel=3e-4)
    assert output["supercell_matrix"] == [4, 4, 4] and output["supercell_natoms"] == 64

    # Other settings: the cubic cell 3×3×3 (108 atoms), ±0.02 Å, its own mesh.
    cubic = bulk("Cu", "fcc", a=a, cubic=True)
    unitcell = PhonopyAtoms(cubic.get_chemical_symbols(), cell=cubic.cell[:],
                            scaled_positions=cubic.get_scaled_positions())  # fmt: skip
    reference = phonopy.Phonopy(unitcell, np.diag([3, 3, 3]), primitive_matrix="F")
    reference.generate_displacements(distance=0.02, is_plusminus=True)
    forces = []
    for cell in reference.supercells_with_displacements:
        atoms = Atoms(
            cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions, pbc=True
        )
        atoms.calc = EMT()
        forces.append(atoms.get_forces())
    reference.forces = np.array(forces)
    reference.produce_force_constants()
    reference.run_mesh([25, 25, 25])
    reference.run_thermal_properties(temperatures=[300.0])
    expected_cv = reference.get_thermal_properties_dict()["heat_capacity"][0]

    # EMT reaches about as far as the smaller supercell's half width: 0.1 % apart
    for label, q in fcc_points(a).items():
        q_fractional = q @ np.asarray(reference.primitive.cell).T / (2 * math.pi)
        expected = reference.get_frequencies(q_fractional)
        assert at_label(output, label) == pytest.approx(expected, rel=2e-3, abs=1e-3), label
    assert output["heat_capacity_300k"] == pytest.approx(expected_cv, rel=5e-4)
    assert output["acoustic_gamma_thz"] < 1e-3
    assert output["min_frequency_thz"] > -0.01  # stable

    saved = phonopy.load(tmp_path / output["force_constants_file"])
    assert saved.get_frequencies([0.5, 0.5, 0.0]) == pytest.approx(
        at_label(output, "X"), rel=1e-4, abs=1e-4
    )  # the file holds the force constants that gave the bands


def test_only_the_three_acoustic_modes_at_gamma_are_left_out_of_the_lowest_frequency():
    qpoints = np.array([[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [1.0, 0.0, -1.0]])  # the last is Γ
    frequencies = np.array([
        [-0.3, 0.01, 0.02, 5.0],  # an ASR violation of 0.3 THz, not an instability
        [0.7, 0.8, 2.0, 4.0],
        [-0.4, 0.001, 0.002, -2.0],  # an imaginary optical mode at Γ counts
    ])  # fmt: skip
    assert lowest_frequencies(qpoints, frequencies) == (-2.0, 0.4)
    assert lowest_frequencies(qpoints[:2], frequencies[:2]) == (0.7, 0.3)


def test_metrics_against_a_reference_are_per_atom():
    output = {"natoms": 4, "heat_capacity_300k": 90.0, "min_frequency_thz": -0.09,
              "acoustic_gamma_thz": 0.002}  # fmt: skip
    metrics = evaluate("phonons", output, {"heat_capacity_300k": 98.0})
    assert metrics == {
        "heat_capacity_error": -2.0,
        "imaginary_modes": 0.0,  # −0.09 THz is inside the −0.1 THz tolerance
        "acoustic_sum_rule_thz": 0.002,
    }
    assert evaluate("phonons", {**output, "min_frequency_thz": -0.11}, {})["imaginary_modes"] == 1


def test_hgi_reference_is_per_mole_of_its_four_atom_cell():
    (hgi,) = [s for s in ALEXANDRIA_SET.build() if s[0] == "HgI-mp-22859"]
    label, atoms, reference = hgi
    assert len(atoms) == 4 and atoms.get_chemical_formula() == "Hg2I2"
    # heavy atoms at 300 K are nearly classical: 0.99 × 3R per atom
    assert reference["heat_capacity_300k"] / (3 * R * 4) == pytest.approx(0.988, abs=0.001)


def test_structure_sets_hold_every_crystal_and_the_small_subset():
    everything = ALEXANDRIA_SET.build()
    assert len(everything) == 1170
    assert len({label for label, _, _ in everything}) == 1170
    small = ALEXANDRIA_SMALL_SET.build()
    assert [r["mp_id"] for _, _, r in small] == [i for i in (r["mp_id"] for _, _, r in everything)
                                                 if i in SMALL_IDS]  # fmt: skip
    assert len(small) == 40
    spec = TASKS["phonons"]
    assert spec.default_structure_set == ALEXANDRIA_SMALL_SET.name
    assert all(len(atoms) <= 12 for _, atoms, _ in small)
