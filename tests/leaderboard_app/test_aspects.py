"""The accuracy view: the arena rank over the "Accuracy against DFT" groups alone and over
"Physical soundness" alone, by hand."""

from __future__ import annotations

from compute.tasks import TASKS
from compute.tasks.spec import ASPECTS
from leaderboard_app.ranking import TaskScore
from leaderboard_app.standings import aspect_rows

SPECS = {"eos": TASKS["eos"], "formation": TASKS["formation"]}


def ranked(model: str, rank: int, **group_ranks: int) -> TaskScore:
    return TaskScore(model, {}, done=1, missing=0, failed=0, rank=rank, group_ranks=group_ranks)


def test_each_aspect_ranks_over_its_own_groups_alone():
    """EOS: A sounder, B more accurate; formation (two groups against DFT): A 1 + 1,
    B 2 + 2, so A first. C ran EOS only: on formation it ranks after both (3).

    accuracy:  A 2 + 1 = 3, B 1 + 2 = 3, C 3 + 3 = 6   -> A1 B1 C3 (EOS alone: B1 A2)
    soundness: EOS alone: A1 B2 C3
    """
    assert {g.counts_in for g in SPECS["formation"].metric_groups} == {"accuracy"}
    scores = {
        "eos": [
            ranked("A", 1, soundness=1, accuracy=2),
            ranked("B", 1, soundness=2, accuracy=1),
            ranked("C", 3, soundness=3, accuracy=3),
        ],
        "formation": [ranked("A", 1, energy=1, geometry=1), ranked("B", 2, energy=2, geometry=2)],
    }
    ranks = {
        aspect: {r.model: r.rank for r in aspect_rows(["A", "B", "C"], scores, SPECS, aspect)}
        for aspect in ASPECTS
    }
    assert ranks == {"accuracy": {"A": 1, "B": 1, "C": 3}, "soundness": {"A": 1, "B": 2, "C": 3}}


def test_a_partial_model_takes_no_aspect_rank():
    scores = {"eos": [ranked("A", 1, soundness=1, accuracy=1)]}
    scores["eos"].append(
        TaskScore("P", {}, done=1, missing=9, failed=0, rank=1, partial=True,
                  group_ranks={"soundness": 1, "accuracy": 1})
    )  # fmt: skip
    rows = aspect_rows(["A", "P"], scores, SPECS, "accuracy")
    assert [(r.model, r.rank) for r in rows] == [("A", 1), ("P", 0)]
