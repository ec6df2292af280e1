"""Reads shared by the shifts API and pages: annotated in one query, whatever the row count."""
import datetime
from dataclasses import dataclass, field

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

from members import qualifications as quals
from members.models import CoopParameters, Member, MemberQualification, Qualification, owing_q

from . import seats as seat_rules
from .models import (
    CounterEvent,
    Exemption,
    Extension,
    Leave,
    Registration,
    Shift,
    ShiftRequirement,
    ShiftTemplate,
    SlotAssignment,
    StatusChange,
    TemplateRequirement,
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
    return shift.registrations.filter(LIVE).select_related("member", "seat").order_by("member__last_name", "member__first_name", "id")


def _current_slot(today: datetime.date, member=None):
    """The member's current or next regular slot first (`member`: the outer query's pk by default)."""
    return SlotAssignment.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gt=today), member=OuterRef("pk") if member is None else member,
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
    # The template by its id from the slot's row (an index lookup each), not a join in the
    # subquery: PostgreSQL hashed the whole template table again for every member.
    slot = _current_slot(today, member=OuterRef(OuterRef("pk")))
    template = ShiftTemplate.objects.filter(pk=Subquery(slot.values("template_id")[:1])).order_by()
    return queryset.annotate(
        slot_week=Subquery(template.values("week")),
        slot_name=Subquery(template.values("name")),
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
        .filter(owing_q())  # the partial index member_owing
        .annotate(owed=_owed())
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


# --- qualified seats and the "no leader" flag (DOMAIN.md §9) ----------------------------------

@dataclass
class SeatFacts:
    """One shift's seats: its qualified seats (in order, with their qualification), the live
    registrations per seat, and how many of those on a qualified seat hold it on the shift's date."""

    capacity: int
    requirements: list[tuple[Qualification, int]] = field(default_factory=list)
    taken: dict = field(default_factory=dict)
    filled: dict = field(default_factory=dict)

    @property
    def rules(self) -> seat_rules.Seats:
        return seat_rules.Seats(self.capacity, tuple(seat_rules.Requirement(q.pk, n) for q, n in self.requirements), self.taken)

    @property
    def free(self) -> dict:
        return self.rules.free_by_seat()

    @property
    def empty(self) -> list[tuple[Qualification, int]]:
        """Qualified seats no qualified member sits on yet: (qualification, how many)."""
        empty = seat_rules.empty_qualified(self.rules.requirements, self.filled)
        return [(q, empty[q.pk]) for q, _n in self.requirements if q.pk in empty]

    def rows(self) -> list[dict]:
        """For pages: each qualified seat with its numbers, then the open seats."""
        free = self.free
        rows = [{"qualification": q, "seats": n, "taken": self.taken.get(q.pk, 0), "filled": self.filled.get(q.pk, 0),
                 "free": free[q.pk]} for q, n in self.requirements]
        rows.append({"qualification": None, "seats": self.rules.open_seats, "taken": self.taken.get(None, 0), "free": free[None]})
        return rows


def seat_facts(shifts) -> dict[int, SeatFacts]:
    """SeatFacts for many shifts in two queries (one when none has a qualified seat): the qualified
    seats, then the registrations per shift and seat, counting those who hold their seat's
    qualification on the shift's date."""
    shifts = list(shifts)
    facts = {shift.pk: SeatFacts(shift.capacity) for shift in shifts}
    for requirement in ShiftRequirement.objects.filter(shift_id__in=list(facts)).select_related("qualification").order_by("shift_id", "position", "id"):
        facts[requirement.shift_id].requirements.append((requirement.qualification, requirement.seats))
    seated = [shift_id for shift_id, fact in facts.items() if fact.requirements]
    if seated:
        day = OuterRef("shift__date")
        holds = MemberQualification.objects.filter(
            Q(until__isnull=True) | Q(until__gte=day), Q(revoked_on__isnull=True) | Q(revoked_on__gt=day),
            member_id=OuterRef("member_id"), qualification_id=OuterRef("seat_id"), since__lte=day,
        )
        rows = (
            Registration.objects.filter(LIVE, shift_id__in=seated).annotate(holds=Exists(holds))
            .values("shift_id", "seat_id").annotate(n=Count("id"), qualified=Count("id", filter=Q(holds=True))).order_by()
        )
        for row in rows:
            fact = facts[row["shift_id"]]
            fact.taken[row["seat_id"]] = row["n"]
            if row["seat_id"] is not None:
                fact.filled[row["seat_id"]] = row["qualified"]
    for shift in shifts:
        if not facts[shift.pk].requirements:
            facts[shift.pk].taken = {None: getattr(shift, "seats_taken", 0)}
    return facts


def requirements_texts(template_ids) -> dict[int, str]:
    """{template id: "leader:1;cashier:2"} (the interchange's `requirements` column): one query."""
    pairs: dict[int, list[tuple[str, int]]] = {}
    for template_id, code, seats in TemplateRequirement.objects.filter(template_id__in=list(template_ids)).order_by(
        "template_id", "position", "id",
    ).values_list("template_id", "qualification__code", "seats"):
        pairs.setdefault(template_id, []).append((code, seats))
    return {template_id: seat_rules.requirements_text(rows) for template_id, rows in pairs.items()}


def no_leader_days() -> int:
    return CoopParameters.current().no_leader_days


def flags_no_leader(shift, fact: SeatFacts, *, now: datetime.datetime, today: datetime.date, days: int) -> bool:
    """A shift not cancelled, not ended, within `days` days, with a qualified seat still empty."""
    return (
        not shift.cancelled and shift.end > now and shift.date <= today + datetime.timedelta(days=days)
        and bool(fact.requirements) and bool(fact.empty)
    )


def mark_seats(shifts, *, now: datetime.datetime, today: datetime.date) -> list:
    """Give each shift `seat_facts` and `no_leader` (the flag) and `empty_seats`: two queries."""
    shifts = list(shifts)
    facts = seat_facts(shifts)
    days = no_leader_days()
    for shift in shifts:
        shift.seat_facts = facts[shift.pk]
        shift.no_leader = flags_no_leader(shift, facts[shift.pk], now=now, today=today, days=days)
        shift.empty_seats = facts[shift.pk].empty if shift.no_leader else []
    return shifts


def shifts_without_leader(*, now: datetime.datetime, today: datetime.date) -> list:
    """Shifts flagged "no leader" now (a qualified seat empty within the parameter's days), with
    their seats: three queries."""
    last = today + datetime.timedelta(days=no_leader_days())
    candidates = shifts_with_seats(now=now).filter(
        cancelled=False, end__gt=now, date__gte=today, date__lte=last, requirements__isnull=False,
    ).distinct()
    return [shift for shift in mark_seats(candidates, now=now, today=today) if shift.no_leader]


def roster_qualifications(shift: Shift) -> dict[int, list[Qualification]]:
    """The qualifications each member registered on the shift holds on its date (for the roster
    and the sheet): one query, also for an empty roster."""
    members = Registration.objects.filter(LIVE, shift=shift).values("member_id")
    grants = (
        MemberQualification.objects.filter(quals.held_q(shift.date), member_id__in=members)
        .select_related("qualification").order_by("qualification__position", "qualification__code")
    )
    found: dict[int, list[Qualification]] = {}
    for grant in grants:
        mine = found.setdefault(grant.member_id, [])
        if grant.qualification not in mine:
            mine.append(grant.qualification)
    return found


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
