"""Reads shared by the shifts API and pages: annotated in one query, whatever the row count."""
import datetime

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from members.models import CoopParameters, Member

from .models import (
    CounterEvent,
    Exemption,
    Extension,
    Leave,
    Registration,
    Shift,
    ShiftTemplate,
    SlotAssignment,
    StatusChange,
)

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


# --- the coordination team's pages ------------------------------------------------------------

def understaffed_percent() -> int:
    """A shift is understaffed while fewer than this percentage of its seats are taken.

    One place for the threshold: `settings.COOP_UNDERSTAFFED_PERCENT` (default 50)."""
    return int(getattr(settings, "COOP_UNDERSTAFFED_PERCENT", 50))


def is_understaffed(seats_taken: int, capacity: int, percent: int | None = None) -> bool:
    percent = understaffed_percent() if percent is None else percent
    return seats_taken * 100 < capacity * percent


def shifts_between(*, first: datetime.date, last: datetime.date, now: datetime.datetime):
    """Shifts dated in [first, last] with `seats_taken`, `offered` and `unrecorded` (live
    registrations with no attendance yet): one query."""
    return shifts_with_seats(now=now).filter(date__gte=first, date__lte=last).annotate(
        unrecorded=Count("registrations", filter=Q(registrations__cancelled_at__isnull=True, registrations__attendance__isnull=True)),
    )


def understaffed_shifts(*, first: datetime.date, last: datetime.date, now: datetime.datetime, percent: int | None = None):
    """Shifts not cancelled in [first, last] under the understaffing threshold, filtered in the database."""
    percent = understaffed_percent() if percent is None else percent
    return (
        shifts_between(first=first, last=last, now=now)
        .filter(cancelled=False)
        .alias(fill=F("seats_taken") * 100)
        .filter(fill__lt=F("capacity") * percent)
    )


def roster(shift: Shift):
    """The shift's live registrations with their members, by name: one query."""
    return shift.registrations.filter(LIVE).select_related("member").order_by("member__last_name", "member__first_name", "id")


def _current_slot(today: datetime.date):
    return SlotAssignment.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gt=today), member=OuterRef("pk"),
    ).order_by("-start_date", "-id")


def _owed():
    """Make-ups owed: minus the counter that applies, when it is negative."""
    return Case(
        When(shift_type=Member.ShiftType.FTOP, then=-F("counter_ftop")),
        default=-F("counter_standard"),
        output_field=IntegerField(),
    )


def members_with_slot_week(queryset=None, *, today: datetime.date):
    """Members with `slot_week` / `slot_name` (their current or next regular slot), as subqueries."""
    queryset = Member.objects.all() if queryset is None else queryset
    slot = _current_slot(today)
    return queryset.annotate(
        slot_week=Subquery(slot.values("template__week")[:1]),
        slot_name=Subquery(slot.values("template__name")[:1]),
    )


def members_owing(*, today: datetime.date):
    """Every member (not left) who owes make-ups, one query whatever the row count.

    Annotations: `owed`; `slot_week`, `slot_name`; `last_attended` (the latest date of an attended
    shift) and `last_attended_shift` (its id); `deadline` (the last day before suspension is
    `deadline` for delay, the day before it for alert) with `deadline_sort` (never null) and
    `deadline_rank` to sort exactly.
    """
    attended = Registration.objects.filter(member=OuterRef("pk"), attendance=Registration.Attendance.ATTENDED)
    last_date = attended.values("member").annotate(last=Max("shift__date")).values("last")
    last_shift = attended.order_by("-shift__start", "-id").values("shift_id")[:1]
    return (
        members_with_slot_week(Member.objects.exclude(membership=Member.Membership.LEFT), today=today)
        .annotate(owed=_owed())
        .filter(owed__gt=0)
        .annotate(
            last_attended=Subquery(last_date, output_field=DateField()),
            last_attended_shift=Subquery(last_shift),
            deadline=Case(
                When(status=Member.Status.DELAY, then=F("delay_until")),
                When(status=Member.Status.ALERT, then=F("alert_deadline")),
                default=None,
                output_field=DateField(),
            ),
            # Members without a deadline (suspended, blocked...) sort after the others, on every database.
            deadline_sort=Coalesce(F("deadline"), Value(datetime.date(9999, 12, 31)), output_field=DateField()),
            # On the same date, an alert deadline comes first (suspended on it) and the end of a
            # delay second (suspended the day after).
            deadline_rank=Case(When(status=Member.Status.DELAY, then=Value(1)), default=Value(0), output_field=IntegerField()),
        )
    )


def days_before_suspension(member, today: datetime.date) -> int | None:
    """Days a member in alert or delay has left before being suspended (0: suspended today)."""
    if member.status == Member.Status.ALERT and member.alert_deadline:
        return (member.alert_deadline - today).days
    if member.status == Member.Status.DELAY and member.delay_until:
        return (member.delay_until - today).days + 1
    return None


def members_soon_suspended(*, today: datetime.date, days: int = 7):
    """Members in alert or delay who become suspended within `days` days (from today)."""
    last = today + datetime.timedelta(days=days)
    return members_owing(today=today).filter(
        Q(status=Member.Status.ALERT, alert_deadline__gte=today, alert_deadline__lte=last)
        | Q(status=Member.Status.DELAY, delay_until__gte=today - datetime.timedelta(days=1),
            delay_until__lt=last)
    ).order_by("deadline", "deadline_rank", "last_name", "first_name")


def status_counts(*, today: datetime.date) -> dict:
    """Members (not left) per status, and per regular-slot week letter and shift type: two queries."""
    members = Member.objects.exclude(membership=Member.Membership.LEFT)
    per_status = dict(members.values_list("status").annotate(n=Count("id")).order_by())
    per_group = (
        members_with_slot_week(members, today=today)
        .exclude(status=Member.Status.NOT_CONCERNED)
        .values("shift_type", "slot_week", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    places = dict(
        ShiftTemplate.objects.filter(active=True).values_list("week").annotate(n=Sum("capacity")).order_by()
    )
    return {"per_status": per_status, "per_group": list(per_group), "places": places}


def timeline_facts(member: Member) -> dict:
    """Everything a member's timeline shows, in five queries."""
    return {
        "events": list(
            CounterEvent.objects.filter(member=member).select_related("shift", "author").order_by("date", "id")
        ),
        "changes": list(StatusChange.objects.filter(member=member).order_by("effective_date", "id")),
        "leaves": list(Leave.objects.filter(member=member)),
        "exemptions": list(Exemption.objects.filter(member=member)),
        "extensions": list(Extension.objects.filter(member=member).select_related("author")),
    }


# --- the interchange files (CONTRACT.md §7) -----------------------------------------------------

def _chunked(items, size: int = 5000):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def templates_for_import(*, today: datetime.date) -> list[ShiftTemplate]:
    """Every template, with `holders` = members holding its slot on or after `today`."""
    return list(ShiftTemplate.objects.annotate(
        holders=Count("slots", filter=Q(slots__end_date__isnull=True) | Q(slots__end_date__gte=today)),
    ).order_by("pk"))


def standings_of(member_ids) -> dict[int, dict]:
    """What an import compares for members already there: the open slot's template, leaves,
    exemptions, extension grant dates, and the opening counters imported before (or None)."""
    facts: dict[int, dict] = {}

    def of(member_id: int) -> dict:
        return facts.setdefault(member_id, {"slot": None, "leave": [], "exemption": [], "extensions": [], "opening": None})

    for chunk in _chunked(member_ids):
        for member_id, template_id in SlotAssignment.objects.filter(member_id__in=chunk, end_date__isnull=True).values_list("member_id", "template_id"):
            of(member_id)["slot"] = template_id
        for model, key in ((Leave, "leave"), (Exemption, "exemption")):
            for member_id, start, end in model.objects.filter(member_id__in=chunk).values_list("member_id", "start", "end"):
                of(member_id)[key].append((start, end))
        for member_id, granted_on in Extension.objects.filter(member_id__in=chunk).values_list("member_id", "granted_on"):
            of(member_id)["extensions"].append(granted_on)
        openings = (
            CounterEvent.objects.filter(member_id__in=chunk, kind=CounterEvent.Kind.OPENING).values("member_id")
            .annotate(s=Sum("standard_points"), f=Sum("ftop_points"))
        )
        for row in openings:
            of(row["member_id"])["opening"] = (row["s"], row["f"])
    return facts


def interchange_absences():
    """(kind, rows of (member id, start, end, reason)) for leaves and exemptions, for the export."""
    return [
        ("leave", Leave.objects.order_by("member_id", "start").values_list("member_id", "start", "end", "reason").iterator(chunk_size=5000)),
        ("exemption", Exemption.objects.order_by("member_id", "start").values_list("member_id", "start", "end", "reason").iterator(chunk_size=5000)),
    ]


def interchange_extensions():
    """Rows of (member id, granted on, start, end, reason), for the export."""
    return Extension.objects.order_by("member_id", "granted_on", "id").values_list("member_id", "granted_on", "start", "end", "reason").iterator(chunk_size=5000)
def hours_worked_by_month(*, start: datetime.date, end: datetime.date) -> list[dict]:
    """Person-hours worked per month between two dates included: each attended registration x its
    shift's length, with `people` (distinct members who worked that month). One query."""
    from django.db.models import DurationField, ExpressionWrapper
    from django.db.models.functions import TruncMonth

    rows = (
        Registration.objects.filter(LIVE, attendance=Registration.Attendance.ATTENDED, shift__date__gte=start, shift__date__lte=end)
        .annotate(month=TruncMonth("shift__date"))
        .order_by().values("month")
        .annotate(
            length=Sum(ExpressionWrapper(F("shift__end") - F("shift__start"), output_field=DurationField())),
            people=Count("member", distinct=True),
        )
        .order_by("month")
    )
    result = []
    for row in rows:
        month = row["month"].date() if isinstance(row["month"], datetime.datetime) else row["month"]
        length = row["length"] or datetime.timedelta(0)
        result.append({"month": month, "seconds": int(length.total_seconds()), "people": row["people"]})
    return result
