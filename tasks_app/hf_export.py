"""Export the results as a Hugging Face dataset folder (layout in hf_format), deterministically.

The same database gives byte-identical files: rows are sorted in Python (not by a
database collation) and nothing depends on the clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from arena_site.errors import ArenaError
from leaderboard_app.ranking import (
    TASK_METRICS,
    Metric,
    ModelEvidence,
    TaskScore,
    arena_ranking,
    score_task,
)
from leaderboard_app.tables import MEAN_STD, Column, display
from models_app.models import MLIP
from models_app.services import PORTABLE_FIELDS
from tasks_app.hf_format import (
    ARENA_FILE,
    CARD,
    MODELS_FILE,
    STRUCTURES_FILE,
    TASKS_FILE,
    board_path,
    check_repo_id,
    data_path,
    jsonl,
    write_folder,
)
from tasks_app.keys import job_key
from tasks_app.models import Result, Structure, Task
from tasks_app.services import HEADLINE_FIELDS, TASK_FIELDS

LICENSE = "cc-by-4.0"
TAGS = ["mlip", "interatomic-potentials", "materials-science", "chemistry", "benchmark"]


@dataclass
class ExportReport:
    folder: Path
    changed: list[str]
    results: dict[str, int]
    stale: int = 0

    @property
    def total(self) -> int:
        return sum(self.results.values())

    def commit_message(self) -> str:
        tasks = ", ".join(f"{slug} ({n})" for slug, n in self.results.items()) or "none"
        return f"Update MLIP Arena results: {self.total} results; tasks {tasks}"


@dataclass
class ExportRows:
    """Plain rows for every file of the dataset, each list in its final order."""

    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    structures: list[dict[str, Any]] = field(default_factory=list)
    stale: int = 0


def default_export_dir(repo_id: str) -> Path:
    return settings.BASE_DIR / "var" / "hf" / check_repo_id(repo_id).replace("/", "--")


def export_dataset(*, repo_id: str, folder: Path) -> ExportReport:
    """Write the dataset folder; files whose bytes would not change are left untouched."""
    files, rows = dataset_files(repo_id=repo_id)
    changed = write_folder(folder, files)
    counts = {slug: len(task_rows) for slug, task_rows in rows.results.items()}
    return ExportReport(folder, changed, counts, rows.stale)


def dataset_files(*, repo_id: str) -> tuple[dict[str, bytes], ExportRows]:
    """Every file of the dataset by relative path, and the rows they were made from."""
    check_repo_id(repo_id)
    rows = export_rows()
    if not rows.results:
        raise ArenaError("no results to export; run a benchmark first (manage.py run_benchmark)")
    boards = {t["slug"]: leaderboard_rows(t, rows.results[t["slug"]]) for t in rows.tasks}
    arena = arena_rows(rows.tasks, boards)
    files = {data_path(slug): jsonl(task_rows) for slug, task_rows in rows.results.items()}
    files |= {board_path(slug): jsonl(board) for slug, board in boards.items()}
    if arena:
        files[ARENA_FILE] = jsonl(arena)
    files[MODELS_FILE] = jsonl(rows.models)
    files[TASKS_FILE] = jsonl(rows.tasks)
    files[STRUCTURES_FILE] = jsonl(rows.structures)
    files[CARD] = dataset_card(repo_id, rows, boards, arena).encode()
    return dict(sorted(files.items())), rows


def export_rows() -> ExportRows:
    """Current results (their key still matches model, task and structure) and their registry rows.

    A result whose key no longer matches, because the task's version went up or the
    model's checkpoint changed, is left out and counted as stale.
    """
    rows = ExportRows()
    results = Result.objects.select_related("model", "task", "structure__structure_set", "job")
    models, tasks, structures = {}, {}, {}
    by_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in results.iterator(chunk_size=500):
        model, task, structure = result.model, result.task, result.structure
        params = result.job.params
        if job_key(model=model, task=task, structure=structure, params=params) != result.key:
            rows.stale += 1
            continue
        models[model.name] = model_row(model)
        tasks[task.slug] = task_row(task)
        structures[(structure.structure_set.name, structure.label)] = structure_row(structure)
        by_task[task.slug].append(result_row(result))
    order = {key: (row["position"], key[1]) for key, row in structures.items()}
    for slug in sorted(by_task):
        rows.results[slug] = sorted(
            by_task[slug],
            key=lambda r: (
                r["model"],
                r["structure_set"],
                order[(r["structure_set"], r["structure"])],
                r["key"],
            ),
        )
    rows.tasks = [tasks[slug] for slug in sorted(tasks)]
    rows.models = [models[name] for name in sorted(models)]
    rows.structures = [
        structures[key] for key in sorted(structures, key=lambda k: (k[0], order[k]))
    ]
    return rows


def result_row(result: Result) -> dict[str, Any]:
    structure = result.structure
    return {
        "key": result.key,
        "model": result.model.name,
        "task": result.task.slug,
        "task_version": result.task.version,
        "structure_set": structure.structure_set.name,
        "structure": structure.label,
        "formula": structure.formula,
        "natoms": structure.natoms,
        "structure_hash": structure.content_hash,
        "params": result.job.params,
        **{name: getattr(result, name) for name in HEADLINE_FIELDS},
        "metrics": result.metrics,
        "output": result.output,
        "compute_seconds": result.job.compute_seconds,
    }


def model_row(model: MLIP) -> dict[str, Any]:
    row = {name: getattr(model, name) for name in PORTABLE_FIELDS}
    row["release_date"] = model.release_date.isoformat() if model.release_date else None
    return row


def task_row(task: Task) -> dict[str, Any]:
    return {"slug": task.slug, **{name: getattr(task, name) for name in TASK_FIELDS}}


def structure_row(structure: Structure) -> dict[str, Any]:
    return {
        "structure_set": structure.structure_set.name,
        "structure_set_description": structure.structure_set.description,
        "label": structure.label,
        "position": structure.position,
        "formula": structure.formula,
        "natoms": structure.natoms,
        "atoms": structure.atoms,
        "content_hash": structure.content_hash,
        "reference": structure.reference,
    }


def leaderboard_rows(task: dict[str, Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per model, ranked as on the site, but over this export's results only.

    ``missing`` counts the structures of this export that other models have and this
    one lacks; failed jobs are not exported, so they do not count here.
    """
    metrics = TASK_METRICS.get(task["function"], ())
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in results:
        by_model[row["model"]].append(row["metrics"])
    structure_count = len({(r["structure_set"], r["structure"]) for r in results})
    scores = score_task(
        [ModelEvidence(model, by_model[model]) for model in sorted(by_model)],
        metrics=metrics,
        structure_count=structure_count,
    )
    return [_score_row(score, metrics) for score in scores]


def _score_row(score: TaskScore, metrics: Sequence[Metric]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "rank": score.rank or None,
        "model": score.model,
        "results": score.done,
        "missing": score.missing,
    }
    for metric in metrics:
        row[metric.key] = score.stats[metric.key].mean
        row[f"{metric.key}_std"] = score.stats[metric.key].std
    row |= {f"{key}_rank": rank for key, rank in score.ranks.items()}
    return row


def arena_rows(
    tasks: list[dict[str, Any]], boards: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The arena rank over the tasks that are ranked; empty when none is."""
    ranked = {
        task["slug"]: {row["model"]: row["rank"] for row in boards[task["slug"]]}
        for task in tasks
        if task["function"] in TASK_METRICS
    }
    if not ranked:
        return []
    models = sorted({model for board in boards.values() for model in (r["model"] for r in board)})
    return [
        {"rank": row.rank, "model": row.model, "rank_sum": row.rank_sum}
        | {f"{slug}_rank": rank for slug, rank in row.task_ranks.items()}
        for row in arena_ranking(models, ranked)
    ]


@dataclass(frozen=True)
class Config:
    """One config of the dataset card: a name, its file, and a line for the card's table."""

    name: str
    path: str
    rows: int
    contents: str


def dataset_card(
    repo_id: str,
    rows: ExportRows,
    boards: dict[str, list[dict[str, Any]]],
    arena: list[dict[str, Any]],
) -> str:
    """README.md: YAML front matter with one config per file, then a short description."""
    configs = dataset_configs(rows, boards, arena)
    front = {
        "license": LICENSE,
        "pretty_name": "MLIP Arena results",
        "tags": TAGS,
        "configs": [
            {"config_name": c.name, "data_files": [{"split": "train", "path": c.path}]}
            | ({"default": True} if index == 0 else {})
            for index, c in enumerate(configs)
        ],
    }
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000).rstrip(),
        "---",
        "",
        "# MLIP Arena results",
        "",
        "Benchmark results of machine-learning interatomic potentials (MLIPs), exported by "
        "`manage.py export_hf` of the MLIP Arena. Each task is a config with one row per "
        "model and structure: headline numbers, metrics and the raw curves. "
        "`manage.py import_hf` loads the dataset into another installation.",
        "",
        "Dict fields are flat columns named FIELD.KEY, such as `metrics.tortuosity` or "
        "`output.energies_ev` (curves in eV and Å³); a row lacks the keys its dict lacks.",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'rows = load_dataset("{repo_id}", "{configs[0].name}", split="train")',
        "```",
        "",
        "| config | file | rows | contents |",
        "| --- | --- | --- | --- |",
        *(f"| `{c.name}` | `{c.path}` | {c.rows} | {c.contents} |" for c in configs),
        "",
    ]
    for task in rows.tasks:
        lines += _board_markdown(task, boards[task["slug"]])
    return "\n".join(lines)


def dataset_configs(
    rows: ExportRows, boards: dict[str, list[dict[str, Any]]], arena: list[dict[str, Any]]
) -> list[Config]:
    """Every data file as a config, the tasks first."""
    configs = [
        Config(t["slug"], data_path(t["slug"]), len(rows.results[t["slug"]]), t["name"])
        for t in rows.tasks
    ]
    configs += [
        Config(f"leaderboard-{slug}", board_path(slug), len(board), f"leaderboard of {slug}")
        for slug, board in boards.items()
    ]
    if arena:
        configs.append(Config("leaderboard", ARENA_FILE, len(arena), "arena rank over tasks"))
    return [
        *configs,
        Config("registry-models", MODELS_FILE, len(rows.models), "models and checkpoints"),
        Config("registry-tasks", TASKS_FILE, len(rows.tasks), "tasks and their parameters"),
        Config("registry-structures", STRUCTURES_FILE, len(rows.structures), "structures"),
    ]


def _board_markdown(task: dict[str, Any], board: list[dict[str, Any]]) -> list[str]:
    metrics = TASK_METRICS.get(task["function"], ())
    header = ["rank", "model", "results", *(_cell(m.label) for m in metrics)]
    lines = [f"## {task['name']} (`{task['slug']}`, version {task['version']})", ""]
    lines += [f"| {' | '.join(header)} |", f"| {' | '.join('---' for _ in header)} |"]
    for row in board:
        cells = [str(row["rank"] or "–"), _cell(row["model"]), str(row["results"])]
        cells += [_cell(display(_column(m), row[m.key], row)) for m in metrics]
        lines.append(f"| {' | '.join(cells)} |")
    lines.append("")
    lines += [f"- {m.label}: {m.help}" for m in metrics]
    return [*lines, ""] if metrics else lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _column(metric: Metric) -> Column:
    """The site's column for a metric, so the card shows numbers as the site does."""
    return Column(metric.key, metric.label, MEAN_STD, digits=metric.digits, percent=metric.percent)
