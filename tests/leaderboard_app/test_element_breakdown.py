"""Per-element breakdowns: every task with per-structure references draws a periodic
table of a model's mean error by element, on its page and on the compare page."""

from __future__ import annotations

import pytest

from compute.tasks import TASKS
from compute.tasks.figures import ElementTable
from compute.tasks.spec import LOWER, TARGET, Metric
from leaderboard_app.boards.declared import declared_figures, element_breakdown


@pytest.mark.parametrize("name", [n for n, spec in TASKS.items() if spec.reference_keys])
def test_every_task_with_per_structure_references_draws_a_periodic_table(name):
    assert any(isinstance(f, ElementTable) for f in declared_figures(TASKS[name]))


def test_a_task_without_references_gets_none_it_did_not_declare():
    bare = [s for s in TASKS.values() if not s.reference_keys]
    assert bare and all(declared_figures(s) == s.figures for s in bare)


def test_an_element_is_the_mean_over_the_structures_holding_it():
    error = Metric("e", "|error|", "", LOWER, absolute=True)
    values, label = element_breakdown(
        error, [("Cu", -0.1), ("CuAl", 0.3), ("Al2O3", None), ("Al", 0.5)]
    )
    assert values == pytest.approx({"Cu": (0.1 + 0.3) / 2, "Al": (0.3 + 0.5) / 2})
    assert label == "|error|"
    flips = Metric("flips", "Flips", "", TARGET, ideal=1.0)
    assert element_breakdown(flips, [("Ni", 3.0), ("Ni", 1.0)])[0] == {"Ni": 1.0}
