"""The job function: the one seam between Django and compute/.

RQ workers run ``execute_job``; without Redis the dispatcher calls it in-process.
"""

from __future__ import annotations

import time
import traceback

from rq import get_current_job

from compute.calculators import check_supported
from compute.errors import ComputeError, NotApplicable, first_line
from compute.structures import atoms_from_dict
from compute.tasks import evaluate, run_task
from models_app.loading import calculator_for
from tasks_app.selectors import job_payload
from tasks_app.services import job_fail, job_finish, job_not_applicable, job_start


def execute_job(job_id: int) -> None:
    """Run one job and record its outcome.

    A structure with elements the model does not cover is recorded as not applicable.
    Errors a user can act on (model cannot load, NaN energies) are recorded as the
    job's failure. Anything unexpected is recorded too, then re-raised so that RQ
    keeps it in its failed-job registry and applies its retry policy.
    """
    payload = job_payload(job_id=job_id)
    rq_job = get_current_job()
    job_start(job_id=job_id, rq_job_id=rq_job.id if rq_job else "")
    started = time.perf_counter()
    try:
        calculator = calculator_for(payload.spec)
        atoms = atoms_from_dict(payload.atoms)
        check_supported(payload.spec, calculator, atoms)
        output = run_task(payload.function, atoms, calculator, payload.params)
        metrics = evaluate(payload.function, output, payload.reference)
    except NotApplicable as exc:
        job_not_applicable(
            job_id=job_id, reason=str(exc), compute_seconds=time.perf_counter() - started
        )
        return
    except ComputeError as exc:
        job_fail(
            job_id=job_id,
            error=str(exc),
            traceback=traceback.format_exc(),
            compute_seconds=time.perf_counter() - started,
        )
        return
    except Exception as exc:
        job_fail(
            job_id=job_id,
            error=first_line(exc),
            traceback=traceback.format_exc(),
            compute_seconds=time.perf_counter() - started,
        )
        raise
    job_finish(
        job_id=job_id,
        output=output,
        metrics=metrics,
        compute_seconds=time.perf_counter() - started,
    )
