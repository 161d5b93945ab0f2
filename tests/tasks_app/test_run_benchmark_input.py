"""run_benchmark refuses bad options and parameters with one line, before planning
anything: no run, no job, no result is written."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tasks_app.models import BenchmarkRun, Job, Result

pytestmark = pytest.mark.django_db


def rows() -> tuple[int, int, int]:
    return BenchmarkRun.objects.count(), Job.objects.count(), Result.objects.count()


@pytest.mark.parametrize(
    ("task", "options", "message"),
    [
        ("relax", {"param": ["fmax=NaN"]}, "task 'relax': fmax must be finite, not nan"),
        ("relax", {"param": ["fmax=1e400"]}, "task 'relax': fmax must be finite, not inf"),
        ("relax", {"param": ["fmax=-1"]}, "task 'relax': fmax must be > 0, not -1"),
        ("relax", {"param": ["steps=-5"]}, "task 'relax': steps must be >= 1, not -5"),
        ("eos", {"param": ["npoints=0"]}, "task 'eos': npoints must be >= 5, not 0"),
        (
            "eos",
            {"param": ["min_volume_factor=1.2", "max_volume_factor=0.8"]},
            "task 'eos': max_volume_factor must be > 1, not 0.8; "
            "min_volume_factor must be > 0 and < 1, not 1.2",
        ),
        ("relax", {"timeout": -1.0}, "--timeout must be a number of seconds above 0, not -1"),
        (
            "relax",
            {"timeout": float("nan")},
            "--timeout must be a number of seconds above 0, not nan",
        ),
        ("relax", {"timeout": 0.0}, "--timeout must be a number of seconds above 0, not 0"),
        (
            "nve",
            {"variant": ""},
            "--variant is empty; name one, or leave --variant out for the default",
        ),
        (
            "relax",
            {"set_name": " "},
            "--set is empty; name one, or leave --set out for the default",
        ),
        (
            "nve",
            {"variant": "Short"},
            "task 'nve' has no variant 'Short'; known: protocol, hot, short",
        ),
    ],
)
def test_bad_input_is_one_line_and_plans_nothing(seeded, inline_jobs, task, options, message):
    before = rows()
    with pytest.raises(CommandError) as error:
        call_command("run_benchmark", task, models="EMT", **options)
    assert str(error.value) == message
    assert rows() == before
