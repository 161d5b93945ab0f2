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


def test_the_metrics_table_sets_each_model_s_mean_and_rank_side_by_side():
    """A ranks first and B second on every metric; C, named but without results, has
    blanks. Only Δ has a paired interval (0.25 to 1.5 meV/atom, which holds no 0)."""
    from leaderboard_app.compare import metrics_table
    from leaderboard_app.ranking import Stats, TaskScore
    from leaderboard_app.tables import FLOAT, INT, table_csv

    keys = [
        "energy_derivative_flips", "tortuosity", "spearman_compression_energy",
        "spearman_compression_derivative", "spearman_tension_energy", "delta_mev_per_atom",
        "v0_rel_error", "b0_rel_error",
    ]  # fmt: skip

    def score(model: str, mean: float, rank: int) -> TaskScore:
        stats = {k: Stats(mean=mean, std=None, count=2) for k in keys + ["failure_rate"]}
        ranks = {k: rank for k in keys}
        return TaskScore(model=model, stats=stats, done=2, missing=0, failed=0, ranks=ranks)

    task = SimpleNamespace(slug="eos", name="EOS")
    scores = [score("B", 0.5, 2), score("A", 0.25, 1)]
    paired = {"delta_mev_per_atom": (0.25, 1.5)}
    table = metrics_table(task, EOS, scores, ["A", "B", "C"], 2, paired)

    assert (table.id, table.title) == (
        "compare-eos",
        "EOS: means over the 2 structures all of them have",
    )
    shown = [(c.key, c.label) for c in table.page_columns]
    assert shown == [
        ("metric", "Metric"), ("m0", "A"), ("m1", "B"), ("m2", "C"),
        ("ci", "B − A: 95 % interval"), ("verdict", "B against A"),
    ]  # fmt: skip
    means = [c for c in table.columns if c.key in ("m0", "r0")]
    assert [(c.kind, c.rank_key, c.display_key, c.export_name) for c in means] == [
        (FLOAT, "r0", "t0", "A"), (INT, "", "", "A rank"),
    ]  # fmt: skip
    assert [c.key for c in table.columns if not c.in_download] == ["ci"]
    assert table_csv(table).splitlines()[0] == (
        "metric,key,unit,A,A rank,B,B rank,C,C rank,difference_ci_low,difference_ci_high,verdict"
    )
    delta_cells = table.cells()[keys.index("delta_mev_per_atom")]
    assert [c.text for c in delta_cells] == [
        "Δ (meV/atom) ↓", "0.25", "0.50", "–", "0.25 – 1.50", "distinguishable",
    ]  # fmt: skip
    rows = {row["key"]: row for row in table.rows}
    assert list(rows) == keys  # the failure rate is a model's, not a structure's
    assert rows["delta_mev_per_atom"] == {
        "metric": "Δ (meV/atom) ↓", "key": "delta_mev_per_atom", "unit": "meV/atom",
        "m0": 0.25, "t0": "0.25", "r0": 1, "m1": 0.5, "t1": "0.50", "r1": 2,
        "m2": None, "t2": None, "r2": None,
        "ci_low": 0.25, "ci_high": 1.5, "ci_text": "0.25 – 1.50", "verdict": "distinguishable",
    }  # fmt: skip
    assert rows["v0_rel_error"] | {"m0": 0} == {
        "metric": "|V0 error| (%) ↓", "key": "v0_rel_error", "unit": "fraction",
        "m0": 0, "t0": "25.0%", "r0": 1, "m1": 0.5, "t1": "50.0%", "r1": 2,
        "m2": None, "t2": None, "r2": None, "verdict": "≈ (under two shared structures)",
    }  # fmt: skip
    assert table.notes == [
        ("#n", "The model's rank on the metric among the models compared here."),
        (
            "95 % interval",
            "Of the mean difference B − A over the shared structures, by a paired percentile "
            "bootstrap (4000 resamples of the structures, fixed seed). Where it holds 0 the "
            "structures cannot tell the two apart on the metric: ≈.",
        ),
        (
            "Paired",
            "These means are over the 2 structures all of them have, the same structures for "
            "each model; the task page's are over each model's own results and count its "
            "failures, so they agree where the models ran the same structures and none failed.",
        ),
    ]


def test_the_difference_table_sets_both_models_headline_numbers_and_the_reference_side_by_side():
    """Al has a WIEN2k V0; Cu none. B's V0 is A's + 0.5 on Al; B has no B0 on Cu."""
    from leaderboard_app.compare import difference_table
    from leaderboard_app.tables import table_csv

    task = SimpleNamespace(slug="eos", name="EOS")
    shared = [
        SimpleNamespace(id=3, label="Al", reference={"v0_a3_per_atom": 16.5}),
        SimpleNamespace(id=4, label="Cu", reference={}),
    ]

    def result(v0: float, b0: float | None) -> SimpleNamespace:
        return SimpleNamespace(headline={"v0_a3_per_atom": v0, "b0_gpa": b0})

    rows = {"A": {3: result(16.0, 80.0), 4: result(11.5, 140.0)},
            "B": {3: result(16.5, 70.0), 4: result(12.0, None)}}  # fmt: skip
    table = difference_table(task, EOS, shared, rows, "A", "B")
    assert (table.id, table.title) == (
        "difference-eos",
        "EOS: B against A per structure (Δ = B − A)",
    )
    labels = [c.label for c in table.columns][:5]
    assert labels == ["Structure", "V₀ A (Å³/atom)", "V₀ B (Å³/atom)", "ΔV₀ (Å³/atom)",
                      "V₀ reference (Å³/atom)"]  # fmt: skip
    assert [c.label for c in table.columns if c.key.startswith("b0_prime")] == [
        "B₀′ A", "B₀′ B", "ΔB₀′",
    ]  # fmt: skip
    assert "b0_gpa_ref" not in [c.key for c in table.columns]  # no structure has a B0 reference
    header = table_csv(table).splitlines()[0].split(",")
    assert header[:5] == [
        "structure", "v0_a3_per_atom A (Å³/atom)", "v0_a3_per_atom B (Å³/atom)",
        "v0_a3_per_atom B - A (Å³/atom)", "v0_a3_per_atom reference (Å³/atom)",
    ]  # fmt: skip
    assert table.cells()[0][0].href == "/structures/3/"
    al, cu = table.rows
    assert (al["structure"], al["structure_url"]) == ("Al", "/structures/3/")
    assert (al["v0_a3_per_atom_diff"], al["v0_a3_per_atom_ref"]) == (0.5, 16.5)
    assert (al["b0_gpa_a"], al["b0_gpa_b"], al["b0_gpa_diff"]) == (80.0, 70.0, -10.0)
    assert (cu["b0_gpa_diff"], cu["v0_a3_per_atom_ref"]) == (None, None)
    assert [c.signed for c in table.columns if c.key.endswith("_diff")] == [True] * 4
