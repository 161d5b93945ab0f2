"""EOS metrics against hand computations and an independent Delta integral."""

import math

import numpy as np
import pytest
from ase.units import GPa

from compute.tasks.curve_shape import curve_metrics
from compute.tasks.eos.metrics import evaluate, reference_metrics


def test_smooth_convex_curve_has_ideal_metrics():
    volumes = np.linspace(8, 12, 21)
    energies = (volumes - 10) ** 2
    metrics = curve_metrics(list(volumes), list(energies))
    assert metrics["energy_derivative_flips"] == 1
    assert metrics["tortuosity"] == pytest.approx(1.0)
    assert metrics["spearman_compression_energy"] == pytest.approx(-1.0)
    assert metrics["spearman_compression_derivative"] == pytest.approx(1.0)
    assert metrics["spearman_tension_energy"] == pytest.approx(1.0)


def test_wiggly_curve_counts_flips_and_tortuosity_by_hand():
    # Energies: down, down, up, down, up, up -> diffs signs - - + - + + -> 3 flips.
    volumes = [1, 2, 3, 4, 5, 6, 7]
    energies = [5.0, 3.0, 1.0, 2.0, 0.0, 1.0, 4.0]
    metrics = curve_metrics(volumes, energies)
    assert metrics["energy_derivative_flips"] == 3
    # middle point (index 3, E=2) is the reference minimum:
    # total variation = 2+2+1+2+1+3 = 11; span = |5-2| + |4-2| = 5
    assert metrics["tortuosity"] == pytest.approx(11 / 5)


def test_curve_metrics_sort_unsorted_volumes():
    volumes = np.linspace(8, 12, 21)
    energies = (volumes - 10) ** 2
    order = np.random.default_rng(0).permutation(21)
    assert curve_metrics(list(volumes[order]), list(energies[order])) == curve_metrics(
        list(volumes), list(energies)
    )


def _bm_energy(v, v0, b0, bp):
    eta = (v0 / v) ** (2 / 3)
    return 9 * v0 * b0 / 16 * ((eta - 1) ** 3 * bp + (eta - 1) ** 2 * (6 - 4 * eta))


def test_delta_matches_an_independent_integral_of_the_energy_difference():
    ref = {"v0_a3_per_atom": 11.9511, "b0_gpa": 141.335, "b0_prime": 4.86}  # WIEN2k Cu
    output = {"v0_a3_per_atom": 12.2, "b0_gpa": 130.0, "b0_prime": 5.1}
    v_mid = (ref["v0_a3_per_atom"] + output["v0_a3_per_atom"]) / 2
    v = np.linspace(0.94 * v_mid, 1.06 * v_mid, 20001)
    diff = _bm_energy(
        v, output["v0_a3_per_atom"], output["b0_gpa"] * GPa, output["b0_prime"]
    ) - _bm_energy(v, ref["v0_a3_per_atom"], ref["b0_gpa"] * GPa, ref["b0_prime"])
    expected_mev = 1000 * math.sqrt(np.trapezoid(diff**2, v) / (v[-1] - v[0]))

    metrics = reference_metrics(output, ref)
    # ASE's closed-form Delta and this trapezoid integral agree to 5e-5 here.
    assert metrics["delta_mev_per_atom"] == pytest.approx(expected_mev, rel=2e-4)
    assert metrics["v0_rel_error"] == pytest.approx((12.2 - 11.9511) / 11.9511)
    assert metrics["b0_rel_error"] == pytest.approx((130.0 - 141.335) / 141.335)
    assert reference_metrics(ref, ref)["delta_mev_per_atom"] == pytest.approx(0.0, abs=1e-12)


def test_evaluate_adds_reference_metrics_only_with_a_reference():
    volumes = list(np.linspace(8, 12, 21))
    output = {
        "volumes_a3": volumes,
        "energies_ev": [(v - 10) ** 2 for v in volumes],
        "v0_a3_per_atom": 10.0,
        "b0_gpa": 100.0,
        "b0_prime": 4.0,
    }
    assert "delta_mev_per_atom" not in evaluate(output, None)
    ref = {"v0_a3_per_atom": 10.0, "b0_gpa": 100.0, "b0_prime": 4.0}
    assert evaluate(output, ref)["delta_mev_per_atom"] == pytest.approx(0.0, abs=1e-12)
    from compute.tasks import evaluate as evaluate_task

    other = {"v0_a3_per_atom": 10.0, "b0_gpa": 125.0, "b0_prime": 4.0}
    assert evaluate_task("eos", output, other)["b0_rel_error"] == pytest.approx(-0.2, abs=1e-15)
    partial = {"v0_a3_per_atom": 10.0, "b0_gpa": 125.0}  # no B′: no Delta
    assert "delta_mev_per_atom" not in evaluate_task("eos", output, partial)


def test_flat_steps_carry_no_sign_and_are_dropped_as_mlip_arena_does():
    """E = 9 5 5 2 0 1 1 3 6 at V = 1..9, the middle point (V=5, E=0) the minimum.

    Steps −4 0 −3 −2 +1 0 +2 +3: without the two flat ones the signs change once.
    Compression slopes at V = 1.5, 3.5, 4.5 are −4, −3, −2: ρ = +1 (with the flat step
    at 2.5 kept it would be 0.4). Tortuosity 15 / (9 + 6) = 1. Spearman of E on the
    compression side with the 5, 5 tie (average ranks): −3/√10; on the tension side
    with the 1, 1 tie: √0.95.
    """
    volumes = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    energies = [9.0, 5.0, 5.0, 2.0, 0.0, 1.0, 1.0, 3.0, 6.0]
    metrics = curve_metrics(volumes, energies)
    assert metrics["energy_derivative_flips"] == 1
    assert metrics["spearman_compression_derivative"] == pytest.approx(1.0, abs=1e-12)
    assert metrics["tortuosity"] == pytest.approx(1.0, abs=1e-12)
    assert metrics["spearman_compression_energy"] == pytest.approx(-3 / math.sqrt(10), abs=1e-12)
    assert metrics["spearman_tension_energy"] == pytest.approx(math.sqrt(0.95), abs=1e-12)
