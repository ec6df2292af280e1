"""What the shift engine keeps about a member, for their data export and their anonymisation
(DOMAIN.md §8). Registered with members.privacy in ShiftsConfig.ready()."""
from __future__ import annotations

import datetime

from members.models import Member
from members.privacy import iso, register_anonymiser, register_export_section

from .models import (
    CounterEvent,
    Exemption,
    Extension,
    Leave,
    NotificationLog,
    NotificationPreference,
    Registration,
    SlotAssignment,
    StatusChange,
)


def export_regular_slots(member: Member) -> list[dict]:
    return [
        {
            "template": str(slot.template),
            "start_date": iso(slot.start_date),
            "end_date": iso(slot.end_date),
            "end_reason": slot.end_reason,
        }
        for slot in SlotAssignment.objects.filter(member=member).select_related("template").order_by("start_date", "id")
    ]


def export_registrations(member: Member) -> list[dict]:
    """Every registration, cancelled ones included, with its attendance."""
    return [
        {
            "shift": reg.shift.name,
            "start": iso(reg.shift.start),
            "end": iso(reg.shift.end),
            "kind": reg.kind,
            "attendance": reg.attendance,
            "attendance_at": iso(reg.attendance_at),
            "offered_on_exchange_at": iso(reg.offered_at),
            "cancelled_at": iso(reg.cancelled_at),
            "cancel_reason": reg.cancel_reason,
            "seat": reg.seat.code if reg.seat_id else None,
            "seat_reason": reg.seat_reason,
            "booked_at": iso(reg.created_at),
        }
        for reg in Registration.objects.filter(member=member).select_related("shift", "seat").order_by("shift__start", "id")
    ]


def export_counter_events(member: Member) -> list[dict]:
    return [
        {
            "date": iso(event.date),
            "kind": event.kind,
            "standard_points": event.standard_points,
            "ftop_points": event.ftop_points,
            "cycle_start": iso(event.cycle_start),
            "reason": event.reason,
            "written_at": iso(event.created_at),
        }
        for event in CounterEvent.objects.filter(member=member).order_by("date", "id")
    ]


def export_status_history(member: Member) -> list[dict]:
    return [
        {
            "from": change.from_status,
            "to": change.to_status,
            "effective_date": iso(change.effective_date),
            "written_at": iso(change.written_at),
            "cause": change.cause,
        }
        for change in StatusChange.objects.filter(member=member).order_by("effective_date", "id")
    ]


def _periods(model, member: Member) -> list[dict]:
    return [
        {"start": iso(row.start), "end": iso(row.end), "reason": row.reason, "recorded_at": iso(row.created_at)}
        for row in model.objects.filter(member=member).order_by("start", "id")
    ]


def export_leaves(member: Member) -> list[dict]:
    return _periods(Leave, member)


def export_exemptions(member: Member) -> list[dict]:
    return _periods(Exemption, member)


def export_extensions(member: Member) -> list[dict]:
    return [
        {"granted_on": iso(row.granted_on), "start": iso(row.start), "end": iso(row.end), "reason": row.reason}
        for row in Extension.objects.filter(member=member).order_by("granted_on", "id")
    ]


def export_notifications(member: Member) -> dict:
    """Messages sent to the member, and their choices for the optional ones."""
    preference = NotificationPreference.objects.filter(member=member).first()
    return {
        "sent": [
            {"kind": row.kind, "about": row.key, "sent_to": row.recipient, "subject": row.subject, "sent_at": iso(row.sent_at)}
            for row in NotificationLog.objects.filter(member=member).order_by("sent_at", "id")
        ],
        "preferences": {
            "reminders": preference.reminders if preference else True,
            "understaffed_calls": preference.understaffed_calls if preference else True,
        },
    }


def anonymise(member: Member, today: datetime.date) -> None:
    """Blank the free text written about the member and the addresses messages went to.
    Dates, kinds and points stay: the counters are kept under the member number."""
    Leave.objects.filter(member=member).update(reason="")
    Exemption.objects.filter(member=member).update(reason="")
    Extension.objects.filter(member=member).update(reason="")
    SlotAssignment.objects.filter(member=member).update(end_reason="", seat_reason="")
    Registration.objects.filter(member=member).update(seat_reason="")
    NotificationLog.objects.filter(member=member).update(recipient="", subject="")
    # The ledger and the status history are append-only: only their listed free-text fields.
    CounterEvent.objects.filter(member=member).anonymise(reason="")
    StatusChange.objects.filter(member=member).anonymise(cause="")


def register() -> None:
    for name, build in (
        ("regular_slots", export_regular_slots),
        ("registrations", export_registrations),
        ("counter_events", export_counter_events),
        ("status_history", export_status_history),
        ("leaves", export_leaves),
        ("exemptions", export_exemptions),
        ("extensions", export_extensions),
        ("notifications", export_notifications),
    ):
        register_export_section(name, build)
    register_anonymiser("shifts", anonymise)
