"""Selectors: how the rest of the project reads the model registry."""

from __future__ import annotations

from arena_site.errors import ArenaError
from compute.model_spec import ModelSpec
from models_app.models import MLIP


def model_spec(model: MLIP) -> ModelSpec:
    """The plain data calculator loading needs, detached from the ORM."""
    return ModelSpec(
        name=model.name,
        family=model.family,
        checkpoint=model.checkpoint,
        calculator_kwargs=dict(model.calculator_kwargs or {}),
        # A pin counts only with its approval on record (the admin action writes both).
        checkpoint_sha256=model.checkpoint_sha256 if model.checkpoint_approved_at else "",
    )


def all_models() -> list[MLIP]:
    return list(MLIP.objects.all())


def model_named(name: str) -> MLIP | None:
    """The registry row named exactly ``name``, or None."""
    return MLIP.objects.filter(name=name).first()


def model_by_name(name: str) -> MLIP:
    """The registry row named ``name`` (any case); raises ArenaError listing valid names."""
    found = MLIP.objects.filter(name__iexact=name).first()
    if found is None:
        names = ", ".join(MLIP.objects.values_list("name", flat=True)) or "none (seed_registry)"
        raise ArenaError(f"no model named {name!r}; registered models: {names}")
    return found


def models_for_task(*, task_slug: str, names: list[str] | None = None) -> list[MLIP]:
    """Enabled models that list the task, or exactly ``names``; unknown names raise."""
    if not names:
        return [m for m in MLIP.objects.filter(enabled=True) if m.runs_task(task_slug)]
    by_name = {m.name.lower(): m for m in MLIP.objects.all()}
    unknown = [n for n in names if n.lower() not in by_name]
    if unknown:
        raise ArenaError(
            f"unknown model(s) {', '.join(unknown)}; "
            f"valid names: {', '.join(sorted(m.name for m in by_name.values()))}"
        )
    chosen = [by_name[n.lower()] for n in names]
    not_listing = [m.name for m in chosen if not m.runs_task(task_slug)]
    if not_listing:
        raise ArenaError(
            f"model(s) {', '.join(not_listing)} do not list task {task_slug!r} in their "
            "cpu_tasks or gpu_tasks; add it in the admin or registry.yaml"
        )
    return chosen
