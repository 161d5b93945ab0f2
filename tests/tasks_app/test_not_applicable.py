"""Structures with elements a model does not cover: not applicable, never failed or missing."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from leaderboard_app.standings import task_scores
from models_app.models import MLIP
from tasks_app.evidence import task_evidence
from tasks_app.models import Job, JobStatus, Result, Structure, Task
from tasks_app.services import job_fail, job_not_applicable, job_start, run_create

pytestmark = pytest.mark.django_db


def summary_line(out: str, model: str) -> list[str]:
    return next(line for line in out.splitlines() if line.startswith(f"{model} ")).split()


def test_an_element_emt_lacks_is_not_applicable_and_the_run_succeeds(seeded, inline_jobs, capsys):
    call_command("run_benchmark", "diatomics", models="EMT", structures="Fe2,Cu2")
    out = capsys.readouterr().out
    assert summary_line(out, "EMT")[:5] == ["EMT", "1", "0", "1", "0"]  # done, failed, n/a, missing
    assert "FAILED" not in out
    iron = Job.objects.get(structure__label="Fe2")
    assert iron.status == JobStatus.NOT_APPLICABLE
    assert iron.error == "model 'EMT' does not cover Fe" and not iron.traceback
    assert not Result.objects.filter(structure__label="Fe2").exists()
    assert Result.objects.get(structure__label="Cu2").job.status == JobStatus.DONE

    # Settled: a second run makes no job for either; --force asks again.
    call_command("run_benchmark", "diatomics", models="EMT", structures="Fe2,Cu2")
    assert "0 jobs (in-process), 2 already done or not applicable" in capsys.readouterr().out
    call_command("run_benchmark", "diatomics", models="EMT", structures="Fe2", force=True)
    assert Job.objects.filter(structure__label="Fe2").count() == 2


def test_eos_on_the_delta_set_counts_elements_emt_lacks_as_not_applicable(seeded, inline_jobs):
    call_command("run_benchmark", "eos", models="EMT", structures="Fe,W,Cu")
    task, emt = Task.objects.get(slug="eos"), MLIP.objects.get(name="EMT")
    evidence = task_evidence(tasks=[task], models=[emt])[task.pk]
    assert evidence.structure_count == 71
    assert (len(evidence.done(emt.pk)), evidence.failed_count(emt.pk)) == (1, 0)
    assert evidence.not_applicable_count(emt.pk) == 2
    assert evidence.missing(emt.pk) == 68  # 71 − Cu done − Fe, W not applicable
    (score,) = task_scores(evidence, [emt])
    assert (score.done, score.failed, score.not_applicable, score.missing) == (1, 0, 2, 68)


def test_the_latest_outcome_of_a_key_wins(seeded):
    """A failure followed by a not-applicable verdict (or the other way round) counts once,
    as the later one."""
    task, emt = Task.objects.get(slug="eos"), MLIP.objects.get(name="EMT")
    iron, tungsten = Structure.objects.get(label="Fe"), Structure.objects.get(label="W")

    def fail(job_id: int) -> None:
        job_fail(job_id=job_id, error="boom")

    def not_applicable(job_id: int) -> None:
        job_not_applicable(job_id=job_id, reason="not covered")

    for outcomes in ((fail, not_applicable), (not_applicable, fail)):
        _, jobs = run_create(
            task=task,
            models=[emt],
            structure_set=iron.structure_set,
            structures=[iron, tungsten],
            force=True,
        )
        for job, outcome in zip(jobs, outcomes, strict=True):
            job_start(job_id=job.id)
            outcome(job.id)
    evidence = task_evidence(tasks=[task], models=[emt])[task.pk]
    assert evidence.not_applicable[emt.pk] == {iron.id}
    assert evidence.failed[emt.pk] == {tungsten.id}
    assert evidence.missing(emt.pk) == 70  # W failed counts as missing, Fe does not


def test_pages_show_not_applicable_counts_and_list_those_jobs(seeded, inline_jobs, client):
    call_command("run_benchmark", "diatomics", models="EMT", structures="Fe2,Cu2")
    task_csv = client.get(reverse("leaderboard:task", args=["diatomics"]), {"format": "csv"})
    rows = csv.DictReader(io.StringIO(task_csv.content.decode()))
    emt = next(row for row in rows if row["model"] == "EMT")
    assert (emt["done"], emt["failed"], emt["not_applicable"]) == ("1", "0", "1")
    assert emt["missing"] == "116"  # 118 dimers − Cu2 done − Fe2 not applicable
    jobs = client.get(reverse("leaderboard:jobs"), {"status": JobStatus.NOT_APPLICABLE})
    html = jobs.content.decode()
    assert 'class="badge n/a"' in html and "does not cover Fe" in html
    assert "Cu2" not in html
    model_page = client.get(reverse("leaderboard:model", args=["EMT"])).content.decode()
    assert "does not cover Fe" not in model_page  # not listed among failed jobs
