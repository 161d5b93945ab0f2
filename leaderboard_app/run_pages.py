"""Page contexts for runs and jobs: what ran, how long it took, and what failed."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import QueryDict
from django.urls import reverse

from compute.tasks import spec_or_placeholder
from compute.tasks.spec import format_number
from leaderboard_app import boards, selectors
from leaderboard_app.failed_job import failure_section
from leaderboard_app.filters import AUTOSUBMIT
from leaderboard_app.public_text import public_message
from leaderboard_app.result_tables import jobs_url, model_url
from leaderboard_app.tables import DATETIME, FLOAT, INT, LIST, Column, Table
from tasks_app.models import BenchmarkRun, Job, JobStatus, Task
from tasks_app.run_files import job_folder

RUNS_PER_PAGE = 50
JOBS_PER_PAGE = 50
COUNT_COLUMNS = tuple(Column(state, label, INT) for state, label in JobStatus.choices)


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, label="State", widget=AUTOSUBMIT)
    model = forms.ChoiceField(required=False, widget=AUTOSUBMIT)
    task = forms.ChoiceField(required=False, widget=AUTOSUBMIT)
    run = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def __init__(self, data, *, model_names: Sequence[str], tasks: Sequence[Task]) -> None:
        super().__init__(data)
        self.fields["status"].choices = [("", "any")] + list(JobStatus.choices)
        self.fields["model"].choices = [("", "any")] + [(n, n) for n in model_names]
        self.fields["task"].choices = [("", "any")] + [(t.slug, t.slug) for t in tasks]

    def filters(self) -> dict[str, Any]:
        """The valid part of the input; unknown values are ignored."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "status": data.get("status") or "",
            "model": data.get("model") or "",
            "task": data.get("task") or "",
            "run_id": data.get("run"),
        }


def nearest_rank(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile (``fraction`` 0.95 for p95) of ``values``."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def runs_page(*, query: QueryDict, everything: bool = False) -> dict[str, Any]:
    runs = selectors.runs_with_counts()
    page = None if everything else Paginator(runs, RUNS_PER_PAGE).get_page(query.get("page"))
    rows = [_run_row(run) for run in (runs if page is None else page.object_list)]
    return {
        "page_obj": page,
        "tables": [runs_table(rows)],
        "has_runs": bool(rows),
    }


def run_page(*, run: BenchmarkRun) -> dict[str, Any]:
    times = selectors.run_job_times(run=run)
    return {
        "run": run,
        "row": _run_row(run),
        "counts": [(state, getattr(run, state)) for state in JobStatus.values],
        "tables": [run_models_table(times)],
        "failed_url": jobs_url(run=run.pk, status=JobStatus.FAILED),
        "jobs_url": jobs_url(run=run.pk),
    }


def jobs_page(
    *, query: QueryDict, tasks: Sequence[Task], everything: bool = False
) -> dict[str, Any]:
    """A page of jobs matching the filters, or with ``everything`` all of them, unlinked."""
    names = [m.name for m in selectors.all_models()]
    form = JobFilterForm(query, model_names=names, tasks=tasks)
    jobs = selectors.jobs_matching(**form.filters())
    page = None if everything else Paginator(jobs, JOBS_PER_PAGE).get_page(query.get("page"))
    shown = list(jobs if page is None else page.object_list)
    tables = [jobs_table(shown, links=not everything)]
    filters = form.filters()
    if filters.get("status") in ("", None, JobStatus.FAILED):
        grouped = selectors.failures_by_message(**filters)
        if grouped:
            tables.append(failures_table(grouped, filters))
    return {"form": form, "page_obj": page, "tables": tables}


def failures_table(rows: list[dict[str, Any]], filters: dict[str, Any]) -> Table:
    """Failed jobs grouped by message, each with how many jobs and models it hit."""
    link = jobs_url(
        status=JobStatus.FAILED, model=filters["model"], task=filters["task"], run=filters["run_id"]
    )
    return Table(
        id="failures",
        title="Failures by message",
        columns=[
            Column("error", "Message", max_chars=160, link_key="url"),
            Column("jobs", "Jobs", INT),
            Column("models", "Models", INT),
        ],
        rows=[{**row, "url": link} for row in rows],
        empty="No failed jobs.",
    )


def job_page(*, job: Job) -> dict[str, Any]:
    result = getattr(job, "result", None) if job.status == JobStatus.DONE else None
    spec = spec_or_placeholder(job.task.function)
    headline = (result.headline or {}) if result else {}
    measured = (result.metrics or {}) if result else {}
    failure = failure_section(
        spec=spec,
        model=job.model.name,
        evidence=job.failure_evidence if job.status == JobStatus.FAILED else {},
        reference=job.structure.reference or {},
    )
    return {
        "job": job,
        "figures": failure["figures"],
        "failure_facts": failure["facts"],
        "result": result,
        "headline": [
            (q.label, _shown(headline.get(q.key), q.digits), q.unit) for q in spec.quantities
        ],
        "metrics": [
            (m.label, _shown(measured.get(m.key), m.digits, percent=m.percent), m.unit)
            for m in spec.metrics
            if m.key in measured
        ],
        "progress": _progress(job),
        "facts": boards.job_facts(result.output or {}) if result else [],
        "files": _file_links(job, result),
        "model_url": model_url(job.model.slug),
        "run_url": reverse("leaderboard:run", args=[job.run_id]),
        "structure_url": reverse("leaderboard:structure", args=[job.structure_id]),
    }


def _progress(job: Job) -> str:
    """'1 200 of 10 000 steps (12 %)', or '' for a job that reports no steps."""
    if not job.steps_total:
        return ""
    done = job.steps_done or 0
    text = f"{done:,} of {job.steps_total:,} steps ({100 * done / job.steps_total:.0f} %)"
    if job.resumed_from_step:
        text += f", resumed from step {job.resumed_from_step:,}"
    return text.replace(",", " ")


def _file_links(job: Job, result: Any) -> list[tuple[str, str, str]]:
    """(label, file name, url) of each file the output names in the job's folder of the file store:
    its ``*_file`` keys, e.g. ``trajectory_file`` (MD) or ``force_constants_file``."""
    output = (result.output or {}) if result else {}
    return [
        (
            key.removesuffix("_file").replace("_", " ").capitalize(),
            name,
            reverse("leaderboard:file", args=[f"{job_folder(job.key)}/{name}"]),
        )
        for key, name in output.items()
        if key.endswith("_file") and isinstance(name, str) and name
    ]


def runs_table(rows: list[dict[str, Any]]) -> Table:
    return Table(
        id="runs",
        title="Benchmark runs",
        columns=[
            Column("run", "Run", INT, link_key="run_url"),
            Column("task", "Task", link_key="task_url"),
            Column("structure_set", "Structure set"),
            Column("created_at", "Created", DATETIME),
            Column("models", "Models", LIST),
            Column("total", "Jobs", INT),
            *COUNT_COLUMNS,
            Column("skipped_done", "Skipped (done or n/a)", INT),
            Column("wall_seconds", "Wall (s)", FLOAT, digits=1, help="First start to last finish"),
            Column("compute_seconds", "Compute (s)", FLOAT, digits=1, help="Sum over jobs"),
        ],
        rows=rows,
        empty="No runs yet.",
    )


def run_models_table(times: list[dict[str, Any]]) -> Table:
    """Per model of a run: job counts by state and job durations."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for row in times:
        by_model.setdefault((row["model__name"], row["model__slug"]), []).append(row)
    rows = []
    for (model, slug), jobs in by_model.items():
        durations = [
            seconds
            for j in jobs
            if (seconds := _seconds_between(j["started_at"], j["finished_at"])) is not None
        ]
        states = [j["state"] for j in jobs]
        rows.append(
            {
                "model": model,
                "model_url": model_url(slug),
                "total": len(jobs),
                **{state: states.count(state) for state in JobStatus.values},
                "median_seconds": statistics.median(durations) if durations else None,
                "p95_seconds": nearest_rank(durations, 0.95),
                "compute_seconds": sum(j["compute_seconds"] or 0.0 for j in jobs),
            }
        )
    return Table(
        id="run-models",
        title="Jobs per model",
        columns=[
            Column("model", "Model", link_key="model_url"),
            Column("total", "Jobs", INT),
            *COUNT_COLUMNS,
            Column("median_seconds", "Median job (s)", FLOAT, digits=2),
            Column("p95_seconds", "p95 job (s)", FLOAT, digits=2),
            Column("compute_seconds", "Compute (s)", FLOAT, digits=1),
        ],
        rows=rows,
        empty="This run has no jobs.",
    )


def jobs_table(
    jobs: Sequence[dict[str, Any]], *, links: bool, table_id: str = "jobs", title: str = "Jobs"
) -> Table:
    """Jobs given as ``selectors.jobs_matching`` dicts; ``links`` adds page URLs."""
    rows = []
    for job in jobs:
        row = {
            "job": job["id"],
            "run": job["run_id"],
            "model": job["model__name"],
            "task": job["task__slug"],
            "structure": job["structure__label"],
            "status": job["state"],
            "attempts": job["attempts"],
            "started_at": job["started_at"],
            "duration_seconds": _seconds_between(job["started_at"], job["finished_at"]),
            "error": public_message(job["error"]),
        }
        if links:
            job_url = reverse("leaderboard:job", args=[job["id"]])
            row.update(
                job_url=job_url,
                traceback_url=f"{job_url}#traceback" if job["has_traceback"] else "",
                run_url=reverse("leaderboard:run", args=[job["run_id"]]),
                model_url=model_url(job["model__slug"]),
                structure_url=reverse("leaderboard:structure", args=[job["structure_id"]]),
            )
        rows.append(row)
    return Table(
        id=table_id,
        title=title,
        columns=[
            Column("job", "Job", INT, link_key="job_url"),
            Column("run", "Run", INT, link_key="run_url"),
            Column("model", "Model", link_key="model_url"),
            Column("task", "Task"),
            Column("structure", "Structure", link_key="structure_url"),
            Column("status", "State", badge=True),
            Column("attempts", "Attempts", INT),
            Column("started_at", "Started", DATETIME),
            Column("duration_seconds", "Duration (s)", FLOAT, digits=2),
            Column("error", "Error", traceback_key="traceback_url"),
        ],
        rows=rows,
        empty="No job matches these filters.",
    )


def _shown(value: Any, digits: int, *, percent: bool = False) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "–"
    return format_number(value, digits, percent=percent)


def _seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


def _run_row(run: BenchmarkRun) -> dict[str, Any]:
    wall = _seconds_between(run.first_start, run.last_finish)
    return {
        "run": run.pk,
        "run_url": reverse("leaderboard:run", args=[run.pk]),
        "task": run.task.slug,
        "task_url": reverse("leaderboard:task", args=[run.task.slug]),
        "structure_set": run.structure_set.name,
        "created_at": run.created_at,
        "models": list((run.options or {}).get("models") or []),
        "total": run.total,
        **{state: getattr(run, state) for state in JobStatus.values},
        "skipped_done": run.skipped_done,
        "wall_seconds": wall,
        "compute_seconds": run.compute_seconds,
    }
