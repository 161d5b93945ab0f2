"""Re-importing a dataset where one field of one result changed, each field alone: the
import notices it, replaces that result (through a new done job) and nothing else.

The data are real EMT results (the publishing fixture); the export file is edited as a
newer version of the dataset would be. Headline numbers, the rest of the output and the
metrics are each compared on their own, so a change to any one of them is an update.
"""

from __future__ import annotations

import json

import pytest

from models_app.models import MLIP
from publishing.export import export_dataset
from publishing.imports import import_dataset
from tasks_app.models import BenchmarkRun, Job, Result, Structure, StructureSet, Task

pytestmark = pytest.mark.django_db
FIELDS = ("headline", "output", "metrics")


def changed(value: float) -> float:
    return value * 1.5 if value else 1.0


def first_number(row: dict, field: str) -> str:
    """The first column of ``field`` holding a number (flat ``field.key`` columns)."""
    return next(
        column
        for column, value in row.items()
        if column.startswith(f"{field}.") and isinstance(value, float)
    )


def results() -> dict[str, dict]:
    return {
        r.key: {"headline": r.headline, "output": r.output, "metrics": r.metrics, "job": r.job_id}
        for r in Result.objects.all()
    }


def test_a_change_to_any_one_field_of_a_result_replaces_that_result_alone(arena_results, tmp_path):
    folder = export_dataset(repo_id="arena-test/fields", folder=tmp_path / "export").folder
    for model in (Result, Job, BenchmarkRun, Structure, StructureSet, Task, MLIP):
        model.objects.all().delete()
    import_dataset(source=str(folder))  # every result here now came from the dataset
    path = folder / "data" / "eos.jsonl"
    first, *rest = path.read_text().splitlines()
    row = json.loads(first)
    for field in FIELDS:  # one more field changed at each import, the others as last stored
        column = first_number(row, field)
        before = results()
        row = {**row, column: changed(row[column])}
        path.write_text("\n".join([json.dumps(row), *rest]) + "\n")

        report = import_dataset(source=str(folder))

        assert (report.created, report.updated, report.unchanged) == (0, 1, arena_results - 1)
        after, key = results(), row["key"]
        assert after[key][field][column.split(".", 1)[1]] == row[column], column
        for other in set(FIELDS) - {field}:
            assert after[key][other] == before[key][other], (column, other)
        assert after[key]["job"] != before[key]["job"]  # a new done job of an import run
        assert {k: v for k, v in after.items() if k != key} == {
            k: v for k, v in before.items() if k != key
        }
    assert import_dataset(source=str(folder)).unchanged == arena_results
