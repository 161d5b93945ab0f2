"""Figure builders: figures plotly's own validators accept, holding the right numbers."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest
from ase.data import atomic_numbers, chemical_symbols
from ase.units import GPa

from compute.tasks import TASKS
from leaderboard_app.boards.declared import curve_panels
from leaderboard_app.boards.eos import eos_figure
from leaderboard_app.boards.kit import ParityPanel, ParityPoint
from leaderboard_app.boards.kit import parity as parity_figure
from leaderboard_app.charts import (
    DIVERGING,
    MARKERS,
    PALETTE,
    Style,
    element_position,
    line_trace,
    model_styles,
    periodic_table_curves_figure,
    periodic_table_figure,
)


def result(volumes, energies, natoms=2, b0_gpa=100.0):
    output = {"volumes_a3": volumes, "energies_ev": energies, "natoms": natoms}
    return {"output": output, "headline": {"b0_gpa": b0_gpa}}


CURVE = ("M", result([22.0, 18.0, 20.0], [1.0, 1.0, 0.0]))


def test_eos_curves_use_mlip_arenas_normalisation():
    """V0 and E_min are the middle point of the scan; y = (E − E_min) / (B0 V0)."""
    figure = eos_figure([CURVE], styles=model_styles([(1, "M")]))
    go.Figure(figure)
    trace = figure["data"][0]
    assert trace["x"] == pytest.approx([0.9, 1.0, 1.1])
    expected = 1.0 / (100.0 * GPa * 20.0)
    assert trace["y"] == pytest.approx([expected, 0.0, expected], rel=1e-5)


def test_eos_toggle_switches_to_raw_energies_per_atom():
    figure = eos_figure([CURVE], styles={}, reference={"b0_prime": 4.0})
    normalised, raw = figure["layout"]["updatemenus"][0]["buttons"]
    assert raw["args"][0]["x"][0] == pytest.approx([9.0, 10.0, 11.0])
    assert raw["args"][0]["y"][0] == pytest.approx([0.5, 0.0, 0.5])
    assert raw["args"][1]["yaxis.title.text"] == "E (eV/atom)"
    assert normalised["args"][0]["y"][0] == figure["data"][0]["y"]
    reference = figure["data"][1]
    assert reference["y"][reference["x"].index(1.0)] == pytest.approx(0.0)
    assert min(reference["y"]) == pytest.approx(0.0)


def test_a_curve_without_bulk_modulus_still_draws_raw():
    figure = eos_figure(
        [("M", result([18.0, 20.0, 22.0], [1.0, 0.0, 1.0], b0_gpa=None))], styles={}
    )
    go.Figure(figure)
    assert figure["data"][0]["y"] == [None, None, None]


def test_ev_curves_are_energy_per_atom_against_volume_ratio_to_the_middle_point():
    """As the E–V spec declares its curve: no board module of its own."""
    rows = [("M", result([22.0, 18.0, 20.0], [1.0, 3.0, 0.0], natoms=4))]
    ((panel),) = curve_panels(TASKS["ev"], rows, {}, {})
    figure = panel["figure"]
    go.Figure(figure)
    trace = figure["data"][0]
    assert trace["x"] == pytest.approx([0.9, 1.0, 1.1])
    assert trace["y"] == pytest.approx([0.75, 0.0, 0.25])  # (E − E_mid) / 4 atoms


def test_parity_has_one_legend_entry_per_model_and_both_panels():
    volumes = [
        ParityPoint("A", "Cu", 11.95, 12.0),
        ParityPoint("A", "Al", 16.5, 16.0),
        ParityPoint("B", "Cu", 11.95, 11.5),
    ]
    moduli = [
        ParityPoint("A", "Cu", 141.0, 130.0),
        ParityPoint("A", "Al", 78.0, None),
        ParityPoint("B", "Cu", 141.0, 150.0),
    ]
    panels = [ParityPanel("V₀", "Å³/atom", volumes), ParityPanel("B₀", "GPa", moduli, "WIEN2k")]
    figure = parity_figure(panels, styles=model_styles([(1, "A"), (2, "B")]))
    go.Figure(figure)
    model_traces = [t for t in figure["data"] if t["name"] in {"A", "B"}]
    assert [(t["name"], t["xaxis"], t["showlegend"]) for t in model_traces] == [
        ("A", "x", True),
        ("A", "x2", False),
        ("B", "x", True),
        ("B", "x2", False),
    ]
    a_b0 = model_traces[1]
    assert (a_b0["x"], a_b0["y"], a_b0["text"]) == ([141.0], [130.0], ["Cu"])
    layout = figure["layout"]
    assert layout["xaxis"]["domain"] == [0, 0.44] and layout["xaxis2"]["domain"] == [0.56, 1]
    assert layout["xaxis2"]["title"]["text"] == "WIEN2k B₀ (GPa)"


def test_periodic_positions_are_the_usual_table():
    assert element_position(1) == (0, 0)
    assert element_position(2) == (0, 17)
    assert element_position(atomic_numbers["B"]) == (1, 12)
    assert element_position(atomic_numbers["Al"]) == (2, 12)
    assert element_position(atomic_numbers["Kr"]) == (3, 17)
    assert element_position(atomic_numbers["Hf"]) == (5, 3)
    assert element_position(atomic_numbers["Rn"]) == (5, 17)
    assert element_position(atomic_numbers["La"]) == (8, 2)
    assert element_position(atomic_numbers["Lr"]) == (9, 16)
    positions = [element_position(z) for z in range(1, 104)]
    assert len(set(positions)) == len(positions)


def test_periodic_table_colours_log_delta_and_labels_every_element():
    figure = periodic_table_figure({"Cu": 10.0, "Al": 0.1}, label="meV/atom")
    go.Figure(figure)
    base, values = figure["data"]
    row, col = element_position(atomic_numbers["Cu"])
    assert values["z"][row][col] == pytest.approx(1.0)
    assert values["customdata"][row][col] == 10.0
    assert values["text"][row][col] == "Cu" and base["text"][row][col] == ""
    labelled = {t for grid in (base["text"], values["text"]) for r in grid for t in r if t}
    assert labelled == set(chemical_symbols[1:])
    assert values["colorbar"]["ticktext"] == ["0.1", "1", "10"]


def test_periodic_table_on_a_linear_scale_shows_zero_and_negative_values():
    """Signed values: a diverging scale, symmetric about zero, so white means 0."""
    figure = periodic_table_figure({"H": 0.0, "O": -0.5, "Og": 2.0}, label="x", log=False)
    go.Figure(figure)
    values = figure["data"][1]
    row, col = element_position(atomic_numbers["O"])
    assert values["z"][row][col] == -0.5 and values["text"][row][col] == "O"
    assert values["z"][0][0] == 0.0  # H: zero is a value, not a blank
    assert (values["zmin"], values["zmax"], values["zmid"]) == (-2.0, 2.0, 0)
    assert values["colorscale"] == DIVERGING and "reversescale" not in values
    assert "tickvals" not in values["colorbar"]
    one_sign = periodic_table_figure({"H": 0.5, "Og": 2.0}, label="x", log=False)["data"][1]
    assert (one_sign["zmin"], one_sign["zmax"], one_sign["colorscale"]) == (0.5, 2.0, "YlOrRd")
    assert element_position(118) == (6, 17)


def test_curves_table_places_each_curve_and_its_guide_in_its_cell():
    """A curve in the unit square lands in [col ± 0.45] × [row ± 0.4], y up on a table whose
    y axis runs down; the guide at y = 1/3 crosses only cells with a curve."""
    figure = periodic_table_curves_figure(
        {"Cu": ([0.0, 0.5, 1.0], [1.0, 0.0, 1 / 3])}, name="M", color="#123456", guide_y=1 / 3
    )
    go.Figure(figure)
    base, guide, curve, labels = figure["data"]
    row, col = element_position(atomic_numbers["Cu"])
    six_digits = 1e-5  # coordinates are rounded to six significant digits; None ends a curve
    assert curve["x"][:3] == pytest.approx([col - 0.45, col, col + 0.45], rel=six_digits)
    assert curve["y"][:3] == pytest.approx(
        [row - 0.4, row + 0.4, row + 0.4 - 0.8 / 3], rel=six_digits
    )
    assert curve["x"][3] is None and curve["y"][3] is None
    assert guide["x"] == [col - 0.45, col + 0.45, None]
    assert guide["y"][:2] == pytest.approx([row + 0.4 - 0.8 / 3] * 2, rel=six_digits)
    assert labels["text"] == chemical_symbols[1:]
    assert sum(v is not None for r in base["z"] for v in r) == 118


def test_every_registered_model_looks_different_and_keeps_its_look_as_models_are_added():
    """Okabe and Ito's colour-blind-safe palette, then the next marker: by registration order."""
    from models_app.services import REGISTRY_PATH, load_yaml_entries

    names = [entry["name"] for entry in load_yaml_entries(REGISTRY_PATH, "models")]
    registry = list(enumerate(names, start=1))  # seeding registers them in file order
    styles = model_styles(registry)
    assert len(names) >= 19 and len(set(styles.values())) == len(names)  # none shared
    assert styles[names[0]] == Style(PALETTE[0], MARKERS[0])
    assert styles[names[7]] == Style(PALETTE[0], MARKERS[1])  # the 8th: colours start again
    assert model_styles(reversed(registry)) == styles  # the registry's order, not the caller's
    earlier = model_styles(registry[:5])  # before the others were registered
    assert earlier == {name: styles[name] for _, name in registry[:5]}
    many = model_styles((i, f"model-{i}") for i in range(len(PALETTE) * len(MARKERS)))
    assert len(set(many.values())) == len(PALETTE) * len(MARKERS)  # every pair, once
    assert set(PALETTE) <= {"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
                            "#000000", "#F0E442"}  # fmt: skip
    trace = line_trace(names[8], [1.0], [2.0], styles[names[8]])
    assert (trace["line"]["color"], trace["marker"]["symbol"]) == (PALETTE[1], MARKERS[1])
    unknown = line_trace("unregistered", [1.0], [2.0], None)  # plotly picks its colour
    assert (unknown["line"]["color"], unknown["marker"]["symbol"]) == (None, MARKERS[0])
