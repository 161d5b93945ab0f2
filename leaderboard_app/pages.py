"""Page contexts for the leaderboard, task, model and structure pages.

Each function reads through selectors and shapes the data with ranking, tables and
charts; views only parse the request and render what these return.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from ase.formula import Formula
from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import reverse

from leaderboard_app import selectors
from leaderboard_app.charts import (
    EOSCurve,
    ParityPoint,
    eos_figure,
    model_colors,
    parity_figure,
    periodic_table_figure,
)
from leaderboard_app.filters import ModelFilterForm, filter_models
from leaderboard_app.ranking import (
    TASK_METRICS,
    ArenaRow,
    ModelEvidence,
    TaskScore,
    arena_ranking,
    score_task,
)
from leaderboard_app.result_tables import (
    HEADLINE_COLUMNS,
    jobs_url,
    leaderboard_table,
    results_table,
    task_summary_table,
    task_table,
)
from leaderboard_app.run_pages import jobs_table
from leaderboard_app.tables import Table
from models_app.models import MLIP
from tasks_app.models import JobStatus, Structure, Task

Context = dict[str, Any]
T = TypeVar("T")
FAILED_JOBS_SHOWN = 50
LATEST_RESULTS_SHOWN = 50
REFERENCE_LABELS = {column.key: column.label for column in HEADLINE_COLUMNS}


def run_command(task: Task | None = None) -> str:
    """The one line that tells a visitor how to produce results."""
    return f"python manage.py run_benchmark {task.slug if task else 'eos'}"


def download_table(tables: Sequence[Table], table_id: str | None) -> Table | None:
    """The table a download asks for: by id, or the page's first table."""
    if not tables:
        return None
    if not table_id:
        return tables[0]
    return next((t for t in tables if t.id == table_id), None)


def leaderboard_page(*, query: QueryDict) -> Context:
    tasks = selectors.all_tasks()
    models = selectors.all_models()
    form = ModelFilterForm(query, models=models)
    chosen = filter_models(models, form.model_filter())
    ranked_tasks = [t for t in tasks if t.function in TASK_METRICS]
    evidence = selectors.task_evidence(tasks=ranked_tasks)
    has_results = any(evidence.results.get(t.id) for t in ranked_tasks)
    ranks = {
        t.slug: {s.model: s.rank for s in _task_scores(t, evidence, chosen)} for t in ranked_tasks
    }
    arena = arena_ranking([m.name for m in chosen], ranks) if has_results else _unranked(chosen)
    table = leaderboard_table(
        arena, models={m.name: m for m in chosen}, tasks=ranked_tasks, ranked=has_results
    )
    return {
        "nav_tasks": tasks,
        "form": form,
        "tables": [table],
        "has_tasks": bool(tasks),
        "has_results": has_results,
        "ranked_tasks": ranked_tasks,
        "command": run_command(ranked_tasks[0] if ranked_tasks else None),
    }


def task_page(*, task: Task, tasks: list[Task], query: QueryDict) -> Context:
    models = selectors.all_models()
    form = ModelFilterForm(query, models=models)
    chosen = filter_models(models, form.model_filter())
    evidence = selectors.task_evidence(tasks=[task])
    scores = _task_scores(task, evidence, chosen)
    metrics = TASK_METRICS.get(task.function, ())
    context: Context = {
        "nav_tasks": tasks,
        "task": task,
        "form": form,
        "metrics": metrics,
        "has_results": any(s.done for s in scores),
        "tables": [task_table(task, scores, metrics=metrics)],
        "structure_count": len(evidence.universe.get(task.id, [])),
        "command": run_command(task),
        "figures": [],
        "controls": [],
    }
    if task.function == "eos" and context["has_results"]:
        context.update(_eos_section(task, evidence, scores, models, chosen, query))
    elif not metrics and context["has_results"]:
        latest = selectors.latest_results(task=task, models=chosen, limit=LATEST_RESULTS_SHOWN)
        title = f"The latest {len(latest)} results"
        context["tables"].append(
            results_table(task, latest, by=["model", "structure"], title=title)
        )
    return context


def model_page(*, model: MLIP) -> Context:
    tasks = selectors.all_tasks()
    models = selectors.all_models()
    evidence = selectors.task_evidence(tasks=tasks)
    scores = {t.id: _task_scores(t, evidence, models) for t in tasks}
    mine = {t.id: next((s for s in scores[t.id] if s.model == model.name), None) for t in tasks}
    results = selectors.results_for_model(model=model)
    ranked = {t.id: len(scores[t.id]) for t in tasks if t.function in TASK_METRICS}
    tables = [task_summary_table(tasks, mine, ranked_counts=ranked)]
    for task in tasks:
        # The latest result per structure, in structure order.
        own = list({r.structure_id: r for r in results if r.task_id == task.id}.values())
        if own:
            tables.append(
                results_table(task, own, by=["structure"], title=f"{task.name}: per structure")
            )
    failed = _failed_jobs(selectors.jobs_matching(status=JobStatus.FAILED, model=model.name))
    return {
        "nav_tasks": tasks,
        "model": model,
        "tables": [*tables, failed["table"]],
        "failed": failed,
        "failed_url": jobs_url(status=JobStatus.FAILED, model=model.name),
        "has_results": bool(results),
        "command": f"{run_command()} --models {model.name}",
    }


def structure_page(*, structure: Structure) -> Context:
    results = selectors.results_for_structure(structure=structure)
    colors = model_colors([m.name for m in selectors.all_models()])
    tables, figures = [], []
    for task_id in dict.fromkeys(r.task_id for r in results):
        latest = {r.model_id: r for r in results if r.task_id == task_id}
        own = sorted(latest.values(), key=lambda r: r.model.name.lower())
        task = own[0].task
        tables.append(results_table(task, own, by=["model"], title=f"{task.name}: per model"))
        if task.function == "eos":
            curves = [_curve(r.model.name, r.output, r.b0_gpa) for r in own]
            figures.append(
                {
                    "id": f"eos-{task.slug}",
                    "title": f"{task.name}: every model's curve",
                    "figure": eos_figure(
                        curves,
                        colors=colors,
                        reference_b0_prime=structure.reference.get("b0_prime"),
                    ),
                }
            )
    failed = _failed_jobs(
        selectors.jobs_matching(status=JobStatus.FAILED, structure_id=structure.id)
    )
    return {
        "structure": structure,
        "cell": structure.atoms.get("cell") or [],
        "reference": [
            (REFERENCE_LABELS.get(key, key), value)
            for key, value in structure.reference.items()
            if key != "source"
        ],
        "reference_source": structure.reference.get("source", ""),
        "tables": [*tables, failed["table"]],
        "figures": figures,
        "failed": failed,
        "has_results": bool(results),
        "command": run_command(),
    }


def element_of(formula: str) -> str | None:
    """The element of a one-element formula ('Cu4' → 'Cu'), else None."""
    try:
        elements = list(Formula(formula).count())
    except ValueError:
        return None
    return elements[0] if len(elements) == 1 else None


def _task_scores(
    task: Task, evidence: selectors.TaskEvidence, models: Sequence[MLIP]
) -> list[TaskScore]:
    by_model = evidence.results.get(task.id, {})
    failed = evidence.failed.get(task.id, {})
    present = evidence.participants.get(task.id, set())
    items = [
        ModelEvidence(
            model=m.name,
            metrics=[row.metrics for row in by_model.get(m.id, {}).values()],
            failed=len(failed.get(m.id, ())),
        )
        for m in models
        if m.id in present
    ]
    return score_task(
        items,
        metrics=TASK_METRICS.get(task.function, ()),
        structure_count=len(evidence.universe.get(task.id, [])),
    )


def _failed_jobs(jobs: QuerySet) -> Context:
    """The latest failed jobs as a table, and how many there are in all."""
    total = jobs.count()
    shown = list(jobs[:FAILED_JOBS_SHOWN]) if total else []
    table = jobs_table(shown, links=True, table_id="failed-jobs", title="Failed jobs")
    return {"table": table, "total": total, "shown": len(shown)}


def _unranked(models: Sequence[MLIP]) -> list[ArenaRow]:
    return [ArenaRow(model=m.name, task_ranks={}, rank_sum=0, rank=0) for m in models]


def _eos_section(
    task: Task,
    evidence: selectors.TaskEvidence,
    scores: Sequence[TaskScore],
    models: Sequence[MLIP],
    chosen: Sequence[MLIP],
    query: QueryDict,
) -> Context:
    """Curves for a chosen structure, the V0/B0 parity plot, and a Delta periodic table."""
    colors = model_colors([m.name for m in models])
    names = {m.id: m.name for m in chosen}
    by_model = {
        names[model_id]: rows
        for model_id, rows in evidence.results.get(task.id, {}).items()
        if model_id in names
    }
    with_results = {s for rows in by_model.values() for s in rows}
    options = [evidence.structures[s] for s in evidence.universe[task.id] if s in with_results]
    structure = _chosen(options, query.get("structure"), key=lambda s: str(s.id))
    curves = [
        _curve(names[row["model_id"]], row["output"], row["b0_gpa"])
        for row in selectors.structure_curves(task=task, structure_id=structure.id)
        if row["model_id"] in names
    ]
    ranked_names = [s.model for s in scores if s.done]
    heat_model = _chosen(ranked_names, query.get("model"), key=str)
    return {
        "controls": [
            {
                "name": "structure",
                "label": "Structure",
                "options": [(str(s.id), f"{s.label} ({s.formula})") for s in options],
                "selected": str(structure.id),
            },
            {
                "name": "model",
                "label": "Periodic table model",
                "options": [(n, n) for n in ranked_names],
                "selected": heat_model,
            },
        ],
        "structure": structure,
        "structure_url": reverse("leaderboard:structure", args=[structure.id]),
        "figures": [
            {
                "id": "eos-curves",
                "title": f"E(V) of {structure.label} ({structure.formula}), models overlaid",
                "figure": eos_figure(
                    sorted(curves, key=lambda c: c.model.lower()),
                    colors=colors,
                    reference_b0_prime=structure.reference.get("b0_prime"),
                ),
            },
            {
                "id": "parity",
                "title": "V₀ and B₀ against WIEN2k",
                "figure": parity_figure(_parity_points(by_model, evidence), colors=colors),
            },
            {
                "id": "delta-table",
                "title": f"Δ per element: {heat_model}",
                "figure": periodic_table_figure(
                    _delta_by_element(by_model.get(heat_model, {}), evidence.structures),
                    label="meV/atom",
                ),
            },
        ],
    }


def _chosen(options: Sequence[T], wanted: str | None, *, key: Callable[[T], str]) -> T:
    """The option whose key is ``wanted``, else the first."""
    return next((o for o in options if key(o) == wanted), options[0])


def _curve(model: str, output: Mapping[str, Any], b0_gpa: float | None) -> EOSCurve:
    return EOSCurve(
        model=model,
        volumes_a3=output.get("volumes_a3") or [],
        energies_ev=output.get("energies_ev") or [],
        natoms=int(output.get("natoms") or 1),
        b0_gpa=b0_gpa,
    )


def _parity_points(
    by_model: Mapping[str, Mapping[int, selectors.ResultRow]], evidence: selectors.TaskEvidence
) -> list[ParityPoint]:
    points = []
    for model, rows in sorted(by_model.items(), key=lambda item: item[0].lower()):
        for structure_id, row in rows.items():
            info = evidence.structures.get(structure_id)
            reference = info.reference if info else {}
            if "v0_a3_per_atom" in reference and "b0_gpa" in reference:
                points.append(
                    ParityPoint(
                        model=model,
                        structure=info.label,
                        v0_ref=reference["v0_a3_per_atom"],
                        v0=row.headline["v0_a3_per_atom"],
                        b0_ref=reference["b0_gpa"],
                        b0=row.headline["b0_gpa"],
                    )
                )
    return points


def _delta_by_element(
    rows: Mapping[int, selectors.ResultRow], structures: Mapping[int, selectors.StructureInfo]
) -> dict[str, float]:
    values: dict[str, list[float]] = {}
    for structure_id, row in rows.items():
        info = structures.get(structure_id)
        element = element_of(info.formula) if info else None
        delta = row.metrics.get("delta_mev_per_atom")
        if element and delta is not None:
            values.setdefault(element, []).append(delta)
    return {element: statistics.fmean(found) for element, found in values.items()}
