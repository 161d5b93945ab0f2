"""The windows and edge cases of the E(V) shape metrics, every number worked by hand.

For values without ties, Spearman's ρ is 1 − 6Σd²/(n(n²−1)) with d the rank differences.
"""

import math

import pytest

from compute.tasks.curve_shape import curve_metrics


def test_each_window_takes_the_points_it_should():
    """V = 1..7, E = 6 2 3.5 0 1 5 3; the middle point (V=4, E=0) is the minimum.

    Compression energy, V = 1 2 3 (the minimum left out): E ranks 3 1 2, Σd² = 6,
    ρ = 1 − 36/24 = −0.5 (with the minimum in it would be −0.8).
    Compression dE/dV, midpoints 1.5 2.5 3.5 (below V=4), slopes −4 +1.5 −3.5: ranks
    1 3 2, Σd² = 2, ρ = 1 − 12/24 = +0.5 (the tension side would give −0.5).
    Tension energy, V = 4 5 6 7 (the minimum in): E ranks 1 2 4 3, Σd² = 2,
    ρ = 1 − 12/60 = 0.8 (without the minimum it would be 0.5).
    Step signs − + − + + −: four flips. Tortuosity (4+1.5+3.5+1+4+2) / (6 + 3) = 16/9.
    """
    metrics = curve_metrics([1, 2, 3, 4, 5, 6, 7], [6.0, 2.0, 3.5, 0.0, 1.0, 5.0, 3.0])
    assert metrics == {
        "energy_derivative_flips": 4,
        "tortuosity": pytest.approx(16 / 9, abs=1e-12),
        "spearman_compression_energy": pytest.approx(-0.5, abs=1e-12),
        "spearman_compression_derivative": pytest.approx(0.5, abs=1e-12),
        "spearman_tension_energy": pytest.approx(0.8, abs=1e-12),
    }


def test_five_points_give_two_point_windows_that_still_correlate():
    """V = 1..5, E = 4 1 0 2 3: two compression points (E falls: ρ = −1), two compression
    slopes −3 −1 (rising: ρ = +1), three tension points (E rises: ρ = +1). One flip;
    tortuosity (3+1+2+1) / (4+3) = 1."""
    metrics = curve_metrics([1, 2, 3, 4, 5], [4.0, 1.0, 0.0, 2.0, 3.0])
    assert metrics == {
        "energy_derivative_flips": 1,
        "tortuosity": pytest.approx(1.0, abs=1e-12),  # rounding of the correlation only
        "spearman_compression_energy": pytest.approx(-1.0, abs=1e-12),
        "spearman_compression_derivative": pytest.approx(1.0, abs=1e-12),
        "spearman_tension_energy": pytest.approx(1.0, abs=1e-12),
    }


def test_a_window_of_one_point_or_of_equal_energies_has_no_coefficient():
    """V = 1..5, E = 2 2 0 1 3: the compression energies are equal (no ranking), and after
    dropping the flat step one compression slope is left (−2 at V = 2.5). The tension
    side still ranks: E 0 1 3 rises, ρ = +1. Steps 0 −2 +1 +2: one flip once the flat
    one is dropped. Tortuosity 5 / (2 + 3) = 1."""
    metrics = curve_metrics([1, 2, 3, 4, 5], [2.0, 2.0, 0.0, 1.0, 3.0])
    assert math.isnan(metrics["spearman_compression_energy"])
    assert math.isnan(metrics["spearman_compression_derivative"])
    assert metrics["spearman_tension_energy"] == pytest.approx(1.0, abs=1e-12)
    assert metrics["energy_derivative_flips"] == 1
    assert metrics["tortuosity"] == 1.0


def test_a_flat_curve_has_no_flips_and_no_tortuosity():
    """E constant: no step moves, so no sign and no flip; span 0, so tortuosity undefined."""
    metrics = curve_metrics([1, 2, 3, 4, 5], [1.5] * 5)
    assert metrics["energy_derivative_flips"] == 0
    for key in ("tortuosity", "spearman_compression_energy", "spearman_tension_energy"):
        assert math.isnan(metrics[key]), key
    assert math.isnan(metrics["spearman_compression_derivative"])


def test_three_points_leave_one_compression_point_and_no_coefficient():
    """V = 1 2 3, E = 1 0 1: one point on the compression side, one slope below V=2."""
    metrics = curve_metrics([1, 2, 3], [1.0, 0.0, 1.0])
    assert math.isnan(metrics["spearman_compression_energy"])
    assert math.isnan(metrics["spearman_compression_derivative"])
    assert metrics["spearman_tension_energy"] == pytest.approx(1.0, abs=1e-12)
    assert (metrics["energy_derivative_flips"], metrics["tortuosity"]) == (1, 1.0)


def test_tortuosity_of_a_shallow_curve_and_of_a_curve_whose_ends_match_its_middle():
    """E = 0.4 0.1 0 0.2 0.3 eV: path 0.7 over span 0.4 + 0.3 = 0.7, tortuosity 1 (a small
    span is still a span). E = 0 1 0 1 0: both ends as low as the middle, span 0, so
    tortuosity is undefined (not infinite) however far the curve wanders."""
    shallow = curve_metrics([1, 2, 3, 4, 5], [0.4, 0.1, 0.0, 0.2, 0.3])
    assert shallow["tortuosity"] == pytest.approx(1.0, abs=1e-12)
    bumpy = curve_metrics([1, 2, 3, 4, 5], [0.0, 1.0, 0.0, 1.0, 0.0])
    assert math.isnan(bumpy["tortuosity"])
    assert bumpy["energy_derivative_flips"] == 3
