"""How closely a re-run must reproduce a stored result: one tolerance per headline
quantity and metric, declared in the task spec (``Quantity.reproduce``, ``Metric.reproduce``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compute.tasks.spec import TaskSpec


@dataclass(frozen=True)
class Tolerance:
    """Two values agree within ``absolute + relative × max(|a|, |b|)``; ``relative`` None
    leaves the number uncompared (a timing). ``reason`` says why this tolerance."""

    relative: float | None
    absolute: float = 0.0
    reason: str = ""

    def differs(self, stored: Any, now: Any) -> bool:
        """Whether ``now`` fails to reproduce ``stored``: numbers beyond the tolerance, any
        other value (a flag, a text, a missing number) unequal."""
        if self.relative is None:
            return False
        if _number(stored) and _number(now):
            return abs(now - stored) > self.absolute + self.relative * max(abs(stored), abs(now))
        return stored != now


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# The same code on the same input computes the same floats, up to the order of
# floating-point reductions (threads, BLAS), which a fit or an optimizer barely amplifies.
DETERMINISTIC = Tolerance(1e-6, 1e-9, "deterministic: only reduction order may differ")
# MD trajectories are chaotic: a rounding difference grows over the steps, so quantities
# read from a trajectory (a drift fit, a failure step) reproduce only statistically.
TRAJECTORY = Tolerance(0.05, 1e-3, "MD: rounding differences grow along a chaotic trajectory")
TIMING = Tolerance(None, reason="a timing: depends on the machine and its load")


def tolerances(spec: TaskSpec) -> dict[tuple[str, str], Tolerance]:
    """The tolerance of each declared (``headline`` or ``metrics``, key) of ``spec``."""
    return {
        **{("headline", q.key): q.reproduce for q in spec.quantities},
        **{("metrics", m.key): m.reproduce for m in spec.metrics},
    }


def differences(
    spec: TaskSpec,
    stored: Mapping[str, Mapping[str, Any]],
    now: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """``part.key: stored → now (Δ …)`` for every headline number and metric of the stored
    result (``stored["headline"]``, ``stored["metrics"]``) that ``now`` does not reproduce
    within its declared tolerance (DETERMINISTIC where the spec declares none)."""
    declared = tolerances(spec)
    found = []
    for part in ("headline", "metrics"):
        for key, before in sorted(stored.get(part, {}).items()):
            after = now.get(part, {}).get(key)
            if declared.get((part, key), DETERMINISTIC).differs(before, after):
                found.append(f"{part}.{key}: {before} → {after}{_delta(before, after)}")
    return found


def _delta(before: Any, after: Any) -> str:
    if not (_number(before) and _number(after)):
        return ""
    relative = f", {abs(after - before) / abs(before):.2g} relative" if before else ""
    return f" (Δ {after - before:+.3g}{relative})"
