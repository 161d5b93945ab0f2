"""Page contexts for the leaderboard, task, model and structure pages.

Each function reads through selectors, ranks through standings and shapes the data
with tables; task-specific figures come from the task's board module. Views only
parse the request and render what these return. No function here names a task.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ase.data import chemical_symbols
from ase.formula import Formula
from django.conf import settings
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.text import slugify

from compute.tasks import quantity_labels, spec_or_placeholder
from compute.tasks.spec import ASPECTS, PROTOCOL, Metric, TaskSpec
from leaderboard_app import boards, selectors
from leaderboard_app.arena_table import leaderboard_table
from leaderboard_app.charts import model_styles
from leaderboard_app.filters import ModelFilterForm, filter_models
from leaderboard_app.ranking import ArenaRow, TaskScore
from leaderboard_app.result_tables import (
    jobs_url,
    results_table,
    task_summary_table,
    task_table,
)
from leaderboard_app.run_pages import jobs_table
from leaderboard_app.standings import arena_rows, aspect_rows, ranked_tasks, task_scores
from leaderboard_app.tables import Table
from leaderboard_app.within import split_by_conditions
from models_app.models import MLIP
from tasks_app.evidence import TaskEvidence, task_evidence
from tasks_app.models import JobStatus, Structure, Task

Context = dict[str, Any]
MORE_COLUMNS = "more"  # ?more=1 opens a table's detail columns (spreads, ranks, signed means)
FAILED_JOBS_SHOWN = 50
LATEST_RESULTS_SHOWN = 50


def chosen_variant(
    spec: TaskSpec, task: Task, query: QueryDict
) -> tuple[str, dict[str, Any] | None]:
    """The protocol a task page shows (``?protocol=`` a variant's name, else the task's
    own), and the job parameters of its results (None: the task's defaults)."""
    variant = query.get("protocol", PROTOCOL)
    if variant not in spec.variants:
        return PROTOCOL, None
    return variant, {**(task.default_params or {}), **spec.variant_params(variant)}


def departures(spec: TaskSpec, variant: str, params: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Parameters this site runs ``variant`` of the task with that differ from the
    published protocol (the admin edited the task's defaults): (name, here, published)."""
    published = spec.default_params()
    if variant != PROTOCOL:
        published |= spec.variant_params(variant)
    as_stored = json.loads(json.dumps(published))  # tuples as the JSON field keeps them
    return [
        (name, value, as_stored[name])
        for name, value in params.items()
        if name in as_stored and value != as_stored[name]
    ]


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
    ranked = ranked_tasks(tasks)
    specs = {t.slug: spec_or_placeholder(t.function) for t in ranked}
    evidence = task_evidence(tasks=ranked, models=chosen)
    scores = {t.slug: task_scores(evidence[t.pk], chosen, spec=specs[t.slug]) for t in ranked}
    has_results = any(s.benchmarked for by_task in scores.values() for s in by_task)
    arena = arena_rows([m.name for m in chosen], scores) if has_results else _unranked(chosen)
    ranked_on = [t.slug for t in ranked if any(s.ranked for s in scores[t.slug])]
    names = [m.name for m in chosen]
    table = leaderboard_table(
        arena,
        models={m.name: m for m in chosen},
        tasks=ranked,
        ranked=has_results,
        headlines=headline_means(specs, scores),
        ranked_on=ranked_on,
        aspects={
            aspect: {r.model: r.rank for r in aspect_rows(names, scores, specs, aspect)}
            for aspect in ASPECTS
        },
    )
    return {
        "nav_tasks": tasks,
        "form": form,
        "tables": [table],
        "has_tasks": bool(tasks),
        "has_results": has_results,
        "ranked_tasks": ranked,
        "not_run": [t for t in ranked if t.slug not in ranked_on] if has_results else [],
        "task_groups": [(t, [g.title for g in specs[t.slug].metric_groups]) for t in ranked],
        "min_coverage_percent": round(settings.ARENA_MIN_COVERAGE * 100),
    }


def headline_means(
    specs: Mapping[str, TaskSpec], scores: Mapping[str, Sequence[TaskScore]]
) -> dict[str, tuple[Metric, dict[str, float | None]]]:
    """Per task slug: its headline metric and each scored model's mean of it."""
    found = {}
    for slug, spec in specs.items():
        metric = spec.leading_metric
        if metric is not None:
            means = {s.model: s.stats[metric.key].mean for s in scores[slug] if s.benchmarked}
            found[slug] = (metric, means)
    return found


def task_page(*, task: Task, tasks: list[Task], query: QueryDict) -> Context:
    spec = spec_or_placeholder(task.function)
    models = selectors.all_models()
    form = ModelFilterForm(query, models=models)
    chosen = filter_models(models, form.model_filter())
    variant, params = chosen_variant(spec, task, query)
    evidence = task_evidence(tasks=[task], models=chosen, params=params)[task.pk]
    shown_params = params or task.default_params or {}
    scores = task_scores(evidence, chosen, spec=spec)
    slugs = {m.name: m.slug for m in models}
    tables = [task_table(task, spec, scores, slugs=slugs)]
    if spec.compared_within and evidence.results:
        tables = [
            within_table(task, spec, task_scores(part, chosen, spec=spec), slugs, label)
            for label, part in split_by_conditions(evidence, spec)
        ]
    context: Context = {
        "nav_tasks": tasks,
        "task": task,
        "form": form,
        "metrics": spec.metrics,
        "has_results": any(s.done for s in scores),
        "tables": tables,
        "compared_within": bool(spec.compared_within),
        "more_columns": bool(query.get(MORE_COLUMNS)),
        "structure_count": evidence.structure_count,
        "protocol": [
            (name, value, spec.parameter_unit(name)) for name, value in shown_params.items()
        ],
        "departures": departures(spec, variant, shown_params),
        "variant": variant,
        "variants": [PROTOCOL, *spec.variants] if spec.variants else [],
        "figures": [],
        "controls": [],
    }
    if not context["has_results"]:
        return context
    if not spec.metrics:
        newest = sorted(evidence.result_ids(), reverse=True)[:LATEST_RESULTS_SHOWN]
        latest = selectors.results_by_ids(result_ids=newest)
        title = f"The latest {len(latest)} results"
        context["tables"].append(
            results_table(task, spec, latest, by=["model", "structure"], title=title)
        )
    view = boards.TaskView(
        task=task,
        spec=spec,
        evidence=evidence,
        scores=scores,
        names={m.pk: m.name for m in chosen},
        styles=model_styles((m.pk, m.name) for m in models),
        query=query,
    )
    context.update(boards.task_section(view))
    return context


def within_table(
    task: Task, spec: TaskSpec, scores: list[TaskScore], slugs: Mapping[str, str], label: str
) -> Table:
    """The task table of one group of equal conditions (one device and thread count)."""
    table = task_table(task, spec, scores, slugs=slugs)
    return replace(
        table, id=f"{table.id}-{slugify(label)}", title=f"{task.name} on {label}: models"
    )


def model_page(*, model: MLIP) -> Context:
    tasks = selectors.all_tasks()
    models = selectors.all_models()
    evidence = task_evidence(tasks=tasks, models=models)
    specs = {t.pk: spec_or_placeholder(t.function) for t in tasks}
    scores = {t.pk: task_scores(evidence[t.pk], models, spec=specs[t.pk]) for t in tasks}
    mine = {t.pk: next((s for s in scores[t.pk] if s.model == model.name), None) for t in tasks}
    ranked = {t.pk: sum(s.ranked for s in scores[t.pk]) for t in ranked_tasks(tasks)}
    own_ids = [row.result_id for t in tasks for row in evidence[t.pk].done(model.pk).values()]
    results = selectors.results_by_ids(result_ids=own_ids)
    tables = [task_summary_table(tasks, mine, ranked_counts=ranked)]
    for task in tasks:
        own = [r for r in results if r.task_id == task.pk]
        if own:
            title = f"{task.name}: per structure"
            tables.append(
                results_table(
                    task, specs[task.pk], own, by=["structure"], title=title, references=True
                )
            )
    failed = _failed_jobs(selectors.jobs_matching(status=JobStatus.FAILED, model=model.name))
    return {
        "nav_tasks": tasks,
        "model": model,
        "coverage": element_coverage(model, evidence.values()),
        "tables": [*tables, failed["table"]],
        "failed": failed,
        "failed_url": jobs_url(status=JobStatus.FAILED, model=model.name),
        "has_results": bool(results),
    }


def structure_page(*, structure: Structure) -> Context:
    tasks = selectors.all_tasks()
    models = selectors.all_models()
    evidence = task_evidence(tasks=tasks, models=models, structures=[structure])
    ids = [result_id for task in tasks for result_id in evidence[task.pk].result_ids()]
    results = selectors.results_by_ids(result_ids=ids)
    styles = model_styles((m.pk, m.name) for m in models)
    tables, figures = [], []
    for task in tasks:
        own = sorted(
            (r for r in results if r.task_id == task.pk), key=lambda r: r.model.name.lower()
        )
        if not own:
            continue
        spec = spec_or_placeholder(task.function)
        title = f"{task.name}: per model"
        tables.append(results_table(task, spec, own, by=["model"], title=title))
        rows = [(r.model.name, {"output": r.output, "headline": r.headline}) for r in own]
        panels = boards.structure_panels(spec, rows, styles, structure.reference or {})
        figures += [
            {
                "id": f"{task.slug}-{panel['name']}",
                "title": f"{task.name}: {panel['title']}",
                "figure": panel["figure"],
            }
            for panel in panels
        ]
    failed = _failed_jobs(
        selectors.jobs_matching(status=JobStatus.FAILED, structure_id=structure.id)
    )
    labels = quantity_labels()
    return {
        "structure": structure,
        "cell": structure.atoms.get("cell") or [],
        "reference": [
            (labels[key].heading if key in labels else key, value)
            for key, value in structure.reference.items()
            if key != "source"
        ],
        "reference_source": structure.reference.get("source", ""),
        "tables": [*tables, failed["table"]],
        "figures": figures,
        "failed": failed,
        "has_results": bool(results),
    }


def element_coverage(model: MLIP, evidence: Iterable[TaskEvidence]) -> dict[str, list[str]]:
    """Elements of the structures the model has results for, and of those it does not
    cover (not applicable), in atomic-number order."""
    covered: set[str] = set()
    outside: set[str] = set()
    for found in evidence:
        for ids, into in (
            (found.done(model.pk), covered),
            (found.not_applicable.get(model.pk, ()), outside),
        ):
            for structure_id in ids:
                info = found.structure(structure_id)
                into |= set(Formula(info.formula).count()) if info else set()
    order = {symbol: z for z, symbol in enumerate(chemical_symbols)}
    return {
        "covered": sorted(covered, key=order.__getitem__),
        "not_covered": sorted(outside - covered, key=order.__getitem__),
    }


def _failed_jobs(jobs: QuerySet) -> Context:
    """The latest failed jobs as a table, and how many there are in all."""
    total = jobs.count()
    shown = list(jobs[:FAILED_JOBS_SHOWN]) if total else []
    table = jobs_table(shown, links=True, table_id="failed-jobs", title="Failed jobs")
    return {"table": table, "total": total, "shown": len(shown)}


def _unranked(models: Sequence[MLIP]) -> list[ArenaRow]:
    return [ArenaRow(model=m.name, task_ranks={}, rank_sum=0, rank=0) for m in models]


DELTA_BIBTEX = """@article{lejaeghere2016delta,
  title = {Reproducibility in density functional theory calculations of solids},
  author = {Lejaeghere, Kurt and others},
  journal = {Science},
  volume = {351},
  number = {6280},
  pages = {aad3000},
  year = {2016},
  doi = {10.1126/science.aad3000}
}"""


def cite_page(*, dataset_repo: str, today: str) -> Context:
    """How to cite the results, the dataset, the Delta references and each model."""
    models = [m for m in selectors.all_models() if m.bibtex]
    url = f"https://huggingface.co/datasets/{dataset_repo}" if dataset_repo else ""
    dataset = (
        "@misc{mlip_arena_results,\n"
        "  title = {MLIP Arena results},\n"
        f"  howpublished = {{\\url{{{url}}}}},\n"
        f"  note = {{Hugging Face dataset {dataset_repo}, accessed {today}}}\n"
        "}"
        if dataset_repo
        else ""
    )
    return {
        "dataset_url": url,
        "dataset_bibtex": dataset,
        "delta_bibtex": DELTA_BIBTEX,
        "models": models,
    }
