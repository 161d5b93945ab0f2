"""Views: parse the request, call one page function, render it or download one of its tables."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from leaderboard_app import compare as compare_pages
from leaderboard_app import pages, run_pages, selectors
from leaderboard_app.tables import table_csv, table_json
from models_app.models import MLIP
from tasks_app import run_files

DOWNLOADS = {"csv": ("text/csv", table_csv), "json": ("application/json", table_json)}


def index(request: HttpRequest) -> HttpResponse:
    return _respond(request, "leaderboard/index.html", pages.leaderboard_page(query=request.GET))


def task_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tasks = selectors.all_tasks()
    task = next((t for t in tasks if t.slug == slug), None)
    if task is None:
        raise Http404(f"no task {slug!r}")
    context = pages.task_page(task=task, tasks=tasks, query=request.GET)
    return _respond(request, "leaderboard/task.html", context)


def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    model = get_object_or_404(MLIP, slug=slug)
    return _respond(request, "leaderboard/model.html", pages.model_page(model=model))


def structure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    structure = selectors.structure_with_set(pk=pk)
    if structure is None:
        raise Http404(f"no structure {pk}")
    return _respond(
        request, "leaderboard/structure.html", pages.structure_page(structure=structure)
    )


def compare(request: HttpRequest) -> HttpResponse:
    context = compare_pages.compare_page(query=request.GET)
    return _respond(request, "leaderboard/compare.html", context)


def cite(request: HttpRequest) -> HttpResponse:
    context = pages.cite_page(
        dataset_repo=settings.ARENA_DATASET_REPO, today=timezone.localdate().isoformat()
    )
    return _respond(request, "leaderboard/cite.html", context)


def run_list(request: HttpRequest) -> HttpResponse:
    context = run_pages.runs_page(query=request.GET, everything=_downloading(request))
    return _respond(request, "leaderboard/runs.html", context)


def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.run_with_counts(pk=pk)
    if run is None:
        raise Http404(f"no run {pk}")
    return _respond(request, "leaderboard/run.html", run_pages.run_page(run=run))


def job_list(request: HttpRequest) -> HttpResponse:
    tasks = selectors.all_tasks()
    context = run_pages.jobs_page(query=request.GET, tasks=tasks, everything=_downloading(request))
    context["nav_tasks"] = tasks
    return _respond(request, "leaderboard/jobs.html", context)


def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_with_relations(pk=pk)
    if job is None:
        raise Http404(f"no job {pk}")
    return _respond(request, "leaderboard/job.html", run_pages.job_page(job=job))


def stored_file(request: HttpRequest, relative: str) -> FileResponse:
    """A file of a long job (a full trajectory) from the file store."""
    path = run_files.stored_file(relative)
    if path is None:
        raise Http404("no such file")
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)


def _downloading(request: HttpRequest) -> bool:
    return request.GET.get("format") in DOWNLOADS


def _respond(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """The page, or with ``?format=csv|json[&table=ID]`` one of its tables as a file."""
    if _downloading(request):
        table = pages.download_table(context.get("tables", []), request.GET.get("table"))
        if table is None:
            raise Http404("no such table on this page")
        content_type, serialize = DOWNLOADS[request.GET["format"]]
        response = HttpResponse(serialize(table), content_type=f"{content_type}; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{table.id}.{request.GET["format"]}"'
        )
        return response
    if "nav_tasks" not in context:
        context["nav_tasks"] = selectors.all_tasks()
    return render(request, template, context)
