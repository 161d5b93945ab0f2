"""What counts on a leaderboard once a model has history: the latest current result only.

Jobs go through the real services (run_create, job_start, job_finish, job_fail); the
metrics are hand-set numbers so that each count and mean below is known in advance.
"""

from __future__ import annotations

import pytest
from ase.build import bulk

from compute.tasks import TASKS
from leaderboard_app.standings import task_scores
from models_app.models import MLIP
from tasks_app.evidence import task_evidence
from tasks_app.keys import stable_hash
from tasks_app.models import Job, Result, Structure, StructureSet, Task
from tasks_app.selectors import run_summary
from tasks_app.services import (
    job_fail,
    job_finish,
    job_start,
    run_create,
    seed_tasks,
)
from tasks_app.structure_sets import store_structure_set

pytestmark = pytest.mark.django_db
LABELS = ("Cu", "Al", "Ni")


@pytest.fixture
def three():
    """The EV task (curve metrics only) on a default set of three fcc metals; two models."""
    seed_tasks()
    structure_set, _ = store_structure_set(
        name="three",
        description="",
        structures=[(label, bulk(label, "fcc", a=3.8), {}) for label in LABELS],
    )
    Task.objects.filter(slug="ev").update(default_structure_set="three")
    MLIP.objects.create(name="A", family="emt", checkpoint="a-1", cpu_tasks=["ev"])
    MLIP.objects.create(name="B", family="emt", checkpoint="b-1", cpu_tasks=["ev"])
    return structure_set


def plan(model: str, label: str, *, force: bool = True, **params) -> Job:
    """One queued job of ``model`` on ``label``."""
    structure_set = StructureSet.objects.get(name="three")
    _, (job,) = run_create(
        task=Task.objects.get(slug="ev"),
        models=[MLIP.objects.get(name=model)],
        structure_set=structure_set,
        structures=[structure_set.structures.get(label=label)],
        force=force,
        params=params or None,
    )
    return job


def record(model: str, label: str, *, tortuosity: float | None, force: bool = True, **params):
    """One job of ``model`` on ``label``: done with this tortuosity, or failed if None."""
    job = plan(model, label, force=force, **params)
    job_start(job_id=job.pk)
    if tortuosity is None:
        job_fail(job_id=job.pk, error="diverged")
    else:
        job_finish(
            job_id=job.pk, output={}, metrics={"tortuosity": tortuosity}, compute_seconds=1.0
        )
    return job


def evidence():
    task = Task.objects.get(slug="ev")
    models = list(MLIP.objects.order_by("name"))
    found = task_evidence(tasks=[task], models=models)[task.pk]
    return found, {m.name: m.pk for m in models}


def done_tortuosity(found, model_id) -> dict[str, float]:
    return {
        found.structure(s).label: row.metrics["tortuosity"]
        for s, row in found.done(model_id).items()
    }


def test_a_new_checkpoint_makes_earlier_results_and_failures_stop_counting(three):
    record("A", "Cu", tortuosity=1.5)
    record("A", "Al", tortuosity=None)
    MLIP.objects.filter(name="A").update(checkpoint="a-2")
    found, ids = evidence()
    assert found.done(ids["A"]) == {} and found.failed_count(ids["A"]) == 0
    assert found.missing(ids["A"]) == 3 and not found.has_evidence(ids["A"])

    record("A", "Cu", tortuosity=1.1)
    found, ids = evidence()
    assert done_tortuosity(found, ids["A"]) == {"Cu": 1.1}
    assert (found.missing(ids["A"]), found.failed_count(ids["A"])) == (2, 0)
    assert Result.objects.count() == 2  # the old result is kept, just not current


def test_a_forced_rerun_replaces_the_result_of_the_same_key(three):
    first = record("A", "Cu", tortuosity=1.5)
    second = record("A", "Cu", tortuosity=1.2)
    found, ids = evidence()
    assert done_tortuosity(found, ids["A"]) == {"Cu": 1.2}
    result = Result.objects.get()
    assert result.job_id == second.pk and first.key == second.key


def test_a_failure_redone_later_counts_as_done_and_a_later_failure_does_not_undo_it(three):
    record("A", "Cu", tortuosity=None)
    found, ids = evidence()
    assert found.failed[ids["A"]] == {Structure.objects.get(label="Cu").pk}
    assert (found.missing(ids["A"]), found.has_evidence(ids["A"])) == (3, True)

    record("A", "Cu", tortuosity=1.3)
    found, ids = evidence()
    assert found.failed_count(ids["A"]) == 0 and done_tortuosity(found, ids["A"]) == {"Cu": 1.3}

    record("A", "Cu", tortuosity=None)  # a forced rerun that fails keeps the stored result
    found, ids = evidence()
    assert found.failed_count(ids["A"]) == 0 and done_tortuosity(found, ids["A"]) == {"Cu": 1.3}
    assert found.missing(ids["A"]) == 2


def test_results_with_other_parameters_count_only_for_those_parameters(three):
    record("A", "Cu", tortuosity=1.4, npoints=11)
    found, ids = evidence()
    assert found.done(ids["A"]) == {}
    task = Task.objects.get(slug="ev")
    params = {**task.default_params, "npoints": 11}
    other = task_evidence(tasks=[task], models=[MLIP.objects.get(name="A")], params=params)
    assert done_tortuosity(other[task.pk], ids["A"]) == {"Cu": 1.4}


def test_a_new_task_version_or_changed_atoms_make_results_stale(three):
    record("A", "Cu", tortuosity=1.4)
    record("A", "Al", tortuosity=1.2)
    Task.objects.filter(slug="ev").update(version=2)
    found, ids = evidence()
    assert found.done(ids["A"]) == {}
    Task.objects.filter(slug="ev").update(version=1)
    store_structure_set(
        name="three", description="", structures=[("Al", bulk("Al", "fcc", a=4.05), {})]
    )
    found, ids = evidence()
    assert done_tortuosity(found, ids["A"]) == {"Cu": 1.4}


def test_the_structures_that_count_are_the_default_set_and_any_with_a_current_result(three):
    store_structure_set(name="extra", description="", structures=[("Pt", bulk("Pt", a=3.9), {})])
    extra = StructureSet.objects.get(name="extra")
    _, (job,) = run_create(
        task=Task.objects.get(slug="ev"),
        models=[MLIP.objects.get(name="B")],
        structure_set=extra,
        structures=list(extra.structures.all()),
    )
    job_finish(job_id=job.pk, output={}, metrics={"tortuosity": 1.0}, compute_seconds=1.0)
    found, ids = evidence()
    # Sets by name ("extra" before "three"), then by position within each.
    assert [s.label for s in found.structures] == ["Pt", "Cu", "Al", "Ni"]
    assert (found.missing(ids["A"]), found.missing(ids["B"])) == (4, 3)
    assert found.result_ids() == [Result.objects.get().pk]


def test_scores_rank_on_the_latest_current_results_only(three):
    """A: Cu 1.0 and Al 1.0 under its new checkpoint (the old one's three went stale);
    B: Cu 1.2 (a forced rerun of 3.0), Al failed then done (1.2), Ni failed.
    They share Cu and Al, the structures they are compared on. Tortuosity means A 1.0,
    B 1.2: ranks 1 and 2. The flips and ρ metrics have no values for either: both rank 1
    on each of the four. Physical soundness sums A 5, B 6: group ranks 1 and 2, which
    are the rank sums (the only group); A ranks 1, B 2."""
    for label in LABELS:
        record("A", label, tortuosity=1.0)
    MLIP.objects.filter(name="A").update(checkpoint="a-2")
    record("A", "Cu", tortuosity=1.0)
    record("A", "Al", tortuosity=1.0)
    record("B", "Cu", tortuosity=3.0)
    record("B", "Cu", tortuosity=1.2)
    record("B", "Al", tortuosity=None)
    record("B", "Al", tortuosity=1.2)
    record("B", "Ni", tortuosity=None)
    found, _ = evidence()
    scores = {s.model: s for s in task_scores(found, list(MLIP.objects.all()))}
    assert (scores["A"].done, scores["A"].missing, scores["A"].failed) == (2, 1, 0)
    assert (scores["B"].done, scores["B"].missing, scores["B"].failed) == (2, 1, 1)
    assert scores["A"].stats["tortuosity"].mean == 1.0
    assert scores["B"].stats["tortuosity"].mean == pytest.approx(1.2, abs=1e-15)
    assert (scores["A"].compared, scores["B"].compared) == (2, 2)
    assert (scores["A"].rank_sum, scores["B"].rank_sum) == (1, 2)
    assert (scores["A"].rank, scores["B"].rank) == (1, 2)


def test_run_summary_medians_count_results_of_earlier_runs_for_the_same_keys(three):
    """run_benchmark's summary for a run over the three metals: A's tortuosities 1.0
    (an earlier run), 4.0 and 1.5 have median 1.5; B's 2.0 and 3.0 (Ni failed) median 2.5."""
    record("A", "Cu", tortuosity=1.0)
    structure_set = StructureSet.objects.get(name="three")
    run, jobs = run_create(
        task=Task.objects.get(slug="ev"),
        models=list(MLIP.objects.order_by("name")),
        structure_set=structure_set,
        structures=list(structure_set.structures.all()),
    )
    assert run.skipped_done == 1 and len(jobs) == 5
    values = {("A", "Al"): 4.0, ("A", "Ni"): 1.5, ("B", "Cu"): 2.0, ("B", "Al"): 3.0}
    for job in Job.objects.filter(run=run).select_related("model", "structure"):
        job_start(job_id=job.pk)
        value = values.get((job.model.name, job.structure.label))
        if value is None:
            job_fail(job_id=job.pk, error="diverged")
        else:
            job_finish(job_id=job.pk, output={}, metrics={"tortuosity": value}, compute_seconds=1.0)
    # Another model's result, and another task's, on the same structures do not count.
    MLIP.objects.create(name="C", family="emt", cpu_tasks=["ev", "eos"])
    record("C", "Cu", tortuosity=9.0)
    eos = Task.objects.get(slug="eos")
    _, (other_task_job,) = run_create(
        task=eos,
        models=[MLIP.objects.get(name="A")],
        structure_set=structure_set,
        structures=[structure_set.structures.get(label="Ni")],
    )
    job_finish(
        job_id=other_task_job.pk, output={}, metrics={"tortuosity": 7.0}, compute_seconds=1.0
    )
    rows = {row.model: row for row in run_summary(run=run, spec=TASKS["ev"])}
    assert (rows["A"].done, rows["A"].failed, rows["A"].missing) == (3, 0, 0)
    assert (rows["B"].done, rows["B"].failed, rows["B"].missing) == (2, 1, 1)
    assert rows["A"].medians["tortuosity"] == 1.5
    assert rows["B"].medians["tortuosity"] == 2.5
    assert rows["A"].medians["energy_derivative_flips"] is None  # no result has flips
    assert rows["A"].seconds >= 0 and list(rows) == ["A", "B"]


def test_a_runs_structures_are_described_as_stored(three):
    Structure.objects.filter(label="Al").update(reference={"b0_gpa": 76.0})
    record("A", "Al", tortuosity=1.1)
    task = Task.objects.get(slug="ev")
    chosen = list(Structure.objects.filter(label__in=["Al", "Ni"]).select_related("structure_set"))
    found = task_evidence(tasks=[task], models=list(MLIP.objects.all()), structures=chosen)[task.pk]
    stored = {s.pk: s for s in chosen}
    assert {s.id for s in found.structures} == set(stored)
    for info in found.structures:
        row = stored[info.id]
        assert (info.label, info.formula, info.set_name, info.content_hash) == (
            row.label,
            row.formula,
            "three",
            row.content_hash,
        )
        assert found.structure(info.id) is info
        assert info.reference == ({"b0_gpa": 76.0} if row.label == "Al" else {})
    a, aluminium = MLIP.objects.get(name="A").pk, Structure.objects.get(label="Al").pk
    (row,) = found.done(a).values()
    assert (row.model_id, row.structure_id, row.metrics) == (a, aluminium, {"tortuosity": 1.1})
    default = task_evidence(tasks=[task], models=list(MLIP.objects.all()))[task.pk]
    assert default.structure(aluminium).reference == {"b0_gpa": 76.0}
    assert found.missing(a) == 1 and found.structure(999999) is None


def test_job_start_takes_an_interrupted_job_once_and_clears_its_error(three):
    job = plan("A", "Cu")
    Job.objects.filter(pk=job.pk).update(
        status="interrupted", attempts=1, error="worker lost", traceback="Traceback …"
    )
    assert job_start(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error, job.traceback, job.rq_job_id) == (
        "running",
        2,
        "",
        "",
        "",
    )
    assert job.started_at is not None and job.worker_host and job.lease_expires_at
    # A second delivery while the lease is held does not run it again.
    assert not job_start(job_id=job.pk, rq_job_id="rq-1")
    job.refresh_from_db()
    assert (job.attempts, job.rq_job_id) == (2, "")
    # Once the lease has run out (its process died), another process takes it.
    Job.objects.filter(pk=job.pk).update(lease_expires_at=job.started_at)
    assert job_start(job_id=job.pk, rq_job_id="rq-1")
    job.refresh_from_db()
    assert (job.attempts, job.rq_job_id) == (3, "rq-1")


def test_a_failed_or_done_job_is_not_taken_or_failed_again(three):
    failed = record("A", "Cu", tortuosity=None)
    assert not job_start(job_id=failed.pk)
    done = record("A", "Al", tortuosity=1.0)
    job_fail(job_id=done.pk, error="late news from a stale worker")
    assert [(j.status, j.attempts, j.error) for j in Job.objects.order_by("pk")] == [
        ("failed", 1, "diverged"),
        ("done", 1, ""),
    ]


def test_a_long_error_is_kept_to_two_thousand_characters(three):
    job = plan("A", "Cu")
    job_start(job_id=job.pk)
    job_fail(job_id=job.pk, error="e" * 2500, traceback="t" * 5000, compute_seconds=2.0)
    job.refresh_from_db()
    assert (job.status, len(job.error), len(job.traceback), job.compute_seconds) == (
        "failed",
        2000,
        5000,
        2.0,
    )


def test_jobs_go_to_the_models_queue_only_through_rq(three):
    MLIP.objects.filter(name="B").update(gpu_tasks=["ev"])
    structure_set = StructureSet.objects.get(name="three")
    plan = {
        "task": Task.objects.get(slug="ev"),
        "models": list(MLIP.objects.order_by("name")),
        "structure_set": structure_set,
        "structures": list(structure_set.structures.all()[:1]),
    }
    _, inline = run_create(**plan)
    assert [j.queue for j in inline] == ["inline", "inline"]
    for job in inline:  # settled, so that the forced run plans its own jobs
        job_start(job_id=job.pk)
        job_finish(job_id=job.pk, output={}, metrics={}, compute_seconds=1.0)
    _, queued = run_create(**plan, force=True, queued_on="rq")
    assert [(j.model.name, j.queue) for j in queued] == [("A", "cpu.main"), ("B", "gpu.main")]
    run = queued[0].run
    assert run.options == {"models": ["A", "B"], "structures": ["Cu"], "force": True}
    assert queued[0].params_hash == stable_hash(queued[0].params)


def test_a_failure_outside_the_structures_that_count_is_left_out(three):
    """A failed job on a structure of another set, with no result anywhere, is not part
    of the task's structures, so it is neither failed nor missing."""
    store_structure_set(name="extra", description="", structures=[("Pt", bulk("Pt", a=3.9), {})])
    extra = StructureSet.objects.get(name="extra")
    _, (job,) = run_create(
        task=Task.objects.get(slug="ev"),
        models=[MLIP.objects.get(name="A")],
        structure_set=extra,
        structures=list(extra.structures.all()),
    )
    job_fail(job_id=job.pk, error="diverged")
    found, ids = evidence()
    assert [s.label for s in found.structures] == ["Cu", "Al", "Ni"]
    assert found.failed_count(ids["A"]) == 0 and found.missing(ids["A"]) == 3
    job.refresh_from_db()
    assert (job.traceback, job.error) == ("", "diverged") and job.finished_at is not None


def test_structures_count_in_the_order_of_their_set(three):
    store_structure_set(
        name="three",
        description="",
        structures=[(label, bulk(label, "fcc", a=3.8), {}) for label in ("Ni", "Cu", "Al")],
    )
    found, _ = evidence()
    assert [s.label for s in found.structures] == ["Ni", "Cu", "Al"]


def test_jobs_not_run_yet_are_neither_done_nor_failed(three):
    record("A", "Cu", tortuosity=1.0)
    structure_set = StructureSet.objects.get(name="three")
    _, unfinished = run_create(
        task=Task.objects.get(slug="ev"),
        models=[MLIP.objects.get(name="A")],
        structure_set=structure_set,
        structures=list(structure_set.structures.all()),
    )
    assert [j.structure.label for j in unfinished] == ["Al", "Ni"]  # Cu is settled
    job_start(job_id=unfinished[0].pk)
    found, ids = evidence()
    assert found.failed_count(ids["A"]) == 0 and not found.failed
    assert found.missing(ids["A"]) == 2  # Cu has its result; Al and Ni are queued


def test_a_result_row_carries_its_headline_numbers(three):
    structure_set = StructureSet.objects.get(name="three")
    _, (job,) = run_create(
        task=Task.objects.get(slug="ev"),
        models=[MLIP.objects.get(name="A")],
        structure_set=structure_set,
        structures=[structure_set.structures.get(label="Cu")],
    )
    output = {"e_input_ev_per_atom": -3.5, "e_min_ev_per_atom": -3.6, "v_min_ratio": 0.98}
    job_finish(job_id=job.pk, output=output, metrics={}, compute_seconds=1.0)
    found, ids = evidence()
    (row,) = found.done(ids["A"]).values()
    assert row.headline == output and row.metrics == {}


def test_storing_a_set_counts_what_it_added_or_changed(three):
    metals = [(label, bulk(label, "fcc", a=3.8), {}) for label in LABELS]
    assert store_structure_set(name="again", description="", structures=metals)[1] == 3
    assert store_structure_set(name="again", description="", structures=metals)[1] == 0
    changed = [*metals[:2], ("Ni", bulk("Ni", "fcc", a=3.5), {"b0_gpa": 1.0})]
    assert store_structure_set(name="again", description="", structures=changed)[1] == 1
    nickel = Structure.objects.get(structure_set__name="again", label="Ni")
    assert nickel.reference == {"b0_gpa": 1.0}
    assert nickel.atoms["cell"][0][1] == pytest.approx(1.75)  # fcc a/2


def test_the_site_lists_enabled_models_that_list_the_task_and_the_export_only_the_run(three):
    """A has a result; B lists ev but is disabled; C is enabled but lists no task; D lists
    ev and is enabled. The site's board (listed) shows A ranked and D not benchmarked;
    the export's shows A alone."""
    record("A", "Cu", tortuosity=1.0)
    MLIP.objects.filter(name="B").update(enabled=False)
    MLIP.objects.create(name="C", family="emt")
    MLIP.objects.create(name="D", family="emt", gpu_tasks=["ev"])
    found, _ = evidence()
    models = list(MLIP.objects.order_by("name"))
    site = [(s.model, s.rank) for s in task_scores(found, models)]
    assert site == [("A", 1), ("D", 0)]
    assert [s.model for s in task_scores(found, models, listed=False)] == ["A"]
