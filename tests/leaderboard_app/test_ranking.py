"""Ranking against hand computations: EOS groups on each model's own results, failures,
baselines, coverage, the arena sum."""

from __future__ import annotations

import pytest

from compute.tasks.eos.metrics import GROUPS as EOS_GROUPS
from compute.tasks.eos.metrics import METRICS as EOS_METRICS
from leaderboard_app.ranking import (
    NOT_BENCHMARKED,
    ModelEvidence,
    arena_ranking,
    rank_min,
    score_task,
    stats,
)


def eos_row(flips, tortuosity, comp_e, comp_de, tension_e, delta=1.0, v0=0.01, b0=0.05):
    return {
        "energy_derivative_flips": flips,
        "tortuosity": tortuosity,
        "spearman_compression_energy": comp_e,
        "spearman_compression_derivative": comp_de,
        "spearman_tension_energy": tension_e,
        "delta_mev_per_atom": delta,
        "v0_rel_error": v0,
        "b0_rel_error": b0,
    }


def test_rank_min_ties_share_the_lowest_rank_and_none_ranks_last():
    assert rank_min([3.0, 1.0, 3.0, None, 2.0]) == [3, 1, 3, 5, 2]
    assert rank_min([None, None]) == [1, 1]
    assert rank_min([]) == []


def test_stats_mean_and_sample_std_skip_missing_values():
    summary = stats([1.0, 2.0, 3.0, None, float("nan")])
    assert (summary.mean, summary.std, summary.count) == (2.0, 1.0, 3)
    assert stats([4.0]).std is None
    assert stats([None]).mean is None
    assert (stats([]).count, stats([None, float("inf")]).count) == (0, 0)


def test_eos_ranks_two_groups_on_each_models_own_results_by_hand():
    """A and B ran structures 0 and 1; C ran both, and failed 1 (ran 2 of 2: not partial).
    Each model's means are over its own results; C's failure adds nothing to the curve
    and accuracy means and counts in its failure rate, 1 of 2. Every rank by hand:

    Physical soundness
      flips |x-1|: A |1-1| 0, B |2-1| 1, C 1     -> A1 B2 C2
      tortuosity ↓: A 1.1, B 1.0, C 1.05         -> B1 C2 A3 (A's 1.2 on structure 1 counts)
      ρ comp. E ↓: A -1, B -0.9, C -1            -> A1 C1 B3
      ρ comp. dE/dV ↑: A 1, B 1, C 0.5           -> A1 B1 C3
      ρ tension E ↑: A 1, B 0.8, C none          -> A1 B2 C3
      failed ↓: A 0, B 0, C 1/2                  -> A1 B1 C3
      sums A8 B10 C14                            -> A1 B2 C3
    Accuracy against DFT
      Δ ↓: A (2+50)/2 = 26, B 1, C 3             -> B1 C2 A3
      |V0 error|: A 15.5 %, B 2.0 %, C 1.0 %     -> C1 B2 A3
      |B0 error|: A 27.5 %, B 2 %, C 10 %        -> B1 C2 A3
      sums A9 B4 C5                              -> B1 C2 A3
    Task: A 1+3=4, B 2+1=3, C 3+2=5 -> B1 A2 C3
    """
    evidence = [
        ModelEvidence(
            "A",
            {
                0: eos_row(1, 1.0, -1, 1, 1, delta=2, v0=0.01, b0=-0.05),
                1: eos_row(1, 1.2, -1, 1, 1, delta=50, v0=0.3, b0=0.5),
            },
        ),
        ModelEvidence(
            "B",
            {
                0: eos_row(1, 1.0, -0.9, 1, 0.8, delta=1, v0=0.02, b0=0.02),
                1: eos_row(3, 1.0, -0.9, 1, 0.8, delta=1, v0=0.02, b0=0.02),
            },
        ),
        ModelEvidence(
            "C",
            {0: eos_row(0, 1.05, -1, 0.5, None, delta=3, v0=-0.01, b0=-0.1)},
            failed=1,
            missing=1,
        ),
    ]
    scores = {s.model: s for s in score_task(evidence, metrics=EOS_METRICS, groups=EOS_GROUPS)}
    assert scores["A"].ranks == {
        "energy_derivative_flips": 1,
        "tortuosity": 3,
        "spearman_compression_energy": 1,
        "spearman_compression_derivative": 1,
        "spearman_tension_energy": 1,
        "failure_rate": 1,
        "delta_mev_per_atom": 3,
        "v0_rel_error": 3,
        "b0_rel_error": 3,
    }
    groups = {m: scores[m].group_ranks for m in "ABC"}
    assert groups == {
        "A": {"soundness": 1, "accuracy": 3},
        "B": {"soundness": 2, "accuracy": 1},
        "C": {"soundness": 3, "accuracy": 2},
    }
    assert [scores[m].rank_sum for m in "ABC"] == [4, 3, 5]
    assert [scores[m].rank for m in "ABC"] == [2, 1, 3]
    assert [(scores[m].done, scores[m].compared) for m in "ABC"] == [(2, 2), (2, 2), (1, 1)]
    assert (scores["C"].missing, scores["C"].failed, scores["C"].total) == (1, 1, 2)
    assert scores["A"].stats["tortuosity"].mean == pytest.approx(1.1)
    assert scores["C"].stats["failure_rate"].mean == pytest.approx(0.5)
    assert scores["C"].stats["delta_mev_per_atom"].count == 1  # the failure adds nothing
    # B0 errors average as |value|, and the signed mean keeps the sign (softening).
    assert scores["C"].stats["b0_rel_error"].mean == pytest.approx(0.1)
    assert scores["C"].stats["b0_rel_error"].signed_mean == pytest.approx(-0.1)
    assert scores["A"].stats["tortuosity"].signed_mean is None


def test_a_third_model_never_changes_the_others_numbers():
    """A ran 0 and 1, B only 0: A's mean tortuosity is (1.0 + 1.2) / 2 whoever else is
    scored, and a third model C, failing structure 1, changes no mean of A or B."""
    a = ModelEvidence("A", {0: eos_row(1, 1.0, -1, 1, 1), 1: eos_row(1, 1.2, -1, 1, 1)})
    b = ModelEvidence("B", {0: eos_row(1, 1.1, -1, 1, 1)}, missing=1)
    c = ModelEvidence("C", {0: eos_row(3, 2.0, -0.5, 0.5, 0.5)}, failed=1)
    two = {s.model: s for s in score_task([a, b], metrics=EOS_METRICS, groups=EOS_GROUPS)}
    three = {s.model: s for s in score_task([a, b, c], metrics=EOS_METRICS, groups=EOS_GROUPS)}
    assert two["A"].stats["tortuosity"].mean == pytest.approx(1.1)
    assert two["B"].stats["tortuosity"].mean == pytest.approx(1.1)
    for model in "AB":
        assert three[model].stats == two[model].stats
    assert three["C"].stats["failure_rate"].mean == pytest.approx(0.5)


def test_a_failure_adds_what_each_metric_says():
    """NVE: a failed job counts as LAMBench's 5 in the instability, 0 in completed, nothing
    in the drift, and 1 in the failure rate. F completed one run (instability 1, drift 2)
    and failed one: instability (1 + 5) / 2 = 3, completed 1/2, drift 2, failed 1/2."""
    from compute.tasks.nve import METRICS as NVE_METRICS

    done = {"drift_mev_per_atom_ps": 2.0, "lambench_instability": 1.0, "completed": 1.0}
    clean = ModelEvidence("G", {0: done, 1: done})
    failing = ModelEvidence("F", {0: done}, failed=1)
    scores = {s.model: s for s in score_task([clean, failing], metrics=NVE_METRICS)}
    means = {key: stat.mean for key, stat in scores["F"].stats.items()}
    assert means == pytest.approx(
        {
            "drift_mev_per_atom_ps": 2.0,
            "lambench_instability": 3.0,
            "completed": 0.5,
            "failure_rate": 0.5,
        }
    )
    # Instability 1 against 3 and failed 0 against 1/2: the clean model ranks first.
    assert (scores["G"].rank, scores["F"].rank) == (1, 2)


def test_a_baseline_is_scored_apart_and_never_ranked():
    """EMT as a baseline: its means are shown, it takes no rank, and the others rank as if
    it were absent, though it has the best curves of all."""
    best, good, rough = (
        eos_row(1, 1.0, -1, 1, 1),
        eos_row(1, 1.1, -1, 1, 1),
        eos_row(3, 1.5, -0.5, 0.5, 0.5),
    )
    a, b = ModelEvidence("A", [good, good]), ModelEvidence("B", [rough, rough])
    emt = ModelEvidence("EMT", [best] * 7, baseline=True)
    with_baseline = score_task([emt, a, b], metrics=EOS_METRICS, groups=EOS_GROUPS)
    without = score_task([a, b], metrics=EOS_METRICS, groups=EOS_GROUPS)
    assert [(s.model, s.rank) for s in with_baseline] == [("A", 1), ("B", 2), ("EMT", 0)]
    assert with_baseline[:2] == without
    assert with_baseline[2].baseline and not with_baseline[2].ranked
    assert with_baseline[2].stats["tortuosity"].mean == pytest.approx(1.0)


def test_models_below_the_coverage_threshold_rank_apart_as_partial():
    """A and B ran 4 structures; P ran 1, under half of 4, so it is partial: ranked among
    the partial models after the others even though its one curve is the best."""
    good, rough = eos_row(1, 1.0, -1, 1, 1), eos_row(3, 1.5, -0.5, 0.5, 0.5)
    evidence = [
        ModelEvidence("A", dict.fromkeys(range(4), good)),
        ModelEvidence("B", dict.fromkeys(range(4), rough)),
        ModelEvidence("P", {0: good}, missing=3),
        ModelEvidence("Q", {1: good, 3: good}, missing=2),
    ]
    scores = score_task(evidence, metrics=EOS_METRICS, groups=EOS_GROUPS, min_coverage=0.6)
    assert [(s.model, s.rank, s.partial) for s in scores] == [
        ("A", 1, False),
        ("B", 2, False),
        ("P", 1, True),
        ("Q", 1, True),
    ]
    assert [s.ranked for s in scores] == [True, True, False, False]
    assert [s.compared for s in scores] == [4, 4, 1, 2]
    at_half = {s.model: s.partial for s in score_task(evidence, metrics=EOS_METRICS)}
    assert at_half == {"A": False, "B": False, "P": True, "Q": False}


def test_a_model_set_aside_is_shown_with_its_means_but_not_ranked():
    row = eos_row(1, 1.0, -1, 1, 1)
    evidence = [
        ModelEvidence("broken", [row], set_aside="its last load check failed"),
        ModelEvidence("A", [eos_row(2, 1.5, -0.5, 0.5, 0.5)]),
    ]
    scores = score_task(evidence, metrics=EOS_METRICS)
    assert [(s.model, s.rank) for s in scores] == [("A", 1), ("broken", NOT_BENCHMARKED)]
    assert scores[1].stats["tortuosity"].mean == pytest.approx(1.0)
    assert scores[1].set_aside and not scores[1].ranked


def test_equal_models_tie_and_the_next_rank_is_skipped():
    row = eos_row(1, 1.0, -1, 1, 1)
    worse = eos_row(2, 1.5, -0.5, 0.5, 0.5)
    evidence = [ModelEvidence("A", [row]), ModelEvidence("B", [row]), ModelEvidence("C", [worse])]
    scores = score_task(evidence, metrics=EOS_METRICS)
    assert [(s.model, s.rank) for s in scores] == [("A", 1), ("B", 1), ("C", 3)]


def test_a_task_without_metrics_counts_but_does_not_rank():
    scores = score_task([ModelEvidence("A", [{}, {}], missing=1)], metrics=())
    assert (scores[0].rank, scores[0].done, scores[0].missing, scores[0].ranks) == (0, 2, 1, {})


def test_values_equal_at_display_precision_tie():
    """Tortuosity shows 3 decimals: 1.00025 and 1.00032 both read 1.000, so they tie;
    ρ shows 3 decimals: −0.9999999999999998 and −0.9999999999999999 both read −1.000.
    A and B tie everywhere (rank sum 6, rank 1); C is worse on tortuosity (1.002)."""
    a = eos_row(1, 1.00025, -0.9999999999999998, 1, 1)
    b = eos_row(1, 1.00032, -0.9999999999999999, 1, 1)
    c = eos_row(1, 1.002, -1, 1, 1)
    evidence = [ModelEvidence("A", [a]), ModelEvidence("B", [b]), ModelEvidence("C", [c])]
    scores = {s.model: s for s in score_task(evidence, metrics=EOS_METRICS)}
    assert scores["A"].ranks["tortuosity"] == scores["B"].ranks["tortuosity"] == 1
    assert scores["C"].ranks["tortuosity"] == 3
    assert {m: scores[m].ranks["spearman_compression_energy"] for m in "ABC"} == {
        "A": 1,
        "B": 1,
        "C": 1,
    }
    assert [scores[m].rank for m in "ABC"] == [1, 1, 3]


def test_flips_rank_by_distance_from_one_at_display_precision():
    """Mean flips 1.004 shows as 1.00 (2 decimals): it ties a perfect 1; 0.99 does not."""
    near = ModelEvidence("near", [eos_row(1.004, 1, -1, 1, 1)])
    exact = ModelEvidence("exact", [eos_row(1, 1, -1, 1, 1)])
    low = ModelEvidence("low", [eos_row(0.99, 1, -1, 1, 1)])
    ranks = {
        s.model: s.ranks["energy_derivative_flips"]
        for s in score_task([near, exact, low], metrics=EOS_METRICS)
    }
    assert ranks == {"near": 1, "exact": 1, "low": 3}


def test_a_model_without_results_is_not_benchmarked_and_takes_no_rank():
    """N has only failures: it is listed last, unranked, and A and B rank among themselves."""
    evidence = [
        ModelEvidence("N", [], failed=2, missing=2),
        ModelEvidence("A", [eos_row(1, 1.0, -1, 1, 1)], missing=1),
        ModelEvidence("B", [eos_row(2, 1.5, -0.5, 0.5, 0.5)], missing=1),
    ]
    scores = score_task(evidence, metrics=EOS_METRICS)
    assert [(s.model, s.rank) for s in scores] == [("A", 1), ("B", 2), ("N", NOT_BENCHMARKED)]
    assert scores[2].ranks == {} and not scores[2].benchmarked


def test_arena_sums_task_ranks_and_a_missing_task_ranks_last():
    """eos: A1 B2; other: B1 C2. Missing ranks last (3). Sums A4 B3 C5; D ran nothing."""
    rows = arena_ranking(["A", "B", "C", "D"], {"eos": {"A": 1, "B": 2}, "other": {"B": 1, "C": 2}})
    assert [(r.model, r.rank_sum, r.rank) for r in rows] == [
        ("B", 3, 1),
        ("A", 4, 2),
        ("C", 5, 3),
        ("D", 0, NOT_BENCHMARKED),
    ]
    assert rows[1].task_ranks == {"eos": 1, "other": 3}


def test_a_task_where_nobody_is_ranked_counts_for_nobody():
    """nve and speed ran only outside the protocol: nobody is ranked there. Before, a
    missing model ranked one past nobody there, 1, for every model: a phantom rank."""
    rows = arena_ranking(["A", "B"], {"eos": {"A": 1, "B": 2}, "nve": {}, "heating": {}})
    assert [(r.model, r.rank_sum, r.rank, r.task_ranks) for r in rows] == [
        ("A", 1, 1, {"eos": 1}),
        ("B", 2, 2, {"eos": 2}),
    ]


def test_a_model_missing_a_task_ranks_after_all_who_ran_it():
    """eos ties A and B at 1, C at 3; D skipped eos: it ranks 4, after all three."""
    ranks = {"eos": {"A": 1, "B": 1, "C": 3}, "ev": {"D": 1, "A": 2, "B": 2, "C": 2}}
    rows = {r.model: r for r in arena_ranking(["A", "B", "C", "D"], ranks)}
    assert rows["D"].task_ranks == {"eos": 4, "ev": 1}
    assert rows["D"].task_ranks["eos"] > max(ranks["eos"].values())


def test_arena_leaves_models_ranked_nowhere_unranked_after_the_others():
    rows = arena_ranking(["Z", "A", "B"], {"eos": {"A": 1, "B": 2}})
    assert [(r.model, r.rank, r.rank_sum) for r in rows] == [
        ("A", 1, 1),
        ("B", 2, 2),
        ("Z", NOT_BENCHMARKED, 0),
    ]


def test_arena_ties_share_the_lowest_rank():
    rows = arena_ranking(["A", "B", "C"], {"eos": {"A": 1, "B": 1}, "ev": {"C": 1}})
    # eos: A1 B1, C missing -> 3; ev: C1, A and B missing -> 2. Sums: A3 B3 C4.
    assert [(r.model, r.rank) for r in rows] == [("A", 1), ("B", 1), ("C", 3)]


def test_tied_models_are_listed_by_lowercased_name():
    """Lowercased, "mace_mp" sorts before "macea" ('_' is 95, 'a' 97), as a reader
    expects; uppercased it would not ('A' is 65)."""
    rows = arena_ranking(["MACEA", "MACE_MP"], {"eos": {"MACEA": 1, "MACE_MP": 1}})
    assert [r.model for r in rows] == ["MACE_MP", "MACEA"]
    row = eos_row(1, 1.0, -1, 1, 1)
    scores = score_task([ModelEvidence("MACEA", [row]), ModelEvidence("MACE_MP", [row])],
                        metrics=EOS_METRICS)  # fmt: skip
    assert [s.model for s in scores] == ["MACE_MP", "MACEA"]
