"""The FrechetCell filter our relaxations use against ASE's own ``FrechetCellFilter``.

EMT runs in float64, so the two filters agree to rounding: positions, forces and the
whole FIRE trajectory to ~1e-12 (logm and the kept log(F) differ in the last bits,
which FIRE carries along without growing over a hundred steps).
"""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.filters import FrechetCellFilter
from ase.optimize import FIRE

from compute.cell_filter import LogDeformationCellFilter


def sheared_copper():
    atoms = bulk("Cu", "fcc", a=3.75, cubic=True).repeat((2, 1, 1))
    atoms.rattle(0.05, seed=3)
    shear = np.eye(3) + 0.03 * np.random.default_rng(1).standard_normal((3, 3))
    atoms.set_cell(atoms.cell @ shear, scale_atoms=True)
    atoms.calc = EMT()
    return atoms


@pytest.mark.parametrize("options", [{}, {"mask": [1, 1, 1, 0, 0, 0]}, {"constant_volume": True}])
def test_same_relaxation_as_ases_frechet_cell_filter(options):
    """A mask or constant volume moves the cell off the filter's own step: the kept log(F)
    is dropped and logm taken, as ASE does."""
    ours, theirs = sheared_copper(), sheared_copper()
    ours_filter = LogDeformationCellFilter(ours, **options)
    theirs_filter = FrechetCellFilter(theirs, **options)
    assert ours_filter.get_positions() == pytest.approx(theirs_filter.get_positions(), abs=1e-12)
    assert ours_filter.get_forces() == pytest.approx(theirs_filter.get_forces(), abs=1e-12)
    ours_fire, theirs_fire = FIRE(ours_filter, logfile=None), FIRE(theirs_filter, logfile=None)
    # 15 steps: ASE's logm takes ~10 ms a call on an idle core, and far more under load
    assert not ours_fire.run(fmax=1e-4, steps=15) and not theirs_fire.run(fmax=1e-4, steps=15)
    assert ours.cell.array == pytest.approx(theirs.cell.array, abs=1e-10)
    assert ours.positions == pytest.approx(theirs.positions, abs=1e-10)
    assert ours_filter.stress == pytest.approx(theirs_filter.stress, abs=1e-12)


def test_a_cell_set_from_outside_is_read_with_logm():
    atoms = sheared_copper()
    cell_filter = LogDeformationCellFilter(atoms)
    cell_filter.get_positions()
    atoms.set_cell(atoms.cell * 1.02, scale_atoms=True)
    reference = FrechetCellFilter(atoms.copy())
    reference.orig_cell = cell_filter.orig_cell
    reference.atoms.calc = EMT()
    assert cell_filter.get_positions() == pytest.approx(reference.get_positions(), abs=1e-12)


def test_cell_algebra_runs_on_one_blas_thread_and_the_pools_get_theirs_back(monkeypatch):
    """Two BLAS threads on a 3×3 Fréchet derivative only wait on each other (15× slower
    beside a busy model): the filter's algebra runs on one, the model keeps its own."""
    from threadpoolctl import threadpool_info, threadpool_limits

    import compute.cell_filter as cell_filter

    def blas_threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    seen = []

    def recorded(name):
        real = getattr(cell_filter, name)

        def call(*args, **kwargs):
            seen.append((name, blas_threads()))
            return real(*args, **kwargs)

        monkeypatch.setattr(cell_filter, name, call)

    for name in ("expm", "expm_frechet", "logm"):
        recorded(name)
    atoms = sheared_copper()
    with threadpool_limits(limits=2, user_api="blas"):
        fcf = LogDeformationCellFilter(atoms)
        fcf.set_positions(fcf.get_positions() * 1.001)
        fcf.get_forces()
        atoms.set_cell(atoms.cell * 1.01, scale_atoms=True)  # read back with logm
        fcf.get_forces()
        assert blas_threads() == {2}
    assert {name for name, _ in seen} == {"expm", "expm_frechet", "logm"}
    assert all(threads == {1} for _, threads in seen), seen
