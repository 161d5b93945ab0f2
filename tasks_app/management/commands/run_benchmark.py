import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from compute.errors import ComputeError
from compute.tasks import task_spec
from models_app.selectors import models_for_task
from tasks_app.dispatch import run_jobs, uses_rq
from tasks_app.models import JobStatus
from tasks_app.selectors import (
    failed_jobs,
    run_status_counts,
    run_summary,
    structure_set_by_name,
    structures_for_run,
    task_by_slug,
)
from tasks_app.services import run_create


class Command(BaseCommand):
    help = "Run a benchmark task for every enabled model that lists it (or --models)."

    def add_arguments(self, parser):
        parser.add_argument("task", help="Task slug, e.g. eos")
        parser.add_argument("--models", help="Comma-separated model names")
        parser.add_argument("--set", dest="set_name", help="Structure set (default: the task's)")
        parser.add_argument("--structures", help="Comma-separated structure labels, e.g. Cu,Al")
        parser.add_argument("--limit", type=int, help="Only the first N structures")
        parser.add_argument("--force", action="store_true", help="Re-run jobs already done")
        parser.add_argument("--timeout", type=float, help="Stop waiting for RQ workers after S s")

    def handle(self, *args, task, models, set_name, structures, limit, force, timeout, **options):
        try:
            task_row = task_by_slug(task)
            chosen = models_for_task(task_slug=task_row.slug, names=split_names(models))
            if not chosen:
                raise CommandError(f"no enabled model lists task {task_row.slug!r}")
            structure_set = structure_set_by_name(set_name or task_row.default_structure_set)
            run, jobs = run_create(
                task=task_row,
                models=chosen,
                structure_set=structure_set,
                structures=structures_for_run(
                    structure_set=structure_set, labels=split_names(structures), limit=limit
                ),
                force=force,
                queued_on="rq" if uses_rq() else None,
            )
        except ComputeError as exc:
            raise CommandError(str(exc)) from exc
        mode = "RQ queues" if uses_rq() else "in-process"
        self.stdout.write(
            f"run {run.pk}: {task_row.slug} on {structure_set.name}, {len(jobs)} jobs ({mode}), "
            f"{run.skipped_done} already done or not applicable"
        )
        with tqdm(total=len(jobs), unit="job", file=sys.stderr, disable=not jobs) as bar:
            run_jobs(run, jobs, progress=lambda n: bar.update(n - bar.n), timeout_s=timeout)
        self.print_summary(run)

    def print_summary(self, run):
        spec = task_spec(run.task.function)
        metrics = [spec.metric(key) for key in spec.summary]
        labels = [m.heading for m in metrics]
        widths = [max(len(label) + 2, 10) for label in labels]
        header = f"{'model':<24}{'done':>6}{'failed':>8}{'n/a':>6}{'missing':>9}"
        header += "".join(f"{label:>{w}}" for label, w in zip(labels, widths, strict=True))
        self.stdout.write(f"{header}{'seconds':>10}")
        for row in run_summary(run=run):
            line = f"{row.model:<24}{row.done:>6}{row.failed:>8}{row.not_applicable:>6}"
            line += f"{row.missing:>9}"
            for metric, width in zip(metrics, widths, strict=True):
                median = row.medians[metric.key]
                line += f"{metric.format(median) if median is not None else '-':>{width}}"
            self.stdout.write(f"{line}{row.seconds:>10.1f}")
        failures = failed_jobs(run=run)
        counts = run_status_counts(run=run)
        unfinished = counts[JobStatus.QUEUED] + counts[JobStatus.RUNNING]
        for job in failures:
            self.stdout.write(f"FAILED {job.model.name} / {job.structure.label}: {job.error}")
        if unfinished:
            self.stdout.write(f"{unfinished} jobs still queued or running")
        if failures or unfinished:
            raise CommandError(f"{len(failures)} failed, {unfinished} unfinished (run {run.pk})")


def split_names(value: str | None) -> list[str] | None:
    return [n.strip() for n in value.split(",") if n.strip()] if value else None
