"""``{{ table|table_rows:user.is_staff }}``: a table's body rows, rendered in Python.

A task page's tables hold thousands of cells; one Django template loop per cell cost
most of the page's server time. This writes the same markup, escaped the same way.
"""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from leaderboard_app.tables import Cell, Table

register = template.Library()
ROW_START, ROW_END = "\n        <tr>\n          ", "\n        </tr>\n        "
CELL_START, CELL_END = "\n          ", "\n          "


@register.filter
def table_rows(table: Table, staff: bool = False) -> SafeString:
    """Every ``<tr>`` of ``table``'s body; tracebacks linked for ``staff`` only."""
    return mark_safe(
        "".join(
            ROW_START + "".join(CELL_START + td(c, staff) + CELL_END for c in row) + ROW_END
            for row in table.cells()
        )
    )


def td(cell: Cell, staff: bool) -> str:
    """One cell's ``<td>``: sort key, classes, shades, title, text, rank, traceback."""
    e = conditional_escape
    parts = [f'<td data-sort="{e(cell.sort)}"']
    if cell.css or cell.shade:
        parts.append(f' class="{e(cell.css)}{" shaded" if cell.shade else ""}"')
    if cell.shade or cell.signed:
        shade = f"--shade: {e(cell.shade)};" if cell.shade else ""
        signed = f"--signed: {e(cell.signed)};" if cell.signed else ""
        parts.append(f' style="{shade}{signed}"')
    if cell.title:
        parts.append(f' title="{e(cell.title)}"')
    if cell.badge:
        parts.append(f'><span class="badge {e(cell.badge)}">{e(cell.text)}</span>')
    elif cell.href:
        parts.append(f'><a href="{e(cell.href)}">{e(cell.text)}</a>')
    else:
        parts.append(f">{e(cell.text)}")
    if cell.rank:
        parts.append(f'<sup class="cell-rank">{e(cell.rank)}</sup>')
    if cell.traceback_url and staff:
        parts.append(f' <a class="traceback" href="{e(cell.traceback_url)}">traceback</a>')
    parts.append("</td>")
    return "".join(parts)
