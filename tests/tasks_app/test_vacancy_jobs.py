"""The vacancy task through run_benchmark: a result with its errors against the PBE table,
and n/a for an element EMT lacks."""

import pytest
from django.core.management import call_command

from tasks_app.models import Job, JobStatus, Result

pytestmark = pytest.mark.django_db


def test_the_short_variant_on_emt_copper_and_iron(seeded, inline_jobs, capsys):
    call_command(
        "run_benchmark", "vacancy", models="EMT", structures="Cu,Fe", variant="short", workers=1
    )
    out = capsys.readouterr().out
    assert "FAILED" not in out
    iron = Job.objects.get(structure__label="Fe", task__slug="vacancy")
    assert iron.status == JobStatus.NOT_APPLICABLE
    assert iron.error == "model 'EMT' does not cover Fe"
    result = Result.objects.get(structure__label="Cu", task__slug="vacancy")
    assert result.structure.structure_set.name == "vacancy-fcc"
    output = result.output
    assert output["variant"] == "short" and output["natoms"] == 32
    # The errors are the result's own numbers against the table's PBE row for fcc Cu.
    assert result.metrics["formation_error_ev"] == pytest.approx(
        result.headline["vacancy_formation_ev"] - 1.07
    )
    assert result.metrics["barrier_error_ev"] == pytest.approx(
        result.headline["migration_barrier_ev"] - 0.72
    )
