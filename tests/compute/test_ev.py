"""The E–V scan against curves whose answers are known by hand: exact Birch–Murnaghan."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.eos import birchmurnaghan
from ase.units import GPa

from compute.errors import TaskFailed
from compute.tasks import evaluate, run_task, task_spec

STRAINS = np.linspace(-0.2, 0.2, 21)  # MLIP Arena's tasks/ev.py defaults


class BirchMurnaghanCell(Calculator):
    """Energy = ASE's Birch–Murnaghan formula of the cell volume; no forces on any atom."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, *, v0: float, b0_gpa: float = 140.0, bp: float = 4.8, e0: float = -3.7):
        super().__init__()
        self.eos = (e0, b0_gpa * GPa, bp, v0)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = {
            "energy": float(birchmurnaghan(self.atoms.get_volume(), *self.eos)),
            "forces": np.zeros((len(self.atoms), 3)),
        }


def spearman_by_ranks(x, y) -> float:
    """Spearman's ρ as 1 − 6Σd²/(n(n²−1)), for values without ties."""
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    n = len(x)
    return 1 - 6 * float(np.sum((rx - ry) ** 2)) / (n * (n * n - 1))


def test_minimum_at_the_input_cell_gives_ideal_metrics_exactly():
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    volume = atoms.get_volume()
    output = run_task("ev", atoms, BirchMurnaghanCell(v0=volume), {})
    expected_volumes = volume * (1 + STRAINS) ** 3  # linear strain of the cell
    assert output["volumes_a3"] == pytest.approx(expected_volumes, rel=1e-12)
    assert output["energies_ev"] == pytest.approx(
        birchmurnaghan(expected_volumes, -3.7, 140 * GPa, 4.8, volume), rel=1e-12
    )
    assert output["e_input_ev_per_atom"] == pytest.approx(-3.7 / 4, rel=1e-12)
    assert output["v_min_ratio"] == 1.0
    metrics = evaluate("ev", output, None)
    assert metrics == {
        "energy_derivative_flips": 1,
        "tortuosity": pytest.approx(1.0, abs=1e-12),
        "spearman_compression_energy": pytest.approx(-1.0, abs=1e-12),
        "spearman_compression_derivative": pytest.approx(1.0, abs=1e-12),
        "spearman_tension_energy": pytest.approx(1.0, abs=1e-12),
    }


def test_minimum_beyond_the_input_cell_gives_the_hand_computed_metrics():
    """With V0 at 1.3 V_input the minimum falls between strains 0.08 and 0.10: on the
    tension side the energy first falls, then rises, and the curve is longer than its span."""
    atoms = bulk("Al", "fcc", a=4.05, cubic=True)  # 4 atoms: per-atom values divide by 4
    volume = atoms.get_volume()
    output = run_task("ev", atoms, BirchMurnaghanCell(v0=1.3 * volume), {})
    volumes = volume * (1 + STRAINS) ** 3
    energies = birchmurnaghan(volumes, -3.7, 140 * GPa, 4.8, 1.3 * volume)
    lowest = int(np.argmin(energies))
    assert lowest in (14, 15)  # strain 0.08 or 0.10: (1.08)³ = 1.26, (1.10)³ = 1.33
    assert output["v_min_ratio"] == pytest.approx(volumes[lowest] / volume, rel=1e-12)
    assert output["e_min_ev_per_atom"] == pytest.approx(energies[lowest] / 4, rel=1e-12)
    assert output["e_input_ev_per_atom"] == pytest.approx(energies[10] / 4, rel=1e-12)
    assert output["natoms"] == 4

    metrics = evaluate("ev", output, None)
    middle = energies[10]
    total_variation = (energies[0] - energies[lowest]) + (energies[-1] - energies[lowest])
    span = abs(energies[0] - middle) + abs(energies[-1] - middle)
    assert metrics["energy_derivative_flips"] == 1
    assert metrics["tortuosity"] == pytest.approx(total_variation / span, rel=1e-12)
    assert metrics["tortuosity"] > 1.0
    assert metrics["spearman_compression_energy"] == pytest.approx(-1.0, abs=1e-12)
    assert metrics["spearman_compression_derivative"] == pytest.approx(1.0, abs=1e-12)
    expected = spearman_by_ranks(volumes[10:], energies[10:])
    assert metrics["spearman_tension_energy"] == pytest.approx(expected, abs=1e-12)
    assert -1 < expected < 1


def test_the_smallest_scan_has_five_points_and_any_strain_below_one():
    atoms = bulk("Cu", "fcc", a=3.6)
    output = run_task(
        "ev",
        atoms,
        BirchMurnaghanCell(v0=atoms.get_volume()),
        {"npoints": 5, "max_abs_strain": 0.5},
    )
    assert output["strains"] == pytest.approx([-0.5, -0.25, 0.0, 0.25, 0.5], abs=1e-15)
    assert output["v_min_ratio"] == 1.0


def test_range_and_point_count_are_parameters():
    atoms = bulk("Cu", "fcc", a=3.6)
    volume = atoms.get_volume()
    output = run_task(
        "ev", atoms, BirchMurnaghanCell(v0=volume), {"max_abs_strain": 0.05, "npoints": 11}
    )
    assert len(output["volumes_a3"]) == 11
    assert output["volumes_a3"][0] == pytest.approx(volume * 0.95**3, rel=1e-12)
    assert output["strains"][-1] == pytest.approx(0.05, rel=1e-12)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"max_abs_strain": 1.5}, r"max_abs_strain must be > 0 and < 1, not 1.5"),
        ({"max_abs_strain": 1.0}, r"max_abs_strain must be > 0 and < 1, not 1.0"),
        ({"max_abs_strain": 0.0}, r"max_abs_strain must be > 0 and < 1, not 0.0"),
        ({"npoints": 4}, "npoints must be >= 5, not 4"),
        ({"relax": True}, "has no parameter relax"),
    ],
)
def test_bad_parameters_are_one_line_task_failures(params, message):
    with pytest.raises(TaskFailed, match=message):
        run_task("ev", bulk("Cu"), BirchMurnaghanCell(v0=12.0), params)


def test_a_non_finite_energy_fails_the_scan():
    class Broken(BirchMurnaghanCell):
        def calculate(self, *args, **kwargs):
            super().calculate(*args, **kwargs)
            self.results["energy"] = math.nan

    with pytest.raises(TaskFailed) as error:
        run_task("ev", bulk("Cu"), Broken(v0=12.0), {})
    assert str(error.value) == "non-finite energy at strain -0.200"


def test_atoms_move_with_the_cell():
    """A rattled two-atom cell in EMT: each point is ASE's scaling of the cell by 1 + s
    with the atoms scaled along (with them left in place the energies differ)."""
    from ase.calculators.emt import EMT

    atoms = bulk("Cu", "fcc", a=3.6).repeat((2, 1, 1))
    atoms.rattle(0.05, seed=2)
    output = run_task("ev", atoms, EMT(), {"npoints": 5})
    for strain, energy in zip(output["strains"], output["energies_ev"], strict=True):
        strained = atoms.copy()
        strained.set_cell(atoms.cell * (1 + strain), scale_atoms=True)
        strained.calc = EMT()
        assert energy == pytest.approx(strained.get_potential_energy(), abs=1e-12)


def test_spec_declares_curve_metrics_with_their_ideals_and_no_relaxation():
    spec = task_spec("ev")
    assert {m.key: m.ideal for m in spec.metrics} == {
        "energy_derivative_flips": 1,
        "tortuosity": 1,
        "spearman_compression_energy": -1,
        "spearman_compression_derivative": 1,
        "spearman_tension_energy": 1,
        "failure_rate": 0,  # failed structures: ideally none
    }
    assert spec.default_params() == {"max_abs_strain": 0.2, "npoints": 21}
    assert spec.default_structure_set == "delta-dcdft"
