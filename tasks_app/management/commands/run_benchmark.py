import json
import math
import signal
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from arena_site.errors import ArenaError
from compute.errors import ComputeError
from compute.tasks import task_spec
from tasks_app.execution.local_workers import local_worker_count, worker_threads
from tasks_app.execution.plan import plan_runs
from tasks_app.execution.progress import deadline
from tasks_app.execution.rq import uses_rq
from tasks_app.execution.runner import run_jobs
from tasks_app.models import BenchmarkRun, JobStatus
from tasks_app.selectors import (
    failed_jobs,
    run_by_id,
    run_jobs_count,
    run_status_counts,
    run_summary,
)

SELECTION = ("models", "set_name", "structures", "limit", "force", "variant", "param")


class Command(BaseCommand):
    help = (
        "Run a benchmark task for every enabled model that lists it (or --models); "
        "--resume RUN goes on with an interrupted run."
    )

    def add_arguments(self, parser):
        parser.add_argument("task", nargs="?", help="Task slug, e.g. eos")
        parser.add_argument("--models", help="Comma-separated model names")
        parser.add_argument(
            "--set", dest="set_name", help="Structure set (default: each of the task's, a run each)"
        )
        parser.add_argument("--structures", help="Comma-separated structure labels, e.g. Cu,Al")
        parser.add_argument("--limit", type=int, help="Only the first N structures of each set")
        parser.add_argument("--force", action="store_true", help="Re-run jobs already done")
        parser.add_argument(
            "--timeout", type=float, help="Stop waiting after S seconds, all runs together"
        )
        parser.add_argument("--resume", type=int, metavar="RUN", help="Go on with run RUN")
        parser.add_argument(
            "--workers",
            type=int,
            metavar="N",
            help="Without Redis: run jobs in N local processes (default: one per core)",
        )
        parser.add_argument(
            "--variant", help="A named parameter set of the task (e.g. short); default: protocol"
        )
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="Set one parameter (VALUE read as JSON, else text); repeatable",
        )

    def handle(self, *args, task, resume, timeout, workers, **options):
        # SIGTERM stops a run as Ctrl-C does: its jobs are left for --resume.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            check_workers(workers)
            check_given(options, timeout)
            runs = [self.resumed(resume, task, options)] if resume else self.planned(task, options)
        except ComputeError as exc:
            raise CommandError(str(exc)) from exc
        except KeyboardInterrupt:
            raise CommandError("interrupted before any job was planned", returncode=130) from None
        problems = []
        until = deadline(timeout)  # one --timeout for all the runs
        for index, run in enumerate(runs):
            left = None if timeout is None else max(until - time.monotonic(), 0.001)
            try:
                problems.append(self.follow(run, workers, left))
            except KeyboardInterrupt:
                later = "".join(
                    f"; run {r.pk} not started (--resume {r.pk})" for r in runs[index + 1 :]
                )
                raise CommandError(self.interrupted(run) + later, returncode=130) from None
        if any(problems):
            raise CommandError("; ".join(p for p in problems if p))

    def follow(self, run: BenchmarkRun, workers: int | None, timeout: float | None) -> str:
        """Run (or wait for) ``run``'s jobs and print its summary; what went wrong, or ''."""
        workers = 1 if uses_rq() else self.local_workers(run, workers)
        total = run_jobs_count(run=run)
        with tqdm(total=total, unit="job", file=sys.stderr, disable=not total) as bar:
            run_jobs(
                run,
                progress=lambda n: bar.update(n - bar.n),
                say=lambda line: bar.write(line, file=sys.stderr),
                timeout_s=timeout,
                workers=workers,
            )
        return self.print_summary(run)

    def planned(self, task: str | None, options: dict) -> list[BenchmarkRun]:
        if not task:
            raise ArenaError("name a task (e.g. eos), or --resume RUN")
        planned = plan_runs(
            task=task,
            models=split_names(options, "models"),
            set_names=None if options["set_name"] is None else [options["set_name"]],
            structures=split_names(options, "structures"),
            limit=options["limit"],
            force=options["force"],
            variant=options["variant"],
            params=parse_params(options["param"]),
        )
        for plan in planned:
            run, variant, reused = plan.run, plan.variant, plan.reused
            self.stdout.write(
                f"run {run.pk}: {run.task.slug}{f' ({variant})' if variant else ''} on "
                f"{plan.structure_set}, {len(plan.jobs)} jobs ({mode()}), "
                f"{run.skipped_done} already done or not applicable"
                + (f", {reused} unfinished in earlier runs (followed, not rerun)" if reused else "")
            )
        return [plan.run for plan in planned]

    def resumed(self, run_id: int, task: str | None, options: dict) -> BenchmarkRun:
        given = [name for name in SELECTION if options[name]] + (["task"] if task else [])
        if given:
            raise ArenaError(f"--resume goes on with a run as planned; drop {', '.join(given)}")
        run = run_by_id(run_id)
        counts = run_status_counts(run=run)
        unfinished = sum(
            counts[s] for s in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.INTERRUPTED)
        )
        self.stdout.write(
            f"run {run.pk}: {run.task.slug} on {run.structure_set.name}, resuming "
            f"{unfinished} unfinished of {sum(counts.values())} jobs ({mode()})"
        )
        return run

    def local_workers(self, run: BenchmarkRun, requested: int | None) -> int:
        count, note = local_worker_count(run=run, requested=requested)
        if count > 1:
            self.stdout.write(
                f"{count} local workers, {worker_threads(count)} compute threads each"
            )
        elif note and requested:
            self.stdout.write(note)
        return count

    def interrupted(self, run: BenchmarkRun) -> str:
        if uses_rq():
            return (
                f"stopped following run {run.pk}; its jobs go on on the workers "
                f"(run_benchmark --resume {run.pk} follows them again)"
            )
        return (
            f"interrupted: run {run.pk}'s unfinished jobs are left interrupted "
            f"(run_benchmark --resume {run.pk} goes on)"
        )

    def print_summary(self, run: BenchmarkRun) -> str:
        spec = task_spec(run.task.function)
        metrics = [spec.metric(key) for key in spec.summary]
        labels = [m.heading for m in metrics]
        widths = [max(len(label) + 2, 10) for label in labels]
        header = f"{'model':<24}{'done':>6}{'failed':>8}{'n/a':>6}{'missing':>9}"
        header += "".join(f"{label:>{w}}" for label, w in zip(labels, widths, strict=True))
        self.stdout.write(f"{header}{'seconds':>10}")
        for row in run_summary(run=run, spec=spec):
            line = f"{row.model:<24}{row.done:>6}{row.failed:>8}{row.not_applicable:>6}"
            line += f"{row.missing:>9}"
            for metric, width in zip(metrics, widths, strict=True):
                median = row.medians[metric.key]
                line += f"{metric.format(median) if median is not None else '-':>{width}}"
            self.stdout.write(f"{line}{row.seconds:>10.1f}")
        failures = failed_jobs(run=run)
        counts = run_status_counts(run=run)
        unfinished = counts[JobStatus.QUEUED] + counts[JobStatus.RUNNING]
        unfinished += counts[JobStatus.INTERRUPTED]
        for job in failures:
            self.stdout.write(f"FAILED {job.model.name} / {job.structure.label}: {job.error}")
        if unfinished:
            self.stdout.write(
                f"{unfinished} jobs unfinished: run_benchmark --resume {run.pk} waits for them"
            )
        if failures or unfinished:
            return f"{len(failures)} failed, {unfinished} unfinished (run {run.pk})"
        return ""


def mode() -> str:
    return "RQ queues" if uses_rq() else "in-process"


def check_workers(workers: int | None) -> None:
    if workers is None:
        return
    if uses_rq():
        raise ArenaError(
            "--workers starts local processes, for runs without Redis; with REDIS_URL set, "
            "start more rqworker processes instead"
        )
    if workers < 1:
        raise ArenaError(f"--workers must be at least 1, not {workers}")


def check_given(options: dict, timeout: float | None) -> None:
    """Refuse an option given empty (``--set ''`` is not the default set) and a timeout
    that is not a finite number of seconds above 0."""
    for name, flag in (("set_name", "--set"), ("variant", "--variant")):
        if options[name] is not None and not options[name].strip():
            raise ArenaError(f"{flag} is empty; name one, or leave {flag} out for the default")
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise ArenaError(f"--timeout must be a number of seconds above 0, not {timeout:g}")


def parse_params(items: list[str]) -> dict:
    """``KEY=VALUE`` pairs as a dict; VALUE is JSON where it parses (numbers, lists, true)."""
    params = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ArenaError(f"--param takes KEY=VALUE, not {item!r}")
        try:
            params[key.strip()] = json.loads(text)
        except json.JSONDecodeError:
            params[key.strip()] = text
    return params


def split_names(options: dict, name: str) -> list[str] | None:
    """The comma-separated names of option ``name``; None when it was not given."""
    value = options[name]
    if value is None:
        return None
    names = list(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    if not names:
        raise ArenaError(f"--{name} is empty; give comma-separated names, or leave it out")
    return names
