"""Fixed-cell relaxations of many structures at once: ASE's FIRE on the batch call.

Each structure keeps its own FIRE state (velocity, time step, mixing) and takes exactly
ASE's ``FIRE`` steps with its default parameters, so a structure relaxes as it would
alone; the forces of all structures still moving come from one ``evaluate_batch`` call
per step, and a structure leaves the batch when it converges, runs out of steps or fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.calculators.singlepoint import SinglePointCalculator
from ase.constraints import FixSymmetry

from compute.batch import Evaluation, evaluate_batch, has_batch_call
from compute.errors import ComputeError, first_line, one_line
from compute.relaxation import Relaxation

# ase.optimize.FIRE's defaults
DT, MAXSTEP, DTMAX, NMIN, FINC, FDEC, ASTART, FA = 0.1, 0.2, 1.0, 5, 1.1, 0.5, 0.1, 0.99


@dataclass
class Relaxed:
    """One structure's outcome: relaxed ``atoms`` (energy and forces attached),
    or ``error`` where it failed."""

    atoms: Atoms | None
    converged: bool = False
    steps: int = 0
    error: str = ""


@dataclass
class _Fire:
    """ASE's FIRE state for one structure."""

    atoms: Atoms
    forces: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    velocity: np.ndarray | None = None
    dt: float = DT
    a: float = ASTART
    downhill_steps: int = 0  # ASE's ``Nsteps``: steps since P = F·v was last negative
    steps: int = 0

    def step(self) -> None:
        """Move the atoms one FIRE step along ``forces`` (ase.optimize.FIRE.step)."""
        f = self.forces.ravel()
        if self.velocity is None:
            self.velocity = np.zeros_like(f)
        elif np.vdot(f, self.velocity) > 0.0:
            self.velocity = (1.0 - self.a) * self.velocity + self.a * f / np.sqrt(
                np.vdot(f, f)
            ) * np.sqrt(np.vdot(self.velocity, self.velocity))
            if self.downhill_steps > NMIN:
                self.dt = min(self.dt * FINC, DTMAX)
                self.a *= FA
            self.downhill_steps += 1
        else:
            self.velocity[:] *= 0.0
            self.a = ASTART
            self.dt *= FDEC
            self.downhill_steps = 0
        self.velocity += self.dt * f
        dr = self.dt * self.velocity
        norm = np.sqrt(np.vdot(dr, dr))
        if norm > MAXSTEP:
            dr = MAXSTEP * dr / norm
        self.atoms.set_positions(self.atoms.get_positions() + dr.reshape(-1, 3))
        self.steps += 1


def fire_batch(
    atoms_list: Sequence[Atoms],
    calculator: Calculator,
    *,
    fmax: float = 0.1,
    steps: int = 500,
    symmetry: bool = False,
    batch_size: int | None = None,
) -> list[Relaxed]:
    """Relax copies of ``atoms_list`` at fixed cell, as ASE's FIRE would one by one."""
    states = []
    for atoms in atoms_list:
        atoms = atoms.copy()
        if symmetry:
            atoms.set_constraint(FixSymmetry(atoms))
        states.append(_Fire(atoms))
    outcomes: list[Relaxed | None] = [None] * len(states)
    moving = list(range(len(states)))
    while moving:
        evaluations = evaluate_batch(
            [states[i].atoms for i in moving], calculator, batch_size=batch_size
        )
        still_moving = []
        for i, evaluation in zip(moving, evaluations, strict=True):
            outcomes[i] = _settle(states[i], evaluation, fmax=fmax, steps=steps)
            if outcomes[i] is None:
                states[i].step()
                still_moving.append(i)
        moving = still_moving
    return [outcome for outcome in outcomes if outcome is not None]


def _settle(state: _Fire, evaluation: Evaluation, *, fmax: float, steps: int) -> Relaxed | None:
    """The structure's outcome if it stops here; None while it moves on."""
    atoms = state.atoms
    if evaluation.failed:
        return Relaxed(None, steps=state.steps, error=f"{evaluation.error} at step {state.steps}")
    forces = evaluation.forces.copy()
    for constraint in atoms.constraints:
        constraint.adjust_forces(atoms, forces)
    state.forces = forces
    converged = bool(np.linalg.norm(forces, axis=1).max() < fmax)
    if not converged and state.steps < steps:
        return None
    atoms.set_constraint()
    atoms.calc = SinglePointCalculator(atoms, energy=evaluation.energy, forces=evaluation.forces)
    return Relaxed(atoms, converged, state.steps)


def relax_batch(
    relaxation: Relaxation, atoms_list: Sequence[Atoms], calculator: Calculator
) -> list[Relaxed]:
    """``relaxation`` of each structure: batched FIRE where the relaxation is fixed-cell
    FIRE and the calculator has a batch call, ``relaxation.relax`` one by one otherwise."""
    batched = relaxation.optimizer == "FIRE" and relaxation.cell_filter is None
    if batched and has_batch_call(calculator):
        return fire_batch(
            atoms_list,
            calculator,
            fmax=relaxation.fmax,
            steps=relaxation.steps,
            symmetry=relaxation.symmetry,
        )
    return [_relax_one(relaxation, atoms, calculator) for atoms in atoms_list]


def _relax_one(relaxation: Relaxation, atoms: Atoms, calculator: Calculator) -> Relaxed:
    try:
        relaxed, converged, steps = relaxation.relax(atoms, calculator)
        # the shared calculator moves on to the next structure: keep this one's results
        relaxed.calc = SinglePointCalculator(
            relaxed, energy=relaxed.get_potential_energy(), forces=relaxed.get_forces()
        )
    except Exception as exc:  # one structure's failure is its own
        return Relaxed(
            None, error=one_line(exc) if isinstance(exc, ComputeError) else first_line(exc)
        )
    return Relaxed(relaxed, converged, steps)
