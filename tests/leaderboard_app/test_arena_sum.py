"""The arena rank across tasks, from stored results to the sum: who counts on each task
and who is only shown (partial, set aside, baseline, not benchmarked).

Results go in through the real services with hand-set metrics; each task is read
through task_evidence and task_scores and summed by arena_rows, as the arena page and
the export do. Every rank below is computed by hand in the test's docstring.
"""

from __future__ import annotations

import pytest
from ase.build import bulk

from leaderboard_app.ranking import NOT_BENCHMARKED
from leaderboard_app.standings import arena_rows, ranked_tasks, task_scores
from models_app.models import MLIP
from tasks_app.evidence import task_evidence
from tasks_app.models import StructureSet, Task
from tasks_app.services import job_finish, job_start, run_create, seed_tasks
from tasks_app.structure_sets import store_structure_set

pytestmark = pytest.mark.django_db
LABELS = ("Cu", "Al", "Ni", "Pd")
TASKS = {"ev": "tortuosity", "heating": "valid_fraction"}  # lower and higher is better
# model -> {task: (value on every structure it ran, how many structures it ran)}
RESULTS = {
    "A": {"ev": (1.1, 4), "heating": (0.9, 4)},
    "B": {"ev": (1.2, 4), "heating": (1.0, 4)},
    "Partial": {"ev": (1.0, 1), "heating": (0.5, 4)},  # best ev value, on 1 of 4
    "Set aside": {"ev": (1.0, 4), "heating": (1.0, 4)},  # best everywhere, check failed
    "Baseline": {"ev": (1.0, 4), "heating": (1.0, 4)},  # best everywhere, a reference
}


@pytest.fixture
def arena(settings) -> list[MLIP]:
    settings.ARENA_MIN_COVERAGE = 0.5
    seed_tasks()
    structure_set, _ = store_structure_set(
        name="four",
        description="",
        structures=[(label, bulk(label, "fcc", a=3.9), {}) for label in LABELS],
    )
    Task.objects.filter(slug__in=TASKS).update(default_structure_set="four")
    for name in [*RESULTS, "Listed only"]:
        MLIP.objects.create(
            name=name,
            family="emt",
            checkpoint=name,
            cpu_tasks=list(TASKS),
            baseline=name == "Baseline",
            last_check_ok=False if name == "Set aside" else None,
            last_check_message="no module named mace",
        )
    for name, per_task in RESULTS.items():
        for slug, (value, count) in per_task.items():
            record(name, slug, structure_set, value, count)
    return list(MLIP.objects.all())


def record(name: str, slug: str, structure_set: StructureSet, value: float, count: int) -> None:
    _, jobs = run_create(
        task=Task.objects.get(slug=slug),
        models=[MLIP.objects.get(name=name)],
        structure_set=structure_set,
        structures=list(structure_set.structures.order_by("position"))[:count],
    )
    for job in jobs:
        job_start(job_id=job.pk)
        job_finish(job_id=job.pk, output={}, metrics={TASKS[slug]: value}, compute_seconds=1.0)


def standings(models: list[MLIP]):
    tasks = ranked_tasks(list(Task.objects.filter(slug__in=TASKS)))
    evidence = task_evidence(tasks=tasks, models=models)
    scores = {t.slug: task_scores(evidence[t.pk], models) for t in tasks}
    return tasks, scores, arena_rows([m.name for m in models], scores)


def test_the_arena_sums_only_ranks_of_full_coverage_models(arena):
    """ev (lower tortuosity better), among A, B, Partial (Set aside and Baseline never
    compete): Partial ran 1 of the 4 structures that the best-covered ran, below half, so
    it is partial: A 1, B 2 ranked; Partial ranked 1 among the partial only.
    heating (higher valid fraction better): B 1, A 2, Partial 3.
    Arena: Partial is absent from ev's ranked models, so it takes one past them there, 3.
    Sums: A 1 + 2 = 3, B 2 + 1 = 3, Partial 3 + 3 = 6 -> A 1, B 1 (a tie), Partial 3.
    Set aside, Baseline and Listed only are ranked nowhere: unranked, after the others."""
    tasks, scores, rows = standings(arena)
    assert [t.slug for t in tasks] == ["ev", "heating"]  # registry order
    ev = {s.model: s for s in scores["ev"]}
    assert [(m, ev[m].rank, ev[m].partial) for m in ("A", "B", "Partial")] == [
        ("A", 1, False),
        ("B", 2, False),
        ("Partial", 1, True),
    ]
    assert ev["Set aside"].set_aside == "its last load check failed: no module named mace"
    assert (ev["Set aside"].rank, ev["Baseline"].rank) == (NOT_BENCHMARKED, NOT_BENCHMARKED)
    assert ev["Baseline"].baseline and ev["Baseline"].stats["tortuosity"].mean == 1.0
    assert not ev["Listed only"].benchmarked
    heating = {s.model: s.rank for s in scores["heating"] if s.ranked}
    assert heating == {"B": 1, "A": 2, "Partial": 3}

    assert [(r.model, r.task_ranks, r.rank_sum, r.rank) for r in rows] == [
        ("A", {"ev": 1, "heating": 2}, 3, 1),
        ("B", {"ev": 2, "heating": 1}, 3, 1),
        ("Partial", {"ev": 3, "heating": 3}, 6, 3),
        ("Baseline", {}, 0, NOT_BENCHMARKED),
        ("Listed only", {}, 0, NOT_BENCHMARKED),
        ("Set aside", {}, 0, NOT_BENCHMARKED),
    ]


def test_a_model_set_aside_counts_again_once_its_check_passes(arena):
    """With its check passed, Set aside is best on both tasks: ev S 1, A 2, B 3 (Partial
    stays partial); heating: S and B tie at 1, A 3, Partial 4. Sums: S 2, A 5, B 4,
    Partial (4 on ev: one past three ranked) 8 -> S 1, B 2, A 3, Partial 4."""
    MLIP.objects.filter(name="Set aside").update(last_check_ok=True)
    _, _, rows = standings(list(MLIP.objects.all()))
    ranked = [(r.model, r.rank_sum, r.rank) for r in rows if r.rank != NOT_BENCHMARKED]
    assert ranked == [("Set aside", 2, 1), ("B", 4, 2), ("A", 5, 3), ("Partial", 8, 4)]
