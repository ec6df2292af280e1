"""/figures/: the open figures page and its CSV, public (no sign-in)."""
import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from coopmarket.tables import spreadsheet_safe
from coopmarket.templatetags.coop import euros

from . import presenting
from .api import snapshot_data

MEMBER_CARDS = (
    ("total", _("Members (one vote each)")), ("active", _("Active (shares paid, may shop)")),
    ("working", _("Working (doing their shifts)")), ("supporting", _("Supporting members")),
)
CAPITAL_CARDS = (("subscribed", _("Share capital subscribed")), ("paid", _("Share capital paid")))


def _card(label, value, note):
    return {"label": label, "value": value, "note": note}


@require_GET
def figures_page(request):
    data = snapshot_data()
    notes = presenting.notes_in_words(data)
    cards = [_card(label, data["members"][name], notes.get(f"members.{name}")) for name, label in MEMBER_CARDS]
    capital = data["share_capital"]
    money = [_card(label, euros(capital[name]) if capital[name] is not None else None, notes.get(f"share_capital.{name}"))
             for name, label in CAPITAL_CARDS]
    money.append(_card(_("Local suppliers"), data["local_suppliers"], None))
    return render(request, "figures/figures.html", {
        "data": data, "member_cards": cards, "money_cards": money,
        "hours_chart": presenting.hours_chart(data), "sourcing_chart": presenting.sourcing_chart(data),
        "hours_rows": [{**row, "label": presenting.month_label(row["month"]), "note": notes.get(f"hours_worked.{row['month']}", "")}
                       for row in data["hours_worked"]],
        "sourcing_rows": [{**row, "label": presenting.month_label(row["month"]), "note": notes.get(f"local_sourcing.{row['month']}", "")}
                          for row in data["local_sourcing"]],
    })


@require_GET
def figures_csv(request):
    data = snapshot_data()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="open-figures-{data["as_of"]}.csv"'
    writer = csv.writer(response)
    for row in presenting.csv_rows(data):
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return response
