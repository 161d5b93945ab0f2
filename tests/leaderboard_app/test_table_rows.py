"""Table bodies rendered in Python give the markup Django's template loop gave, escaped alike."""

from __future__ import annotations

import gc
import sys
import weakref

import pytest
from django.template import Context, Template

from leaderboard_app.tables import Cell, Table
from leaderboard_app.templatetags.table_rows import table_rows

# The per-cell template loop the filter replaced: Django's engine and its autoescaping
# are the independent reference for every byte of the body.
TEMPLATE_LOOP = Template(
    """{% for row in rows %}
        <tr>
          {% for cell in row %}
          <td data-sort="{{ cell.sort }}"{% if cell.css or cell.shade %} class="{{ cell.css }}{% if cell.shade %} shaded{% endif %}"{% endif %}{% if cell.shade or cell.signed %} style="{% if cell.shade %}--shade: {{ cell.shade }};{% endif %}{% if cell.signed %}--signed: {{ cell.signed }};{% endif %}"{% endif %}{% if cell.title %} title="{{ cell.title }}"{% endif %}>{% if cell.badge %}<span class="badge {{ cell.badge }}">{{ cell.text }}</span>{% elif cell.href %}<a href="{{ cell.href }}">{{ cell.text }}</a>{% else %}{{ cell.text }}{% endif %}{% if cell.rank %}<sup class="cell-rank">{{ cell.rank }}</sup>{% endif %}{% if cell.traceback_url and user.is_staff %} <a class="traceback" href="{{ cell.traceback_url }}">traceback</a>{% endif %}</td>
          {% endfor %}
        </tr>
        {% endfor %}"""  # noqa: E501
)
HOSTILE = "<b>\"Fe&O'</b>"
CELLS = [
    Cell("1.234", "1.234"),
    Cell(HOSTILE, HOSTILE, href="/models/x/?a=1&b=2", title=HOSTILE, css="num sticky"),
    Cell("failed", "failed", badge="failed", traceback_url="/jobs/3/?tb=1&x=<y>"),
    Cell("0.5", "0.5", css="num best", rank="#1", shade="0"),
    Cell("0.7", "0.7", css="num", rank="#2", shade="0.50", signed="0.33"),
    Cell("-0.1", "-0.1", css="signed-neg", signed="1.00"),
    Cell("", "", title="empty text, a title"),
]


class Cells(Table):
    def cells(self) -> list[list[Cell]]:  # the cells as given, whatever the columns
        return self.rows  # type: ignore[return-value]


@pytest.mark.parametrize("staff", [False, True])
def test_body_rows_match_the_template_loop_byte_for_byte(staff):
    rows = [CELLS, CELLS[::-1], [Cell("only", "only")]]

    class User:
        is_staff = staff

    expected = TEMPLATE_LOOP.render(Context({"rows": rows, "user": User()}))
    assert table_rows(Cells("t", "T", (), rows), staff) == expected
    assert ("traceback</a>" in expected) is staff


def test_settle_imports_the_views_collects_garbage_then_freezes_the_heap():
    from arena_site.heap import settle

    class Node:
        pass

    gc.disable()  # only settle's own collection may free the cycle
    cycle = Node()
    cycle.me = cycle  # garbage only a full collection frees
    dead = weakref.ref(cycle)
    del cycle
    try:
        settle()
        assert dead() is None  # collected, not frozen with the living
        assert "leaderboard_app.views" in sys.modules
        assert gc.get_freeze_count() > 10_000  # the imported modules' objects
    finally:
        gc.unfreeze()
        gc.enable()
