"""Tasks compared only within groups of equal conditions (speed: the same device and
thread count): the evidence of one task split into those groups, each ranked alone."""

from __future__ import annotations

from dataclasses import replace

from compute.tasks.spec import TaskSpec
from leaderboard_app import selectors
from tasks_app.evidence import TaskEvidence


def split_by_conditions(evidence: TaskEvidence, spec: TaskSpec) -> list[tuple[str, TaskEvidence]]:
    """Per group of results whose ``spec.compared_within`` output fields are equal: a label
    such as "device cpu, torch_threads 1" and the task's evidence with those results only
    (failures and not applicable structures, which have no device, kept in each)."""
    paths = spec.compared_within
    values = selectors.result_output_fields(result_ids=evidence.result_ids(), paths=paths)
    groups: dict[tuple, dict[int, dict]] = {}
    for model_id, rows in evidence.results.items():
        for structure_id, row in rows.items():
            group = groups.setdefault(values.get(row.result_id, (None,) * len(paths)), {})
            group.setdefault(model_id, {})[structure_id] = row
    return [
        (condition_label(paths, key), replace(evidence, results=results))
        for key, results in sorted(groups.items(), key=lambda item: [str(v) for v in item[0]])
    ]


def condition_label(paths: tuple[str, ...], values: tuple) -> str:
    """The group in words: "device cpu, torch_threads 1"."""
    return ", ".join(
        f"{path.rsplit('.', 1)[-1]} {'unknown' if value is None else value}"
        for path, value in zip(paths, values, strict=True)
    )
