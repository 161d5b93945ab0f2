"""Relax a crystal from its (DFT) structure and take its formation energy against the
model's own elemental references; say how far the relaxation moved it.

Matbench Discovery's relaxation: FIRE with the FrechetCell filter to fmax 0.02 eV/Å,
the steps bounded. Each element's reference structure is relaxed with the same
parameters once per model, a result of its own (``RunContext.companion``).
``run_batch`` relaxes several crystals in one batched relaxation (each takes the steps it
would take alone), then finishes each as ``run`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ase import Atoms
from ase.calculators.calculator import Calculator

from compute.batched_relaxation import relax_batch
from compute.calculators import FAMILIES
from compute.errors import TaskFailed
from compute.lazy import lazy_module
from compute.relaxation import Relaxation
from compute.run_context import RunContext
from compute.tasks.formation import geometry
from compute.tasks.formation.references import (
    ELEMENTS_SET,
    elemental_reference,
    is_reference_of,
    reference_label,
)

energies = lazy_module("compute.tasks.formation.energies")  # pymatgen's MP2020, at the first job


def run(
    atoms: Atoms,
    calculator: Calculator,
    *,
    optimizer: str = "FIRE",
    cell_filter: str | None = "FrechetCell",
    fmax: float = 0.02,
    steps: int = 500,
    context: RunContext,
) -> dict[str, Any]:
    """Formation energy (eV/atom) of the relaxed crystal, its volume change, RMSD and
    space groups against the input; energies in eV, volumes in Å³."""
    relaxation = Relaxation(optimizer, cell_filter, fmax, steps)
    relaxed, converged, nsteps = relaxation.relax(atoms, calculator)
    return formation_output(atoms, relaxed, converged, nsteps, relaxation, calculator, context)


def run_batch(
    atoms_list: Sequence[Atoms],
    calculator: Calculator,
    *,
    optimizer: str,
    cell_filter: str | None,
    fmax: float,
    steps: int,
    contexts: Sequence[RunContext],
) -> list[dict[str, Any] | Exception]:
    """``run`` on each crystal (the protocol's parameters given in full), the relaxations
    batched; per crystal its output, or the error that failed it alone."""
    relaxation = Relaxation(optimizer, cell_filter, fmax, steps)
    relaxed_list = relax_batch(relaxation, atoms_list, calculator)
    outputs: list[dict[str, Any] | Exception] = []
    for atoms, relaxed, context in zip(atoms_list, relaxed_list, contexts, strict=True):
        try:
            if relaxed.atoms is None:
                raise TaskFailed(relaxed.error)
            outputs.append(
                formation_output(
                    atoms,
                    relaxed.atoms,
                    relaxed.converged,
                    relaxed.steps,
                    relaxation,
                    calculator,
                    context,
                )
            )
        except Exception as exc:  # this crystal's own failure; the others go on
            outputs.append(exc)
    return outputs


def formation_output(
    atoms: Atoms,
    relaxed: Atoms,
    converged: bool,
    nsteps: int,
    relaxation: Relaxation,
    calculator: Calculator,
    context: RunContext,
) -> dict[str, Any]:
    """The output of ``run`` for ``atoms`` relaxed to ``relaxed`` (its energy attached)."""
    natoms = len(relaxed)
    energy = float(relaxed.get_potential_energy())
    # A bare copy: the calculator goes on to the elemental references, and pymatgen's
    # adaptor would read their results (magnetic moments) as this structure's.
    relaxed = relaxed.copy()
    family = FAMILIES.get(context.family)
    correction_kind = family.energy_correction if family else ""
    correction = energies.energy_correction_ev(correction_kind, relaxed, energy)
    symbols = relaxed.get_chemical_symbols()
    references: dict[str, dict[str, Any]] = {}
    for symbol in sorted(set(symbols)):
        if is_reference_of(atoms, symbol):
            references[symbol] = {"energy_per_atom_ev": energy / natoms, "converged": converged}
            continue
        reference = elemental_reference(symbol)
        output = context.companion(
            ELEMENTS_SET.name,
            reference_label(symbol),
            lambda reference=reference: run(
                reference,
                calculator,
                optimizer=relaxation.optimizer,
                cell_filter=relaxation.cell_filter,
                fmax=relaxation.fmax,
                steps=relaxation.steps,
                context=context,
            ),
        )
        references[symbol] = {
            "energy_per_atom_ev": output["energy_per_atom_ev"],
            "converged": output["converged"],
        }
    mu = {symbol: ref["energy_per_atom_ev"] for symbol, ref in references.items()}
    volume = float(relaxed.get_volume())
    return {
        "natoms": natoms,
        "formation_energy_per_atom": energies.formation_energy_per_atom(
            energy + correction, symbols, mu
        ),
        "formation_energy_per_atom_uncorrected": energies.formation_energy_per_atom(
            energy, symbols, mu
        ),
        "energy_correction": correction_kind,
        "correction_ev": correction,
        "energy_per_atom_ev": energy / natoms,
        "volume_change": volume / float(atoms.get_volume()) - 1.0,
        "volume_a3_per_atom": volume / natoms,
        "rmsd": geometry.normalised_rmsd(relaxed, atoms),
        "space_groups_input": geometry.space_groups(atoms),
        "space_groups_relaxed": geometry.space_groups(relaxed),
        "converged": converged,
        "steps": nsteps,
        "elemental_references": references,
        "references_converged": all(ref["converged"] for ref in references.values()),
        "cell": relaxed.cell.array.tolist(),
        "positions": relaxed.positions.tolist(),
        "numbers": relaxed.numbers.tolist(),
    }
