"""A table's cells one feature at a time, each against the cell written out by hand: ranks
and shades, signed shading, row classes, layout, links, badges and the CSV header."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from leaderboard_app.tables import (
    BOOL,
    DATE,
    DATETIME,
    FLOAT,
    INT,
    LINK,
    LIST,
    MEAN_STD,
    ROW_CSS,
    TEXT,
    Cell,
    Column,
    Table,
    csv_headers,
    sort_key,
    table_csv,
    table_json,
)


def cells_of(table: Table) -> list[dict[str, Cell]]:
    return [
        {c.key: shown for c, shown in zip(table.page_columns, row, strict=True)}
        for row in table.cells()
    ]


def test_ranks_are_shown_bold_for_the_first_and_shaded_from_best_to_worst():
    column = Column("delta", "Δ", FLOAT, digits=1, rank_key="delta_rank")
    rows = [
        {"delta": 1.0, "delta_rank": 1},
        {"delta": 2.0, "delta_rank": 2},
        {"delta": 3.0, "delta_rank": 3},
        {"delta": 4.0, "delta_rank": 5},
        {"delta": None, "delta_rank": 4},  # a blank cell shows no rank
        {"delta": 5.0, "delta_rank": None},
    ]
    shown = [r["delta"] for r in cells_of(Table("t", "T", [column], rows))]
    assert [(c.text, c.rank, c.shade, c.css) for c in shown] == [
        ("1.0", "#1", "0.00", "num best"),
        ("2.0", "#2", "0.25", "num"),
        ("3.0", "#3", "0.50", "num"),
        ("4.0", "#5", "1.00", "num"),
        ("–", "", "", "num"),
        ("5.0", "", "", "num"),
    ]


def test_a_column_of_one_rank_is_unshaded_and_ranks_can_stay_hidden():
    hidden = Column("x", "X", INT, rank_key="r", show_rank=False)
    rows = [{"x": 7, "r": 1}, {"x": 8, "r": 1}]
    shown = [r["x"] for r in cells_of(Table("t", "T", [hidden], rows))]
    assert [(c.text, c.rank, c.shade, c.css) for c in shown] == [
        ("7", "", "0", "num best"),
        ("8", "", "0", "num best"),
    ]
    assert not Table("t", "T", [hidden], rows).has_ranks
    assert Table("t", "T", [Column("x", "X", INT, rank_key="r")], rows).has_ranks
    off_page = Column("x", "X", INT, rank_key="r", on_page=False)
    assert not Table("t", "T", [off_page, Column("y", "Y")], rows).has_ranks
    assert not Table("t", "T", [Column("x", "X", INT)], rows).has_ranks


def test_signed_values_shade_by_sign_and_share_of_the_largest_magnitude():
    column = Column("bias", "Bias", FLOAT, digits=2, signed=True)
    values = [-4.0, 2.0, 0.004, -0.0049, 0.005, None, float("nan"), True, 1]
    rows = [{"bias": v} for v in values]
    shown = [r["bias"] for r in cells_of(Table("t", "T", [column], rows))]
    assert [(c.css, c.signed) for c in shown] == [
        ("num signed-neg", "1.00"),
        ("num signed-pos", "0.50"),
        ("num", ""),  # reads as 0.00: no sign
        ("num", ""),
        ("num signed-pos", "0.00"),  # reads as 0.01
        ("num", ""),
        ("num", ""),
        ("num", ""),  # a flag is no number
        ("num signed-pos", "0.25"),
    ]
    unsigned = Column("bias", "Bias", FLOAT, digits=2)
    assert [r["bias"].css for r in cells_of(Table("t", "T", [unsigned], rows[:2]))] == [
        "num",
        "num",
    ]


def test_a_signed_column_of_no_numbers_shows_blanks():
    column = Column("bias", "Bias", FLOAT, signed=True)
    shown = cells_of(Table("t", "T", [column], [{"bias": None}]))[0]["bias"]
    assert (shown.text, shown.css, shown.signed) == ("–", "num", "")


def test_a_row_s_classes_reach_every_cell_of_the_row():
    columns = [Column("model", "Model", sticky=True), Column("x", "X", FLOAT)]
    rows = [{"model": "EMT", "x": 1.0, ROW_CSS: "baseline"}, {"model": "M", "x": 2.0}]
    shown = cells_of(Table("t", "T", columns, rows))
    assert [(r["model"].css, r["x"].css) for r in shown] == [
        ("sticky baseline", "num baseline"),
        ("sticky", "num"),
    ]


def test_layout_classes_and_the_detail_switch():
    assert Column("a", "A", sticky=True, detail=True).layout_css == "sticky detail"
    assert Column("a", "A", detail=True).layout_css == "detail"
    assert Column("a", "A").layout_css == ""
    assert Table("t", "T", [Column("a", "A"), Column("b", "B", detail=True)], []).has_details
    hidden = Column("b", "B", detail=True, on_page=False)
    assert not Table("t", "T", [Column("a", "A"), hidden], []).has_details
    columns = [Column("a", "A", FLOAT, detail=True), Column("b", "B", LIST, sticky=True)]
    shown = cells_of(Table("t", "T", columns, [{"a": 1.0, "b": ["x"]}]))[0]
    assert (shown["a"].css, shown["b"].css) == ("num detail", "wrap sticky")


def test_links_titles_badges_and_tracebacks_of_a_cell():
    columns = [
        Column("model", "Model", link_key="url", sticky=True),
        Column("status", "Status", badge=True, traceback_key="tb"),
        Column("code", "Code", LINK, detail=True),
        Column("name", "Name", display_key="label"),
    ]
    rows = [
        {"model": "A model name of 17", "url": "/m/1/", "status": "failed", "tb": "/tb/1/",
         "code": "https://x.org", "name": "raw", "label": "Shown"},
        {"model": "Sixteen chars ok", "status": "", "code": "", "name": "raw", "label": ""},
    ]  # fmt: skip
    first, second = cells_of(Table("t", "T", columns, rows))
    assert first["model"] == Cell(
        "A model name of 17", "a model name of 17", "/m/1/", "A model name of 17", css="sticky"
    )
    assert first["status"] == Cell(
        "failed", "failed", traceback_url="/tb/1/", css="wrap", badge="failed"
    )
    assert first["code"] == Cell("link", "https://x.org", "https://x.org", css="detail")
    assert (first["name"].text, first["name"].sort) == ("Shown", "raw")
    assert second["model"] == Cell("Sixteen chars ok", "sixteen chars ok", css="sticky")
    assert second["status"] == Cell("–", "", css="wrap")
    assert second["code"] == Cell("–", "", "", css="detail")
    assert second["name"].text == "raw"


def test_long_text_keeps_its_end_within_max_chars():
    column = Column("path", "Path", max_chars=5)
    shown = [
        r["path"]
        for r in cells_of(Table("t", "T", [column], [{"path": "abcde"}, {"path": "abcdef"}]))
    ]
    assert [(c.text, c.title) for c in shown] == [("abcde", ""), ("…cdef", "abcdef")]


def test_each_kind_shows_and_sorts_its_values():
    when = dt.datetime(2024, 7, 11, 9, 5, 59)
    cases = [
        (Column("a", "A", BOOL), False, "no", "0"),
        (Column("a", "A", BOOL), True, "yes", "1"),
        (Column("a", "A", LIST), [], "none", "none"),
        (Column("a", "A", LIST), [1, "b"], "1, b", "1, b"),
        (Column("a", "A", DATE), dt.date(2024, 7, 1), "2024-07-01", "2024-07-01"),
        (Column("a", "A", DATETIME), when, "2024-07-11 09:05", "2024-07-11T09:05:59"),
        (Column("a", "A", INT), 3.0, "3", "3.0"),
        (Column("a", "A", FLOAT, digits=2, percent=True), 0.1234, "12.3%", "0.1234"),
        (Column("a", "A"), "MixedCase", "MixedCase", "mixedcase"),
        (Column("a", "A", blank="n/a"), "", "n/a", ""),
        (Column("a", "A", FLOAT), float("inf"), "–", ""),
        (Column("a", "A", FLOAT), 0, "0.000", "0.0"),
    ]
    for column, value, text, sort in cases:
        shown = cells_of(Table("t", "T", [column], [{"a": value}]))[0]["a"]
        assert (shown.text, shown.sort) == (text, sort), (column.kind, value)
    assert sort_key(Column("a", "A", MEAN_STD), 2) == "2.0"


def test_a_mean_column_shows_its_deviation_beside_it():
    column = Column("v0", "V0", MEAN_STD, digits=2, percent=True)
    rows = [{"v0": 0.05, "v0_std": 0.012}, {"v0": 0.05}]
    assert [r["v0"].text for r in cells_of(Table("t", "T", [column], rows))] == [
        "5.0% ± 1.2%",
        "5.0%",
    ]


def test_the_csv_header_carries_export_names_and_units():
    assert csv_headers(Column("delta", "Δ", FLOAT, unit="meV/atom")) == ["delta (meV/atom)"]
    assert csv_headers(Column("b", "B", MEAN_STD, unit="GPa", export_name="bulk")) == [
        "bulk (GPa)",
        "bulk_std (GPa)",
    ]
    assert csv_headers(Column("n", "N", INT)) == ["n"]


def test_downloads_keep_their_columns_and_the_page_its_own():
    columns = [
        Column("model", "Model"),
        Column("url", "URL", TEXT, in_download=False),
        Column("b", "B", MEAN_STD, on_page=False, unit="GPa"),
        Column("when", "When", DATETIME),
        Column("pair", "Pair", LIST),
    ]
    rows = [
        {"model": "M", "url": "/m/", "b": 1.5, "b_std": float("nan"),
         "when": dt.datetime(2024, 1, 2, 3, 4), "pair": ("a", "b")},
    ]  # fmt: skip
    table = Table("t", "T", columns, rows)
    assert [c.key for c in table.page_columns] == ["model", "url", "when", "pair"]
    assert table_csv(table) == (
        "model,b (GPa),b_std (GPa),when,pair\r\nM,1.5,,2024-01-02T03:04:00,a;b\r\n"
    )
    assert json.loads(table_json(table)) == [
        {"model": "M", "b": 1.5, "b_std": None, "when": "2024-01-02T03:04:00", "pair": ["a", "b"]}
    ]
    assert "\n " in table_json(table) and "ü" in table_json(Table("t", "T", columns[:1], [
        {"model": "ü"}
    ]))  # fmt: skip
    assert list(csv.reader(io.StringIO(table_csv(Table("t", "T", columns, [])))))[1:] == []


def test_a_ranked_table_without_rows_has_no_cells():
    column = Column("x", "X", INT, rank_key="r", signed=True)
    assert Table("t", "T", [column], []).cells() == []
