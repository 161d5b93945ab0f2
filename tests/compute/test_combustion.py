"""Hydrogen combustion: the water count on frames of known make-up, the enthalpy and the
centre-of-mass drift by hand, and a short run on a small box cut from the start."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.emt import EMT

from compute.md import NVT, MDProtocol
from compute.tasks import TASKS, evaluate, run_task
from compute.tasks.combustion import combustion_start
from compute.tasks.combustion.products import molecules, most_water, water_count
from compute.tasks.combustion.protocol import frame_record, scores

BOX = 24.0  # Å: molecules placed 4 Å and more apart never bond to each other
# One water: O–H 0.96 Å, H–O–H 104.5°.
WATER = [("O", (0, 0, 0)), ("H", (0.96, 0, 0)), ("H", (-0.2404, 0.9294, 0))]
HYDROXYL = [("O", (0, 0, 0)), ("H", (0.97, 0, 0))]
HYDROGEN = [("H", (0, 0, 0)), ("H", (0.74, 0, 0))]
OXYGEN = [("O", (0, 0, 0)), ("O", (1.21, 0, 0))]
# H–O–O–H: O–O 1.47 Å, O–H 0.97 Å, the H out of plane.
PEROXIDE = [("H", (-0.3, 0.93, 0)), ("O", (0, 0, 0)), ("O", (1.47, 0, 0)), ("H", (1.77, 0, 0.93))]


def frame(*placed: tuple[list, tuple[float, float, float]]) -> Atoms:
    """Molecules at the given offsets in a periodic box, wrapped into it."""
    symbols, positions = [], []
    for molecule, offset in placed:
        for symbol, position in molecule:
            symbols.append(symbol)
            positions.append(np.add(position, offset))
    atoms = Atoms(symbols, positions=positions, cell=[BOX] * 3, pbc=True)
    atoms.wrap()
    return atoms


def test_each_molecule_is_counted_and_those_across_the_boundary_too():
    atoms = frame(
        (WATER, (4, 4, 4)),
        (WATER, (4, 12, 4)),
        (WATER, (12, 4, 12)),
        (WATER, (0.1, 12, 12)),  # its second H wraps to the far side of x
        (WATER, (12, 23.5, 0)),  # its second H wraps across y
        (HYDROXYL, (20, 4, 4)),
        (HYDROXYL, (20, 12, 4)),
        (HYDROGEN, (4, 20, 4)),
        (HYDROGEN, (23.6, 20, 12)),  # across x
        (OXYGEN, (12, 20, 4)),
        (PEROXIDE, (12, 12, 23.5)),  # its last H wraps across z
        ([("H", (0, 0, 0))], (20, 20, 20)),
        ([("O", (0, 0, 0))], (4, 4, 18)),
    )
    assert atoms.positions.min() >= 0 and atoms.positions.max() < BOX  # wrapped
    expected = Counter({"H2O": 5, "HO": 2, "H2": 2, "O2": 1, "H2O2": 1, "H": 1, "O": 1})
    assert molecules(atoms) == expected
    assert water_count(atoms) == 5
    assert most_water(atoms) == min(19 // 2, 14)  # 19 H, 14 O


@pytest.mark.parametrize(
    ("distance_a", "made"),
    [(1.24, {"HO": 1}), (1.26, {"O": 1, "H": 1})],  # the O–H cutoff is 1.25 Å
)
def test_the_cutoff_decides_a_bond(distance_a, made):
    atoms = frame(([("O", (0, 0, 0)), ("H", (distance_a, 0, 0))], (5, 5, 5)))
    assert molecules(atoms) == Counter(made)


def test_a_water_touching_a_third_hydrogen_is_not_water():
    # An H 1.1 Å from a water's O makes H3O, not water and a lone H.
    atoms = frame((WATER + [("H", (0, 0, 1.1))], (8, 8, 8)))
    assert molecules(atoms) == Counter({"H3O": 1})


def test_the_start_holds_hydrogen_and_oxygen_molecules_only():
    ((_, start, _),) = combustion_start()
    assert molecules(start) == Counter({"H2": 128, "O2": 64})
    assert most_water(start) == 128


def test_the_enthalpy_and_the_drift_by_hand_on_a_constructed_trajectory():
    # Three frames of H256O128: the start, a middle, and the end where every H has moved
    # by d; the last frame's count is set to 100 waters. ΔE is chosen so that the
    # enthalpy is 10 kcal/mol below experiment's -68.3078: ΔE = (-78.3078 / 23.0) × 128 eV.
    ((_, start, _),) = combustion_start()
    end = start.copy()
    hydrogen = np.array(end.get_chemical_symbols()) == "H"
    d = np.array([0.3, -0.4, 1.2])  # |d| = 1.3 Å
    end.positions[hydrogen] += d
    delta_e = -78.3078 / 23.0 * 128
    energies = [-1000.0, -1100.0, -1000.0 + delta_e]
    series = [
        {"epot_ev": energy, **frame_record(atoms, 128)}
        for energy, atoms in zip(energies, [start, start, end], strict=True)
    ]
    series[-1].update(water=100, water_yield=100 / 128)
    output = scores({"series": series, "completed": True}, 128)
    assert output["reaction_enthalpy_kcal_per_mol"] == pytest.approx(-78.3078, abs=1e-9)
    assert output["reaction_enthalpy_error_kcal_per_mol"] == pytest.approx(-10.0, abs=1e-9)
    # The COM moves by d × (the hydrogen's share of the mass): 256 × 1.008 over
    # 256 × 1.008 + 128 × 15.999 (ASE's masses), by hand.
    share = 256 * 1.008 / (256 * 1.008 + 128 * 15.999)
    assert output["com_drift_a"] == pytest.approx(1.3 * share, rel=1e-12)
    assert (output["water_formed"], output["water_yield"]) == (100, 100 / 128)
    # An unfinished run has no enthalpy (it never cooled back) but keeps its water.
    unfinished = scores({"series": series, "completed": False}, 128)
    assert unfinished["reaction_enthalpy_error_kcal_per_mol"] is None
    assert unfinished["water_formed"] == 100
    metrics = evaluate("combustion", {**output, "steps_per_second": 3.0, "completed": True}, None)
    assert metrics["reaction_enthalpy_error_kcal_per_mol"] == pytest.approx(-10.0)
    assert TASKS["combustion"].metric("reaction_enthalpy_error_kcal_per_mol").value(-10.0) == 10


def test_the_schedule_heats_holds_and_cools_in_thirds():
    protocol = MDProtocol(
        ensemble=NVT,
        steps=600,
        timestep_fs=0.5,
        temperature_k=300.0,
        via_k=(3000.0, 3000.0),
        final_temperature_k=300.0,
    )
    steps = [0, 100, 200, 300, 400, 500, 600]
    assert [protocol.target_k(s) for s in steps] == pytest.approx(
        [300, 1650, 3000, 3000, 3000, 1650, 300], abs=1e-9
    )
    defaults = TASKS["combustion"].default_params()
    assert defaults["total_time_fs"] / 0.5 == 2_000_000  # MLIP Arena's 1 ns at 0.5 fs
    assert defaults["sample_every"] == 1000 and defaults["tdamp_fs"] == 25.0


def small_box() -> Atoms:
    """The molecules of the start whose first atom lies in a 12 Å corner of its box, in a
    periodic 12 Å box: 6 H₂ and 3 O₂ or so, a gas as dilute as the start."""
    ((_, start, _),) = combustion_start()
    close = np.nonzero(start.get_all_distances(mic=True) < 1.3)
    pairs = [(i, j) for i, j in zip(*close, strict=True) if i < j]
    keep = sorted({k for i, j in pairs if (start.positions[i] < 12.0).all() for k in (i, j)})
    box = start[keep]
    box.set_cell([12.0] * 3)
    box.wrap()
    return box


def test_a_short_run_counts_its_frames_and_keeps_its_centre_of_mass():
    box = small_box()
    assert molecules(box)["H2"] >= 3 and set(molecules(box)) <= {"H2", "O2"}
    params = {"total_time_fs": 20.0, "sample_every": 10, "max_temperature_ratio": 10.0}
    output = run_task("combustion", box, EMT(), params)
    series = output["series"]
    assert [p["step"] for p in series] == [0, 10, 20, 30, 40]
    # A quarter of the run is 3/4 of the heating third; three quarters, 1/4 of the cooling.
    assert [p["target_k"] for p in series] == pytest.approx([300, 2325, 3000, 2325, 300])
    assert series[0]["water"] == 0 and series[0]["water_yield"] == 0.0
    # A Nose–Hoover chain scales momenta and so keeps the total momentum (zero) at zero.
    assert output["com_drift_a"] < 1e-9
    assert output["water_yield"] == series[-1]["water"] / most_water(box)
    assert output["completed"] and output["reaction_enthalpy_error_kcal_per_mol"] is not None
    assert output["variant"] == "custom"
