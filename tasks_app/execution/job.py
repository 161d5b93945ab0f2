"""The job function: the one seam between Django and compute/.

RQ workers run ``execute_job``; without Redis ``in_process.run_in_process`` calls it.
"""

from __future__ import annotations

import os
import time
import traceback

from django.conf import settings
from rq import get_current_job

from compute.calculators import check_supported
from compute.environments import current_environment
from compute.errors import ComputeError, NotApplicable, first_line
from compute.provenance import provenance
from compute.structures import atoms_from_dict
from compute.tasks import run_job, task_spec
from models_app.loading import calculator_for
from tasks_app.execution.heartbeat import job_lease
from tasks_app.execution.time_limits import TimeLimitExceeded, job_time_limit_s, time_limit
from tasks_app.run_files import checkpoint_file, job_context
from tasks_app.selectors import job_payload
from tasks_app.services import (
    job_fail,
    job_finish,
    job_not_applicable,
    job_ran_with,
    job_start,
)


def execute_job(job_id: int) -> bool:
    """Run one job and record its outcome; False when the job was not this call's to run.

    The job is claimed first and its lease renewed while it runs, so a job delivered
    twice is computed once and a job whose process dies is seen to be abandoned.
    A structure with elements the model does not cover is recorded as not applicable.
    Errors a user can act on (model cannot load, NaN energies, the task's time limit
    passed) are recorded as the job's failure. Anything unexpected is recorded too,
    then re-raised so that RQ keeps it in its failed-job registry, without a retry:
    re-running it would meet the same error, or a worker's cached calculator left in
    a bad state by it.
    """
    rq_job = get_current_job()
    if not job_start(job_id=job_id, rq_job_id=rq_job.id if rq_job else ""):
        return False
    started = time.perf_counter()
    try:
        with job_lease(job_id):
            payload = job_payload(job_id=job_id)
            calculator = calculator_for(payload.spec)
            atoms = atoms_from_dict(payload.atoms)
            check_supported(payload.spec, calculator, atoms)
            made_with = provenance(
                calculator,
                family=payload.spec.family,
                environment=current_environment(settings.ARENA_ENVS_DIR),
            )
            job_ran_with(job_id=job_id, ran_with={**made_with, "pid": os.getpid()})
            context = job_context(job_id=job_id, key=payload.key, family=payload.spec.family)
            task = task_spec(payload.function)  # the job's one look-up: passed down from here
            with time_limit(job_time_limit_s(task)):
                outcome = run_job(
                    task, atoms, calculator, payload.params, payload.reference, context
                )
    except NotApplicable as exc:
        job_not_applicable(
            job_id=job_id, reason=str(exc), compute_seconds=time.perf_counter() - started
        )
        return True
    except (ComputeError, TimeLimitExceeded) as exc:
        job_fail(
            job_id=job_id,
            error=str(exc),
            traceback=traceback.format_exc(),
            compute_seconds=time.perf_counter() - started,
            evidence=getattr(exc, "failure_evidence", None),
        )
        return True
    except Exception as exc:
        job_fail(
            job_id=job_id,
            error=first_line(exc),
            traceback=traceback.format_exc(),
            compute_seconds=time.perf_counter() - started,
            evidence=getattr(exc, "failure_evidence", None),
        )
        if rq_job is not None:
            rq_job.retries_left = 0  # RQ's retries are for dead workers; this error is the job's
        raise
    job_finish(
        job_id=job_id,
        headline=outcome.headline,
        output=outcome.output,
        metrics=outcome.metrics,
        compute_seconds=time.perf_counter() - started,
    )
    checkpoint_file(payload.key).remove()  # done: a re-run (--force) starts afresh
    return True
