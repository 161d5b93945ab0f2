"""Files of long jobs in ARENA_FILE_STORE: MD checkpoints and full trajectories, by job key.

Keyed by the job's key, so that a later job for the same work (a re-run after an
interruption) goes on from the same checkpoint and appends to the same trajectory.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from compute.run_context import CheckpointFile, RunContext
from tasks_app.companions import companion_output
from tasks_app.services import job_progress, job_resumed


def checkpoint_file(key: str) -> CheckpointFile:
    return CheckpointFile(Path(settings.ARENA_FILE_STORE) / "checkpoints" / f"{key}.json")


def job_folder(key: str) -> str:
    """A job's folder inside the file store, as a relative path (for links)."""
    return f"jobs/{key}"


def job_context(*, job_id: int, key: str, family: str = "") -> RunContext:
    """Progress to the job row, checkpoints and large files in the file store, the
    model's family, and the task's results on other structures (``companions``)."""
    return RunContext(
        on_progress=lambda done, total: job_progress(
            job_id=job_id, steps_done=done, steps_total=total
        ),
        checkpoints=checkpoint_file(key),
        on_resumed=lambda step: job_resumed(job_id=job_id, step=step),
        progress_seconds=settings.ARENA_PROGRESS_SECONDS,
        checkpoint_seconds=settings.ARENA_CHECKPOINT_SECONDS,
        file_store=Path(settings.ARENA_FILE_STORE) / job_folder(key),
        family=family,
        companions=lambda structure_set, label, compute: companion_output(
            job_id=job_id, structure_set=structure_set, label=label, compute=compute
        ),
    )


def stored_file(relative: str) -> Path | None:
    """A file inside the file store by its relative path; None for anything outside it."""
    if "\0" in relative:
        return None  # no file name holds one; the OS refuses to look it up
    root = Path(settings.ARENA_FILE_STORE).resolve()
    path = (root / relative).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path
