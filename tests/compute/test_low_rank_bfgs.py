"""The low-rank BFGS against ASE's own dense BFGS: the same Hessian, steps and path."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.optimize import BFGS
from ase.optimize.bfgs import BFGSMethod

from compute.low_rank_bfgs import LowRankBFGS, LowRankBFGSMethod


def test_steps_equal_ases_on_an_indefinite_quadratic():
    # An indefinite Hessian makes ASE's |ω| matter and some updates' curvature negative.
    rng = np.random.default_rng(7)
    n = 40
    rotation, _ = np.linalg.qr(rng.normal(size=(n, n)))
    curvature = rotation @ np.diag(np.linspace(-2.0, 1.0, n)) @ rotation.T
    dense, low = BFGSMethod(70.0 * np.eye(n)), LowRankBFGSMethod(n, 70.0)
    x0 = rng.normal(size=n)
    assert low.compute_step(curvature @ x0) == pytest.approx(-curvature @ x0 / 70.0, rel=1e-14)
    for _ in range(15):
        x = x0 + 0.1 * rng.normal(size=n)
        dense.update(x, curvature @ x, x0, curvature @ x0)
        low.update(x, curvature @ x, x0, curvature @ x0)
        # Rounding only: the two factorise different matrices of the same operator.
        assert np.abs(low.hessian - dense.hessian).max() < 1e-12 * 70
        step, reference = low.compute_step(curvature @ x), dense.compute_step(curvature @ x)
        assert np.abs(step - reference).max() < 1e-10 * np.abs(reference).max()
        x0 = x
    assert np.linalg.eigvalsh(dense.hessian).min() < 0  # the |ω| case was exercised


@pytest.mark.parametrize(("fmax", "form"), [(1e-2, LowRankBFGSMethod), (1e-3, BFGSMethod)])
def test_a_relaxation_takes_ases_path(fmax, form):
    # 31 atoms, 93 degrees of freedom: 18 steps to 0.01 eV/Å stay low-rank; 28 steps to
    # 0.001 eV/Å turn dense after 23 updates (46 columns above 93 / 2), ASE's BFGSMethod on.
    cell = bulk("Cu", "fcc", a=3.61, cubic=True) * 2
    del cell[0]
    cell.rattle(0.05, seed=1)
    paths = []
    for optimizer in (BFGS, LowRankBFGS):
        atoms = cell.copy()
        atoms.calc = EMT()
        opt = optimizer(atoms, logfile=None)
        steps = [atoms.positions.copy() for _ in opt.irun(fmax=fmax, steps=200)]
        paths.append((steps, opt))
    (reference, ase_opt), (ours, our_opt) = paths
    assert ase_opt.converged() and len(ours) == len(reference) > 10
    assert np.abs(np.array(ours) - np.array(reference)).max() < 1e-9
    assert type(our_opt.state) is form
