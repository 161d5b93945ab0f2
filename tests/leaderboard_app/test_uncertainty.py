"""Bootstrap intervals against the analytic case, and the paired comparison of two models."""

from __future__ import annotations

import math

import numpy as np
import pytest

from compute.tasks.spec import LOWER, Metric
from leaderboard_app.ranking import ModelEvidence, score_task
from leaderboard_app.uncertainty import (
    RESAMPLES,
    holds_zero,
    mean_interval,
    paired_interval,
)

ERROR = Metric("error", "|error|", "an error", LOWER, absolute=True, digits=3)
# The Monte Carlo error of a 2.5 % bound, in standard errors of the mean: the binomial
# error of the quantile, √(p(1-p)/B), over the normal density there, φ(1.96).
BOUND_MC_ERROR = math.sqrt(0.025 * 0.975 / RESAMPLES) / (
    math.exp(-(1.96**2) / 2) / math.sqrt(2 * math.pi)
)


@pytest.mark.parametrize("n", [71, 400])
def test_the_interval_of_a_mean_of_normal_samples_is_1_96_standard_errors_each_side(n):
    values = np.random.default_rng(n).normal(5.0, 2.0, n)
    # The bootstrap resamples the sample itself: its spread is the plug-in deviation.
    standard_error = values.std(ddof=0) / math.sqrt(n)
    low, high = mean_interval(values.tolist())
    # Each bound within 4 of its own Monte Carlo errors (plus the skew a resampled mean
    # of n normal values keeps, far smaller), in standard errors.
    tolerance = 4 * BOUND_MC_ERROR * standard_error
    assert high - low == pytest.approx(2 * 1.96 * standard_error, abs=math.sqrt(2) * tolerance)
    assert (low + high) / 2 == pytest.approx(values.mean(), abs=tolerance)


def test_the_interval_is_fixed_and_skips_what_is_not_a_number():
    values = [1.0, 2.0, None, 4.0, float("nan"), 8.0]
    assert mean_interval(values) == mean_interval([1.0, 2.0, 4.0, 8.0])
    low, high = mean_interval(values)
    assert 1.0 <= low < 3.75 < high <= 8.0  # within the values, around their mean
    assert mean_interval([3.0]) is None and mean_interval([]) is None
    assert mean_interval([2.5] * 10) == (2.5, 2.5)


def test_identical_models_are_indistinguishable_and_different_ones_are_not():
    rng = np.random.default_rng(7)
    base = dict(enumerate(rng.normal(10.0, 3.0, 50)))
    assert paired_interval(base, dict(base)) == (0.0, 0.0)
    assert holds_zero(paired_interval(base, dict(base)))
    better = {k: v - 1.0 + rng.normal(0, 0.1) for k, v in base.items()}
    low, high = paired_interval(base, better)
    assert 0.9 < low < high < 1.1 and not holds_zero((low, high))


def test_pairing_sees_a_small_steady_gain_that_overlapping_intervals_hide():
    """Structures differ by far more than the two models do: each model's own interval
    overlaps the other's, but on every shared structure one is 0.05 better."""
    rng = np.random.default_rng(3)
    first = dict(enumerate(rng.normal(10.0, 3.0, 60)))
    second = {k: v - 0.05 + rng.normal(0, 0.01) for k, v in first.items()}
    a, b = mean_interval(first.values()), mean_interval(second.values())
    assert a[0] < b[1] and b[0] < a[1]  # overlapping
    low, high = paired_interval(first, second)
    assert 0.04 < low < 0.05 < high < 0.06


def test_only_structures_both_models_ran_are_paired():
    first = {"Cu": 1.0, "Al": 2.0, "Au": None, "Ag": 9.0}
    second = {"Cu": 1.0, "Al": 2.0, "Au": 5.0}
    assert paired_interval(first, second) == (0.0, 0.0)  # Au and Ag are not shared
    assert paired_interval({"Cu": 1.0}, {"Cu": 3.0}) is None
    assert holds_zero(None)


def evidence(name: str, values: list[float]) -> ModelEvidence:
    return ModelEvidence(model=name, metrics=[{"error": v} for v in values])


def test_the_task_ranks_mark_models_the_structures_cannot_tell_apart():
    rng = np.random.default_rng(11)
    base = rng.normal(0.0, 1.0, 40)
    near = base + rng.normal(0.0, 0.2, 40)  # another mean, within the noise
    far = base + 3.0  # |error| three times larger on every structure
    scores = score_task(
        [evidence("far", far), evidence("near", near), evidence("base", base)],
        metrics=[ERROR],
    )
    by_name = {s.model: s for s in scores}
    assert [s.model for s in scores][2] == "far"
    assert by_name["far"].rank == 3 and not by_name["far"].level_with_above
    second = scores[1]
    assert second.rank == 2 and second.level_with_above
    assert not scores[0].level_with_above  # nobody above the first
    stats = by_name["base"].stats["error"]
    assert stats.interval[0] < stats.mean < stats.interval[1]
