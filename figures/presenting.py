"""What the page, the API and the CSV show of a snapshot: notes in words, rows for the CSV, charts."""
from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from inventory.charts import Bar, bar_chart

from . import rules


def note_text(code: str, minimum: int) -> str:
    if code == rules.HIDDEN:
        return _("Drawn from fewer than %(n)s people: not published.") % {"n": minimum}
    return _("No data for this period.")


def notes_in_words(data: dict) -> dict[str, str]:
    return {path: note_text(code, data["minimum_people"]) for path, code in data["notes"].items()}


def month_label(key: str, short: bool = False) -> str:
    """"March 2026" for tables; "03/26" under a chart's bars."""
    return date_format(datetime.date.fromisoformat(f"{key}-01"), "m/y" if short else "F Y")


def csv_rows(data: dict) -> list[list[str]]:
    """figure, period, value, note: one row per published (or withheld) number."""
    notes = notes_in_words(data)
    as_of = data["as_of"]
    rows = [["figure", "period", "value", "note"]]
    for name, value in data["members"].items():
        rows.append([f"members_{name}", as_of, "" if value is None else str(value), notes.get(f"members.{name}", "")])
    for name, value in data["share_capital"].items():
        rows.append([f"share_capital_{name}", as_of, value or "", notes.get(f"share_capital.{name}", "")])
    for row in data["hours_worked"]:
        rows.append(["hours_worked", row["month"], row["hours"] or "", notes.get(f"hours_worked.{row['month']}", "")])
    for row in data["local_sourcing"]:
        rows.append(["local_sourcing_percent", row["month"], row["local_share"] or "", notes.get(f"local_sourcing.{row['month']}", "")])
    rows.append(["local_suppliers", as_of, str(data["local_suppliers"]), ""])
    return rows


def hours_chart(data: dict):
    bars = [Bar(month_label(r["month"], short=True), Decimal(r["hours"] or 0),
                number_format(Decimal(r["hours"]), decimal_pos=0) if r["hours"] is not None else "–")
            for r in data["hours_worked"]]
    return bar_chart(bars, title=_("Person-hours worked per month"), axis_suffix=" h")


def sourcing_chart(data: dict):
    bars = [Bar(month_label(r["month"], short=True), Decimal(r["local_share"] or 0),
                f"{number_format(Decimal(r['local_share']), decimal_pos=1)} %" if r["local_share"] else "–")
            for r in data["local_sourcing"]]
    return bar_chart(bars, title=_("Share of purchases from local suppliers per month"), maximum=Decimal(100), axis_suffix=" %")
