"""The job function: the one seam between Django and compute/.

RQ workers run ``execute_job``; without Redis ``in_process.run_in_process`` claims jobs
and calls ``execute_claimed``. Jobs of one model, task and parameters whose task can run
several structures together (``TaskSpec.run_batch``) run in one call of it, up to
ARENA_JOBS_PER_BATCH (``selectors.batch_mates``), and each is then finished on its own.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Sequence

from django.conf import settings
from rq import get_current_job
from rq.job import Job as RQJob

from compute.calculators import check_supported
from compute.environments import current_environment
from compute.errors import ComputeError, NotApplicable, first_line
from compute.provenance import provenance
from compute.structures import atoms_from_dict
from compute.tasks import TaskOutcome, run_job, run_jobs, task_spec
from compute.threads import follow
from models_app.loading import calculator_for
from tasks_app.execution.heartbeat import job_lease
from tasks_app.execution.time_limits import TimeLimitExceeded, job_time_limit_s, time_limit
from tasks_app.run_files import checkpoint_file, job_context
from tasks_app.selectors import JobPayload, batch_mates, job_payload
from tasks_app.services import (
    job_fail,
    job_finish,
    job_not_applicable,
    job_ran_with,
    job_start,
)


def execute_job(job_id: int) -> bool:
    """RQ's job function: claim job ``job_id`` and the queued jobs that may run with it
    (``batch_mates``), run them and record each outcome; False when the job was not this
    call's to run. A mate's own RQ job later finds it taken and returns False."""
    rq_job = get_current_job()
    rq_job_id = rq_job.id if rq_job else ""
    if not job_start(job_id=job_id, rq_job_id=rq_job_id):
        return False
    mates = claim_jobs(batch_mates(job_id=job_id), rq_job_id=rq_job_id)
    execute_claimed([job_id, *mates], rq_job=rq_job)
    return True


def claim_jobs(job_ids: Sequence[int], *, rq_job_id: str = "") -> list[int]:
    """Those of ``job_ids`` this process now holds (``services.job_start``)."""
    return [job_id for job_id in job_ids if job_start(job_id=job_id, rq_job_id=rq_job_id)]


def execute_claimed(job_ids: Sequence[int], *, rq_job: RQJob | None = None) -> None:
    """Run jobs this process has claimed (one model, task and parameters) and record
    each outcome; several together where their task has ``run_batch``.

    Their leases are renewed while they run, so that a job whose process dies is seen to
    be abandoned. A structure with elements the model does not cover is recorded as not
    applicable. Errors a user can act on (model cannot load, NaN energies, the task's
    time limit passed) are recorded as the job's failure; inside a batch, one
    structure's error fails its job alone. Anything unexpected is recorded too, then
    re-raised so that RQ keeps it in its failed-job registry, without a retry:
    re-running it would meet the same error, or a worker's cached calculator left in a
    bad state by it. A batch shares the task's time limit and its compute seconds.
    """
    started = time.perf_counter()
    try:
        with job_lease(*job_ids):
            payloads = [job_payload(job_id=job_id) for job_id in job_ids]
            calculator = follow(calculator_for(payloads[0].spec))  # ThreadShare
            ready = _ready(job_ids, payloads, calculator, started)
            if not ready:
                return
            task = task_spec(payloads[0].function)  # the jobs' one look-up: passed down
            contexts = [
                job_context(job_id=job_id, key=payload.key, family=payload.spec.family)
                for job_id, payload, _ in ready
            ]
            with time_limit(job_time_limit_s(task)):
                if len(ready) == 1:
                    _, payload, atoms = ready[0]
                    outcomes: list[TaskOutcome | Exception] = [
                        run_job(
                            task, atoms, calculator, payload.params, payload.reference, contexts[0]
                        )
                    ]
                else:
                    outcomes = run_jobs(
                        task,
                        [atoms for _, _, atoms in ready],
                        calculator,
                        payloads[0].params,
                        [payload.reference for _, payload, _ in ready],
                        contexts,
                    )
    except (Exception, TimeLimitExceeded) as exc:
        for job_id in job_ids:  # those recorded already (not applicable) stay as they are
            _record(job_id, exc, seconds=time.perf_counter() - started)
        if isinstance(exc, ComputeError | TimeLimitExceeded):
            return
        if rq_job is not None:
            rq_job.retries_left = 0  # RQ's retries are for dead workers; this error is the job's
        raise
    seconds = (time.perf_counter() - started) / len(ready)
    for (job_id, payload, _), outcome in zip(ready, outcomes, strict=True):
        _record(job_id, outcome, seconds=seconds)
        if isinstance(outcome, TaskOutcome):
            checkpoint_file(payload.key).remove()  # done: a re-run (--force) starts afresh


def _ready(job_ids: Sequence[int], payloads: Sequence[JobPayload], calculator, started: float):
    """(job id, payload, Atoms) of the jobs the model can take, their provenance recorded;
    the others recorded as not applicable."""
    made_with = provenance(
        calculator,
        family=payloads[0].spec.family,
        environment=current_environment(settings.ARENA_ENVS_DIR),
    )
    ran_with = {**made_with, "pid": os.getpid()}
    if len(job_ids) > 1:
        ran_with["batch"] = len(job_ids)  # jobs in the batched call this one ran in
    ready = []
    for job_id, payload in zip(job_ids, payloads, strict=True):
        atoms = atoms_from_dict(payload.atoms)
        try:
            check_supported(payload.spec, calculator, atoms)
        except NotApplicable as exc:
            _record(job_id, exc, seconds=time.perf_counter() - started)
            continue
        job_ran_with(job_id=job_id, ran_with=ran_with)
        ready.append((job_id, payload, atoms))
    return ready


def _record(job_id: int, outcome: TaskOutcome | BaseException, *, seconds: float) -> None:
    """Store one job's outcome: its result, not applicable, or its failure."""
    if isinstance(outcome, TaskOutcome):
        job_finish(
            job_id=job_id,
            headline=outcome.headline,
            output=outcome.output,
            metrics=outcome.metrics,
            compute_seconds=seconds,
        )
    elif isinstance(outcome, NotApplicable):
        job_not_applicable(job_id=job_id, reason=str(outcome), compute_seconds=seconds)
    else:
        ours = isinstance(outcome, ComputeError | TimeLimitExceeded)
        job_fail(
            job_id=job_id,
            error=str(outcome) if ours else first_line(outcome),
            traceback="".join(traceback.format_exception(outcome)),
            compute_seconds=seconds,
            evidence=getattr(outcome, "failure_evidence", None),
        )
