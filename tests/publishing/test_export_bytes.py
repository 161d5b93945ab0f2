"""export_hf writes exactly the bytes of a reference export built here, and an export
imported into an empty database exports to the same bytes.

The reference reads the database through the ORM, ranks through leaderboard_app.standings,
and formats numbers and writes JSON Lines itself: none of it is the code under test
(publishing/, the spec's number format), so a change of the export that moves one byte of
one file fails here. The database holds three tasks: EOS and relax with EMT's own results,
and diatomics with metrics picked by hand to reach each branch of the number formats
(fixed decimals, ``g`` for tiny and huge values, percent, none).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from typing import Any

import pytest
import yaml

from compute.tasks import spec_or_placeholder
from leaderboard_app.standings import arena_rows, ranked_tasks, task_scores
from models_app.models import MLIP
from models_app.services import PORTABLE_FIELDS
from publishing.export import CARD_INTRO, LICENSE, TAGS, export_dataset
from publishing.imports import import_dataset
from tasks_app.evidence import task_evidence
from tasks_app.models import BenchmarkRun, Job, Result, Structure, StructureSet, Task
from tasks_app.services import TASK_FIELDS
from tests.publishing.conftest import SECOND_MODEL, folder_files

pytestmark = pytest.mark.django_db
REPO = "arena-test/bytes"
# Diatomics metrics by (model, structure): fixed decimals, tiny and huge values (``g``),
# a percent metric, a negative signed value and a missing one.
DIATOMICS = {
    ("EMT", "Al"): {"tortuosity": 1.25, "force_flips": 1, "conservation_deviation_ev_per_a":
                    3.2e-05, "omega_e_rel_error": -0.0412, "r_e_error_a": -0.015},
    ("EMT", "Cu"): {"tortuosity": 2.5, "force_flips": 3, "conservation_deviation_ev_per_a":
                    1.0e-05, "omega_e_rel_error": 0.127, "r_e_error_a": 0.02},
    (SECOND_MODEL, "Al"): {"tortuosity": 123456.0, "force_flips": 0,
                           "conservation_deviation_ev_per_a": 0.5, "omega_e_rel_error": None},
}  # fmt: skip
# A provenance as a worker records it; the process id is not exported.
RAN_WITH = {"device": "cpu", "threads": 2, "packages": {"ase": "3.23.0"}, "pid": 4242}


@pytest.fixture
def three_tasks(arena_results) -> int:
    """arena_results (EOS and relax of EMT and its twin) plus diatomics results with the
    hand-picked metrics and provenance above, stored through run_create, job_start,
    job_ran_with and job_finish."""
    from tasks_app.services import job_finish, job_ran_with, job_start, run_create

    metals = StructureSet.objects.get(name="hf-metals")
    task = Task.objects.get(slug="diatomics")
    for name in ("EMT", SECOND_MODEL):
        chosen = [s for s in metals.structures.order_by("position") if (name, s.label) in DIATOMICS]
        model = MLIP.objects.get(name=name)
        _, jobs = run_create(task=task, models=[model], structure_set=metals, structures=chosen)
        for job in jobs:
            job_start(job_id=job.id)
            job_ran_with(job_id=job.id, ran_with=RAN_WITH)
            metrics = DIATOMICS[(name, job.structure.label)]
            output = {"r_e_a": 2.5 + job.structure.position / 8, "d_e_ev": None, "curve": [1, 2]}
            job_finish(job_id=job.id, output=output, metrics=metrics, compute_seconds=0.25)
    return arena_results + len(DIATOMICS)


def line(row: dict[str, Any]) -> str:
    """One JSON Lines row: dict fields flat as FIELD.KEY, keys sorted, NaN as null."""
    flat: dict[str, Any] = {}
    for name, value in row.items():
        flat |= (
            {f"{name}.{k}": v for k, v in value.items()}
            if isinstance(value, dict)
            else {name: value}
        )
    finite = {
        k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in flat.items()
    }
    return json.dumps(finite, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def lines(rows: list[dict[str, Any]]) -> bytes:
    return "".join(line(row) for row in rows).encode()


def result_row(result: Result) -> dict[str, Any]:
    structure, job = result.structure, result.job
    provenance: dict[str, Any] = {}
    for name, value in (job.ran_with or {}).items():
        if isinstance(value, dict):
            provenance |= {f"{name}.{k}": v for k, v in value.items()}
        elif name != "pid":
            provenance[name] = value
    return {
        "key": result.key, "model": result.model.name, "task": result.task.slug,
        "task_version": result.task.version, "structure_set": structure.structure_set.name,
        "structure": structure.label, "formula": structure.formula, "natoms": structure.natoms,
        "structure_hash": structure.content_hash, "params": job.params,
        "headline": result.headline, "metrics": result.metrics, "output": result.output,
        "compute_seconds": job.compute_seconds, "provenance": provenance,
    }  # fmt: skip


def board_row(score, metrics) -> dict[str, Any]:
    row = {"rank": score.rank or None, "model": score.model, "results": score.done,
           "missing": score.missing, "failed": score.failed,
           "not_applicable": score.not_applicable}  # fmt: skip
    if any(m.ranked for m in metrics):
        row |= {"partial": score.partial, "compared": score.compared}
    for m in metrics:
        row |= {m.key: score.stats[m.key].mean, f"{m.key}_std": score.stats[m.key].std}
        if m.absolute:
            row[f"{m.key}_signed"] = score.stats[m.key].signed_mean
    row |= {f"{k}_rank": rank for k, rank in score.ranks.items()}
    return row | {f"{k}_group_rank": rank for k, rank in score.group_ranks.items()}


def reference_export() -> dict[str, bytes]:
    """The dataset as export_hf's format describes it, built without publishing/."""
    tasks, models = list(Task.objects.order_by("slug")), list(MLIP.objects.order_by("name"))
    evidence = task_evidence(tasks=tasks, models=models)
    results = defaultdict(list)
    for r in Result.objects.select_related("model", "task", "structure__structure_set", "job"):
        order = (r.model.name, r.structure.structure_set.name, r.structure.position)
        results[r.task.slug].append((order + (r.structure.label, r.key), result_row(r)))
    tasks = [t for t in tasks if results[t.slug]]
    names = sorted({row["model"] for rows in results.values() for _, row in rows})
    used = [m for m in models if m.name in names]
    files = {f"data/{t.slug}.jsonl": lines([r for _, r in sorted(results[t.slug])]) for t in tasks}
    boards, scores = {}, {}
    for t in tasks:
        metrics = spec_or_placeholder(t.function).metrics
        scores[t.slug] = task_scores(evidence[t.pk], used, listed=False)
        boards[t.slug] = [board_row(s, metrics) for s in scores[t.slug]]
        files[f"leaderboard/{t.slug}.jsonl"] = lines(boards[t.slug])
    ranked = {t.slug for t in ranked_tasks(tasks)}
    arena = [
        {"rank": a.rank or None, "model": a.model, "rank_sum": a.rank_sum or None}
        | {f"{slug}_rank": rank for slug, rank in a.task_ranks.items()}
        for a in arena_rows(names, {s: v for s, v in scores.items() if s in ranked})
    ]
    files["leaderboard/arena.jsonl"] = lines(arena)
    files["registry/models.jsonl"] = lines(
        [{f: getattr(m, f) for f in PORTABLE_FIELDS}
         | {"release_date": m.release_date.isoformat() if m.release_date else None} for m in used]
    )  # fmt: skip
    files["registry/tasks.jsonl"] = lines(
        [{"slug": t.slug, **{f: getattr(t, f) for f in TASK_FIELDS}} for t in tasks]
    )
    counted = {info.id for t in tasks for info in evidence[t.pk].structures}
    structures = sorted(
        Structure.objects.filter(id__in=counted).select_related("structure_set"),
        key=lambda s: (s.structure_set.name, s.position, s.label),
    )
    files["registry/structures.jsonl"] = lines(
        [{"structure_set": s.structure_set.name,
          "structure_set_description": s.structure_set.description, "label": s.label,
          "position": s.position, "formula": s.formula, "natoms": s.natoms, "atoms": s.atoms,
          "content_hash": s.content_hash, "reference": s.reference} for s in structures]
    )  # fmt: skip
    files["README.md"] = reference_card(tasks, results, boards, arena, used, structures).encode()
    return dict(sorted(files.items()))


def mean_std(mean: float | None, std: float | None, digits: int, percent: bool) -> str:
    """The site's table format of a mean ± its deviation, written out here: percent with
    two digits fewer; ``g`` for a mean outside [1e-3, 1e5) (a deviation never); "–" for none."""
    if mean is None:
        return "–"
    if percent:
        text = f"{mean * 100:.{max(digits - 2, 1)}f}%"
        spread = None if std is None else f"{std * 100:.{max(digits - 2, 1)}f}%"
    else:
        tiny_or_huge = mean != 0 and not 1e-3 <= abs(mean) < 1e5
        text = f"{mean:.{digits}g}" if tiny_or_huge else f"{mean:.{digits}f}"
        spread = None if std is None else f"{std:.{digits}f}"
    return text if spread is None else f"{text} ± {spread}"


def escaped(text: str) -> str:
    return text.replace("|", "\\|")


def reference_card(tasks, results, boards, arena, models, structures) -> str:
    configs = [(t.slug, f"data/{t.slug}.jsonl", len(results[t.slug]), t.name) for t in tasks]
    configs += [(f"leaderboard-{t.slug}", f"leaderboard/{t.slug}.jsonl", len(boards[t.slug]),
                 f"leaderboard of {t.slug}") for t in tasks]  # fmt: skip
    configs += [
        ("leaderboard", "leaderboard/arena.jsonl", len(arena), "arena rank over tasks"),
        ("registry-models", "registry/models.jsonl", len(models), "models and checkpoints"),
        ("registry-tasks", "registry/tasks.jsonl", len(tasks), "tasks and their parameters"),
        ("registry-structures", "registry/structures.jsonl", len(structures), "structures"),
    ]
    front = {"license": LICENSE, "pretty_name": "MLIP Arena results", "tags": TAGS,
             "mlip_arena": {"format_version": 2},
             "configs": [{"config_name": c[0], "data_files": [{"split": "train", "path": c[1]}]}
                         | ({"default": True} if i == 0 else {})
                         for i, c in enumerate(configs)]}  # fmt: skip
    out = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000).rstrip()]
    out += ["---", "", CARD_INTRO.format(version=2, repo_id=REPO, config=configs[0][0])]
    out += [f"| `{name}` | `{path}` | {n} | {what} |" for name, path, n, what in configs]
    out.append("")
    for t in tasks:
        metrics = spec_or_placeholder(t.function).metrics
        head = ["rank", "model", "results", *(escaped(m.heading) for m in metrics)]
        out += [f"## {t.name} (`{t.slug}`, version {t.version})", ""]
        out += [f"| {' | '.join(head)} |", f"| {' | '.join('---' for _ in head)} |"]
        for row in boards[t.slug]:
            cells = [str(row["rank"] or "not benchmarked"), row["model"], str(row["results"])]
            cells += [
                mean_std(row[m.key], row[f"{m.key}_std"], m.digits, m.percent) for m in metrics
            ]
            out.append(
                f"| {' | '.join(c if i in (0, 2) else escaped(c) for i, c in enumerate(cells))} |"
            )
        out += ["", *(f"- {m.heading}: {m.help}" for m in metrics)]
        out += [""] if metrics else []
    return "\n".join(out)


def test_the_export_is_the_reference_export_byte_for_byte(three_tasks, tmp_path):
    report = export_dataset(repo_id=REPO, folder=tmp_path / "export")
    assert report.results == {"diatomics": 3, "eos": 5, "relax": 3} and report.stale == 0
    exported, expected = folder_files(report.folder), reference_export()
    assert list(exported) == list(expected)
    for path, content in expected.items():
        assert exported[path].decode() == content.decode(), path
    card = exported["README.md"].decode()
    # The formats reached (hand computation from DIATOMICS): tortuosity 1.875 ± 0.884,
    # conservation 2.1e-05 (``g``) ± 0.000, |ω_e error| 8.4% (|−4.12%| and 12.7%), the
    # twin's tortuosity 1.23e+05 (``g``) without a deviation (one result).
    assert "| 1.875 ± 0.884 |" in card and "| 2.1e-05 ± 0.000 |" in card
    assert "| 8.4% ± 6.1% |" in card and "| 1.23e+05 |" in card


def test_an_export_imported_into_an_empty_database_exports_the_same_bytes(three_tasks, tmp_path):
    first = folder_files(export_dataset(repo_id=REPO, folder=tmp_path / "first").folder)
    for model in (Result, Job, BenchmarkRun, Structure, StructureSet, Task, MLIP):
        model.objects.all().delete()
    report = import_dataset(source=str(tmp_path / "first"))
    assert report.created == three_tasks
    again = export_dataset(repo_id=REPO, folder=tmp_path / "again")
    assert folder_files(again.folder) == first
