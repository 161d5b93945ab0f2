"""Leaderboard data built through the real services from real EMT equations of state.

EMT curves for Cu, Al and Ni are computed once per session (about a second). Other
models get the same curves with their energies scaled (other fits) and, for some, a
small zigzag (rougher curves, worse shape metrics). Runs cover Cu, Al, Ni and two
structures EMT cannot do (failed jobs); the other 66 Delta structures are absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

EMT_ELEMENTS = ("Cu", "Al", "Ni")
RUN_LABELS = (*EMT_ELEMENTS, "Fe", "W")
# model name -> (energy scale, zigzag in eV, structures it fails on besides those without a curve)
ARENA_MODELS = {
    "EMT": (1.0, 0.0, ()),
    "CHGNet": (1.15, 0.004, ()),
    "SevenNet-0": (0.8, 0.0, ("Ni",)),
}


@dataclass
class Arena:
    run_ids: list[int] = field(default_factory=list)
    structure_ids: dict[str, int] = field(default_factory=dict)
    failed_job_id: int = 0
    done_job_id: int = 0


@pytest.fixture(scope="session")
def emt_curves() -> dict[str, dict[str, Any]]:
    """Real EOS outputs of ASE's EMT with the registry's default protocol."""
    from ase.calculators.emt import EMT
    from ase.collections import dcdft

    from compute.tasks import eos

    return {element: eos.run(dcdft[element], EMT()) for element in EMT_ELEMENTS}


def scaled_output(output: dict[str, Any], scale: float, zigzag: float) -> dict[str, Any]:
    """The same scan with energies times ``scale``, every third point raised by ``zigzag``."""
    from compute.tasks.eos.birch_murnaghan import fit_birch_murnaghan

    energies = [
        e * scale + (zigzag if i % 3 == 1 else 0.0) for i, e in enumerate(output["energies_ev"])
    ]
    fit = fit_birch_murnaghan(output["volumes_a3"], energies)
    natoms = output["natoms"]
    return {
        **output,
        "energies_ev": energies,
        "v0_a3_per_atom": fit.v0_a3 / natoms,
        "e0_ev_per_atom": fit.e0_ev / natoms,
        "b0_gpa": fit.b0_gpa,
        "b0_prime": fit.b0_prime,
    }


def record_eos_run(
    curves: dict[str, dict[str, Any]],
    models: dict[str, tuple[float, float, tuple[str, ...]]],
    *,
    labels: tuple[str, ...] = RUN_LABELS,
    elements: tuple[str, ...] = EMT_ELEMENTS,
) -> tuple[int, list[int], list[int]]:
    """One EOS run over ``labels`` of the Delta set: results where a curve exists, else failures.

    ``elements`` maps structures to curves cyclically (Cu, Al, Ni, Cu, …), so a
    caller can give models results on more structures than there are curves.
    Returns the run id, the done job ids and the failed job ids.
    """
    from compute.tasks import evaluate
    from models_app.models import MLIP
    from tasks_app.models import StructureSet, Task
    from tasks_app.services import job_fail, job_finish, job_start, run_create

    task = Task.objects.get(slug="eos")
    delta = StructureSet.objects.get(name="delta-dcdft")
    chosen = list(MLIP.objects.filter(name__in=models))
    listed = list(delta.structures.filter(label__in=labels))
    run, jobs = run_create(task=task, models=chosen, structure_set=delta, structures=listed)
    names = {m.id: m.name for m in chosen}
    curve_for = {e: curves[EMT_ELEMENTS[i % len(EMT_ELEMENTS)]] for i, e in enumerate(elements)}
    structures = {s.id: s for s in listed}
    done, failed = [], []
    for job in jobs:
        structure = structures[job.structure_id]
        scale, zigzag, fails = models[names[job.model_id]]
        job_start(job_id=job.id)
        if structure.label in curve_for and structure.label not in fails:
            output = scaled_output(curve_for[structure.label], scale, zigzag)
            metrics = evaluate("eos", output, structure.reference)
            job_finish(job_id=job.id, output=output, metrics=metrics, compute_seconds=0.1)
            done.append(job.id)
        else:
            job_fail(
                job_id=job.id,
                error=f"NotImplementedError: No EMT-potential for {structure.label}",
                traceback="Traceback (most recent call last):\n  ...\nNotImplementedError",
                compute_seconds=0.01,
            )
            failed.append(job.id)
    return run.pk, done, failed


@pytest.fixture(scope="session")
def relaxed_copper() -> dict[str, Any]:
    from ase.build import bulk
    from ase.calculators.emt import EMT

    from compute.tasks import relax

    return relax.run(bulk("Cu", "fcc", a=3.6), EMT())


@pytest.fixture
def arena(seeded, emt_curves, relaxed_copper) -> Arena:
    """Registry seeded; EMT, CHGNet and SevenNet-0 have EOS results; EMT relaxed fcc Cu."""
    from ase.build import bulk

    from models_app.models import MLIP
    from tasks_app.models import Structure, Task
    from tasks_app.services import job_finish, job_start, run_create
    from tasks_app.structure_sets import store_structure_set

    run_id, done, failed = record_eos_run(emt_curves, ARENA_MODELS)
    one_copper, _ = store_structure_set(
        name="fcc-copper",
        description="one cell",
        structures=[("fcc Cu", bulk("Cu", "fcc", a=3.6), {})],
    )
    relax_run, relax_jobs = run_create(
        task=Task.objects.get(slug="relax"),
        models=[MLIP.objects.get(name="EMT")],
        structure_set=one_copper,
        structures=list(one_copper.structures.all()),
    )
    job_start(job_id=relax_jobs[0].id)
    job_finish(job_id=relax_jobs[0].id, output=relaxed_copper, metrics={}, compute_seconds=0.1)
    ids = dict(
        Structure.objects.filter(
            structure_set__name="delta-dcdft", label__in=EMT_ELEMENTS
        ).values_list("label", "id")
    )
    return Arena(
        run_ids=[run_id, relax_run.pk],
        structure_ids=ids,
        failed_job_id=failed[0],
        done_job_id=done[0],
    )
