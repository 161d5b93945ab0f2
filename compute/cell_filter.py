"""ASE's ``FrechetCellFilter`` without its per-step matrix logarithms.

The filter's cell coordinates are ``log(F)`` of the deformation gradient F (ASE's, with
its constant offset log(cell_factor)·I). ASE recomputes ``scipy.linalg.logm`` on every
``get_positions`` and ``get_forces`` (~10 ms for a 3×3 on one idle core, more than a
small cell's model call) and calls ``expm_frechet`` nine times per force evaluation.
This filter keeps the ``log(F)`` it last set, which ``logm`` would return to rounding
(the principal logarithm of ``expm(A)`` is A while A's eigenvalues have imaginary parts
within ±π: any deformation a relaxation takes), and takes the cell gradient from one
Fréchet derivative by its adjoint, Σ_μν E_μν ⟨L(A, E_μν), G⟩ = L(Aᵀ, G). Where the cell
was changed otherwise (a mask, a constraint adjusting the cell, a caller), it falls back
to ``logm``. Its 3×3 algebra runs on one BLAS thread (``compute.threads.one_blas_thread``).
"""

from __future__ import annotations

import numpy as np
from ase.filters import FrechetCellFilter
from ase.stress import full_3x3_to_voigt_6_stress, voigt_6_to_full_3x3_stress
from scipy.linalg import expm, expm_frechet, logm

from compute.threads import one_blas_thread

# The atoms' cell is the one the filter set if they agree to rounding.
SAME_CELL_RTOL = 1e-12


class LogDeformationCellFilter(FrechetCellFilter):
    """``FrechetCellFilter``: the same coordinates, forces and stress, its log(F) kept."""

    def __init__(self, atoms, **kwargs) -> None:
        super().__init__(atoms, **kwargs)
        self._log_deform = np.zeros((3, 3))
        self._log_deform_cell: np.ndarray | None = np.array(self.orig_cell)
        self._last_state: tuple[np.ndarray, ...] | None = None  # of the last forces computed
        self._last_forces = np.zeros((0, 3))

    def log_deform_grad(self) -> np.ndarray:
        """log(F) of the atoms' current cell: the one last set, or ``logm``'s."""
        cell = self.atoms.cell.array
        kept = self._log_deform_cell
        if kept is None or not np.allclose(cell, kept, rtol=SAME_CELL_RTOL, atol=0.0):
            self._log_deform = np.real(logm(self.deform_grad()))
            self._log_deform_cell = cell.copy()
        return self._log_deform

    def get_positions(self) -> np.ndarray:
        with one_blas_thread():
            return self._positions()

    def _positions(self) -> np.ndarray:
        natoms = len(self.atoms)
        positions = np.empty((natoms + 3, 3))
        positions[:natoms] = np.linalg.solve(self.deform_grad(), self.atoms.positions.T).T
        offset = np.log(float(natoms)) * np.eye(3)  # ASE's log(cell_factor · F)
        positions[natoms:] = (self.log_deform_grad() + offset) * self.exp_cell_factor
        return positions

    def set_positions(self, new: np.ndarray, **kwargs) -> None:
        with one_blas_thread():
            self._set_positions(new, **kwargs)

    def _set_positions(self, new: np.ndarray, **kwargs) -> None:
        natoms = len(self.atoms)
        scaled = new.copy()
        scaled[natoms:] = expm(new[natoms:] / self.exp_cell_factor)
        self._utility.set_positions_unitcellfilter(
            scaled, self.atoms, cell_factor=self.cell_factor, **kwargs
        )
        self._log_deform_cell = None
        expected = np.asarray(self.orig_cell) @ (scaled[natoms:] / self.cell_factor).T
        if np.allclose(self.atoms.cell.array, expected, rtol=SAME_CELL_RTOL, atol=0.0):
            log_cell_factor = np.log(float(self.cell_factor)) * np.eye(3)
            self._log_deform = new[natoms:] / self.exp_cell_factor - log_cell_factor
            self._log_deform_cell = self.atoms.cell.array.copy()

    def get_forces(self, **kwargs) -> np.ndarray:
        voigt_stress = self.atoms.get_stress(**kwargs)
        atoms_forces = self.atoms.get_forces(**kwargs)  # the model's call, its own threads
        # ASE's optimizers ask for the forces about three times a step (the step, the
        # convergence test, the log); the filter's answer depends only on these arrays.
        state = (
            self.atoms.positions,
            self.atoms.cell.array,
            voigt_stress,
            atoms_forces,
            np.array(self._utility.scalar_pressure),
        )
        if self._last_state is not None and all(
            np.array_equal(now, then) for now, then in zip(state, self._last_state, strict=True)
        ):
            return self._last_forces.copy()
        with one_blas_thread():
            forces = self._forces(voigt_6_to_full_3x3_stress(voigt_stress), atoms_forces)
        self._last_state = tuple(np.array(part) for part in state)
        self._last_forces = forces
        return forces.copy()

    def _forces(self, stress: np.ndarray, atoms_forces: np.ndarray) -> np.ndarray:
        utility = self._utility
        volume = self.atoms.cell.volume
        virial = -volume * (stress + np.diag([utility.scalar_pressure] * 3))
        deform_grad = self.deform_grad()
        if utility.hydrostatic_strain:
            virial = np.diag([virial.trace() / 3.0] * 3)
        if (utility.mask3x3 != 1.0).any():
            virial *= utility.mask3x3
        cell_grad = virial @ np.linalg.inv(deform_grad.T)
        if np.all(np.isfinite(cell_grad)):
            log_force = expm_frechet(self.log_deform_grad().T, cell_grad, compute_expm=False)
        else:  # a model's NaN stress: NaN forces, which the relaxation reports, as ASE's do
            log_force = np.full((3, 3), np.nan)
        crit_stress = -(virial / volume)
        if utility.constant_volume:
            np.fill_diagonal(log_force, np.diag(log_force) - log_force.trace() / 3.0)
            np.fill_diagonal(crit_stress, np.diag(crit_stress) - crit_stress.trace() / 3.0)
        forces = np.zeros((len(atoms_forces) + 3, 3))
        forces[: len(atoms_forces)] = atoms_forces @ deform_grad
        forces[len(atoms_forces) :] = log_force / self.exp_cell_factor
        self.stress = full_3x3_to_voigt_6_stress(crit_stress)
        return forces
