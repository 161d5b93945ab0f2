"""The board kit's figures against hand computations, and the declarations a spec makes."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from compute.tasks import TASKS
from compute.tasks.figures import FIRST, Axis, Curves, Histogram, Marker, Parity, time_series
from compute.tasks.spec import LOWER, Metric, Quantity, TaskSpec
from leaderboard_app.boards import board_for, job_facts, kit
from leaderboard_app.boards.declared import curve_panels
from leaderboard_app.charts import PALETTE, model_styles

STYLES = model_styles([(1, "A"), (2, "B")])


def test_a_time_series_is_relative_to_its_start_per_atom_and_scaled():
    """NVE's declaration: 1000 × (E − E(t=0)) / N in meV/atom against t in ps."""
    (figure,) = [f for f in TASKS["nve"].figures if isinstance(f, Curves)]
    output = {
        "natoms": 4,
        "series": [
            {"time_ps": 0.02, "etot_ev": -9.996},
            {"time_ps": 0.0, "etot_ev": -10.0},
            {"time_ps": 0.01, "etot_ev": None},  # a sample without energy is left out
        ],
    }
    xs, ys = kit.curve_points(output, figure)
    assert xs == [0.0, 0.02]  # in time order
    assert ys == pytest.approx([0.0, 1000 * 0.004 / 4])


def test_speed_draws_steps_per_second_against_atoms_on_log_axes_from_its_records():
    rows = [("A", {"output": {"sizes": [{"natoms": 64, "steps_per_second": 10.0},
                                        {"natoms": 8, "steps_per_second": 80.0}]}})]  # fmt: skip
    (panel,) = curve_panels(TASKS["speed"], rows, STYLES, {})
    figure = panel["figure"]
    go.Figure(figure)
    assert (figure["data"][0]["x"], figure["data"][0]["y"]) == ([8, 64], [80.0, 10.0])
    assert figure["layout"]["xaxis"]["type"] == figure["layout"]["yaxis"]["type"] == "log"


def test_a_reference_marker_is_drawn_across_the_axis_it_names():
    figure = Curves(
        "path",
        "Minimum-energy path",
        x=Axis("image", "image"),
        y=Axis("energy_ev", "E − E initial (eV)", minus=FIRST),
        marker=Marker("barrier_ev", "PBE barrier", axis="y"),
    )
    spec = TaskSpec(name="toy", title="toy", description="", run=lambda atoms, calculator: {},
                    figures=(figure,))  # fmt: skip
    rows = [("A", {"output": {"image": [0, 1, 2], "energy_ev": [-3.0, -2.4, -3.0]}})]
    (panel,) = curve_panels(spec, rows, STYLES, {"barrier_ev": 0.55})
    drawn = panel["figure"]
    go.Figure(drawn)
    assert drawn["data"][0]["y"] == pytest.approx([0.0, 0.6, 0.0])
    (line,) = drawn["layout"]["shapes"]
    assert (line["y0"], line["y1"], line["yref"], line["xref"]) == (0.55, 0.55, "y", "paper")
    assert drawn["layout"]["annotations"][0]["text"] == "PBE barrier"
    (unmarked,) = curve_panels(spec, rows, STYLES, {})  # no reference value: no line
    assert "shapes" not in unmarked["figure"]["layout"]


def test_band_structures_draw_one_line_per_branch_under_one_legend_entry_per_model():
    """Phonon bands: at each wave vector a list of frequencies, one per branch; a band
    path's joint repeats its x and keeps its order."""
    bands = Curves("bands", "Phonon bands", x=Axis("q", "wave vector"), y=Axis("nu", "ν (THz)"))
    spec = TaskSpec(name="toy", title="toy", description="", run=lambda atoms, calculator: {},
                    figures=(bands,))  # fmt: skip
    output = {"q": [0.0, 0.5, 0.5, 1.0], "nu": [[0.0, 5.0], [2.0, 6.0], [2.5, 6.5], [3.0, 7.0]]}
    rows = [("A", {"output": output}), ("B", {"output": {"q": [0.0], "nu": [[1.0, 4.0]]}})]
    (panel,) = curve_panels(spec, rows, STYLES, {})
    figure = panel["figure"]
    go.Figure(figure)
    a_low, a_high, b_low, _ = figure["data"]
    assert a_low["x"] == [0.0, 0.5, 0.5, 1.0] and a_low["y"] == [0.0, 2.0, 2.5, 3.0]
    assert a_high["y"] == [5.0, 6.0, 6.5, 7.0]
    assert [t.get("showlegend", True) for t in figure["data"]] == [True, False, True, False]
    assert a_high["legendgroup"] == "A" and a_high["mode"] == "lines"
    assert b_low["line"]["color"] == STYLES["B"].color


def test_the_survival_curve_is_the_share_still_valid_and_its_area_the_mean():
    shares = kit.survival_shares([1.0, 0.5, 0.25, 0.0])
    assert shares[0] == 1.0  # every run is valid at t = 0
    assert shares[25] == 0.75 and shares[26] == 0.5  # the 0.25 run drops after t = 0.25
    assert shares[100] == 0.25  # only the complete run reaches the end
    # Left Riemann sum on the 0.01 grid: the mean valid fraction, 0.4375, within a step.
    assert sum(shares[:-1]) / 100 == pytest.approx(0.4375, abs=0.01)
    figure = kit.survival({"A": [1.0, None, 0.5], "B": []}, styles=STYLES)
    go.Figure(figure)
    assert [t["name"] for t in figure["data"]] == ["A"]  # B has no runs, None is no number
    assert figure["data"][0]["y"][60] == 0.5


def test_a_distribution_counts_each_models_share_of_structures_per_shared_bin():
    figure = kit.distribution(
        {"A": [0.0, 1.0, 1.0, 4.0], "B": [2.0, 2.5]}, styles=STYLES, label="x", bins=4
    )
    go.Figure(figure)
    a, b = figure["data"]
    # Bins of 1 over [0, 4]: [0,1) [1,2) [2,3) [3,4], the last closed.
    assert a["x"] == pytest.approx([0.5, 1.5, 2.5, 3.5])
    assert a["y"] == [0.25, 0.5, 0.0, 0.25]
    assert b["y"] == [0.0, 0.0, 1.0, 0.0]
    assert a["line"]["shape"] == "hvh"
    logged = kit.distribution({"A": [0.01, 0.1, 1.0, -1.0]}, styles={}, label="x", bins=2, log=True)
    assert logged["data"][0]["x"] == pytest.approx([10**-1.5, 10**-0.5])  # geometric centres
    assert logged["data"][0]["y"] == pytest.approx([1 / 3, 2 / 3])  # −1 has no logarithm


def test_parity_colours_by_category_and_keeps_each_models_marker():
    points = [
        kit.ParityPoint("A", "MgO", 160.0, 150.0, "cubic"),
        kit.ParityPoint("B", "MgO", 160.0, 170.0, "cubic"),
        kit.ParityPoint("A", "TiO2", 210.0, 200.0, "tetragonal"),
    ]
    figure = kit.parity([kit.ParityPanel("K", "GPa", points, "PBE")], styles=STYLES)
    go.Figure(figure)
    cubic, tetragonal = (t for t in figure["data"] if t["name"] != "y = x")
    assert (cubic["name"], tetragonal["name"]) == ("cubic", "tetragonal")
    assert (cubic["marker"]["color"], tetragonal["marker"]["color"]) == PALETTE[:2]
    assert cubic["marker"]["symbol"] == [STYLES["A"].marker, STYLES["B"].marker]
    assert cubic["text"] == ["A · MgO", "B · MgO"]
    assert figure["layout"]["xaxis"]["title"]["text"] == "PBE K (GPa)"


def test_per_element_means_count_every_structure_holding_the_element():
    means = kit.element_means([("Mg", 1.0), ("MgO", 3.0), ("O2", 5.0), ("not a formula", 9.0)])
    assert means == {"Mg": 2.0, "O": 4.0}


def test_the_element_table_goes_log_only_across_decades_and_diverges_for_signed_values():
    def scale(values):
        return kit.element_table(values, label="x")["data"][1]

    assert "tickvals" in scale({"Cu": 0.1, "Al": 20.0})["colorbar"]  # 200×: log
    assert "tickvals" not in scale({"Cu": 1.0, "Al": 20.0})["colorbar"]  # 20×: linear
    assert scale({"Cu": -1.0, "Al": 3.0})["zmid"] == 0


def test_job_facts_say_what_any_long_run_says_of_itself():
    facts = dict(
        job_facts(
            {
                "variant": "short",
                "steps_done": 120,
                "steps_total": 400,
                "failure": {"rule": "atoms_too_close", "step": 120, "message": "0.4 Å",
                            "temperature_k": 512.3},
                "environment": {"device": "cpu", "processor": "x86_64", "torch_threads": 2,
                                "versions": {"ase": "3.29"}},
            }
        )
    )  # fmt: skip
    assert facts["Protocol"] == "short" and facts["Steps done"] == "120 of 400"
    assert facts["Failure"] == "atoms_too_close at step 120 at 512 K: 0.4 Å"
    assert facts["Device"] == "cpu (x86_64)" and facts["Packages"] == "ase 3.29"
    assert job_facts({"energy_ev": 1.0}) == []


def test_a_spec_naming_keys_it_lacks_is_refused_at_import():
    metric = Metric("err", "Error", "help", LOWER)
    with pytest.raises(ValueError, match=r"unknown keys \['k_gpa', 'nope'\]"):
        TaskSpec(
            name="toy",
            title="t",
            description="",
            run=lambda atoms, calculator: {},
            metrics=(metric,),
            quantities=(Quantity("g_gpa", "G"),),
            figures=(Parity(("k_gpa",)), Histogram("err")),
            headline_metric="nope",
        )


def test_standard_tasks_have_no_board_module_and_the_rest_only_their_own_figures():
    assert [name for name in TASKS if board_for(name)] == ["eos", "diatomics", "elasticity"]
    assert {type(f).__name__ for f in TASKS["heating"].figures} == {"Survival", "Curves"}
    assert time_series("t", "T", Axis("temperature_k", "T (K)")).records == "series"
