"""CachedModel against the model it wraps: the same results and the same model calls."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS

from compute.cached_model import CachedModel
from compute.relaxation import relax_atoms


class CountingEMT(EMT):
    """EMT with stress that counts its calculations."""

    def __init__(self) -> None:
        super().__init__()
        self.made = 0

    def calculate(self, *args, **kwargs) -> None:
        self.made += 1
        super().calculate(*args, **kwargs)


def rattled_copper():
    atoms = bulk("Cu", "fcc", a=3.7, cubic=True) * (2, 1, 1)
    atoms.rattle(0.05, seed=3)
    return atoms


def test_a_relaxation_calls_the_model_as_often_and_ends_where_ases_does():
    direct, cached = CountingEMT(), CountingEMT()
    reference = rattled_copper()
    reference.calc = direct
    ase_opt = BFGS(FrechetCellFilter(reference), logfile=None)
    ase_opt.run(fmax=1e-2, steps=200)
    relaxed, converged, steps = relax_atoms(
        rattled_copper(), cached, optimizer="BFGS", cell_filter="FrechetCell", fmax=1e-2, steps=200
    )
    assert converged and steps == ase_opt.nsteps
    # One model call per structure visited, as without the cache (ASE's filter asks for
    # stress and forces, the optimizer for forces and energy, several times a step).
    assert cached.made == direct.made == steps + 1
    assert np.abs(relaxed.positions - reference.positions).max() < 1e-9
    assert np.abs(relaxed.cell.array - reference.cell.array).max() < 1e-9
    assert relaxed.calc is cached  # the model again, its last results those of this cell
    assert relaxed.get_stress() == pytest.approx(reference.get_stress(), abs=1e-12)
    assert cached.made == steps + 1


def test_structures_sharing_a_model_keep_their_own_results():
    # EMT refills one forces array in place at every call: a cache holding the model's
    # array instead of a copy would show the last structure's forces for every structure.
    model = CountingEMT()
    first, second = rattled_copper(), rattled_copper()
    second.rattle(0.1, seed=4)
    first.calc, second.calc = CachedModel(model), CachedModel(model)
    forces = [first.get_forces(), second.get_forces()]
    for atoms, expected in zip((first, second), forces, strict=True):
        alone = atoms.copy()
        alone.calc = EMT()
        assert expected == pytest.approx(alone.get_forces(), abs=1e-12)
        assert atoms.get_forces() == pytest.approx(expected, abs=1e-12)
        assert atoms.get_potential_energy() == pytest.approx(alone.get_potential_energy())
    assert model.made == 2
    first.positions[0, 0] += 1e-9  # any move is a new structure
    first.get_forces()
    first.set_cell(first.cell * 1.001, scale_atoms=False)
    first.get_stress()
    assert model.made == 4
