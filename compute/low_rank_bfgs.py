"""ASE's BFGS with its Hessian kept as α·I plus its rank-two updates.

ASE's ``BFGS`` stores the n×n Hessian and diagonalises it at every step (O(n³): 1 605
degrees of freedom for a NEB of five moving 107-atom images, seconds a step), then steps
by −|H|⁻¹g (each eigenvalue taken by its absolute value). After k updates H = α·I +
U·diag(w)·Uᵀ with U of 2k columns, so H acts as α on everything orthogonal to U's
columns. With Q an orthonormal basis of those columns (U = QR), H = Q(α·I + R·diag(w)·Rᵀ)Qᵀ
+ α(I − QQᵀ), and |H|⁻¹g needs only the small matrix's eigenpairs: O(n·k²) a step, the
same step as ASE's to rounding. Once the columns outnumber half the degrees of freedom
(long relaxations of small cells), where QR would cost as much as the eigendecomposition,
the optimizer goes on with ASE's own dense ``BFGSMethod``.
"""

from __future__ import annotations

import numpy as np
from ase.optimize import BFGS
from ase.optimize.bfgs import BFGSMethod


class LowRankBFGSMethod:
    """H = α·I + U·diag(w)·Uᵀ, updated and inverted as ASE's ``BFGSMethod`` does."""

    def __init__(
        self,
        ndofs: int,
        alpha: float,
        vectors: np.ndarray | None = None,
        weights: np.ndarray | None = None,
    ) -> None:
        self.alpha = float(alpha)
        self.vectors = np.zeros((ndofs, 0)) if vectors is None else vectors
        self.weights = np.zeros(0) if weights is None else weights

    @property
    def hessian(self) -> np.ndarray:
        """The dense n×n Hessian (for comparison; the optimizer never forms it)."""
        ndofs = len(self.vectors)
        return self.alpha * np.eye(ndofs) + (self.vectors * self.weights) @ self.vectors.T

    def hessian_times(self, vector: np.ndarray) -> np.ndarray:
        return self.alpha * vector + self.vectors @ (self.weights * (self.vectors.T @ vector))

    def update(
        self, pos: np.ndarray, gradient: np.ndarray, pos0: np.ndarray, gradient0: np.ndarray
    ) -> None:
        """ASE's update: H += ΔgΔgᵀ/(Δx·Δg) − (HΔx)(HΔx)ᵀ/(Δx·HΔx)."""
        dpos = pos - pos0
        if np.abs(dpos).max() < 1e-7:  # the same configuration again, as ASE skips it
            return
        dgradient = gradient - gradient0
        dg = self.hessian_times(dpos)
        weights = [1.0 / (dpos @ dgradient), -1.0 / (dpos @ dg)]
        self.vectors = np.column_stack([self.vectors, dgradient, dg])
        self.weights = np.concatenate([self.weights, weights])

    def compute_step(self, gradient: np.ndarray) -> np.ndarray:
        """−|H|⁻¹·gradient, as ASE's ``BFGSMethod.compute_step``."""
        if not self.weights.size:
            return -gradient / abs(self.alpha)
        basis, triangle = np.linalg.qr(self.vectors)
        small = (triangle * self.weights) @ triangle.T
        small[np.diag_indices_from(small)] += self.alpha
        omega, eigenvectors = np.linalg.eigh(small)
        inside = basis.T @ gradient
        step_inside = eigenvectors @ ((inside @ eigenvectors) / np.fabs(omega))
        return -(basis @ step_inside + (gradient - basis @ inside) / abs(self.alpha))


class LowRankBFGS(BFGS):
    """ASE's ``BFGS`` (same steps, maxstep and α) on a ``LowRankBFGSMethod`` while that is
    the cheaper form; it writes no restart file (the caller checkpoints ``state``)."""

    def initialize(self) -> None:
        self.state = None
        self.pos0 = None
        self.forces0 = None

    def update(self, pos, forces, pos0, forces0) -> None:
        if self.state is None:
            self.state = LowRankBFGSMethod(self.optimizable.ndofs(), self.alpha)
            return
        self.state.update(pos, -forces, pos0, -forces0)
        low_rank = isinstance(self.state, LowRankBFGSMethod)
        if low_rank and 2 * self.state.vectors.shape[1] > self.optimizable.ndofs():
            self.state = BFGSMethod(self.state.hessian)

    def step(self, gradient=None) -> None:
        gradient = self._get_gradient(gradient)
        pos = self.optimizable.get_x()
        dpos, steplengths = self.prepare_step(pos, gradient)
        self.optimizable.set_x(pos + self.determine_step(dpos, steplengths))
