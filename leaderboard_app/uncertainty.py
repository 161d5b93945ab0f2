"""How sure a mean over structures is: 95 % bootstrap intervals, plain and paired.

The percentile bootstrap (Efron): resample the structures with replacement, take the
mean of each resample, and report the 2.5 and 97.5 percentiles of those means. The
resamples are drawn once per structure count from a fixed seed, as a matrix of
weights, so that every interval is one matrix-vector product (vectorised numpy) and a
page shows the same interval on every request. Intervals are cached by their values
too: a page that shows the same results again computes none.

With RESAMPLES = 4000 the Monte Carlo error of a bound is about 4 % of the mean's
standard error σ/√n: √(0.025·0.975/4000) / φ(1.96) = 0.0025 / 0.058, the binomial
error of a 2.5 % quantile over the density there; the interval is 3.92 of them wide.

Between two models, the differences on the structures both have a value for are
resampled the same way (paired): where the interval of the mean difference holds 0,
the structures cannot tell the two apart on that metric.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from functools import lru_cache

import numpy as np

RESAMPLES = 4000
SEED = 20240607
LEVEL = 0.95
Interval = tuple[float, float]


@lru_cache(maxsize=128)
def _resample_weights(count: int) -> np.ndarray:
    """(RESAMPLES, count) weights: how often each structure is drawn, over ``count``."""
    draws = np.random.default_rng([SEED, count]).integers(0, count, (RESAMPLES, count))
    offsets = np.arange(RESAMPLES)[:, None] * count
    drawn = np.bincount((draws + offsets).ravel(), minlength=RESAMPLES * count)
    weights = drawn.reshape(RESAMPLES, count) / count
    weights.setflags(write=False)
    return weights


def mean_interval(values: Iterable[float | None]) -> Interval | None:
    """The 95 % percentile-bootstrap interval of the mean of the finite ``values``;
    None for fewer than two (one value says nothing about its spread)."""
    return _finite_interval(np.array(list(values), dtype=float))  # None: nan


def _finite_interval(values: np.ndarray) -> Interval | None:
    finite = values[np.isfinite(values)]
    return _interval(finite.tobytes()) if len(finite) > 1 else None


@lru_cache(maxsize=4096)
def _interval(values: bytes) -> Interval:
    """Cached by the values (as bytes): a page asks for the same ones on every request."""
    finite = np.frombuffer(values)
    means = _resample_weights(len(finite)) @ finite
    return _quantile(means, (1 - LEVEL) / 2), _quantile(means, (1 + LEVEL) / 2)


def _quantile(sample: np.ndarray, level: float) -> float:
    """np.quantile's linear interpolation, by partition instead of a full sort."""
    position = (len(sample) - 1) * level
    below = int(position)
    pair = np.partition(sample, [below, below + 1])[below : below + 2]
    return float(pair[0] + (pair[1] - pair[0]) * (position - below))


def paired_interval(
    first: Mapping[Hashable, float | None], second: Mapping[Hashable, float | None]
) -> Interval | None:
    """The interval of the mean of ``first - second`` over the structures (keys) where
    both have a finite value."""
    shared = list(first.keys() & second.keys())
    differences = np.array([first[key] for key in shared], dtype=float) - np.array(
        [second[key] for key in shared], dtype=float
    )  # None: nan, dropped with every other non-finite difference
    return _finite_interval(np.sort(differences))  # sorted: the same draw whatever the key order


def holds_zero(interval: Interval | None) -> bool:
    """Whether ``interval`` cannot tell the difference from nothing; no interval (under
    two shared structures) cannot either."""
    return interval is None or interval[0] <= 0.0 <= interval[1]
