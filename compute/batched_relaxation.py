"""Relaxations of many structures at once: ASE's optimizers and cell filters, each
structure's forces from one batch call per step.

Each structure has its own ASE optimizer (and cell filter) and takes exactly the steps
it would take alone; only where the forces come from changes: all structures still
moving are evaluated by one ``evaluate_batch`` call, their results attached as ASE
single-point results before each optimizer step. A structure leaves the batch when it
converges, runs out of steps or fails. Optimizers that evaluate inside a step (line
searches, GPMin) relax one structure at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.calculators.singlepoint import SinglePointCalculator
from ase.constraints import FixSymmetry
from ase.optimize.optimize import Optimizer

from compute.batch import Evaluation, evaluate_batch, has_batch_call
from compute.errors import ComputeError, first_line, one_line
from compute.relaxation import (
    CELL_FILTERS,
    OPTIMIZERS,
    Relaxation,
    check_names,
    check_volume,
)

# Optimizers whose step reads only the forces of the current positions.
ONE_EVALUATION_PER_STEP = {"FIRE", "BFGS", "LBFGS", "MDMin"}


@dataclass
class Relaxed:
    """One structure's outcome: relaxed ``atoms`` (energy and forces attached),
    or ``error`` where it failed."""

    atoms: Atoms | None
    converged: bool = False
    steps: int = 0
    error: str = ""


@dataclass
class _Moving:
    atoms: Atoms
    optimizer: Optimizer
    start_volume: float | None


def relax_batch(
    relaxation: Relaxation,
    atoms_list: Sequence[Atoms],
    calculator: Calculator,
    *,
    batch_size: int | None = None,
) -> list[Relaxed]:
    """``relaxation`` of a copy of each structure, batched where the calculator has a batch
    call and the optimizer a single evaluation per step, one by one otherwise."""
    check_names(relaxation.optimizer, relaxation.cell_filter)
    if has_batch_call(calculator) and relaxation.optimizer in ONE_EVALUATION_PER_STEP:
        return relax_together(relaxation, atoms_list, calculator, batch_size=batch_size)
    return [_relax_one(relaxation, atoms, calculator) for atoms in atoms_list]


def relax_together(
    relaxation: Relaxation,
    atoms_list: Sequence[Atoms],
    calculator: Calculator,
    *,
    batch_size: int | None = None,
) -> list[Relaxed]:
    """Every structure's ASE optimizer stepped on forces from one batch call per step
    (with a calculator that has no batch call, one call per structure and step)."""
    states = [_start(relaxation, atoms) for atoms in atoms_list]
    properties = ("energy", "forces", "stress") if relaxation.cell_filter else ("energy", "forces")
    outcomes: list[Relaxed | None] = [None] * len(states)
    moving = list(range(len(states)))
    while moving:
        evaluations = evaluate_batch(
            [states[i].atoms for i in moving],
            calculator,
            properties=properties,
            batch_size=batch_size,
        )
        still_moving = []
        for i, evaluation in zip(moving, evaluations, strict=True):
            outcomes[i] = _settle(states[i], evaluation, relaxation)
            if outcomes[i] is None:
                states[i].optimizer.step()
                states[i].optimizer.nsteps += 1
                still_moving.append(i)
        moving = still_moving
    return [outcome for outcome in outcomes if outcome is not None]


def _start(relaxation: Relaxation, atoms: Atoms) -> _Moving:
    atoms = atoms.copy()
    atoms.calc = None
    if relaxation.symmetry:
        atoms.set_constraint(FixSymmetry(atoms))
    target = CELL_FILTERS[relaxation.cell_filter](atoms) if relaxation.cell_filter else atoms
    optimizer = OPTIMIZERS[relaxation.optimizer](target, logfile=None)
    optimizer.fmax = relaxation.fmax
    start_volume = atoms.get_volume() if atoms.pbc.all() else None
    return _Moving(atoms, optimizer, start_volume)


def _settle(state: _Moving, evaluation: Evaluation, relaxation: Relaxation) -> Relaxed | None:
    """The structure's outcome if it stops here; None while it moves on."""
    atoms, optimizer = state.atoms, state.optimizer
    if evaluation.failed:
        return Relaxed(
            None, steps=optimizer.nsteps, error=f"{evaluation.error} at step {optimizer.nsteps}"
        )
    results = {"energy": evaluation.energy, "free_energy": evaluation.energy}
    results["forces"] = evaluation.forces
    if evaluation.stress is not None:
        results["stress"] = evaluation.stress
    atoms.calc = SinglePointCalculator(atoms, **results)
    try:
        check_volume(atoms, state.start_volume, optimizer.nsteps)
    except ComputeError as exc:
        return Relaxed(None, steps=optimizer.nsteps, error=one_line(exc))
    converged = bool(optimizer.gradient_converged(optimizer.optimizable.get_gradient()))
    if not converged and optimizer.nsteps < relaxation.steps:
        return None
    atoms.set_constraint()
    atoms.calc = SinglePointCalculator(atoms, energy=evaluation.energy, forces=evaluation.forces)
    return Relaxed(atoms, converged, optimizer.nsteps)


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
