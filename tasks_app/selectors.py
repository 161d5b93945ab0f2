"""Selectors: reads of tasks, structures, jobs and results."""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Now

from arena_site.errors import ArenaError
from compute.model_spec import ModelSpec
from compute.tasks import spec_or_placeholder
from compute.tasks.spec import TaskSpec
from models_app.models import MLIP
from models_app.selectors import model_spec
from tasks_app.evidence import task_evidence
from tasks_app.models import (
    UNFINISHED,
    BenchmarkRun,
    Job,
    JobStatus,
    Result,
    Structure,
    StructureSet,
    Task,
)


@dataclass(frozen=True)
class JobPayload:
    """Everything the job function hands to compute/, as plain data."""

    spec: ModelSpec
    function: str
    atoms: dict[str, Any]
    params: dict[str, Any]
    reference: dict[str, Any]
    key: str = ""


def task_with_slug(slug: str) -> Task | None:
    return Task.objects.filter(slug=slug).first()


def task_by_slug(slug: str) -> Task:
    task = task_with_slug(slug)
    if task is None:
        valid = ", ".join(Task.objects.values_list("slug", flat=True)) or "none (run seed_registry)"
        raise ArenaError(f"unknown task {slug!r}; valid tasks: {valid}")
    return task


def structure_set_by_name(name: str) -> StructureSet:
    found = StructureSet.objects.filter(name=name).first()
    if found is None:
        valid = ", ".join(StructureSet.objects.values_list("name", flat=True)) or "none"
        raise ArenaError(
            f"unknown structure set {name!r}; valid sets: {valid} "
            "(seed_registry adds delta-dcdft; import_structures adds others)"
        )
    return found


def structures_for_run(
    *, structure_set: StructureSet, labels: list[str] | None = None, limit: int | None = None
) -> list[Structure]:
    """The set's structures in order, only ``labels`` (once each) if given, then the first
    ``limit``."""
    structures = list(structure_set.structures.all())
    if labels:
        by_label = {s.label: s for s in structures}
        unknown = [label for label in labels if label not in by_label]
        if unknown:
            raise ArenaError(
                f"structure(s) {', '.join(unknown)} not in set {structure_set.name!r}; "
                f"its labels: {', '.join(by_label)}"
            )
        structures = [by_label[label] for label in dict.fromkeys(labels)]
    return structures[:limit]


def structures_of_sets(
    *, structure_sets: list[StructureSet], labels: list[str] | None = None, limit: int | None = None
) -> list[tuple[StructureSet, list[Structure]]]:
    """``structures_for_run`` of each set; with ``labels``, each set's own labels, a set
    holding none of them left out, and every label in one of the sets."""
    if len(structure_sets) == 1 or not labels:
        return [
            (s, structures_for_run(structure_set=s, labels=labels, limit=limit))
            for s in structure_sets
        ]
    held = {
        s.pk: set(s.structures.filter(label__in=labels).values_list("label", flat=True))
        for s in structure_sets
    }
    unknown = [label for label in labels if not any(label in h for h in held.values())]
    if unknown:
        names = ", ".join(repr(s.name) for s in structure_sets)
        raise ArenaError(f"structure(s) {', '.join(unknown)} in none of the sets {names}")
    chosen = []
    for structure_set in structure_sets:
        own = [label for label in labels if label in held[structure_set.pk]]
        if own:
            chosen.append(
                (
                    structure_set,
                    structures_for_run(structure_set=structure_set, labels=own, limit=limit),
                )
            )
    return chosen


def all_tasks() -> list[Task]:
    return list(Task.objects.all())


def result_count() -> int:
    return Result.objects.count()


def results_by_id(*, result_ids: Collection[int]) -> Iterator[Result]:
    """The results with their model, task, structure (and set) and job, read in chunks."""
    return (
        Result.objects.filter(id__in=result_ids)
        .select_related("model", "task", "structure__structure_set", "job")
        .iterator(chunk_size=500)
    )


def results_by_key(*, keys: Collection[str]) -> dict[str, Result]:
    """The results of ``keys`` that exist, with their job's run."""
    return {r.key: r for r in Result.objects.filter(key__in=keys).select_related("job__run")}


def structures_by_id(*, structure_ids: Collection[int]) -> list[Structure]:
    return list(Structure.objects.filter(id__in=structure_ids).select_related("structure_set"))


def job_payload(*, job_id: int) -> JobPayload:
    job = Job.objects.select_related("model", "task", "structure").get(pk=job_id)
    return JobPayload(
        spec=model_spec(job.model),
        function=job.task.function,
        atoms=job.structure.atoms,
        params=dict(job.params),
        reference=dict(job.structure.reference or {}),
        key=job.key,
    )


def lease_seconds() -> float:
    """How long a job's lease or an RQ heartbeat lasts: three heartbeats, so that one late
    beat is fine."""
    return 3 * settings.ARENA_HEARTBEAT_S


def lease_held(prefix: str = "") -> Q:
    """Running jobs whose process keeps renewing the lease, on the database's clock."""
    return Q(**{f"{prefix}status": JobStatus.RUNNING, f"{prefix}lease_expires_at__gte": Now()})


def lease_expired(prefix: str = "") -> Q:
    """Running jobs whose process stopped renewing the lease: it died or was killed."""
    return Q(**{f"{prefix}status": JobStatus.RUNNING}) & ~lease_held(prefix)


def claimable() -> Q:
    """Jobs a process may take: queued, interrupted, or running on an expired lease."""
    return Q(status__in=[JobStatus.QUEUED, JobStatus.INTERRUPTED]) | lease_expired()


def in_state(state: str, prefix: str = "") -> Q:
    """Jobs that read as ``state``: a running job whose lease expired reads as interrupted."""
    stored = Q(**{f"{prefix}status": state})
    if state == JobStatus.RUNNING:
        return lease_held(prefix)
    if state == JobStatus.INTERRUPTED:
        return stored | lease_expired(prefix)
    return stored


def job_state() -> Case:
    """The state column readers show, as ``in_state`` defines it."""
    return Case(
        When(lease_expired(), then=Value(JobStatus.INTERRUPTED.value)),
        default=F("status"),
        output_field=CharField(),
    )


def run_jobs(*, run: BenchmarkRun) -> QuerySet[Job]:
    """The run's own jobs and the unfinished jobs of earlier runs it reused; not the done
    jobs its tasks added on other sets' structures (``tasks_app.companions``)."""
    own = Q(run_id=run.pk, structure__structure_set_id=run.structure_set_id)
    return Job.objects.filter(own | Q(pk__in=run.reused_jobs.values("pk")))


def run_jobs_count(*, run: BenchmarkRun) -> int:
    return run_jobs(run=run).count()


def run_status_counts(*, run: BenchmarkRun) -> dict[str, int]:
    """Jobs of the run per state, as ``in_state`` reads them."""
    counts = run_jobs(run=run).aggregate(
        **{state: Count("id", filter=in_state(state)) for state in JobStatus.values}
    )
    return {state: counts[state] or 0 for state in JobStatus.values}


def unfinished_jobs(*, run: BenchmarkRun) -> list[Job]:
    return list(run_jobs(run=run).filter(status__in=UNFINISHED).select_related("model", "task"))


def job_status(*, job_id: int) -> str | None:
    return Job.objects.filter(pk=job_id).values_list("status", flat=True).first()


def next_claimable_job(*, run: BenchmarkRun, models_first: Sequence[int] = ()) -> int | None:
    """The first of the run's jobs that this process may take (``claimable``): the
    models ``models_first`` names (ids) first in that order, then by model name, and
    within a model the longest first (``longest_first``)."""
    jobs = run_jobs(run=run).filter(claimable())
    order: list[Any] = ["model__name"]
    if models_first:
        rank = Case(
            *(When(model_id=pk, then=Value(i)) for i, pk in enumerate(models_first)),
            default=Value(len(models_first)),
            output_field=IntegerField(),
        )
        order.insert(0, rank)
    return longest_first(jobs, then=order).values_list("id", flat=True).first()


def longest_first(jobs: QuerySet[Job], *, then: Sequence[Any] = ()) -> QuerySet[Job]:
    """``jobs`` ordered by ``then``, and within it the longest first, so that workers
    that share a run do not end with one of them alone on a long job (LPT scheduling):
    by the compute seconds of the last done job of the same key (the same work, as a
    re-run or ``--force`` meets it), those never done first by their atoms (larger
    cells take longer), then by structure."""
    last_done = (
        Job.objects.filter(key=OuterRef("key"), status=JobStatus.DONE)
        .exclude(compute_seconds=None)
        .order_by("-finished_at")
        .values("compute_seconds")[:1]
    )
    return jobs.annotate(seconds_before=Subquery(last_done)).order_by(
        *then,
        F("seconds_before").desc(nulls_first=True),
        "-structure__natoms",
        "structure__position",
        "id",
    )


def batch_mates(*, job_id: int, run: BenchmarkRun | None = None) -> list[int]:
    """Claimable jobs that may run in one batched call with job ``job_id`` (its task has
    ``run_batch``): the same model, task and parameters, of ``run`` where given, else on
    the same queue; by structure, up to ARENA_JOBS_PER_BATCH jobs with ``job_id``, or
    fewer where the model's registry ``batch_size`` says so."""
    job = Job.objects.select_related("model", "task").get(pk=job_id)
    size = settings.ARENA_JOBS_PER_BATCH
    registry_size = job.model.calculator_kwargs.get("batch_size")
    if registry_size:
        size = min(size, int(registry_size))
    if size < 2 or spec_or_placeholder(job.task.function).run_batch is None:
        return []
    jobs = run_jobs(run=run) if run is not None else Job.objects.filter(queue=job.queue)
    mates = jobs.filter(
        claimable(), model_id=job.model_id, task_id=job.task_id, params_hash=job.params_hash
    ).exclude(pk=job_id)
    ids = mates.order_by("structure__position", "id").values_list("id", flat=True)
    return list(ids[: size - 1])


def run_model_ids(*, run: BenchmarkRun) -> list[int]:
    """Ids of the models the run's jobs use, by model name."""
    ids = run_jobs(run=run).order_by("model__name").values_list("model_id", flat=True)
    return list(dict.fromkeys(ids))


def reused_jobs_count(*, run: BenchmarkRun) -> int:
    """Unfinished jobs of earlier runs that ``run`` follows instead of planning again."""
    return run.reused_jobs.count()


def unheld_unfinished_jobs(*, job_ids: list[int]) -> list[Job]:
    """Those of ``job_ids`` still unfinished that no live process holds (no lease),
    longest first (``longest_first``): the order RQ is sent them in, and runs them."""
    jobs = Job.objects.filter(pk__in=job_ids, status__in=UNFINISHED).exclude(lease_held())
    return list(longest_first(jobs).select_related("model", "task"))


def unfinished_rq_jobs() -> list[Job]:
    """Unfinished jobs sent to RQ queues, of every run."""
    return list(
        Job.objects.filter(status__in=UNFINISHED, queue__in=settings.ARENA_QUEUES).select_related(
            "model", "task"
        )
    )


def run_by_id(run_id: int) -> BenchmarkRun:
    run = BenchmarkRun.objects.select_related("task", "structure_set").filter(pk=run_id).first()
    if run is None:
        latest = BenchmarkRun.objects.order_by("-pk").values_list("pk", flat=True).first()
        hint = f"the latest is run {latest}" if latest else "there are no runs yet"
        raise ArenaError(f"no run {run_id}; {hint}")
    return run


def failed_jobs(*, run: BenchmarkRun) -> list[Job]:
    return list(
        run_jobs(run=run).filter(status=JobStatus.FAILED).select_related("model", "structure")
    )


def task_overview() -> list[Task]:
    """Every task with counts of its results and of models that have results."""
    return list(
        Task.objects.annotate(
            result_count=Count("results", distinct=True),
            model_count=Count("results__model", distinct=True),
        )
    )


@dataclass(frozen=True)
class ModelSummary:
    """One model's line in run_benchmark's summary; ``medians`` by the spec's summary keys."""

    model: str
    done: int
    failed: int
    not_applicable: int
    missing: int
    medians: dict[str, float | None]
    seconds: float


def run_summary(*, run: BenchmarkRun, spec: TaskSpec) -> list[ModelSummary]:
    """Per model of the run: its standing on the run's structures and the medians of
    ``spec`` (the run's task's)."""
    options = run.options or {}
    models = list(MLIP.objects.filter(name__in=options.get("models") or []))
    structures = run.structure_set.structures.filter(
        label__in=options.get("structures") or []
    ).select_related("structure_set")
    # Results an earlier run stored for the same keys count as done.
    evidence = task_evidence(
        tasks=[run.task], models=models, structures=list(structures), params=run.params
    )[run.task.pk]
    seconds: dict[int, float] = {}
    for job in run_jobs(run=run).only("model_id", "started_at", "finished_at"):
        seconds[job.model_id] = seconds.get(job.model_id, 0.0) + (job.duration_seconds or 0.0)
    rows = []
    for model in sorted(models, key=lambda m: m.name.lower()):
        done = evidence.done(model.pk).values()
        medians = {}
        for key in spec.summary:
            metric = spec.metric(key)
            values = [v for row in done if (v := metric.value(row.metrics.get(key))) is not None]
            medians[key] = statistics.median(values) if values else None
        rows.append(
            ModelSummary(
                model=model.name,
                done=len(done),
                failed=evidence.failed_count(model.pk),
                not_applicable=evidence.not_applicable_count(model.pk),
                missing=evidence.missing(model.pk),
                medians=medians,
                seconds=seconds.get(model.pk, 0.0),
            )
        )
    return rows
