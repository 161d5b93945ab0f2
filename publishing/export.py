"""Export the results as a Hugging Face dataset folder (layout in publishing.format).

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
from compute.tasks import spec_or_placeholder
from compute.tasks.spec import Metric
from leaderboard_app.ranking import TaskScore
from leaderboard_app.standings import arena_rows as arena_ranking_rows
from leaderboard_app.standings import ranked_tasks, task_scores
from models_app.models import MLIP
from models_app.selectors import all_models
from models_app.services import PORTABLE_FIELDS
from publishing.format import (
    ARENA_FILE,
    CARD,
    FORMAT_VERSION,
    MODELS_FILE,
    STRUCTURES_FILE,
    TASKS_FILE,
    board_path,
    check_repo_id,
    data_path,
    jsonl,
    portable_provenance,
    write_folder,
)
from tasks_app.evidence import TaskEvidence, task_evidence
from tasks_app.models import Result, Structure, Task
from tasks_app.selectors import all_tasks, result_count, results_by_id, structures_by_id
from tasks_app.services import TASK_FIELDS

LICENSE = "cc-by-4.0"
# The card's prose, kept out of the functions: wording is not behaviour to test.
CARD_INTRO = (
    "# MLIP Arena results\n"
    "\n"
    "Benchmark results of machine-learning interatomic potentials (MLIPs), exported by "
    "`manage.py export_hf` of the MLIP Arena. Each task is a config with one row per "
    "model and structure: headline numbers, metrics and the raw curves. "
    "`manage.py import_hf` loads the dataset into another installation.\n"
    "\n"
    "Dict fields are flat columns named FIELD.KEY, such as `headline.b0_gpa`, "
    "`metrics.tortuosity` or `output.energies_ev` (curves in eV and Å³); a row lacks "
    "the keys its dict lacks. Each task's leaderboard follows; headline numbers and "
    "metrics are described in the task's section.\n"
    "\n"
    "Export format version {version} (`mlip_arena.format_version` above).\n"
    "\n"
    "```python\n"
    "from datasets import load_dataset\n"
    "\n"
    'rows = load_dataset("{repo_id}", "{config}", split="train")\n'
    "```\n"
    "\n"
    "| config | file | rows | contents |\n"
    "| --- | --- | --- | --- |"
)
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
    rows, evidence, models = export_rows()
    if not rows.results:
        raise ArenaError("no results to export; run a benchmark first (manage.py run_benchmark)")
    scores = {t["slug"]: task_scores(evidence[t["slug"]], models, listed=False) for t in rows.tasks}
    boards = {
        slug: [_score_row(s, _metrics(rows, slug)) for s in task] for slug, task in scores.items()
    }
    arena = arena_rows([evidence[slug].task for slug in scores], scores, models)
    files = {data_path(slug): jsonl(task_rows) for slug, task_rows in rows.results.items()}
    files |= {board_path(slug): jsonl(board) for slug, board in boards.items()}
    if arena:
        files[ARENA_FILE] = jsonl(arena)
    files[MODELS_FILE] = jsonl(rows.models)
    files[TASKS_FILE] = jsonl(rows.tasks)
    files[STRUCTURES_FILE] = jsonl(rows.structures)
    files[CARD] = dataset_card(repo_id, rows, boards, arena).encode()
    return dict(sorted(files.items())), rows


def export_rows() -> tuple[ExportRows, dict[str, TaskEvidence], list[MLIP]]:
    """The current results (see tasks_app.evidence), the rows of what they need, the evidence.

    Results that are not current, because the task's version or the model's
    checkpoint changed since, or because they ran with other than the protocol's
    parameters, are left out and counted as stale.
    """
    rows = ExportRows()
    tasks = all_tasks()
    models = all_models()
    by_id = task_evidence(tasks=tasks, models=models)
    current = {result_id for e in by_id.values() for result_id in e.result_ids()}
    rows.stale = result_count() - len(current)
    by_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in results_by_id(result_ids=current):
        by_task[result.task.slug].append(result_row(result))
    exported = [t for t in tasks if by_task.get(t.slug)]
    evidence = {t.slug: by_id[t.pk] for t in exported}
    # Every structure that counts, with or without results, so that an import
    # reproduces the missing counts of this leaderboard.
    structure_ids = {info.id for e in evidence.values() for info in e.structures}
    structures = structures_by_id(structure_ids=structure_ids)
    order = {s.pk: (s.structure_set.name, s.position, s.label) for s in structures}
    for slug in sorted(by_task):
        rows.results[slug] = sorted(
            by_task[slug],
            key=lambda r: (r["model"], r["structure_set"], r["position"], r["structure"], r["key"]),
        )
        for row in rows.results[slug]:
            del row["position"]
    with_results = {r["model"] for task_rows in rows.results.values() for r in task_rows}
    rows.tasks = [task_row(t) for t in sorted(exported, key=lambda t: t.slug)]
    rows.models = [
        model_row(m) for m in sorted(models, key=lambda m: m.name) if m.name in with_results
    ]
    rows.structures = [structure_row(s) for s in sorted(structures, key=lambda s: order[s.pk])]
    return rows, evidence, [m for m in models if m.name in with_results]


def result_row(result: Result) -> dict[str, Any]:
    """A result as a row of data/<task>.jsonl (``position`` only orders the rows)."""
    structure = result.structure
    return {
        "key": result.key,
        "model": result.model.name,
        "task": result.task.slug,
        "task_version": result.task.version,
        "structure_set": structure.structure_set.name,
        "structure": structure.label,
        "position": structure.position,
        "formula": structure.formula,
        "natoms": structure.natoms,
        "structure_hash": structure.content_hash,
        "params": result.job.params,
        "headline": result.headline,
        "metrics": result.metrics,
        "output": result.output,
        "compute_seconds": result.job.compute_seconds,
        "provenance": portable_provenance(result.job.ran_with or {}),
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


def _metrics(rows: ExportRows, slug: str) -> Sequence[Metric]:
    task = next(t for t in rows.tasks if t["slug"] == slug)
    return spec_or_placeholder(task["function"]).metrics


def _score_row(score: TaskScore, metrics: Sequence[Metric]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "rank": score.rank or None,
        "model": score.model,
        "results": score.done,
        "missing": score.missing,
        "failed": score.failed,
        "not_applicable": score.not_applicable,
    }
    if any(m.ranked for m in metrics):
        row |= {"partial": score.partial, "compared": score.compared}
    for metric in metrics:
        row[metric.key] = score.stats[metric.key].mean
        row[f"{metric.key}_std"] = score.stats[metric.key].std
        if metric.absolute:
            row[f"{metric.key}_signed"] = score.stats[metric.key].signed_mean
    row |= {f"{key}_rank": rank for key, rank in score.ranks.items()}
    row |= {f"{key}_group_rank": rank for key, rank in score.group_ranks.items()}
    return row


def arena_rows(
    tasks: list[Task], scores: dict[str, list[TaskScore]], models: list[MLIP]
) -> list[dict[str, Any]]:
    """The arena rank over the tasks that are ranked; empty when none is."""
    ranked = {t.slug for t in ranked_tasks(tasks)}
    if not ranked:
        return []
    by_task = {slug: task for slug, task in scores.items() if slug in ranked}
    names = sorted(m.name for m in models)
    return [
        {"rank": row.rank or None, "model": row.model, "rank_sum": row.rank_sum or None}
        | {f"{slug}_rank": rank for slug, rank in row.task_ranks.items()}
        for row in arena_ranking_rows(names, by_task)
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
        "mlip_arena": {"format_version": FORMAT_VERSION},
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
        CARD_INTRO.format(version=FORMAT_VERSION, repo_id=repo_id, config=configs[0].name),
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
    metrics = spec_or_placeholder(task["function"]).metrics
    header = ["rank", "model", "results", *(_cell(m.heading) for m in metrics)]
    lines = [f"## {task['name']} (`{task['slug']}`, version {task['version']})", ""]
    lines += [f"| {' | '.join(header)} |", f"| {' | '.join('---' for _ in header)} |"]
    for row in board:
        cells = [str(row["rank"] or "not benchmarked"), _cell(row["model"]), str(row["results"])]
        cells += [_cell(m.mean_std_text(row[m.key], row[f"{m.key}_std"])) for m in metrics]
        lines.append(f"| {' | '.join(cells)} |")
    lines.append("")
    lines += [f"- {m.heading}: {m.help}" for m in metrics]
    return [*lines, ""] if metrics else lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
