"""Reads shared by the shifts API and pages: annotated in one query, whatever the row count."""
import datetime

from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Q, Value, When

from members.models import CoopParameters

from .models import Registration, Shift, ShiftTemplate

LIVE = Q(cancelled_at__isnull=True)


def shifts_with_seats(*, now: datetime.datetime):
    """Shifts with `seats_taken` and `offered` (an offer still open: until the notice before start)."""
    notice = datetime.timedelta(hours=CoopParameters.current().cancel_notice_hours)
    open_offer = Registration.objects.filter(LIVE, shift=OuterRef("pk"), offered_at__isnull=False)
    return Shift.objects.annotate(
        seats_taken=Count("registrations", filter=Q(registrations__cancelled_at__isnull=True)),
        offered=Case(When(start__gte=now + notice, then=Exists(open_offer)), default=Value(False), output_field=BooleanField()),
    ).order_by("start", "name", "id")


def templates_with_slots():
    return ShiftTemplate.objects.annotate(
        slots_taken=Count("slots", filter=Q(slots__end_date__isnull=True))
    ).order_by("week", "weekday", "start_time", "name", "id")
