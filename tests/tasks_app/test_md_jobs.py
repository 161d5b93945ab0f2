"""MD jobs end to end: progress on the row, failures recorded as results, the job page."""

from __future__ import annotations

import pytest
from ase.build import bulk
from django.core.management import call_command

from tasks_app.models import Job, JobStatus, Result
from tasks_app.structure_sets import store_structure_set


@pytest.mark.django_db
def test_a_failure_rule_is_a_result_with_rule_step_and_temperature(
    seeded, inline_jobs, settings, tmp_path, client
):
    settings.ARENA_FILE_STORE = tmp_path
    settings.ARENA_PROGRESS_SECONDS = 0.0
    squeezed = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(3)
    squeezed.positions[0] = squeezed.positions[1] + [0.9, 0, 0]  # ~300 eV/Å
    store_structure_set(name="md-broken", description="", structures=[("squeezed", squeezed, {})])
    call_command(
        "run_benchmark", "heating", "--models", "EMT", "--set", "md-broken", "--variant", "short"
    )
    job = Job.objects.get(task__slug="heating", structure__label="squeezed")
    assert job.status == JobStatus.DONE  # recorded, not a crash
    result = Result.objects.get(job=job)
    assert result.output["failure"]["rule"] == "force_above_limit"
    assert result.output["variant"] == "short"
    assert result.metrics["valid_fraction"] == 0.0
    assert result.headline["failure_step"] == 0 and result.headline["failure_temperature_k"] > 0
    assert (job.steps_done, job.steps_total) == (0, 100)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "force_above_limit at step 0" in page and "0 of 100 steps" in page


@pytest.mark.django_db
def test_rq_gives_each_job_its_task_time_limit(seeded, redis_url):
    import redis
    from rq.job import Job as RQJob

    from compute.tasks import TASKS
    from models_app.models import MLIP
    from tasks_app.execution.rq import enqueue, rq_job_id
    from tasks_app.models import StructureSet, Task
    from tasks_app.services import run_create

    structure_set = StructureSet.objects.get(name="md-cells")
    jobs = []
    for slug in ("nve", "speed"):
        task = Task.objects.get(slug=slug)
        _, planned = run_create(
            task=task,
            models=[MLIP.objects.get(name="EMT")],
            structure_set=structure_set,
            structures=list(structure_set.structures.all()[:1]),
            queued_on="rq",
        )
        jobs += planned
    connection = redis.Redis.from_url(redis_url)
    enqueue(jobs, connection=connection)
    timeouts = {
        job.task.slug: RQJob.fetch(rq_job_id(job), connection=connection).timeout for job in jobs
    }
    # RQ's timeout is a backstop behind the job's own timer (tasks_app.execution.job.time_limit).
    assert timeouts == {
        "nve": TASKS["nve"].time_limit_s + 60,
        "speed": TASKS["speed"].time_limit_s + 60,
    }
    assert timeouts["nve"] != timeouts["speed"]  # so the test sees the task's own limit
