"""Formation jobs run several at a time (ARENA_JOBS_PER_BATCH) through run_benchmark: one
batched relaxation, then each job finished on its own with the result it gets alone."""

import pytest
from django.core.management import CommandError, call_command

from tasks_app.execution.plan import plan_run
from tasks_app.models import Job, JobStatus, Result, Structure
from tasks_app.selectors import batch_mates

pytestmark = pytest.mark.django_db
CRYSTALS = ["wbm-1-12782", "wbm-1-17801", "wbm-1-2478", "wbm-1-3187"]  # CrRh FeNi AlPd3 AlZr
AL_PD3 = "wbm-1-2478"


def formation_energies(model: str) -> dict[str, float]:
    results = Result.objects.filter(
        model__name=model, task__slug="formation", structure__label__in=CRYSTALS
    )
    return {r.structure.label: r.headline["formation_energy_per_atom"] for r in results}


def test_batched_jobs_finish_one_by_one_and_a_failing_crystal_fails_alone(
    seeded_full, inline_jobs, settings
):
    """CHGNet, four small crystals in one batch; Pd's reference structure is gone, so
    AlPd3 fails after the batched relaxation, with its reason; the three others are done,
    each with its own result, as they are one job at a time."""
    Structure.objects.filter(structure_set__name="mp-elemental-references", label="mp-Pd").update(
        label="gone"
    )
    settings.ARENA_JOBS_PER_BATCH = 8
    with pytest.raises(CommandError, match="1 failed"):
        call_command("run_benchmark", "formation", models="CHGNet", structures=",".join(CRYSTALS))
    jobs = {job.structure.label: job for job in Job.objects.filter(structure__label__in=CRYSTALS)}
    batched_ids = [job.pk for job in jobs.values()]
    failed = jobs.pop(AL_PD3)
    assert failed.status == JobStatus.FAILED
    assert failed.error == (
        "structure 'mp-Pd' of set 'mp-elemental-references' is not stored: run seed_registry"
    )
    assert not Result.objects.filter(job=failed).exists()
    for job in jobs.values():
        assert job.status == JobStatus.DONE and job.finished_at and job.compute_seconds > 0
        assert job.ran_with["batch"] == 4  # the four ran in one call
        assert Result.objects.get(key=job.key).job == job
    batched = formation_energies("CHGNet")

    settings.ARENA_JOBS_PER_BATCH = 1
    with pytest.raises(CommandError, match="1 failed"):
        call_command(
            "run_benchmark", "formation", models="CHGNet", structures=",".join(CRYSTALS), force=True
        )
    alone = formation_energies("CHGNet")
    rerun = Job.objects.filter(structure__label__in=CRYSTALS).exclude(pk__in=batched_ids)
    assert all("batch" not in job.ran_with for job in rerun) and rerun.count() == 4
    # CHGNet's float32 batch against single calls: the same minimum to within fmax.
    assert set(batched) == set(alone) == set(CRYSTALS) - {AL_PD3}
    assert batched == {label: pytest.approx(value, abs=1e-4) for label, value in alone.items()}


def test_jobs_per_batch_follow_the_setting_and_the_models_registry_batch_size(
    seeded_full, settings
):
    from models_app.models import MLIP

    planned = plan_run(task="formation", models=["CHGNet"], structures=CRYSTALS)
    first, *others = sorted(job.pk for job in planned.jobs)
    settings.ARENA_JOBS_PER_BATCH = 1
    assert batch_mates(job_id=first, run=planned.run) == []
    settings.ARENA_JOBS_PER_BATCH = 8
    assert batch_mates(job_id=first, run=planned.run) == others  # by structure
    MLIP.objects.filter(name="CHGNet").update(calculator_kwargs={"batch_size": 2})
    assert batch_mates(job_id=first, run=planned.run) == others[:1]

    eos = plan_run(task="eos", models=["CHGNet"], limit=3)  # no run_batch: one at a time
    assert batch_mates(job_id=eos.jobs[0].pk, run=eos.run) == []


@pytest.mark.django_db(transaction=True)
def test_an_rq_worker_takes_queued_jobs_of_the_same_model_task_and_parameters_together(
    seeded_full, redis_url, settings
):
    """Six elemental references, EMT, three jobs per batch: the worker that takes a job
    claims two queued mates with it; their own RQ jobs then find them taken. Each
    reference's energy is what relaxing it alone with EMT gives, outside any database."""
    from ase.calculators.emt import EMT

    from compute.run_context import RunContext
    from compute.tasks import run_task
    from compute.tasks.formation.references import elemental_reference
    from tests.tasks_app.test_rq_worker import start_worker, stop_worker

    elements = ["Al", "Cu", "Ni", "Pd", "Ag", "Au"]
    worker = start_worker(redis_url, env={"ARENA_JOBS_PER_BATCH": "3", "OMP_NUM_THREADS": "1"})
    try:
        settings.REDIS_URL = redis_url
        call_command(
            "run_benchmark",
            "formation",
            models="EMT",
            set_name="mp-elemental-references",
            structures=",".join(f"mp-{element}" for element in elements),
            timeout=240,
        )
    finally:
        stop_worker(worker)
    jobs = list(Job.objects.filter(task__slug="formation").select_related("structure"))
    assert len(jobs) == 6 and all(job.status == JobStatus.DONE for job in jobs)
    assert [job.ran_with["batch"] for job in jobs] == [3] * 6
    for job in jobs:
        alone = run_task("formation", elemental_reference(job.structure.label[3:]), EMT(), {},
                         RunContext())  # fmt: skip
        energy = Result.objects.get(job=job).output["energy_per_atom_ev"]
        assert energy == pytest.approx(alone["energy_per_atom_ev"], abs=1e-9)
