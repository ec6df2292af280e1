"""Every list's table is written by templates/coopmarket/table.html (rows in one call), with the
date columns of coopmarket.tables and django-tables2's signature lookups cached: the page must be
exactly what django-tables2's own template and columns write."""
import datetime
import re
import zoneinfo

import django_tables2 as tables
import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone, translation
from django_tables2 import utils as tables2_utils

from coopmarket.tables import DateColumn, DateTimeColumn, cached_signature

STOCK = "django_tables2/bootstrap5-responsive.html"
OURS = "coopmarket/table.html"
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


class Sample(tables.Table):
    number = tables.Column(attrs={"td": {"class": "font-monospace text-end"}})
    name = tables.Column(linkify=lambda record: f"/people/{record['number']}/")
    note = tables.Column(attrs={"td": {"data-kind": lambda record: f"k{record['number'] % 2}"}})  # per row
    amount = tables.Column(localize=True)
    plain = tables.Column(localize=False)
    joined = DateColumn(attrs={"td": {"class": "text-nowrap"}})
    seen = DateTimeColumn(format="SHORT_DATETIME_FORMAT")
    stock_joined = tables.DateColumn()
    stock_seen = tables.DateTimeColumn(format="SHORT_DATETIME_FORMAT")
    html = tables.Column()

    class Meta:
        row_attrs = {"class": lambda record: "table-danger" if record["number"] == 2 else ""}

    def render_html(self, value, record):
        return f"<b>{value}</b> & {record['number']}"  # not marked safe: escaped


def rows() -> list[dict]:
    joined = datetime.date(2026, 3, 9)
    seen = datetime.datetime(2026, 7, 1, 22, 30, tzinfo=datetime.UTC)  # 2 July 00:30 in Paris
    return [
        {"number": n, "name": f"Name <{n}>", "note": "n" if n != 3 else None, "amount": 1234.5 * n, "plain": 9876 * n,
         "joined": joined if n != 3 else None, "seen": seen, "stock_joined": joined if n != 3 else None,
         "stock_seen": seen, "html": f"x{n}"}
        for n in (1, 2, 3)
    ]


def render(template_name: str) -> str:
    request = RequestFactory().get("/list/")
    table = Sample(rows())
    html = Template("{% load django_tables2 %}{% render_table table tpl %}").render(
        Context({"table": table, "tpl": template_name, "request": request})
    )
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def body(html: str) -> str:
    return re.search(r"<tbody[^>]*>(.*)</tbody>", html).group(1)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_rows_written_in_one_call_are_the_stock_templates_rows(language):
    with translation.override(language), timezone.override(PARIS):
        stock, ours = render(STOCK), render(OURS)
    assert body(ours) == body(stock)
    assert ours == stock  # header, footer and pagination too
    assert 'class="table-danger odd"' in ours and 'data-kind="k1"' in ours and 'data-kind="k0"' in ours
    assert "&lt;b&gt;x1&lt;/b&gt; &amp; 1" in ours  # a render method's plain text is escaped
    assert 'href="/people/2/"' in ours


def test_every_list_uses_the_one_call_rows():
    from django.conf import settings as live

    assert live.DJANGO_TABLES2_TEMPLATE == OURS


def test_date_columns_write_what_django_tables2s_write():
    with translation.override("fr"), timezone.override(PARIS):
        html = body(render(OURS))
    cells = re.findall(r"<tr[^>]*>(.*?)</tr>", html)
    for row in cells:
        tds = re.findall(r"<td[^>]*>(.*?)</td>", row)
        joined, seen, stock_joined, stock_seen = tds[5], tds[6], tds[7], tds[8]
        assert (joined, seen) == (stock_joined, stock_seen)
    first = re.findall(r"<td[^>]*>(.*?)</td>", cells[0])
    assert first[5] == "09/03/2026" and first[6] == "02/07/2026 00:30"  # French, Paris time
    assert re.findall(r"<td[^>]*>(.*?)</td>", cells[2])[5] == "—"  # no date: the column's default


def test_date_columns_export_iso_dates():
    table = Sample(rows())
    row = next(iter(table.rows))
    assert row.get_cell_value("joined") == "2026-03-09"
    assert row.get_cell_value("seen") == "2026-07-01 22:30:00+00:00"


class Greeter:
    def __init__(self, word):
        self.word = word

    def render(self, value, record):
        return f"{self.word} {value} {record}"

    def anything(self, **kwargs):
        return sorted(kwargs)


def test_signature_cache_is_installed_and_answers_as_inspect_does():
    assert tables2_utils.signature is cached_signature
    hello, bye = Greeter("hello"), Greeter("bye")
    kwargs = {"value": 1, "record": "r", "table": None}
    # Bound methods of two instances share the cached signature but keep their own `self`.
    assert tables2_utils.call_with_appropriate(hello.render, kwargs) == "hello 1 r"
    assert tables2_utils.call_with_appropriate(bye.render, kwargs) == "bye 1 r"
    assert tables2_utils.call_with_appropriate(hello.anything, kwargs) == ["record", "table", "value"]
    for fn in (hello.render, Greeter.render, hello.anything, lambda value: value, len):
        assert cached_signature(fn) == cached_signature.original(fn)
    # A function that wants an argument nobody gives is not called (django-tables2's rule).
    assert tables2_utils.call_with_appropriate(lambda missing: 1 / 0, kwargs) is None
