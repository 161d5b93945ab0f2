"""What a task may ask of whoever runs it: report progress, save and load a checkpoint,
and get its own result on another structure (an elemental reference, say).

A task function that takes a ``context`` keyword gets a ``RunContext``; plain ASE code
with no Django. The job function builds one whose callbacks write the job row and whose
checkpoints live in a file; tests and scripts use ``RunContext()``, which does nothing.
Writes are throttled by time, so a loop may call ``progress`` and ``checkpoint`` every
few steps at no cost.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

State = dict[str, Any]  # JSON-safe: positions, momenta, cell, step, rng state, ...


class CheckpointFile:
    """A checkpoint kept as one JSON file, replaced atomically so that a kill never
    leaves half of one. Python's JSON writes floats exactly (shortest round-trip repr)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, state: State) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        with partial.open("w") as handle:
            json.dump(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, self.path)

    def load(self) -> State | None:
        try:
            return json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


class RunContext:
    """Progress and checkpoints for one task run; every part is optional.

    ``on_progress(done, total)`` is called at most every ``progress_seconds`` (and
    always for the last step); a checkpoint is saved at most every
    ``checkpoint_seconds``, or whenever ``force`` asks. ``file_store`` is a folder for
    large files (full trajectories) or None to keep none. ``family`` names the model's
    family (``compute.calculators.FAMILIES``); ``companions(set, label, compute)`` gives
    this task's output for the same model and parameters on structure ``label`` of
    structure set ``set``: the job's context reads a stored result or stores what
    ``compute()`` returns; by default ``compute()`` is called once per label and kept.
    """

    def __init__(
        self,
        *,
        on_progress: Callable[[int, int], None] | None = None,
        checkpoints: CheckpointFile | None = None,
        on_resumed: Callable[[int], None] | None = None,
        progress_seconds: float = 5.0,
        checkpoint_seconds: float = 60.0,
        file_store: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        family: str = "",
        companions: Callable[[str, str, Callable[[], State]], State] | None = None,
    ) -> None:
        self.on_progress = on_progress
        self.checkpoints = checkpoints
        self.on_resumed = on_resumed
        self.progress_seconds = progress_seconds
        self.checkpoint_seconds = checkpoint_seconds
        self.file_store = file_store
        self.clock = clock
        self.family = family
        self.companions = companions
        self._companions: dict[tuple[str, str], State] = {}
        self._progress_at = -float("inf")
        self._checkpoint_at = clock()  # the first checkpoint waits one period

    def progress(self, steps_done: int, steps_total: int, *, force: bool = False) -> None:
        """Report ``steps_done``; throttled unless ``force`` or the last step."""
        if self.on_progress is None:
            return
        now = self.clock()
        due = now - self._progress_at >= self.progress_seconds
        if force or steps_done >= steps_total or due:
            self._progress_at = now
            self.on_progress(steps_done, steps_total)

    def checkpoint_due(self) -> bool:
        """Whether ``checkpoint`` would save now; lets a loop skip building the state."""
        return (
            self.checkpoints is not None
            and self.clock() - self._checkpoint_at >= self.checkpoint_seconds
        )

    def checkpoint(self, state: State | Callable[[], State], *, force: bool = False) -> bool:
        """Save ``state`` (or what the callable returns) if one is due; True if saved."""
        if self.checkpoints is None or not (force or self.checkpoint_due()):
            return False
        self.checkpoints.save(state() if callable(state) else state)
        self._checkpoint_at = self.clock()
        return True

    def restored(self) -> State | None:
        """The last checkpoint saved for this work, or None to start afresh."""
        state = self.checkpoints.load() if self.checkpoints else None
        if state is not None and self.on_resumed is not None:
            self.on_resumed(int(state.get("step", 0)))
        return state

    def file_path(self, name: str) -> Path | None:
        """Where to write a large file called ``name``, or None when none is kept."""
        if self.file_store is None:
            return None
        self.file_store.mkdir(parents=True, exist_ok=True)
        return self.file_store / name

    def companion(self, structure_set: str, label: str, compute: Callable[[], State]) -> State:
        """This task's output on structure ``label`` of ``structure_set`` (same model and
        parameters); ``compute()`` produces it where none is stored."""
        if self.companions is not None:
            return self.companions(structure_set, label, compute)
        if (structure_set, label) not in self._companions:
            self._companions[structure_set, label] = compute()
        return self._companions[structure_set, label]
