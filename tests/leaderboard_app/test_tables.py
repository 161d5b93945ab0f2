"""One table description: the HTML cells, the CSV and the JSON agree."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from leaderboard_app.tables import (
    BOOL,
    DATE,
    FLOAT,
    INT,
    LINK,
    LIST,
    MEAN_STD,
    Column,
    Table,
    table_csv,
    table_json,
)

TABLE = Table(
    id="t",
    title="T",
    columns=[
        Column("model", "Model", link_key="model_url"),
        Column("rank", "Rank", INT),
        Column("tortuosity", "Tortuosity", MEAN_STD),
        Column("v0", "|V0 error|", MEAN_STD, percent=True),
        Column("npt", "NPT", BOOL),
        Column("sets", "Training sets", LIST),
        Column("released", "Released", DATE),
        Column("code", "Code", LINK),
        Column("checkpoint", "Checkpoint", max_chars=8),
        Column("delta", "Δ", FLOAT, digits=2),
    ],
    rows=[
        {
            "model": "EMT",
            "model_url": "/models/EMT/",
            "rank": 1,
            "tortuosity": 1.00321,
            "tortuosity_std": 0.0064,
            "v0": 0.0562,
            "v0_std": None,
            "npt": True,
            "sets": ["MPtrj", "OMat24"],
            "released": dt.date(2024, 7, 11),
            "code": "https://example.org",
            "checkpoint": "2023-12-03-mace-128-L1.model",
            "delta": None,
        }
    ],
)


def test_cells_format_for_display_and_sort_on_raw_numbers():
    cells = {c.key: cell for c, cell in zip(TABLE.columns, TABLE.cells()[0], strict=True)}
    assert (cells["model"].text, cells["model"].href) == ("EMT", "/models/EMT/")
    assert cells["tortuosity"].text == "1.003 ± 0.006"
    assert float(cells["tortuosity"].sort) == 1.00321
    assert cells["tortuosity"].css == "num"
    assert cells["v0"].text == "5.6%"
    assert (cells["npt"].text, cells["sets"].text) == ("yes", "MPtrj, OMat24")
    assert cells["released"].text == "2024-07-11"
    assert (cells["code"].text, cells["code"].href) == ("link", "https://example.org")
    assert cells["checkpoint"].text == "…1.model"
    assert cells["checkpoint"].title == "2023-12-03-mace-128-L1.model"
    assert (cells["delta"].text, cells["delta"].sort) == ("–", "")


def test_csv_and_json_export_raw_values_with_std_columns():
    rows = list(csv.DictReader(io.StringIO(table_csv(TABLE))))
    assert list(rows[0]) == [
        "model", "rank", "tortuosity", "tortuosity_std", "v0", "v0_std", "npt", "sets",
        "released", "code", "checkpoint", "delta",
    ]  # fmt: skip
    assert rows[0]["tortuosity"] == "1.00321"
    assert rows[0]["sets"] == "MPtrj;OMat24"
    assert rows[0]["delta"] == ""
    records = json.loads(table_json(TABLE))
    assert records[0]["sets"] == ["MPtrj", "OMat24"]
    assert records[0]["released"] == "2024-07-11"
    assert records[0]["v0_std"] is None
    assert records[0]["tortuosity_std"] == 0.0064


def test_tiny_spreads_read_as_zero_and_huge_values_switch_to_g_format():
    from leaderboard_app.tables import display

    column = Column("x", "X", MEAN_STD)
    assert display(column, -1.0, {"x_std": 1.12e-16}) == "-1.000 ± 0.000"
    assert display(Column("y", "Y", FLOAT), 2.5e-5, {}) == "2.5e-05"
    assert display(Column("y", "Y", FLOAT), 123456.0, {}) == "1.23e+05"


def test_csv_escapes_text_cells_that_start_like_formulas_and_keeps_numbers():
    table = Table(
        id="t",
        title="T",
        columns=[
            Column("text", "Text"),
            Column("sets", "Sets", LIST),
            Column("x", "X", FLOAT),
            Column("n", "N", INT),
            Column("when", "When", DATE),
        ],
        rows=[
            {"text": "=1+2", "sets": ["-A", "B"], "x": -1.5, "n": -3, "when": dt.date(2024, 1, 2)},
            {"text": "+1", "sets": ["@x"], "x": 2.0, "n": 0, "when": None},
            {"text": "@SUM(A1)", "sets": [], "x": None, "n": 1, "when": None},
            {"text": "\tcmd", "sets": ["ok"], "x": 0.0, "n": 2, "when": None},
            {"text": "\rcmd", "sets": ["ok"], "x": 0.0, "n": 2, "when": None},
            {"text": "safe = text", "sets": ["a-b"], "x": 1e-9, "n": 3, "when": None},
        ],
    )
    rows = list(csv.reader(io.StringIO(table_csv(table), newline="")))[1:]
    assert [r[0] for r in rows] == ["'=1+2", "'+1", "'@SUM(A1)", "'\tcmd", "'\rcmd", "safe = text"]
    assert [r[1] for r in rows] == ["'-A;B", "'@x", "", "ok", "ok", "a-b"]
    assert rows[0][2:] == ["-1.5", "-3", "2024-01-02"]
    assert float(rows[0][2]) == -1.5 and int(rows[0][3]) == -3
    assert json.loads(table_json(table))[0]["text"] == "=1+2"  # JSON keeps raw values
