"""The compare page's pieces without a page: which models it takes, the differences and
their verdicts, against values worked out by hand."""

from __future__ import annotations

from types import SimpleNamespace

from compute.tasks import spec_or_placeholder
from leaderboard_app.compare import (
    _difference,
    _paired_cells,
    difference_by_element,
    pick_models,
)
from models_app.models import MLIP

EOS = spec_or_placeholder("eos")  # headline quantities: V0 first


def models(*names: str) -> list[MLIP]:
    return [MLIP(name=n, slug=n.lower().replace(" ", "-")) for n in names]


def test_models_are_picked_by_name_or_slug_three_at_most_each_once():
    a, b, c, d, e = registered = models("A", "B b", "C", "D", "E")
    chosen, unknown, beyond = pick_models(registered, " A ,b-b,,a,nobody,A,C,D,d,E,ghost")
    assert (chosen, unknown, beyond) == ([a, b, c], ["nobody", "ghost"], ["D", "E"])
    assert pick_models(registered, "") == ([], [], [])
    assert pick_models(registered, "C,C") == ([c], [], [])


def test_a_difference_is_second_minus_first_of_two_numbers():
    assert _difference(1.5, 4) == 2.5
    assert _difference(3, 1) == -2
    for a, b in ((None, 1.0), (1.0, None), (True, 1.0), (1.0, False), ("1", 2.0)):
        assert _difference(a, b) is None


def test_the_verdict_follows_the_interval_and_shows_it_at_the_metric_s_precision():
    metric = next(m for m in EOS.metrics if m.key == "delta_mev_per_atom")
    apart = _paired_cells(metric, (0.25, 1.5))
    assert apart == {
        "ci_low": 0.25,
        "ci_high": 1.5,
        "ci_text": f"{metric.format(0.25)} – {metric.format(1.5)}",
        "verdict": "distinguishable",
    }
    assert _paired_cells(metric, (-0.5, 0.0))["verdict"] == "≈ not distinguishable"
    assert _paired_cells(metric, None) == {"verdict": "≈ (under two shared structures)"}


def test_the_element_table_averages_the_first_quantity_per_one_element_structure():
    """V0 differences: Cu (two cells) 10 and 20 → 15; Al 5; NaCl and a failed Au left out."""
    shared = [
        SimpleNamespace(id=1, formula="Cu"),
        SimpleNamespace(id=2, formula="Cu4"),
        SimpleNamespace(id=3, formula="Al"),
        SimpleNamespace(id=4, formula="NaCl"),
        SimpleNamespace(id=5, formula="Au"),
    ]
    first = {1: 100.0, 2: 110.0, 3: 70.0, 4: 20.0, 5: 150.0}
    second = {1: 110.0, 2: 130.0, 3: 75.0, 4: 30.0, 5: None}

    def results(v0: dict[int, float | None]) -> dict[int, SimpleNamespace]:
        return {
            sid: SimpleNamespace(headline={"v0_a3_per_atom": v, "b0_gpa": 1.0})
            for sid, v in v0.items()
        }

    rows = {"A": results(first), "B": results(second)}
    assert EOS.quantities[0].key == "v0_a3_per_atom"
    assert difference_by_element(EOS, shared, rows, "A", "B") == {"Cu": 15.0, "Al": 5.0}
    assert difference_by_element(EOS, shared, rows, "B", "A") == {"Cu": -15.0, "Al": -5.0}
    no_quantities = SimpleNamespace(quantities=())
    assert difference_by_element(no_quantities, shared, rows, "A", "B") == {}
