"""Letting a coop leave (CONTRACT.md §7): the same files, written from the database.

`coop_export` gives every file (optional ones included) as rows of text; `write_folder`,
`zip_bytes` and `xlsx_bytes` put them on disk or in an archive. Importing an export into an empty
database gives back every member object of CONTRACT.md §5 unchanged (`interchange/tests`).
"""
from __future__ import annotations

import csv
import datetime
import io
import zipfile
from decimal import Decimal
from pathlib import Path

from members import selectors as member_selectors
from members.models import Payment
from shifts import selectors as shift_selectors
from shifts import services as shift_services

from .formats import FILES, format_cell

OFFICE_METHODS = {"cash", "cheque", "transfer", "card"}


def _anonymised_email(member) -> str:
    email = member.email
    if member.anonymised_on and email.endswith("@invalid"):  # anonymised before the address became valid
        return f"anonymised-{member.member_number}@anonymised.invalid"
    return email


def coop_export(*, today: datetime.date) -> dict[str, list[list[str]]]:
    """Every interchange file, header first, as of `today`."""
    templates = shift_selectors.templates_for_import(today=today)
    names = _unique_names(templates)
    standings = shift_services.standings_export(today=today)
    tables: dict[str, list[list]] = {name: [] for name in FILES}
    for template in templates:
        if not template.active and not template.holders:
            continue
        tables["templates.csv"].append({
            "name": names[template.pk], "week": template.week, "weekday": template.weekday, "start_time": template.start_time,
            "end_time": template.end_time, "capacity": template.capacity,
        })
    members = {}
    for member in member_selectors.interchange_members().iterator(chunk_size=5000):
        members[member.pk] = member
        standing = standings.get(member.pk, {})
        slot = standing.get("slot_template")
        tables["members.csv"].append({
            "member_number": member.member_number, "first_name": member.first_name, "last_name": member.last_name,
            "email": _anonymised_email(member), "phone": member.phone, "address": member.address, "postal_code": member.postal_code,
            "city": member.city, "joined_on": member.joined_on, "shift_type": member.shift_type, "low_income": member.low_income,
            "card_barcode": member.card_barcode, "work_start_date": member.work_start_date,
            "slot_template": names.get(slot) if slot else None,
            "slot_start_date": standing.get("slot_start_date") if slot else None,
            "counter_standard": member.counter_standard, "counter_ftop": member.counter_ftop,
            "alert_started_on": standing.get("alert_started_on"), "left_on": member.left_on,
            "unsubscribed": bool(standing.get("unsubscribed")) and not member.left_on,
            "blocked_reason": member.blocked_reason, "notes": member.notes, "birth_date": member.birth_date,
        })
    for sub in member_selectors.interchange_subscriptions().iterator(chunk_size=2000):
        member = sub.member
        if sub.redemption_requested_on is not None and sub.redemption_requested_on != member.left_on:
            continue  # refunded shares (an online payment given back): no longer held
        if sub.redemption_requested_on is not None and member.left_on is None:
            continue
        common = {"member_number": member.member_number, "share_class": sub.share_class.code, "subscribed_on": sub.subscribed_on}
        payments = [p for p in sub.payments.all() if p.kind != Payment.Kind.REFUND]
        tables["shares.csv"].append({
            **common, "quantity": sub.quantity, "instalments": sub.instalments if sub.instalments > 1 else None,
            # With payments, payments.csv gives them; without, nothing was paid yet.
            "amount_paid": None if payments else Decimal("0"),
        })
        for payment in payments:
            method, reference = payment.method, payment.reference
            if method not in OFFICE_METHODS:  # an online payment: a card payment, its Stripe id as reference
                method, reference = "card", reference or f"Stripe {payment.stripe_reference or ''}".strip()
            tables["payments.csv"].append({
                **common, "amount": payment.signed_amount, "paid_on": payment.paid_on, "payment_method": method,
                "reference": reference,
            })
    for associate in member_selectors.interchange_associates().iterator(chunk_size=5000):
        tables["associates.csv"].append({
            "member_number": associate.member.member_number, "first_name": associate.first_name,
            "last_name": associate.last_name, "card_barcode": associate.card_barcode,
        })
    numbers = {pk: m.member_number for pk, m in members.items()}
    for kind, rows in shift_selectors.interchange_absences():
        for member_id, start, end, reason in rows:
            tables["absences.csv"].append({"member_number": numbers[member_id], "kind": kind, "start": start, "end": end, "reason": reason})
    for member_id, granted_on, start, end, reason in shift_selectors.interchange_extensions():
        tables["extensions.csv"].append({
            "member_number": numbers[member_id], "granted_on": granted_on, "start": start, "end": end, "reason": reason,
        })
    tables["absences.csv"].sort(key=lambda r: (r["member_number"], r["kind"], r["start"]))
    return {
        name: [[c.name for c in FILES[name]]] + [[format_cell(row.get(c.name)) for c in FILES[name]] for row in rows]
        for name, rows in tables.items()
    }


def _unique_names(templates) -> dict[int, str]:
    """templates.csv names are unique: a name several templates share gets their day and time."""
    counts: dict[str, int] = {}
    for template in templates:
        counts[template.name.casefold()] = counts.get(template.name.casefold(), 0) + 1
    return {
        t.pk: t.name if counts[t.name.casefold()] == 1 else f"{t.name} ({t.week}{t.weekday} {t.start_time:%H:%M})"[:100]
        for t in templates
    }


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def write_folder(tables: dict[str, list[list[str]]], path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        (path / name).write_bytes(csv_bytes(rows))


def zip_bytes(tables: dict[str, list[list[str]]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows in tables.items():
            archive.writestr(name, csv_bytes(rows))
    return out.getvalue()


def xlsx_bytes(tables: dict[str, list[list[str]]]) -> bytes:
    """A workbook with one sheet per file; every cell is text (nothing a spreadsheet would run)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    workbook = openpyxl.Workbook(write_only=True)
    for name, rows in tables.items():
        sheet = workbook.create_sheet(title=name.removesuffix(".csv"))
        for row in rows:
            cells = []
            for value in row:
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # text: "=..." stays text, "007" keeps its zeros
                cells.append(cell)
            sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_path(tables: dict[str, list[list[str]]], path: str | Path) -> Path:
    """A folder, or `.zip` / `.xlsx` by the path's suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        path.write_bytes(zip_bytes(tables))
    elif suffix == ".xlsx":
        path.write_bytes(xlsx_bytes(tables))
    else:
        write_folder(tables, path)
    return path

