"""What a runner tells the person following a run: progress, and what it waits for."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from tasks_app.models import UNFINISHED, BenchmarkRun
from tasks_app.selectors import run_status_counts

Progress = Callable[[int], None]  # called with the number of finished jobs so far
Say = Callable[[str], None]  # one line about what the run is waiting for
POLL_S = 0.5


class Waiting:
    """Says a line when what the run waits for changes, not on every poll."""

    def __init__(self, say: Say) -> None:
        self.said = ""
        self.say = say

    def __call__(self, reason: str, line: str) -> None:
        if reason != self.said:
            self.said = reason
            if line:
                self.say(line)


def finished_count(run: BenchmarkRun) -> int:
    """Jobs of the run in a final state (any state but the unfinished ones)."""
    counts = run_status_counts(run=run)
    return sum(n for state, n in counts.items() if state not in UNFINISHED)


def deadline(timeout_s: float | None) -> float:
    """The monotonic time at which ``timeout_s`` passes (infinity for None)."""
    return time.monotonic() + timeout_s if timeout_s else float("inf")


def left(deadline_s: float) -> float | None:
    """Seconds until ``deadline_s`` (at least a millisecond), None when there is none."""
    return None if math.isinf(deadline_s) else max(deadline_s - time.monotonic(), 1e-3)
