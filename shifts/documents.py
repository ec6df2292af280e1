"""The shifts app's printed documents: the attendance sheet of a shift (WeasyPrint PDF)."""
from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from coopmarket.pdf import render_pdf

from . import services
from .models import Registration, Shift

MIN_BLANK_LINES = 4


def blank_lines(shift: Shift, registered: int) -> int:
    """Lines for walk-ins: the free seats, and never fewer than a few."""
    return max(MIN_BLANK_LINES, shift.capacity - registered)


def shift_sheet_pdf(shift: Shift, registrations: list[Registration], *, seats=None) -> bytes:
    """The A4 sheet the shift leader prints: who is expected (with their seat and the
    qualifications each holds on the day, `registration.held`), a tick and signature column, and
    blank lines for members who come without booking. `seats` (selectors.SeatFacts) lists the
    qualified seats and those still without a qualified member."""
    zone = services.coop_zone()
    return render_pdf("shifts/pdf/sheet.html", {
        "coop_name": settings.COOP_NAME,
        "shift": shift,
        "start": timezone.localtime(shift.start, zone),
        "end": timezone.localtime(shift.end, zone),
        "registrations": registrations,
        "blank_lines": range(blank_lines(shift, len(registrations))),
        "leader": shift.template.leader if shift.template_id else None,
        "seats": seats.rows() if seats is not None and seats.requirements else [],
        "empty_seats": seats.empty if seats is not None else [],
        "printed_at": timezone.localtime(timezone.now(), zone),
    })
