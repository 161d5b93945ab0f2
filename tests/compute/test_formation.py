"""The formation task against independent references: hand computations, the WBM
file's own DFT numbers, pymatgen's MP2020 applied as the file's makers did, and EMT
relaxations done directly with ASE."""

import gzip
import json
import math

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones
from ase.filters import UnitCellFilter
from ase.optimize import BFGS

from compute.errors import TaskFailed
from compute.run_context import RunContext
from compute.tasks import evaluate, run_task, task_spec
from compute.tasks.formation.energies import formation_energy_per_atom, mp2020_correction_ev
from compute.tasks.formation.geometry import normalised_rmsd, space_groups
from compute.tasks.formation.references import (
    DATA,
    element_structures,
    elemental_reference,
    wbm_structures,
)


def wbm_entries() -> dict[str, dict]:
    with gzip.open(DATA / "wbm-random-972.json.gz", "rt") as handle:
        return {entry["material_id"]: entry for entry in json.load(handle)}


def entry_atoms(entry: dict) -> Atoms:
    return Atoms(entry["symbols"], scaled_positions=entry["frac"], cell=entry["cell"], pbc=True)


class Flat(Calculator):
    """E = 0, no forces, no stress: every structure is relaxed as given, every μ is 0.
    Magnetic moments too, as CHGNet gives them: results of the last structure computed."""

    implemented_properties = ["energy", "forces", "stress", "magmoms"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        n = len(self.atoms)
        self.results = {"energy": 0.0, "forces": np.zeros((n, 3)), "stress": np.zeros(6),
                        "magmoms": np.zeros(n)}  # fmt: skip


def ordered(formula: str, a: float, c_over_a: float = 1.0) -> Atoms:
    """L1_2 (A3B: B at the corner) or L1_0 (AB, tetragonal) or B2 (AB, 2 atoms)."""
    structures = {
        "L12": [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]],
        "L10": [[0, 0, 0], [0.5, 0.5, 0], [0, 0.5, 0.5], [0.5, 0, 0.5]],
        "B2": [[0, 0, 0], [0.5, 0.5, 0.5]],
    }
    kind, symbols = formula.split(":")
    return Atoms(symbols, scaled_positions=structures[kind], cell=[a, a, a * c_over_a], pbc=True)


# --- formation energy by hand --------------------------------------------------------


def test_formation_energy_is_per_atom_against_atomic_fractions():
    """Cu3Au at −10 eV per cell, μ(Cu) = −2, μ(Au) = −3: −2.5 − (¾·−2 + ¼·−3) = −0.25."""
    symbols = ["Au", "Cu", "Cu", "Cu"]
    assert formation_energy_per_atom(-10.0, symbols, {"Cu": -2.0, "Au": -3.0}) == pytest.approx(
        -0.25, abs=1e-12
    )
    with pytest.raises(TaskFailed, match="no elemental reference energy for Au"):
        formation_energy_per_atom(-10.0, symbols, {"Cu": -2.0})


@pytest.mark.parametrize("corrected", [False, True])
def test_the_wbm_formation_energies_follow_from_its_totals_and_the_mp_elements(corrected):
    """Every one of the 972: (E − Σ nᵢ μᵢ)/N with the vendored MP μ gives the file's
    formation energy, corrected or not (the corrected E against uncorrected μ)."""
    mu = {atoms[0].symbol: ref["energy_per_atom_ev"] for _, atoms, ref in element_structures()}
    energy_key = "corrected_energy" if corrected else "energy"
    form_key = "corrected_formation_energy_per_atom" if corrected else "formation_energy_per_atom"
    worst = max(
        abs(formation_energy_per_atom(e[energy_key], e["symbols"], mu) - e[form_key])
        for e in wbm_entries().values()
    )
    assert worst < 1e-6


# --- MP2020 -------------------------------------------------------------------------

# GGA+U oxides and fluorides (Fe, Co, Ni, Mn, V, Mo), anion-only corrections (S, N, Te,
# Br, Cl, H), positive corrections (TiFeSi), and none at all.
MP2020_ENTRIES = [
    "wbm-2-35799",  # Na2Co2TeO6: U on Co, oxide
    "wbm-5-6843",  # NaRhF6: fluoride
    "wbm-3-43631",  # Sc2MoN2: nitride
    "wbm-2-29141",  # TmVN3
    "wbm-3-7445",  # Ca3Mn2B2N3
    "wbm-1-55798",  # TiFeSi: +0.071 eV
    "wbm-2-24821",  # LiPdS2: sulfide
    "wbm-1-20257",  # Ho2H2C: hydride
    "wbm-2-7238",  # Ba4C2Cl5
    "wbm-1-2478",  # AlPd3: no correction
]


@pytest.mark.parametrize("material_id", MP2020_ENTRIES)
def test_mp2020_reproduces_the_files_corrected_energy(material_id):
    """pymatgen's MP2020 with MP's GGA/GGA+U rule turns the DFT ``energy`` into the file's
    ``corrected_energy`` (970 of 972 agree; two Eu/Er silicides differ by 0.14 and
    0.28 eV, a rare-earth correction of an older MP2020)."""
    entry = wbm_entries()[material_id]
    correction = mp2020_correction_ev(entry_atoms(entry), entry["energy"])
    assert entry["energy"] + correction == pytest.approx(entry["corrected_energy"], abs=1e-6)


def test_a_family_trained_on_mp_energies_gets_the_correction_the_others_do_not():
    """With E = 0 everywhere, μ = 0 and the uncorrected E_form is 0; CHGNet's family adds
    the file's own correction per atom, EMT's nothing."""
    entry = wbm_entries()["wbm-2-35799"]
    atoms = entry_atoms(entry)
    expected = (entry["corrected_energy"] - entry["energy"]) / len(atoms)
    for family, value in (("chgnet", expected), ("emt", 0.0)):
        output = run_task("formation", atoms, Flat(), {}, RunContext(family=family))
        assert output["formation_energy_per_atom_uncorrected"] == pytest.approx(0, abs=1e-12)
        assert output["formation_energy_per_atom"] == pytest.approx(value, abs=1e-9)
        assert output["energy_correction"] == ("MP2020" if family == "chgnet" else "")


# --- EMT against ASE directly -------------------------------------------------------


def relaxed_energy_per_atom(atoms: Atoms) -> float:
    atoms = atoms.copy()
    atoms.calc = EMT()
    BFGS(UnitCellFilter(atoms), logfile=None).run(fmax=1e-5, steps=2000)
    return atoms.get_potential_energy() / len(atoms)


@pytest.mark.parametrize(
    ("structure", "a", "c_over_a"),
    [("L12:AuCu3", 3.75, 1.0), ("L10:Cu2Au2", 3.9, 0.95), ("B2:NiAl", 2.9, 1.0),
     ("L12:AlNi3", 3.6, 1.0)],
)  # fmt: skip
def test_emt_formation_energy_is_the_difference_of_direct_ase_relaxations(structure, a, c_over_a):
    """E_form from the protocol (FIRE, fmax 0.02, MP's elemental structures) equals the
    compound's and the fcc elements' energies relaxed by BFGS on ASE's UnitCellFilter to
    fmax 1e-5, within 1e-4 eV/atom (the energy a residual force of 0.02 eV/Å leaves in
    these cells is far below)."""
    atoms = ordered(structure, a, c_over_a)
    output = run_task("formation", atoms, EMT(), {}, RunContext(family="emt"))
    symbols = atoms.get_chemical_symbols()
    mu = {el: relaxed_energy_per_atom(bulk(el, "fcc", a=4.0)) for el in set(symbols)}
    expected = relaxed_energy_per_atom(atoms) - sum(mu[el] for el in symbols) / len(symbols)
    assert output["converged"] and output["references_converged"]
    assert output["formation_energy_per_atom"] == pytest.approx(expected, abs=1e-4)
    assert abs(output["formation_energy_per_atom"]) > 0.005  # not a trivial zero


def test_each_elemental_reference_is_relaxed_once_per_context():
    calls = []
    context = RunContext()
    original = context.companion

    def counting(structure_set, label, compute):
        calls.append((structure_set, label))
        return original(structure_set, label, compute)

    context.companion = counting
    for structure in ("L12:AuCu3", "L10:Cu2Au2"):
        run_task("formation", ordered(structure, 3.8), EMT(), {}, context)
    assert sorted(set(calls)) == [("mp-elemental-references", "mp-Au"),
                                  ("mp-elemental-references", "mp-Cu")]  # fmt: skip
    assert len(context._companions) == 2


def test_an_elemental_reference_structure_is_its_own_reference():
    """MP's Cu relaxed: E_form 0 by definition, and it asks for no companion."""
    context = RunContext(companions=lambda *args: pytest.fail("no companion needed"))
    output = run_task("formation", elemental_reference("Cu"), EMT(), {}, context)
    assert output["formation_energy_per_atom"] == 0.0
    assert output["elemental_references"]["Cu"]["energy_per_atom_ev"] == pytest.approx(
        output["energy_per_atom_ev"]
    )


# --- outcomes that are not crashes --------------------------------------------------


def test_an_element_without_an_mp_reference_is_a_clear_failure():
    """Po has no structure in the MP file; LJ takes any element."""
    atoms = Atoms("CuPo", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], cell=[3.0] * 3, pbc=True)
    with pytest.raises(
        TaskFailed, match="no Materials Project elemental reference structure for Po"
    ):
        run_task("formation", atoms, LennardJones(sigma=2.3, rc=6.0), {}, RunContext())


def test_a_relaxation_out_of_steps_is_recorded_not_failed():
    """One step from a stretched cell: not converged, said so, with a finite E_form; the
    elemental references, relaxed with the same one step, say so too."""
    output = run_task("formation", ordered("L12:AuCu3", 4.2), EMT(), {"steps": 1}, RunContext())
    assert (output["converged"], output["steps"]) == (False, 1)
    assert output["references_converged"] is False
    assert math.isfinite(output["formation_energy_per_atom"])


def test_the_protocols_ranges_are_checked():
    with pytest.raises(TaskFailed, match="fmax must be > 0"):
        task_spec("formation").check_params({"fmax": 0})


# --- geometry -----------------------------------------------------------------------


def test_rmsd_of_a_structure_to_itself_is_zero_and_of_a_known_shift_by_hand():
    """One of N = 4 atoms moved by δ: after the best common translation (δ/N) the moved
    atom is off by δ(1 − 1/N), the others by δ/N, so RMS = δ √(N − 1) / N; two atoms moved
    ±δ: RMS = δ √(2/N). Both in units of (V/N)^(1/3)."""
    base = ordered("L12:AuCu3", 3.75)
    length = (base.get_volume() / 4) ** (1 / 3)
    assert normalised_rmsd(base, base) == pytest.approx(0, abs=1e-12)
    one, two = base.copy(), base.copy()
    one.positions[0, 0] += 0.1
    two.positions[1, 0] += 0.1
    two.positions[2, 0] -= 0.1
    assert normalised_rmsd(one, base) == pytest.approx(0.1 * math.sqrt(3) / 4 / length, rel=1e-9)
    assert normalised_rmsd(two, base) == pytest.approx(0.1 * math.sqrt(2 / 4) / length, rel=1e-9)


def test_a_structure_that_cannot_be_matched_counts_as_one():
    base = ordered("L12:AuCu3", 3.75)
    sheared = base.copy()
    sheared.set_cell(base.cell.array @ [[1, 0.6, 0], [0, 1, 0], [0, 0, 1]], scale_atoms=True)
    assert normalised_rmsd(sheared, base) == 1.0
    # scale=False, as Matbench Discovery: a cell 30 % too long is no match, not forgiven
    inflated = base.copy()
    inflated.set_cell(base.cell.array * 1.3, scale_atoms=True)
    assert normalised_rmsd(inflated, base) == 1.0


def test_a_small_distortion_keeps_the_loose_space_group_and_loses_the_strict_one():
    """Cu3Au is Pm-3m (221); an atom 0.005 Å off is within symprec 1e-2, not 1e-5."""
    base = ordered("L12:AuCu3", 3.75)
    moved = base.copy()
    moved.positions[0, 0] += 0.005
    assert space_groups(base) == {"loose": 221, "strict": 221}
    assert space_groups(moved)["loose"] == 221 and space_groups(moved)["strict"] != 221


# --- metrics ------------------------------------------------------------------------


def output_of(e_form: float, correction: str, relaxed_groups=None) -> dict:
    return {
        "formation_energy_per_atom": e_form,
        "energy_correction": correction,
        "rmsd": 0.01,
        "volume_a3_per_atom": 11.0,
        "space_groups_input": {"loose": 221, "strict": 221},
        "space_groups_relaxed": relaxed_groups or {"loose": 221, "strict": 99},
    }


REFERENCE = {"formation_energy_per_atom": -0.5, "formation_energy_per_atom_uncorrected": 0.1,
             "volume_a3_per_atom": 10.0}  # fmt: skip


def test_corrected_models_meet_the_corrected_dft_value_others_the_uncorrected():
    corrected = evaluate("formation", output_of(-0.4, "MP2020"), REFERENCE)
    plain = evaluate("formation", output_of(-0.4, ""), REFERENCE)
    assert corrected["formation_energy_error"] == pytest.approx(0.1)
    assert corrected["sign_flip"] == 0.0
    assert plain["formation_energy_error"] == pytest.approx(-0.5)
    assert plain["sign_flip"] == 1.0
    assert corrected["volume_error"] == pytest.approx(0.1)
    assert (corrected["symmetry_kept_loose"], corrected["symmetry_kept_strict"]) == (1.0, 0.0)
    assert corrected["rmsd"] == 0.01


def test_without_a_dft_reference_there_are_no_metrics():
    """A user's structure: E_form needs only the elemental references; nothing to compare."""
    assert evaluate("formation", output_of(-0.4, "MP2020"), {}) == {}
    only_energy = evaluate(
        "formation", output_of(-0.4, ""), {"formation_energy_per_atom_uncorrected": -0.4}
    )
    assert set(only_energy) == {"formation_energy_error", "sign_flip"}


def test_the_structure_sets_hold_the_vendored_references():
    wbm, elements = wbm_structures(), element_structures()
    assert (len(wbm), len(elements)) == (972, 88)
    label, atoms, reference = wbm[0]
    assert label == "wbm-3-38149" and atoms.get_chemical_formula() == "Mg4Sm2Sn4"
    assert reference["volume_a3_per_atom"] == pytest.approx(atoms.get_volume() / len(atoms))
    by_label = {label: reference for label, _, reference in elements}
    assert by_label["mp-Al"]["energy_per_atom_ev"] == pytest.approx(-3.74557583)
