"""Services that write tasks, structures, runs, jobs and results."""

from __future__ import annotations

import math
import socket
from pathlib import Path
from typing import Any

from ase import Atoms
from ase.collections import dcdft
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from compute.errors import ComputeError
from compute.structures import atoms_to_dict, read_structures, structure_hash
from compute.tasks import check_params
from models_app.models import MLIP
from models_app.services import SeedReport, load_yaml_entries, prune_rows, upsert_row
from tasks_app.keys import job_key, stable_hash
from tasks_app.models import (
    BenchmarkRun,
    Job,
    JobStatus,
    Result,
    Structure,
    StructureSet,
    Task,
)

REGISTRY_PATH = Path(__file__).with_name("registry.yaml")
TASK_FIELDS = [
    "name",
    "category",
    "description",
    "function",
    "version",
    "default_params",
    "default_structure_set",
]
DELTA_SET = "delta-dcdft"
HEADLINE_FIELDS = ["v0_a3_per_atom", "e0_ev_per_atom", "b0_gpa", "b0_prime"]


def seed_tasks(*, path: Path = REGISTRY_PATH, prune: bool = False) -> SeedReport:
    """Create and update Task rows from YAML; delete unlisted rows only if ``prune``."""
    report = SeedReport()
    seen: set[str] = set()
    for index, entry in enumerate(load_yaml_entries(path, "tasks"), start=1):
        slug = entry.get("slug") if isinstance(entry, dict) else None
        if not slug:
            report.errors.append(f"entry {index} in {path.name} has no slug")
            continue
        seen.add(slug)
        try:
            check_params(entry.get("function", ""), entry.get("default_params") or {})
            with transaction.atomic():
                _, created, changed = upsert_row(Task, {"slug": slug}, entry, TASK_FIELDS)
        except ValidationError as exc:
            report.errors.append(f"{slug}: {' '.join(exc.messages)}")
            continue
        except ComputeError as exc:
            report.errors.append(f"{slug}: {exc}")
            continue
        if created:
            report.created.append(slug)
        elif changed:
            report.updated.append(f"{slug} ({', '.join(changed)})")
    if prune:
        prune_rows(Task.objects.exclude(slug__in=seen), report)
    return report


def seed_delta_set() -> tuple[StructureSet, int]:
    """The 71 elemental crystals of the Delta test with their WIEN2k PBE references."""
    structures = []
    for name in dcdft.names:
        data = dcdft.data[name]
        reference = {
            "source": "WIEN2k PBE (Delta test, ase.collections.dcdft)",
            "v0_a3_per_atom": data["wien2k_volume"],
            "b0_gpa": data["wien2k_B"],
            "b0_prime": data["wien2k_Bp"],
        }
        structures.append((name, dcdft[name], reference))
    return store_structure_set(
        name=DELTA_SET,
        description="Elemental crystals of the Delta test (Lejaeghere et al., Science 2016)",
        structures=structures,
    )


def store_structure_set(
    *, name: str, description: str, structures: list[tuple[str, Atoms, dict[str, Any]]]
) -> tuple[StructureSet, int]:
    """Create or extend a set in one transaction; returns (set, structures added or changed)."""
    with transaction.atomic():
        structure_set, _ = StructureSet.objects.get_or_create(
            name=name, defaults={"description": description}
        )
        existing = {s.label: s for s in structure_set.structures.all()}
        touched = 0
        for position, (label, atoms, reference) in enumerate(structures):
            data = atoms_to_dict(atoms)
            values = {
                "position": position,
                "formula": atoms.get_chemical_formula(),
                "natoms": len(atoms),
                "atoms": data,
                "content_hash": structure_hash(data),
                "reference": reference,
            }
            current = existing.get(label)
            if current and all(getattr(current, k) == v for k, v in values.items()):
                continue
            Structure.objects.update_or_create(
                structure_set=structure_set, label=label, defaults=values
            )
            touched += 1
    return structure_set, touched


def import_structures(
    *, path: Path, set_name: str, file_format: str | None = None
) -> tuple[StructureSet, int]:
    """Import every frame of a file; a bad file imports nothing (StructureFileError)."""
    frames = read_structures(path, file_format)
    stem = path.stem
    structures = []
    for index, atoms in enumerate(frames):
        label = str(atoms.info.get("label") or atoms.info.get("name") or "")
        label = label or (stem if len(frames) == 1 else f"{stem}-{index}")
        reference = {k: atoms.info[k] for k in HEADLINE_FIELDS if k in atoms.info}
        structures.append((label, atoms, reference))
    return store_structure_set(
        name=set_name, description=f"imported from {path.name}", structures=structures
    )


def run_create(
    *,
    task: Task,
    models: list[MLIP],
    structure_set: StructureSet,
    structures: list[Structure],
    force: bool = False,
    params: dict[str, Any] | None = None,
    queued_on: str | None = None,
) -> tuple[BenchmarkRun, list[Job]]:
    """Make one job per structure and model, skipping done keys unless ``force``.

    ``queued_on`` is "rq" to name each job's queue after the model's task lists,
    or None for in-process jobs.
    """
    params = {**task.default_params, **(params or {})}
    check_params(task.function, params)
    planned = [
        (model, structure, job_key(model=model, task=task, structure=structure, params=params))
        for model in models
        for structure in structures
    ]
    done = (
        set()
        if force
        else set(
            Result.objects.filter(key__in=[key for *_, key in planned]).values_list(
                "key", flat=True
            )
        )
    )
    with transaction.atomic():
        run = BenchmarkRun.objects.create(
            task=task,
            structure_set=structure_set,
            params=params,
            options={
                "models": [m.name for m in models],
                "structures": [s.label for s in structures],
                "force": force,
            },
            skipped_done=sum(1 for *_, key in planned if key in done),
        )
        jobs = Job.objects.bulk_create(
            Job(
                run=run,
                model=model,
                task=task,
                structure=structure,
                key=key,
                params=params,
                params_hash=stable_hash(params),
                queue=model.queue_for(task.slug) if queued_on == "rq" else "inline",
            )
            for model, structure, key in planned
            if key not in done
        )
    return run, jobs


def job_start(*, job_id: int, rq_job_id: str = "") -> None:
    Job.objects.filter(pk=job_id).update(
        status=JobStatus.RUNNING,
        started_at=timezone.now(),
        worker_host=socket.gethostname(),
        rq_job_id=rq_job_id or "",
        attempts=F("attempts") + 1,
        error="",
        traceback="",
    )


def job_finish(
    *, job_id: int, output: dict[str, Any], metrics: dict[str, Any], compute_seconds: float | None
) -> Result:
    """Mark a job done and store its result, replacing an earlier result for its key."""
    job = Job.objects.select_related("model", "task", "structure").get(pk=job_id)
    output, metrics = json_safe(output), json_safe(metrics)
    headline = {k: output.get(k) for k in HEADLINE_FIELDS}
    with transaction.atomic():
        result, _ = Result.objects.update_or_create(
            key=job.key,
            defaults={
                "job": job,
                "model": job.model,
                "task": job.task,
                "structure": job.structure,
                **headline,
                "output": {k: v for k, v in output.items() if k not in HEADLINE_FIELDS},
                "metrics": metrics,
            },
        )
        Job.objects.filter(pk=job_id).update(
            status=JobStatus.DONE, finished_at=timezone.now(), compute_seconds=compute_seconds
        )
    return result


def job_fail(
    *, job_id: int, error: str, traceback: str = "", compute_seconds: float | None = None
) -> None:
    Job.objects.filter(pk=job_id).update(
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        error=error[:2000],
        traceback=traceback,
        compute_seconds=compute_seconds,
    )


def json_safe(value: Any) -> Any:
    """NaN and infinities become None so every database stores the same JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value
