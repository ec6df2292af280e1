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


def shift_sheet_pdf(shift: Shift, registrations: list[Registration]) -> bytes:
    """The A4 sheet the shift leader prints: who is expected, a tick and signature column, and
    blank lines for members who come without booking."""
    zone = services.coop_zone()
    return render_pdf("shifts/pdf/sheet.html", {
        "coop_name": settings.COOP_NAME,
        "shift": shift,
        "start": timezone.localtime(shift.start, zone),
        "end": timezone.localtime(shift.end, zone),
        "registrations": registrations,
        "blank_lines": range(blank_lines(shift, len(registrations))),
        "leader": shift.template.leader if shift.template_id else None,
        "printed_at": timezone.localtime(timezone.now(), zone),
    })
