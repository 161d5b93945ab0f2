"""Services that write the model registry."""

from __future__ import annotations

import datetime
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from arena_site.errors import ArenaError
from compute.bounded_input import MAX_YAML_BYTES, InputTooLarge, check_file_size, safe_yaml
from compute.calculators import check_calculator, parameter_count
from compute.environments import current_environment, environment_python
from compute.errors import ComputeError, first_line, one_line
from compute.trust import file_sha256
from models_app.loading import calculator_for, checkpoint_for
from models_app.models import MLIP
from models_app.selectors import model_spec

REGISTRY_PATH = Path(__file__).with_name("registry.yaml")
# Written by services as things happen here, never by a seed or an import; the slug is
# this installation's address for a model, not part of its description.
LOCAL_RECORD_FIELDS = (
    "id",
    "slug",
    "updated_at",
    "checkpoint_sha256",  # pinned only by an admin's approval, with who and when
    "checkpoint_approved_by",
    "checkpoint_approved_at",
    "last_check_ok",
    "last_check_at",
    "last_check_message",
)
SEEDED_FIELDS = [
    f.name for f in MLIP._meta.get_fields() if f.concrete and f.name not in LOCAL_RECORD_FIELDS
]
# What describes a model on any installation; whether it runs and which checkpoint file
# is trusted are decided here, so exports leave them out and imports start disabled.
PORTABLE_FIELDS = [f for f in SEEDED_FIELDS if f != "enabled"]
IMPORTED_MODEL_DEFAULTS = {"enabled": False}
# The Python types a registry value may have per field kind (YAML dates are dates).
VALUE_TYPES = (
    (models.BooleanField, (bool,)),
    (models.DateField, (datetime.date, str)),
    (models.CharField, (str,)),
    (models.TextField, (str,)),
    (models.PositiveIntegerField, (int,)),
    (models.BigIntegerField, (int,)),
)


@dataclass
class SeedReport:
    """What a seeding pass did, one line per row touched or refused."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def lines(self, kind: str) -> list[str]:
        return (
            [f"created {kind} {n}" for n in self.created]
            + [f"updated {kind} {n}" for n in self.updated]
            + [f"deleted {kind} {n}" for n in self.deleted]
        )

    def refusals(self, kind: str) -> list[str]:
        return [f"refused {kind} {e}" for e in self.errors]


def load_yaml_entries(path: Path, key: str) -> list[dict[str, Any]]:
    """The list under ``key`` in a registry YAML file; raises ArenaError if unreadable."""
    try:
        check_file_size(path, MAX_YAML_BYTES)
        document = safe_yaml(path.read_text(encoding="utf-8"), where=str(path))
    except InputTooLarge as exc:
        raise ArenaError(f"cannot read registry {exc}") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ArenaError(f"cannot read registry {path}: {one_line(exc)}") from exc
    entries = (document or {}).get(key) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ArenaError(f"registry {path} needs a top-level list named {key!r}")
    return entries


def upsert_row(
    model_class,
    lookup: dict[str, Any],
    values: dict[str, Any],
    fields: list[str],
    *,
    new_values: dict[str, Any] | None = None,
):
    """Create or update one registry row after full validation; ``new_values`` only
    when it is created.

    Returns (row, created, changed field names); raises ValidationError.
    """
    check_value_types(model_class, {**lookup, **values})
    row = model_class.objects.filter(**lookup).first()
    created = row is None
    row = row or model_class(**lookup, **(new_values or {}))
    changed = [f for f in fields if f in values and getattr(row, f) != values[f]]
    for name in changed:
        setattr(row, name, values[name])
    row.full_clean()
    if created or changed:
        row.save()
    return row, created, changed


def check_value_types(model_class, values: dict[str, Any]) -> None:
    """Refuse a value of the wrong kind (a list for a name, text for a flag) that
    ``full_clean`` would turn into text or take as it is."""
    wrong = []
    for name, value in values.items():
        model_field = model_class._meta.get_field(name)
        if value is None and model_field.null:
            continue
        expected = next((t for kind, t in VALUE_TYPES if isinstance(model_field, kind)), None)
        if expected is None:
            continue  # JSON fields: their validators check them
        # bool is an int to Python: a flag must be a bool, and nothing else may be one.
        fits = bool in expected if isinstance(value, bool) else isinstance(value, expected)
        if not fits:
            wrong.append(f"{name} must be {expected[0].__name__}, not {type(value).__name__}")
    if wrong:
        raise ValidationError("; ".join(wrong))


def unique_slug(name: str) -> str:
    """A new model's address: its name in URL-safe letters, numbered if taken."""
    base = slugify(name)[:90] or "model"
    taken = set(MLIP.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


def seed_models(*, path: Path = REGISTRY_PATH, prune: bool = False) -> SeedReport:
    """Create and update MLIP rows from YAML; delete unlisted rows only if ``prune``."""
    report = SeedReport()
    seen: set[str] = set()
    for index, entry in enumerate(load_yaml_entries(path, "models"), start=1):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not name:
            report.errors.append(f"entry {index} in {path.name} has no name")
            continue
        if not isinstance(name, str):
            report.errors.append(
                f"entry {index} in {path.name}: name must be text, not {type(name).__name__}"
            )
            continue
        if name in seen:
            report.errors.append(f"{name}: named again by entry {index}; names must be unique")
            continue
        seen.add(name)
        unknown = sorted(set(entry) - set(SEEDED_FIELDS))
        if "checkpoint_sha256" in entry:
            report.errors.append(
                f"{name}: checkpoint_sha256 is pinned only by an admin's 'Approve checkpoint', "
                "never by the seed"
            )
            continue
        if unknown:
            report.errors.append(f"{name}: unknown field(s) {', '.join(unknown)}")
            continue
        try:
            with transaction.atomic():
                _, created, changed = upsert_row(
                    MLIP,
                    {"name": name},
                    entry,
                    SEEDED_FIELDS,
                    new_values={"slug": unique_slug(name)},
                )
        except ValidationError as exc:
            report.errors.append(f"{name}: {_one_line(exc)}")
            continue
        if created:
            report.created.append(name)
        elif changed:
            report.updated.append(f"{name} ({', '.join(changed)})")
    if prune:
        prune_rows(MLIP.objects.exclude(name__in=seen), report)
    return report


def prune_rows(stale: QuerySet, report: SeedReport) -> None:
    """Delete rows the YAML no longer lists, except those that results depend on."""
    for row in stale.order_by("pk"):
        try:
            row.delete()
        except ProtectedError:
            report.errors.append(f"{row}: has benchmark jobs; set enabled to false instead")
        else:
            report.deleted.append(str(row))


def _one_line(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
    return " ".join(error.messages)


def model_check(*, model: MLIP) -> tuple[bool, str]:
    """Build the model's calculator here, evaluate one cell, and record the one-line outcome
    (and the parameter count of a model that loads)."""
    count = None
    try:
        calculator = calculator_for(model_spec(model))
        message = f"{model.name} loads: {check_calculator(calculator)}"
        ok, count = True, parameter_count(calculator)
    except ComputeError as exc:
        ok, message = False, str(exc)
    except Exception as exc:
        ok, message = False, f"{model.name}: {first_line(exc)}"
    model_record_check(model=model, ok=ok, message=message)
    if count:
        MLIP.objects.filter(pk=model.pk).update(parameter_count=count)
    return ok, message


def model_check_in_environment(*, model: MLIP) -> tuple[bool, str]:
    """``model_check`` in the model's worker environment: here, or through
    ``check_model`` in a child process of that environment's Python."""
    root = settings.ARENA_ENVS_DIR
    if model.environment == current_environment(root):
        return model_check(model=model)
    python = environment_python(root, model.environment)
    if not python.exists():
        message = (
            f"{model.name} runs in the worker environment {model.environment!r}, which is "
            f"not built: run `python manage.py build_env {model.environment}`"
        )
        model_record_check(model=model, ok=False, message=message)
        return False, message
    done = subprocess.run(
        [str(python), str(settings.BASE_DIR / "manage.py"), "check_model", model.name],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = (done.stdout if done.returncode == 0 else done.stderr).splitlines()
    last = next((line for line in reversed(lines) if line.strip()), "no output")
    ok, message = done.returncode == 0, last.removeprefix("CommandError: ")
    # Recorded here too, in case the child failed before it could record anything.
    model_record_check(model=model, ok=ok, message=message)
    return ok, message


def model_record_check(*, model: MLIP, ok: bool, message: str) -> None:
    MLIP.objects.filter(pk=model.pk).update(
        last_check_ok=ok, last_check_at=timezone.now(), last_check_message=message
    )


def model_approve_checkpoint(*, model: MLIP, approved_by: str) -> str:
    """Pin the SHA-256 of the model's checkpoint file as it is now; return a one-line outcome.

    The file is downloaded first if it is a URL or hf:// checkpoint. From then on the
    family may unpickle exactly this file, from wherever it came.
    """
    try:
        path = checkpoint_for(model_spec(model)).local_file()
    except ComputeError as exc:
        raise ArenaError(f"{model.name}: nothing to approve: {exc}") from exc
    digest = file_sha256(path)
    MLIP.objects.filter(pk=model.pk).update(
        checkpoint_sha256=digest,
        checkpoint_approved_by=approved_by,
        checkpoint_approved_at=timezone.now(),
    )
    return f"{model.name}: approved checkpoint {model.checkpoint} with SHA-256 {digest}"
