"""Tables: one description serves the HTML page, the CSV and the JSON download.

A Table holds raw values per row; ``cells`` formats them for display (with a sort key
for the browser), and ``table_csv`` / ``table_json`` export the raw values: numbers as
numbers (fractions as fractions), with each column's unit in the CSV header.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from compute.tasks.spec import format_mean_std, format_number

TEXT, INT, FLOAT, MEAN_STD, BOOL, LIST, DATE, DATETIME, LINK = (
    "text", "int", "float", "mean_std", "bool", "list", "date", "datetime", "link",
)  # fmt: skip
NUMERIC_KINDS = {INT, FLOAT, MEAN_STD}
STICKY_CHARS = 16
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROW_CSS = "row_css"  # a row key whose classes every cell of the row gets (a baseline's row)


@dataclass(frozen=True)
class Column:
    """``kind`` says how to show the value; a ``mean_std`` column also exports ``KEY_std``.

    ``link_key`` names the row key holding the cell's URL; ``percent`` shows fractions
    as %; ``max_chars`` shortens long text (the full text becomes the cell's title);
    ``traceback_key`` names the row key holding the URL of the cell's traceback, which
    only staff see linked; ``badge`` shows the value as a coloured label (job states);
    ``blank`` is shown for no value; ``rank_key`` names the row key holding the value's
    rank in its column: the best is bold, cells are shaded along the ranks and, with
    ``show_rank``, the cell can show it. ``signed`` shades values on a diverging scale
    (blue below zero, red above; none for values that read as zero). Layout: ``sticky``
    keeps the column in view while the others scroll; ``detail`` hides it until the
    visitor asks for more columns;
    ``on_page`` False keeps it to the downloads and ``in_download`` False to the page.
    Downloads: ``unit`` follows the name in the CSV header (``export_name``, default
    the key), and ``display_key`` names a row key whose text the page shows instead of
    the value (the value itself is sorted on and exported).
    """

    key: str
    label: str
    kind: str = TEXT
    digits: int = 3
    percent: bool = False
    link_key: str = ""
    max_chars: int = 0
    traceback_key: str = ""
    badge: bool = False
    help: str = ""
    blank: str = "–"
    rank_key: str = ""
    show_rank: bool = True
    signed: bool = False
    sticky: bool = False
    detail: bool = False
    on_page: bool = True
    in_download: bool = True
    unit: str = ""
    export_name: str = ""
    display_key: str = ""

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def layout_css(self) -> str:
        """Classes the column's header and cells share: sticky, detail."""
        return " ".join(
            name for name, on in (("sticky", self.sticky), ("detail", self.detail)) if on
        )


class Cell(NamedTuple):
    """One displayed cell; a tuple of strings, which the garbage collector can skip."""

    text: str
    sort: str
    href: str = ""
    title: str = ""
    traceback_url: str = ""
    css: str = ""
    badge: str = ""
    rank: str = ""
    shade: str = ""  # 0 (best) to 1 (worst) along the column's ranks
    signed: str = ""  # |value| / the column's largest |value|, for a signed column


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    columns: Sequence[Column]
    rows: Sequence[dict[str, Any]]
    empty: str = "Nothing to show."
    notes: Sequence[tuple[str, str]] = ()  # (term, what it means) shown under the table

    @property
    def page_columns(self) -> list[Column]:
        return [c for c in self.columns if c.on_page]

    def cells(self) -> list[list[Cell]]:
        """Display rows: each cell's text, its sort key, its link, rank and shade."""
        columns = self.page_columns
        worst = {
            c.key: max((r.get(c.rank_key) or 0 for r in self.rows), default=0)
            for c in columns
            if c.rank_key
        }
        largest = {
            c.key: max((abs(v) for r in self.rows if _is_number(v := r.get(c.key))), default=1)
            for c in columns
            if c.signed
        }
        return [
            [
                row_cell(
                    signed_cell(
                        ranked_cell(cell(column, row), row, column, worst), row, column, largest
                    ),
                    row,
                )
                for column in columns
            ]
            for row in self.rows
        ]

    @property
    def has_ranks(self) -> bool:
        return any(c.rank_key and c.show_rank for c in self.page_columns)

    @property
    def has_details(self) -> bool:
        return any(c.detail for c in self.page_columns)


def row_cell(shown: Cell, row: dict[str, Any]) -> Cell:
    """``shown`` with the classes of its row (``ROW_CSS``), if any."""
    extra = row.get(ROW_CSS)
    return shown._replace(css=f"{shown.css} {extra}".strip()) if extra else shown


def ranked_cell(shown: Cell, row: dict[str, Any], column: Column, worst: dict[str, int]) -> Cell:
    """``shown`` with its rank, bold if first and shaded along the column's ranks."""
    rank = row.get(column.rank_key) if column.rank_key else None
    if not rank or shown.text == column.blank:
        return shown
    spread = worst[column.key] - 1
    shade = f"{(rank - 1) / spread:.2f}" if spread > 0 else "0"
    css = " ".join(filter(None, [shown.css, "best" if rank == 1 else ""]))
    return shown._replace(rank=f"#{rank}" if column.show_rank else "", shade=shade, css=css)


def signed_cell(
    shown: Cell, row: dict[str, Any], column: Column, largest: dict[str, float]
) -> Cell:
    """``shown`` shaded on the diverging scale of a signed column: ``signed-pos`` or
    ``signed-neg``, as strong as its share of the column's largest magnitude."""
    value = row.get(column.key)
    # A value that reads as zero at the column's precision is not shaded: it has no sign.
    if not column.signed or not _is_number(value) or abs(value) < 0.5 * 10**-column.digits:
        return shown
    css = " ".join(filter(None, [shown.css, "signed-pos" if value > 0 else "signed-neg"]))
    return shown._replace(css=css, signed=f"{abs(value) / largest[column.key]:.2f}")


def cell(column: Column, row: dict[str, Any]) -> Cell:
    value = row.get(column.key)
    href = row.get(column.link_key, "") if column.link_key else ""
    css = "num" if column.numeric else "wrap" if column.traceback_key or column.kind == LIST else ""
    css = " ".join(filter(None, [css, column.layout_css]))
    if column.kind == LINK:
        return Cell("link" if value else "–", value or "", value or "", css=column.layout_css)
    text = display(column, value, row)
    if column.display_key and row.get(column.display_key):
        text = str(row[column.display_key])
    title = text if column.sticky and len(text) > STICKY_CHARS else ""  # cut in a narrow view
    if column.max_chars and len(text) > column.max_chars:
        text, title = "…" + text[-(column.max_chars - 1) :], text
    traceback_url = row.get(column.traceback_key, "") if column.traceback_key else ""
    badge = str(value) if column.badge and value else ""
    return Cell(text, sort_key(column, value), href or "", title, traceback_url, css, badge)


def display(column: Column, value: Any, row: dict[str, Any]) -> str:
    if value is None or value == "" or (isinstance(value, float) and not math.isfinite(value)):
        return column.blank
    if column.kind == MEAN_STD:
        std = row.get(f"{column.key}_std")
        return format_mean_std(value, std, column.digits, percent=column.percent)
    if column.kind in (INT, FLOAT):
        return _number(value, column)
    if column.kind == BOOL:
        return "yes" if value else "no"
    if column.kind == LIST:
        return ", ".join(str(v) for v in value) or "none"
    if column.kind == DATE:
        return value.isoformat()
    if column.kind == DATETIME:
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def sort_key(column: Column, value: Any) -> str:
    """What the browser sorts on: numbers as plain decimals, blanks empty (sorted last)."""
    if value is None or value == "" or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if column.numeric:
        return repr(float(value))
    if column.kind == BOOL:
        return "1" if value else "0"
    if column.kind in (DATE, DATETIME):
        return value.isoformat()
    return display(column, value, {}).lower()


def export_records(table: Table) -> list[dict[str, Any]]:
    """Raw values per row, keyed by column key; ``mean_std`` columns add ``KEY_std``."""
    records = []
    for row in table.rows:
        record: dict[str, Any] = {}
        for column in (c for c in table.columns if c.in_download):
            record[column.key] = _plain(row.get(column.key))
            if column.kind == MEAN_STD:
                record[f"{column.key}_std"] = _plain(row.get(f"{column.key}_std"))
        records.append(record)
    return records


def table_json(table: Table) -> str:
    return json.dumps(export_records(table), indent=1, ensure_ascii=False)


def table_csv(table: Table) -> str:
    """The table for a spreadsheet: a header of names with units, then plain values."""
    exported = [c for c in table.columns if c.in_download]
    keys = [key for column in exported for key in _export_keys(column)]
    out = io.StringIO()
    writer = csv.writer(out)  # CRLF lines: fields with CR get quoted
    writer.writerow([header for column in exported for header in csv_headers(column)])
    for record in export_records(table):
        writer.writerow([_csv_value(record[key]) for key in keys])
    return out.getvalue()


def csv_headers(column: Column) -> list[str]:
    """The column's CSV header(s): its export name (default its key) and its unit."""
    name = column.export_name or column.key
    unit = f" ({column.unit})" if column.unit else ""
    names = [name, f"{name}_std"] if column.kind == MEAN_STD else [name]
    return [f"{n}{unit}" for n in names]


def _export_keys(column: Column) -> list[str]:
    return [column.key, f"{column.key}_std"] if column.kind == MEAN_STD else [column.key]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(value: float, column: Column) -> str:
    if column.kind == INT:
        return f"{int(value):d}"
    return format_number(value, column.digits, percent=column.percent)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _csv_value(value: Any) -> Any:
    """The CSV cell: lists joined; text that a spreadsheet would run as a formula escaped.

    OWASP's advice: a text cell starting with = + - @ tab or CR gets a leading ``'``.
    Numbers stay numbers (-1.5 is no formula), so only text is touched.
    """
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
