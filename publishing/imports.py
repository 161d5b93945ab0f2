"""Import a dataset written by export_hf, from a folder or a Hugging Face dataset repo.

Registry rows the results need (models, tasks, structures) are created when missing
and must agree with the export when present; the task specs' structure sets must match
the specs, references included. Results are upserted by job key through the same
service that records a finished job, so a second import changes nothing; a result
computed here is never replaced, and what an import stores says so (its run's
``imported_from``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from huggingface_hub import parse_hf_uri, snapshot_download
from huggingface_hub.errors import HfUriError

from arena_site.errors import ArenaError
from compute.errors import ComputeError
from compute.hub import hub_cache_dir, hub_error_message
from compute.tasks import spec_or_placeholder
from models_app.models import MLIP
from models_app.selectors import model_named
from models_app.services import IMPORTED_MODEL_DEFAULTS, PORTABLE_FIELDS, unique_slug, upsert_row
from publishing.format import (
    CARD,
    DATA_DIR,
    MANAGED_DIRS,
    MODEL_DICTS,
    MODELS_FILE,
    REPO_ID,
    RESULT_DICTS,
    STRUCTURE_DICTS,
    STRUCTURES_FILE,
    TASK_DICTS,
    TASKS_FILE,
    V1_RESULT_FIELDS,
    card_metadata,
    field_of,
    format_version,
    read_jsonl,
    stored_provenance,
)
from publishing.imported_structures import ensure_structures
from tasks_app.done_runs import DoneJob, run_record_done
from tasks_app.keys import job_key, stable_hash
from tasks_app.models import Result, Structure, StructureSet, Task
from tasks_app.selectors import results_by_key, task_with_slug
from tasks_app.services import TASK_FIELDS, split_output

# Fields that enter a job key: a model or task here must match the export on these.
MODEL_KEY_FIELDS = ("family", "checkpoint", "calculator_kwargs")
TASK_KEY_FIELDS = ("function", "version")


@dataclass
class ImportReport:
    source: str
    models: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    structures: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0  # results computed here that the export would have replaced

    def summary(self) -> str:
        kept = (
            f"; kept {self.kept} results computed here that the export differs from "
            "(an import never replaces them)"
            if self.kept
            else ""
        )
        return (
            f"imported {self.source}: {self.created} results created, {self.updated} updated, "
            f"{self.unchanged} unchanged; added {len(self.models)} models, "
            f"{len(self.tasks)} tasks, {self.structures} structures{kept}"
        )


@dataclass(frozen=True)
class ExportFiles:
    models: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    structures: list[dict[str, Any]]
    results: list[tuple[str, dict[str, Any]]]  # (where, row), "data/eos.jsonl:3"


def import_dataset(*, source: str, revision: str | None = None) -> ImportReport:
    """Import from a folder, or from ORG/NAME (or hf://datasets/ORG/NAME) on the Hub."""
    folder = source_folder(source, revision=revision)
    export = read_export(folder)
    report = ImportReport(source)
    with transaction.atomic():
        models = _ensure_registry_rows(
            MLIP,
            model_named,
            export.models,
            kind="model",
            lookup="name",
            fields=PORTABLE_FIELDS,
            key_fields=MODEL_KEY_FIELDS,
            where=MODELS_FILE,
            created=report.models,
            new_values=lambda name: {"slug": unique_slug(name), **IMPORTED_MODEL_DEFAULTS},
        )
        tasks = _ensure_registry_rows(
            Task,
            task_with_slug,
            export.tasks,
            kind="task",
            lookup="slug",
            fields=TASK_FIELDS,
            key_fields=TASK_KEY_FIELDS,
            where=TASKS_FILE,
            created=report.tasks,
        )
        structures, report.structures = ensure_structures(export.structures)
        _store_results(export.results, models, tasks, structures, report)
    return report


def source_folder(source: str, *, revision: str | None = None) -> Path:
    """A local folder as is; a dataset repo downloaded into the Hub cache."""
    if Path(source).expanduser().is_dir():
        return Path(source).expanduser()
    repo_id = _repo_id(source)
    if repo_id is None:
        raise ArenaError(f"{source!r} is neither a folder nor a dataset repo ORG/NAME")
    repo_id, uri_revision = repo_id
    try:
        path = snapshot_download(
            repo_id,
            repo_type="dataset",
            revision=revision or uri_revision,
            cache_dir=hub_cache_dir(settings.ARENA_CACHE_DIR),
            allow_patterns=[CARD, *(f"{name}/*.jsonl" for name in MANAGED_DIRS)],
        )
    except Exception as exc:
        reason = hub_error_message(exc, what=f"dataset {repo_id}", repo_id=repo_id)
        raise ArenaError(f"no folder {source!r}, and from the Hub: {reason}") from exc
    return Path(path)


def _repo_id(source: str) -> tuple[str, str | None] | None:
    if REPO_ID.fullmatch(source):
        return source, None
    try:
        uri = parse_hf_uri(source)
    except HfUriError:
        return None
    return (uri.id, uri.revision) if uri.type == "dataset" and not uri.path_in_repo else None


def read_export(folder: Path) -> ExportFiles:
    """Every row of an export folder; raises ArenaError naming the file and line at fault."""
    if not (folder / MODELS_FILE).is_file():
        raise ArenaError(f"{folder} is not an export of export_hf: it has no {MODELS_FILE}")
    card = folder / CARD
    version = (
        format_version(card_metadata(card.read_text(encoding="utf-8"))) if card.is_file() else 1
    )
    data_files = sorted(
        p.relative_to(folder).as_posix() for p in (folder / DATA_DIR).glob("*.jsonl")
    )
    return ExportFiles(
        models=[row for _, row in read_jsonl(folder, MODELS_FILE, MODEL_DICTS)],
        tasks=[row for _, row in read_jsonl(folder, TASKS_FILE, TASK_DICTS)],
        structures=[row for _, row in read_jsonl(folder, STRUCTURES_FILE, STRUCTURE_DICTS)],
        results=[
            (f"{where}:{number}", _with_full_output(row, version))
            for where in data_files
            for number, row in read_jsonl(folder, where, RESULT_DICTS)
        ],
    )


def _with_full_output(row: dict[str, Any], version: int) -> dict[str, Any]:
    """The row with its headline numbers back in ``output``, as the task returned them.

    Format 1 kept them as top-level columns, format 2 under ``headline``; job_finish
    splits them off again by the local task spec.
    """
    row = dict(row)
    if version == 1:
        extra = [k for k in row if k not in V1_RESULT_FIELDS and k not in RESULT_DICTS]
        headline = {k: row.pop(k) for k in extra}
    else:
        headline = row.pop("headline", None) or {}
    known = {k: v for k, v in headline.items() if v is not None}
    row["output"] = {**(row.get("output") or {}), **known}
    return row


def _ensure_registry_rows(
    model_class: type[Model],
    existing: Callable[[str], Model | None],
    rows: list[dict[str, Any]],
    *,
    kind: str,
    lookup: str,
    fields: Sequence[str],
    key_fields: Sequence[str],
    where: str,
    created: list[str],
    new_values: Callable[[str], dict[str, Any]] = lambda name: {},
) -> dict[str, Any]:
    """Registry rows by ``lookup`` (``existing(name)`` reads one): created when missing
    (with ``new_values(name)``), checked where job keys depend."""
    found = {}
    for row in rows:
        name = field_of(row, lookup, where)
        if not isinstance(name, str):
            raise ArenaError(f"{where}: {lookup} must be text, not {type(name).__name__}")
        what = f"{kind} {name!r}"
        instance = existing(name)
        if instance is None:
            values = {k: row[k] for k in fields if k in row}
            instance = _create(model_class, {lookup: name}, values, fields, what, new_values(name))
            created.append(name)
        _check_agrees(instance, row, key_fields, what)
        found[name] = instance
    return found


@dataclass
class PlannedRun:
    """The new or changed results of one task, structure set and params."""

    task: Task
    structure_set: StructureSet
    params: dict[str, Any]
    jobs: list[DoneJob] = field(default_factory=list)


def _store_results(
    rows: list[tuple[str, dict[str, Any]]],
    models: dict[str, MLIP],
    tasks: dict[str, Task],
    structures: dict[tuple[str, str], Structure],
    report: ImportReport,
) -> None:
    """Record each new or changed result as a done job of an import run."""
    existing = results_by_key(keys=[row.get("key") for _, row in rows])
    runs: dict[tuple[int, int, str], PlannedRun] = {}
    for where, row in rows:
        task = _lookup(tasks, field_of(row, "task", where), where, "task")
        done = _done_job(row, models, task, structures, where)
        current = existing.get(done.key)
        if current is not None and _same_result(current, task, done):
            report.unchanged += 1
            continue
        if current is not None and not current.job.run.options.get("imported_from"):
            report.kept += 1  # local evidence wins over any dataset's
            continue
        report.updated += current is not None
        report.created += current is None
        params = row["params"]
        group = (task.id, done.structure.structure_set_id, stable_hash(params))
        planned = runs.setdefault(group, PlannedRun(task, done.structure.structure_set, params))
        planned.jobs.append(done)
    for planned in runs.values():
        run_record_done(
            task=planned.task,
            structure_set=planned.structure_set,
            params=planned.params,
            options={
                "models": sorted({done.model.name for done in planned.jobs}),
                "structures": list(dict.fromkeys(done.structure.label for done in planned.jobs)),
                "imported_from": report.source,
            },
            jobs=planned.jobs,
        )


def _done_job(
    row: dict[str, Any],
    models: dict[str, MLIP],
    task: Task,
    structures: dict[tuple[str, str], Structure],
    where: str,
) -> DoneJob:
    """The row as a done job; raises ArenaError where it does not fit its registry rows."""
    model = _lookup(models, field_of(row, "model", where), where, "model")
    structure = _lookup(
        structures,
        (field_of(row, "structure_set", where), field_of(row, "structure", where)),
        where,
        "structure",
    )
    params = field_of(row, "params", where)
    _check_numbers(task, row, where)
    key = job_key(model=model, task=task, structure_hash=structure.content_hash, params=params)
    if key != field_of(row, "key", where):
        raise ArenaError(f"{where}: its key does not match its model, task, structure, params")
    return DoneJob(
        model=model,
        structure=structure,
        key=key,
        output=row["output"],
        metrics=row.get("metrics") or {},
        compute_seconds=row.get("compute_seconds"),
        ran_with=stored_provenance(row.get("provenance") or {}),
    )


def _check_numbers(task: Task, row: dict[str, Any], where: str) -> None:
    """The row's parameters fit its task's protocol, and its headline numbers and ranked
    metrics are numbers (or null), as the pages and rankings read them."""
    spec = spec_or_placeholder(task.function)
    try:
        spec.check_params(row["params"])
    except ComputeError as exc:
        raise ArenaError(f"{where}: {exc}") from exc
    numbers = [
        *((f"headline.{q.key}", row["output"].get(q.key)) for q in spec.quantities),
        *((f"metrics.{m.key}", row["metrics"].get(m.key)) for m in spec.metrics),
    ]
    for name, value in numbers:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ArenaError(f"{where}: {name} must be a number or null, not {value!r}")


def _same_result(result: Result, task: Task, done: DoneJob) -> bool:
    headline, output = split_output(function=task.function, output=done.output)
    return (
        (result.model_id, result.task_id, result.structure_id)
        == (done.model.id, task.id, done.structure.id)
        and result.headline == headline
        and result.output == output
        and result.metrics == done.metrics
    )


def _lookup(found: Mapping[Any, Any], key: Any, where: str, kind: str) -> Any:
    if key not in found:
        raise ArenaError(f"{where}: {kind} {key!r} is not in the export's registry files")
    return found[key]


def _create(
    model_class: type[Model],
    lookup: dict[str, Any],
    values: dict[str, Any],
    fields: Sequence[str],
    what: str,
    new_values: dict[str, Any],
) -> Model:
    try:
        row, _, _ = upsert_row(model_class, lookup, values, list(fields), new_values=new_values)
    except ValidationError as exc:
        raise ArenaError(f"{what} in the export is invalid: {' '.join(exc.messages)}") from exc
    return row


def _check_agrees(row: Model, exported: dict[str, Any], fields: Sequence[str], what: str) -> None:
    """Refuse rows that exist here with other values in the fields a job key depends on."""
    for name in fields:
        here, there = getattr(row, name), exported.get(name)
        if here != there:
            raise ArenaError(
                f"{what} has {name} {here!r} here but {there!r} in the export; "
                "rename one of them or align them before importing"
            )
