"""A task that runs on several structure sets by default: heating and compression cover
md-cells and random-mixtures, one run per set; every other task keeps its one set."""

from __future__ import annotations

import pytest
from ase.calculators.emt import parameters as emt_parameters
from django.core.management import call_command

from arena_site.errors import ArenaError
from compute.structure_sets.md_cells import MD_CELLS
from compute.structure_sets.random_mixtures import RANDOM_MIXTURES
from compute.tasks import TASKS
from compute.tasks.spec import TaskSpec
from leaderboard_app.standings import arena_rows, task_scores
from models_app.models import MLIP
from tasks_app.evidence import task_evidence
from tasks_app.execution.plan import plan_runs
from tasks_app.models import BenchmarkRun, Job, JobStatus, Task

pytestmark = pytest.mark.django_db
BOTH = ["md-cells", "random-mixtures"]


def test_heating_and_compression_default_to_both_sets_and_the_others_to_their_first(seeded):
    for slug, spec in TASKS.items():
        expected = BOTH if slug in ("heating", "compression") else [spec.structure_sets[0].name]
        assert Task.objects.get(slug=slug).default_structure_sets == expected, slug


def test_a_default_set_must_be_one_of_the_task_s_sets():
    with pytest.raises(ValueError, match=r"default sets \['wbm'\] are not among"):
        TaskSpec(
            name="toy",
            title="Toy",
            description="",
            run=lambda atoms, calculator: {},
            structure_sets=(MD_CELLS,),
            default_sets=("wbm",),
        )


def test_labels_pick_their_own_set_and_a_set_without_any_is_left_out(seeded):
    planned = plan_runs(task="heating", models=["EMT"], structures=["Cu-fcc-108"])
    assert [(p.structure_set, len(p.jobs)) for p in planned] == [("md-cells", 1)]
    mixture = RANDOM_MIXTURES.build()[1][0]
    planned = plan_runs(task="heating", models=["EMT"], structures=[mixture, "Al-fcc-108"])
    assert [(p.structure_set, [j.structure.label for j in p.jobs]) for p in planned] == [
        ("md-cells", ["Al-fcc-108"]),
        ("random-mixtures", [mixture]),
    ]
    # The set's first two: mixture 0 new, mixture 1 still unfinished above, so followed.
    planned = plan_runs(task="heating", models=["EMT"], limit=2, set_names=["random-mixtures"])
    assert [(p.structure_set, len(p.jobs), p.reused) for p in planned] == [
        ("random-mixtures", 1, 1)
    ]


def test_a_label_in_neither_set_is_one_line_and_plans_nothing(seeded):
    with pytest.raises(ArenaError, match=r"^[^\n]+$") as raised:
        plan_runs(task="heating", models=["EMT"], structures=["Cu-fcc-108", "Unobtainium"])
    assert "structure(s) Unobtainium in none of the sets 'md-cells', 'random-mixtures'" in str(
        raised.value
    )
    assert (BenchmarkRun.objects.count(), Job.objects.count()) == (0, 0)


def emt_covers(atoms) -> bool:
    return set(atoms.get_chemical_symbols()) <= set(emt_parameters)


def test_run_benchmark_heating_covers_both_sets_and_the_arena_counts_them(
    seeded, inline_jobs, capsys, client
):
    """The short heating run of an EMT model (not a baseline, so ranked) without --set:
    a run on each set; EMT's elements (ASE's own table) decide which structures are
    done and which n/a, and the task's structures are both sets' (8 + 12)."""
    MLIP.objects.create(name="EMT ranked", family="emt", checkpoint="", cpu_tasks=["heating"])
    call_command("run_benchmark", "heating", "--models", "EMT ranked", "--variant", "short")
    out = capsys.readouterr().out
    assert "on md-cells, 8 jobs" in out and "on random-mixtures, 12 jobs" in out

    structures = MD_CELLS.build() + RANDOM_MIXTURES.build()
    runnable = {label for label, atoms, _ in structures if emt_covers(atoms)}
    assert runnable == {"Cu-fcc-108", "Al-fcc-108", "Ni-fcc-108", "Au-fcc-108", "Pt-fcc-108"}
    jobs = Job.objects.filter(task__slug="heating")
    assert {j.structure.label for j in jobs if j.status == JobStatus.DONE} == runnable
    assert jobs.filter(status=JobStatus.NOT_APPLICABLE).count() == len(structures) - 5

    model = MLIP.objects.get(name="EMT ranked")
    task = Task.objects.get(slug="heating")
    short = {**task.default_params, **TASKS["heating"].variant_params("short")}
    evidence = task_evidence(tasks=[task], models=[model], params=short)[task.pk]
    assert evidence.structure_count == len(structures) == 20
    (score,) = task_scores(evidence, [model])
    assert (score.done, score.not_applicable, score.missing, score.total) == (5, 15, 0, 20)
    (row,) = arena_rows([model.name], {"heating": [score]})
    assert (row.task_ranks, row.rank) == ({"heating": 1}, 1)
    page = client.get("/tasks/heating/?protocol=short").content.decode()
    assert "structure sets <b>md-cells, random-mixtures</b> (20 structures)" in page


@pytest.mark.parametrize(
    ("value", "stored"), [(None, []), ('["md-cells"]', ["md-cells"]), ('{"a": 1}', None)]
)
def test_the_admin_takes_a_list_of_set_names_and_refuses_anything_else(
    seeded, admin_client, value, stored
):
    form = {"slug": "toy", "name": "Toy", "function": "eos", "version": "1"}
    form |= {"default_params": "{}", "default_structure_set": "delta-dcdft"}
    if value is not None:
        form["extra_structure_sets"] = value
    response = admin_client.post("/admin/tasks_app/task/add/", form)
    task = Task.objects.filter(slug="toy").first()
    if stored is None:
        assert task is None and "must be a JSON list of set names" in response.content.decode()
    else:
        assert task.default_structure_sets == ["delta-dcdft", *stored]
