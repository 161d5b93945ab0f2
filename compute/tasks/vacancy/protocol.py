"""Vacancy formation and migration: MLIP Arena's ``benchmarks/vacancy_migration`` protocol.

The crystal is repeated (the cubic fcc cell 3×3×3, 108 sites; a 2-atom hcp cell 3×3×2,
MLIP Arena's 36 sites; any other cell the smallest width-balanced repetition with at
least ``min_sites`` sites) and relaxed, cell and positions (BFGS, FrechetCell filter,
fmax 0.05 eV/Å, at most 500 steps). A vacancy at site 0 and one at its nearest
neighbour are relaxed at that cell, and a climbing-image NEB of ``n_images`` images
(7, MLIP Arena's, end points included) joins them: the neighbour hops into site 0.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import spglib
from ase import Atoms
from ase.calculators.calculator import Calculator

from compute.errors import TaskFailed, one_line
from compute.relaxation import Relaxation
from compute.run_context import RunContext, State
from compute.tasks.vacancy.neb import NEB_OPTIMIZERS, NEBResult, climbing_image_neb

FCC_REPEATS = (3, 3, 3)
HCP_REPEATS = (3, 3, 2)  # MLIP Arena's hcp cell: 36 sites
INTERPOLATIONS = ("idpp", "linear")
FIRST_SHELL = 1.1  # neighbours within this × the nearest distance: hcp's two near-equal shells


def _space_group(atoms: Atoms) -> int:
    cell = (atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers)
    dataset = spglib.get_symmetry_dataset(cell, symprec=1e-3)
    return int(dataset.number) if dataset is not None else 0


def _is_cubic(atoms: Atoms) -> bool:
    a, b, c, alpha, beta, gamma = atoms.cell.cellpar()
    return np.allclose([a, b], c, rtol=1e-6) and np.allclose([alpha, beta, gamma], 90.0)


def _is_hexagonal(atoms: Atoms) -> bool:
    a, b, _, alpha, beta, gamma = atoms.cell.cellpar()
    return math.isclose(a, b, rel_tol=1e-6) and np.allclose([alpha, beta, gamma], [90, 90, 120])


def repeats_for(atoms: Atoms, min_sites: int) -> tuple[int, int, int]:
    """The protocol's repetition of ``atoms``: the fcc and hcp cells as MLIP Arena repeats
    them, else the smallest with at least ``min_sites`` sites whose widths are balanced
    (each axis repeated ceil(L / its width) for the smallest length L that is enough)."""
    group = _space_group(atoms) if len(atoms) in (2, 4) else 0
    if len(atoms) == 4 and group == 225 and _is_cubic(atoms):
        return FCC_REPEATS
    if len(atoms) == 2 and group == 194 and _is_hexagonal(atoms):
        return HCP_REPEATS
    widths = atoms.cell.volume / np.linalg.norm(
        np.cross(atoms.cell[[1, 2, 0]], atoms.cell[[2, 0, 1]]), axis=1
    )
    lengths = sorted(k * w for w, k in itertools.product(widths, range(1, min_sites + 1)))
    for length in lengths:
        repeats = tuple(int(math.ceil(length / w - 1e-9)) for w in widths)
        if len(atoms) * math.prod(repeats) >= min_sites:
            return repeats  # type: ignore[return-value]
    raise TaskFailed(f"no repetition of {len(atoms)} atoms reaches {min_sites} sites")


def hop_partner(atoms: Atoms, site: int = 0) -> int:
    """The lowest-index neighbour of ``site`` in its first shell (site 1 in MLIP Arena's
    fcc and hcp cells)."""
    distances = atoms.get_distances(site, range(len(atoms)), mic=True)
    distances[site] = np.inf
    first_shell = np.flatnonzero(distances <= FIRST_SHELL * distances.min())
    return int(first_shell[0])


def end_points(pristine: Atoms, partner: int) -> tuple[Atoms, Atoms]:
    """Vacancy at site 0, and at ``partner`` after it hopped into site 0, atoms in one order."""
    start = pristine.copy()
    del start[0]
    end = start.copy()
    end.positions[partner - 1] = pristine.positions[0]  # site ``partner`` is index partner − 1
    return start, end


def _frame(atoms: Atoms) -> State:
    return {"positions": atoms.positions.tolist(), "cell": atoms.cell.array.tolist()}


def _restored(template: Atoms, frame: State) -> Atoms:
    atoms = template.copy()
    atoms.set_cell(np.array(frame["cell"], dtype=float), scale_atoms=False)
    atoms.set_positions(np.array(frame["positions"], dtype=float))
    return atoms


def _relaxed(
    relaxation: Relaxation, atoms: Atoms, calculator: Calculator, stage: str
) -> tuple[Atoms, bool, int]:
    try:
        return relaxation.relax(atoms, calculator)
    except TaskFailed as exc:
        raise TaskFailed(f"{stage} relaxation: {exc}") from exc
    except Exception as exc:
        raise TaskFailed(f"{stage} relaxation: the model failed: {one_line(exc)}") from exc


def relax_end_points(
    atoms: Atoms, calculator: Calculator, relaxation: Relaxation, repeats: tuple[int, int, int]
) -> State:
    """The relaxed pristine supercell and both relaxed end points, as a checkpoint part."""
    relaxed, ok, n = _relaxed(relaxation, atoms * repeats, calculator, "pristine")
    partner = hop_partner(relaxed)
    start, end = end_points(relaxed, partner)
    at_cell = relaxation.fixed_cell()
    start, start_ok, start_n = _relaxed(at_cell, start, calculator, "initial state")
    end, end_ok, end_n = _relaxed(at_cell, end, calculator, "final state")
    return {
        "partner": partner,
        "pristine": _frame(relaxed),
        "start": _frame(start),
        "end": _frame(end),
        "pristine_energy_ev": float(relaxed.get_potential_energy()),
        "relax_converged": [ok, start_ok, end_ok],
        "relax_steps": [n, start_n, end_n],
    }


def check_choices(repeats: list[int] | None, optimizer: str, interpolation: str) -> None:
    """Refuse, before any work, what the NEB would refuse only after the relaxations."""
    whole = [n for n in repeats or [] if isinstance(n, int) and not isinstance(n, bool) and n >= 1]
    if repeats is not None and (len(repeats) != 3 or len(whole) != 3):
        raise TaskFailed(f"repeats must be three whole numbers of at least 1, not {repeats}")
    if optimizer not in NEB_OPTIMIZERS:
        raise TaskFailed(f"optimizer must be one of {', '.join(NEB_OPTIMIZERS)}, not {optimizer!r}")
    if interpolation not in INTERPOLATIONS:
        raise TaskFailed(f"interpolation must be idpp or linear, not {interpolation!r}")


def run(
    atoms: Atoms,
    calculator: Calculator,
    *,
    optimizer: str = "BFGS",
    fmax: float = 0.05,
    steps: int = 500,
    n_images: int = 7,
    interpolation: str = "idpp",
    repeats: list[int] | None = None,
    min_sites: int = 100,
    context: RunContext | None = None,
) -> dict[str, Any]:
    """Formation energy, barrier and path. Energies in eV, the path in Å."""
    context = context or RunContext()
    check_choices(repeats, optimizer, interpolation)
    repeats_used = tuple(repeats) if repeats else repeats_for(atoms, min_sites)
    if len(atoms) * math.prod(repeats_used) < 3:
        raise TaskFailed("a vacancy hop needs a supercell of at least 3 sites")
    saved = context.restored()
    if saved is None:
        relaxation = Relaxation(optimizer, "FrechetCell", fmax, steps)
        stage = relax_end_points(atoms, calculator, relaxation, repeats_used)
        context.checkpoint({"step": 0, "end_points": stage}, force=True)
    else:
        stage = saved["end_points"]
    pristine = _restored(atoms * repeats_used, stage["pristine"])
    start = _restored(end_points(pristine, stage["partner"])[0], stage["start"])
    end = _restored(start, stage["end"])
    for image in (start, end):
        image.calc = calculator
    neb = climbing_image_neb(
        start,
        end,
        calculator,
        n_images=n_images,
        optimizer=optimizer,
        fmax=fmax,
        steps=steps,
        interpolation=interpolation,
        context=context,
        saved=saved.get("neb") if saved else None,
        checkpoint_extra={"end_points": stage},
    )
    return summary(neb, stage, natoms=len(pristine), repeats=repeats_used)


def summary(
    neb: NEBResult, stage: State, *, natoms: int, repeats: tuple[int, ...]
) -> dict[str, Any]:
    """MLIP Arena's numbers: formation from the mean of the two end points, the barrier of
    the highest image above the initial state, and |forward − backward| / forward."""
    energies = neb.energies_ev
    e_pristine = stage["pristine_energy_ev"]
    e_defect = 0.5 * (energies[0] + energies[-1])
    forward = max(energies[1:-1]) - energies[0]
    backward = max(energies[1:-1]) - energies[-1]
    return {
        "natoms": natoms,
        "repeats": list(repeats),
        "hop_partner": stage["partner"],
        "pristine_energy_ev": e_pristine,
        "volume_a3_per_atom": abs(float(np.linalg.det(stage["pristine"]["cell"]))) / natoms,
        "vacancy_formation_ev": e_defect - (natoms - 1) / natoms * e_pristine,
        "migration_barrier_ev": forward,
        "backward_barrier_ev": backward,
        "barrier_asymmetry": abs(forward - backward) / forward if forward > 0 else None,
        "climbing_image": neb.climbing_image,
        "path_a": neb.path_a(),
        "path_energy_ev": [e - energies[0] for e in energies],
        "neb_converged": neb.converged,
        "neb_steps": neb.steps,
        "relax_converged": stage["relax_converged"],
        "relax_steps": stage["relax_steps"],
        "resumed_from_step": neb.resumed_from_step,
    }
