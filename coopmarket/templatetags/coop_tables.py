"""Rows of a django-tables2 table in one call (templates/coopmarket/table.html).

The stock template renders every cell through four template tags and recomputes the column's
`<td>` attributes for each one: about half of a 50-row page's time on the debt table. Here a row is
one string: the `<td>` attributes of a column are computed once per table when they cannot depend
on the row (no callable in them, the table keeps django-tables2's column class names), and each
cell goes through the same conversion as `{{ cell }}` (localtime, localize, escape). A column with
callable attributes or a `localize` setting is rendered cell by cell as the stock template does.
"""
from django import template
from django.template.base import render_value_in_context
from django.utils.safestring import mark_safe
from django_tables2 import Table

register = template.Library()

# The stock template's cell, for the columns the fast path leaves alone.
STOCK_CELL = template.Template(
    "{% load l10n %}<td {{ column.attrs.td.as_html }}>{% if column.localize == None %}{{ cell }}"
    "{% elif column.localize %}{{ cell|localize }}{% else %}{{ cell|unlocalize }}{% endif %}</td>"
)


def _fixed(value) -> bool:
    if callable(value):
        return False
    if isinstance(value, dict):
        return all(_fixed(item) for item in value.values())
    return True


def _td_of(table) -> dict[str, str | None]:
    """Per visible column: its `<td>` attributes as HTML when they are the same on every row, else None."""
    cached = getattr(table, "_coop_td", None)
    if cached is None:
        custom_classes = type(table).get_column_class_names is not Table.get_column_class_names
        cached = {}
        for column in table.columns:
            attrs = {**table.attrs, **column.column.attrs}
            td = attrs.get("td", attrs.get("cell", {}))
            fixed = not custom_classes and column.column.localize is None and _fixed(td)
            cached[column.name] = column.attrs["td"].as_html() if fixed else None
        table._coop_td = cached
    return cached


@register.simple_tag(takes_context=True)
def table_row(context, row):
    """`<tr>` and its cells, as the stock `table.tbody.row` block writes them."""
    table = row.table
    td_of = _td_of(table)
    cells = []
    for column in table.columns:
        cell = row.get_cell(column.name)
        # What BoundRow.items() sets for a column's callable attributes.
        column.current_value = cell
        column.current_record = row.record
        td = td_of[column.name]
        if td is None:
            with context.push(column=column, cell=cell):
                cells.append(STOCK_CELL.render(context))
        else:
            cells.append(f"<td {td}>{render_value_in_context(cell, context)}</td>")
    return mark_safe(f"<tr {row.attrs.as_html()}>{''.join(cells)}</tr>")
