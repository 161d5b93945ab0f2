"""Re-run the results of a dataset written by export_hf on this machine, and compare.

The dataset is read as import_hf reads it (a folder, or ORG/NAME through the Hub
cache) and nothing is stored: the database is only asked for a local model of the same
name, whose approved checkpoint pin then applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arena_site.errors import ArenaError
from compute.model_spec import ModelSpec
from compute.tasks import TASKS
from models_app.selectors import model_named, model_spec
from publishing.format import MODELS_FILE, STRUCTURES_FILE, TASKS_FILE, field_of, stored_provenance
from publishing.imports import MODEL_KEY_FIELDS, read_export, source_folder
from tasks_app.selectors import JobPayload
from tasks_app.services import split_output
from tasks_app.verification import Verdict, seeded_sample, verify_payload


@dataclass(frozen=True)
class PublishedResult:
    """One result row of a dataset, with what a re-run of it needs."""

    task: str
    model: str
    structure: str
    task_version: int
    payload: JobPayload
    stored: dict[str, dict[str, Any]]
    ran_with: dict[str, Any]


def published_results(
    *,
    source: str,
    tasks: list[str] | None = None,
    models: list[str] | None = None,
    structures: list[str] | None = None,
    sample: int | None = None,
    seed: int = 0,
) -> list[PublishedResult]:
    """The dataset's results (of ``tasks``, ``models``, on ``structures``), or a sample of
    ``sample`` of them drawn with ``seed``; in the dataset's order."""
    export = read_export(source_folder(source))
    model_rows = {field_of(r, "name", MODELS_FILE): r for r in export.models}
    task_rows = {field_of(r, "slug", TASKS_FILE): r for r in export.tasks}
    structure_rows = {
        (field_of(r, "structure_set", STRUCTURES_FILE), field_of(r, "label", STRUCTURES_FILE)): r
        for r in export.structures
    }
    chosen = [
        (where, row)
        for where, row in export.results
        if (not tasks or row.get("task") in tasks)
        and (not models or row.get("model") in models)
        and (not structures or row.get("structure") in structures)
    ]
    if not chosen:
        raise ArenaError(f"no results in the dataset {source!r} match the selection")
    chosen = seeded_sample(chosen, sample=sample, seed=seed)
    return [_published(where, row, model_rows, task_rows, structure_rows) for where, row in chosen]


def _published(
    where: str,
    row: dict[str, Any],
    model_rows: dict[str, dict[str, Any]],
    task_rows: dict[str, dict[str, Any]],
    structure_rows: dict[tuple[str, str], dict[str, Any]],
) -> PublishedResult:
    def registry_row(rows: dict[Any, Any], key: Any, kind: str) -> dict[str, Any]:
        if key not in rows:
            raise ArenaError(f"{where}: {kind} {key!r} is not in the dataset's registry files")
        return rows[key]

    model = registry_row(model_rows, field_of(row, "model", where), "model")
    task = registry_row(task_rows, field_of(row, "task", where), "task")
    set_and_label = (field_of(row, "structure_set", where), field_of(row, "structure", where))
    structure = registry_row(structure_rows, set_and_label, "structure")
    function = field_of(task, "function", TASKS_FILE)
    headline, _ = split_output(function=function, output=row["output"])
    return PublishedResult(
        task=row["task"],
        model=row["model"],
        structure=row["structure"],
        task_version=task.get("version", 1),
        payload=JobPayload(
            spec=_model_spec(model),
            function=function,
            atoms=field_of(structure, "atoms", STRUCTURES_FILE),
            params=field_of(row, "params", where),
            reference=structure.get("reference") or {},
            key=row.get("key", ""),
        ),
        stored={"headline": headline, "metrics": row.get("metrics") or {}},
        ran_with=stored_provenance(row.get("provenance") or {}),
    )


def _model_spec(row: dict[str, Any]) -> ModelSpec:
    """The local model of that name where it is the same calculator (its approved
    checkpoint pin applies); otherwise the dataset's description, with no pin."""
    local = model_named(row["name"])
    if local is not None and all(getattr(local, k) == row.get(k) for k in MODEL_KEY_FIELDS):
        return model_spec(local)
    return ModelSpec(
        name=row["name"],
        family=row.get("family", ""),
        checkpoint=row.get("checkpoint") or "",
        calculator_kwargs=dict(row.get("calculator_kwargs") or {}),
    )


def verify_published(result: PublishedResult) -> Verdict:
    """Re-run one published result here and compare it; a task this arena lacks, or has
    at another version, is reported as not re-run."""
    spec = TASKS.get(result.payload.function)
    if spec is None or spec.version != result.task_version:
        here = f"version {spec.version}" if spec else "not installed"
        return Verdict(
            model=result.model,
            structure=result.structure,
            error=(
                f"task {result.task!r} is at version {result.task_version} in the dataset "
                f"but {here} here"
            ),
        )
    return verify_payload(
        result.payload,
        model=result.model,
        structure=result.structure,
        stored=result.stored,
        ran_with=result.ran_with,
    )
