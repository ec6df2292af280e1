"""Open figures (DOMAIN.md §11): computed as of a date from each app's selectors, stored as one
snapshot per day by the daily job. Aggregates only; a figure drawn from fewer than
`COOP_FIGURES_MIN_PEOPLE` people (default 10) is null, with a note saying why."""
from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction

from inventory import selectors as inventory_selectors
from members import selectors as member_selectors
from shifts import selectors as shift_selectors

from . import rules
from .models import FiguresSnapshot

MONTHS = 12


def minimum_people() -> int:
    """Nothing is published from fewer people than this (`COOP_FIGURES_MIN_PEOPLE`, default 10)."""
    return int(getattr(settings, "COOP_FIGURES_MIN_PEOPLE", 10))


def figures_compute(*, as_of: datetime.date) -> dict:
    """The public aggregates as of a date (JSON-ready). Members are counted from their stored
    membership and status (today's values: the daily snapshots keep the history); share capital,
    hours worked and purchases are read from the ledgers up to `as_of`."""
    minimum = minimum_people()
    notes: dict[str, str] = {}

    def people_figure(path: str, value, people: int, empty: str = rules.NO_DATA):
        """The value, or None with a note: "no data" for a period nobody is in, else "fewer than"."""
        if rules.publishable(people, minimum):
            return value
        notes[path] = empty if people == 0 else rules.HIDDEN
        return None

    counts = member_selectors.member_counts()
    members = {
        "total": counts["active"] + counts["unpaid"] + counts["supporting"],
        "active": counts["active"], "supporting": counts["supporting"], "working": counts["working"],
    }
    members = {name: people_figure(f"members.{name}", n, n, empty=rules.HIDDEN) for name, n in members.items()}

    capital = member_selectors.share_capital(as_of=as_of)
    share_capital = {
        name: people_figure(f"share_capital.{name}", str(capital[name]), capital["holders"]) for name in ("subscribed", "paid")
    }

    months = rules.months_back(as_of, MONTHS)
    first = months[0]
    worked = {row["month"]: row for row in shift_selectors.hours_worked_by_month(start=first, end=as_of)}
    hours_worked = []
    for month in months:
        row = worked.get(month, {"seconds": 0, "people": 0})
        key = rules.month_key(month)
        hours_worked.append({
            "month": key,
            "hours": people_figure(f"hours_worked.{key}", str(rules.hours(row["seconds"])), row["people"]),
            "people": people_figure(f"hours_worked.{key}", row["people"], row["people"]),
        })

    sourced = {m.month: m for m in inventory_selectors.local_sourcing_by_month(start=first, end=as_of)}
    local_sourcing = []
    for month in months:
        key = rules.month_key(month)
        share = sourced[month].share if month in sourced else None
        if share is None:
            notes[f"local_sourcing.{key}"] = rules.NO_DATA
        local_sourcing.append({"month": key, "local_share": str(share) if share is not None else None})

    return {
        "as_of": as_of.isoformat(),
        "minimum_people": minimum,
        "members": members,
        "share_capital": share_capital,
        "hours_worked": hours_worked,
        "local_sourcing": local_sourcing,
        "local_suppliers": inventory_selectors.local_supplier_count(),
        "notes": notes,
    }


@transaction.atomic
def figures_update(*, as_of: datetime.date, now: datetime.datetime) -> tuple[FiguresSnapshot, bool]:
    """Compute and store the snapshot of `as_of`. Idempotent: a re-run that finds the same figures
    changes nothing (not even the time it was computed). Returns (snapshot, changed)."""
    data = figures_compute(as_of=as_of)
    snapshot = FiguresSnapshot.objects.select_for_update().filter(as_of=as_of).first()
    if snapshot is None:
        return FiguresSnapshot.objects.create(as_of=as_of, data=data, computed_at=now), True
    if snapshot.data == data:
        return snapshot, False
    snapshot.data, snapshot.computed_at = data, now
    snapshot.save(update_fields=["data", "computed_at"])
    return snapshot, True


def latest(*, as_of: datetime.date | None = None) -> FiguresSnapshot | None:
    snapshots = FiguresSnapshot.objects.order_by("-as_of")
    if as_of is not None:
        snapshots = snapshots.filter(as_of=as_of)
    return snapshots.first()

