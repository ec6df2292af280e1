"""Helpers for the interchange tests: files from rows, imports from files, member objects to compare."""
from __future__ import annotations

import datetime

from interchange import sample
from interchange.export import csv_bytes
from interchange.reader import read_uploads
from interchange.services import coop_import
from members import selectors as member_selectors
from members.models import Member
from shifts.api import with_shift_facts
from shifts.models import ShiftTemplate
from shifts.serializers import WorkingMemberSerializer

# A Wednesday of week A: the cycle started on Monday 2026-03-02 (COOP_CYCLE_START 2026-01-05).
TODAY = datetime.date(2026, 3, 4)
D = datetime.timedelta


def template_row(name="A Lundi matin", week="A", weekday=0, start="09:00", end="12:00", capacity="6", **extra) -> dict:
    return {"name": name, "week": week, "weekday": str(weekday), "start_time": start, "end_time": end, "capacity": str(capacity), **extra}


def member_row(number, first="Ada", last="Lovelace", shift_type="standard", joined_on="2025-01-10", **extra) -> dict:
    row = {"member_number": str(number) if number is not None else "", "first_name": first, "last_name": last,
           "email": f"{first.lower()}.{last.lower()}.{number}@example.org", "joined_on": joined_on, "shift_type": shift_type}
    row.update({k: (str(v) if v is not None else "") for k, v in extra.items()})
    return row


def share_row(number, quantity=10, share_class="A", subscribed_on="2025-01-10", **extra) -> dict:
    return {"member_number": str(number), "share_class": share_class, "quantity": str(quantity), "subscribed_on": subscribed_on,
            **{k: str(v) for k, v in extra.items()}}


def files(**rows) -> dict[str, list[dict]]:
    """The five required files (templates, members, shares, associates, absences), with these rows."""
    base = {"templates.csv": [], "members.csv": [], "shares.csv": [], "associates.csv": [], "absences.csv": []}
    base.update({name.replace("_", ".") if "." not in name else name: value for name, value in rows.items()})
    return base


def to_bytes(files_: dict[str, list[dict]], *, header: dict[str, list[str]] | None = None) -> list[tuple[str, bytes]]:
    """CSV bytes of each file; the header is every column given in its rows (or `header`)."""
    out = []
    for name, rows in files_.items():
        columns = (header or {}).get(name)
        if columns is None:
            columns = []
            for row in rows:
                columns += [c for c in row if c not in columns]
            if not columns:
                from interchange.formats import FILES

                columns = [c.name for c in FILES[name] if c.required]
        table = [columns] + [[row.get(c, "") for c in columns] for row in rows]
        out.append((name, csv_bytes(table)))
    return out


def run(files_=None, *, raw: list[tuple[str, bytes]] | None = None, today=TODAY, dry_run=False, by=None):
    source = read_uploads(raw if raw is not None else to_bytes(files_))
    return coop_import(source=source, today=today, dry_run=dry_run, by=by)


def run_tables(tables: dict[str, list[list[str]]], *, today=TODAY, dry_run=False):
    source = read_uploads([(name, csv_bytes(rows)) for name, rows in tables.items()])
    return coop_import(source=source, today=today, dry_run=dry_run)


def generated(members=300, today=TODAY, seed=13) -> dict[str, list[list[str]]]:
    return sample.as_tables(sample.generate(members, today=today, seed=seed))


def errors_of(report) -> list[str]:
    return [str(p) for p in report.errors]


def warnings_of(report) -> list[str]:
    return [str(p) for p in report.warnings]


def member_objects(today=TODAY) -> dict[int, dict]:
    """Every member object of CONTRACT.md §5 by member number, without what cannot be the same in
    another database (ids, timestamps, the secret calendar URL); the slot by its template's name."""
    names = dict(ShiftTemplate.objects.values_list("pk", "name"))
    queryset = with_shift_facts(member_selectors.members_for_api(), today=today).order_by("member_number")
    objects = {}
    for data in WorkingMemberSerializer(queryset, many=True, context={"today": today}).data:
        data = dict(data)
        for key in ("id", "calendar_url"):
            data.pop(key)
        data["regular_slot"] = names.get(data["regular_slot"])
        data["associates"] = [{k: v for k, v in a.items() if k not in ("id", "created_at")} for a in data["associates"]]
        for key in ("leave", "exemption"):
            if data[key]:
                data[key] = {k: v for k, v in data[key].items() if k != "id"}
        objects[data["member_number"]] = data
    return objects


def count_members() -> int:
    return Member.objects.count()
