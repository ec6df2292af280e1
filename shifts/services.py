"""Shift-engine services (DOMAIN.md §2-§5). Every write goes through here, in one transaction.

Services take `today`/`now` as arguments; only views, commands and tasks read the clock. Bad
input raises ValidationError (400); a coop rule raises RuleViolation with a CONTRACT.md code (409).
"""
from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from coopmarket.errors import RuleViolation
from members.models import CoopParameters, Member, ShareSubscription

from . import cycle, notifications
from . import status as st
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

BOOKABLE_STATUSES = frozenset({
    Member.Status.UP_TO_DATE, Member.Status.ALERT, Member.Status.DELAY, Member.Status.SUSPENDED,
    Member.Status.EXEMPTED, Member.Status.UNSUBSCRIBED,
})
LIVE = Q(cancelled_at__isnull=True)
MEMBER_CANCEL_REASONS = ("cancelled", "exchanged")


# --- parameters and clock helpers -------------------------------------------------------------

def rules(params: CoopParameters | None = None) -> st.Rules:
    params = params or CoopParameters.current()
    return st.Rules(
        alert_days=params.alert_days,
        extension_days=params.extension_days,
        no_slot_grace_days=params.no_slot_grace_days,
        ftop_unsubscribe_below=params.ftop_unsubscribe_below,
    )


def coop_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.COOP_TIME_ZONE)


def cycle_start_setting() -> datetime.date:
    return settings.COOP_CYCLE_START


def local_datetime(day: datetime.date, at: datetime.time) -> datetime.datetime:
    return datetime.datetime.combine(day, at, tzinfo=coop_zone())


# --- status -----------------------------------------------------------------------------------

def works(member: Member) -> bool:
    """Members whose class carries the work obligation and whose membership is active or unpaid."""
    if member.membership not in (Member.Membership.ACTIVE, Member.Membership.UNPAID):
        return False
    return ShareSubscription.objects.filter(
        member=member, share_class__grants_work=True, redemption_requested_on__isnull=True
    ).exists()


def has_slot(member: Member, day: datetime.date) -> bool:
    """A current or future regular slot."""
    return member.slots.filter(Q(end_date__isnull=True) | Q(end_date__gte=day)).exists()


def member_status(member: Member, day: datetime.date, *, params: CoopParameters | None = None) -> st.StatusResult:
    """The working status of one member as of `day`, from the database."""
    return st.compute(
        day=day,
        shift_type=member.shift_type,
        events=[e.as_event() for e in member.counter_events.all()],
        concerned=works(member),
        blocked=bool(member.blocked_reason),
        has_slot=has_slot(member, day),
        work_start=member.work_start_date,
        leaves=[leave.as_period() for leave in member.leaves.all()],
        exemptions=[e.as_period() for e in member.exemptions.all()],
        extension_grants=[x.granted_on for x in member.extensions.all()],
        rules=rules(params),
    )


STORED_FIELDS = ["status", "counter_standard", "counter_ftop", "alert_deadline", "delay_until"]


def apply_result(member: Member, result: st.StatusResult) -> str | None:
    """Copy a result onto the member instance; return the previous status when it changed."""
    previous = member.status
    member.status = result.status
    member.counter_standard = result.standard
    member.counter_ftop = result.ftop
    concerned = result.status != st.NOT_CONCERNED
    member.alert_deadline = result.alert_deadline if concerned else None
    member.delay_until = result.delay_until
    return previous if previous != result.status else None


def status_refresh(*, member: Member, today: datetime.date, cause: str) -> Member:
    """Recompute and store a member's status as of `today`; write a history row if it changed."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    result = member_status(member, today)
    previous = apply_result(member, result)
    member.save(update_fields=[*STORED_FIELDS, "updated_at"])
    if previous is not None:
        StatusChange.objects.create(
            member=member, from_status=previous, to_status=member.status, effective_date=today, cause=cause
        )
    if result.unsubscribed:
        _end_slot(member, today, reason="unsubscribed")
    return member


def counters(member: Member) -> tuple[int, int]:
    totals = CounterEvent.objects.filter(member=member).aggregate(s=Sum("standard_points"), f=Sum("ftop_points"))
    return totals["s"] or 0, totals["f"] or 0


def counter_write(
    *, member: Member, kind: str, date: datetime.date, today: datetime.date, by=None, shift: Shift | None = None,
    registration: Registration | None = None, reason: str = "", points: int = 0, counter: str = st.STANDARD,
    cycle_start: datetime.date | None = None,
) -> list[CounterEvent]:
    """Write an event and its automatic transfer as ledger rows, then refresh the status."""
    std, ftop = counters(member)
    rows = []
    for row_kind, d_std, d_ftop in st.resolve(kind, shift_type=member.shift_type, standard=std, ftop=ftop, points=points, counter=counter):
        rows.append(CounterEvent.objects.create(
            member=member, date=date, kind=row_kind, standard_points=d_std, ftop_points=d_ftop,
            shift=shift, registration=registration, reason=reason if row_kind == kind else "",
            author=by if by and by.pk else None, cycle_start=cycle_start if row_kind == kind else None,
        ))
    status_refresh(member=member, today=today, cause=CounterEvent.Kind(kind).label)
    return rows


# --- templates, generation and regular slots --------------------------------------------------

def _validate_template(fields: dict) -> None:
    errors = {}
    if fields.get("week") not in tuple("ABCD"):
        errors["week"] = [_("Choose a week letter A, B, C or D.")]
    if not isinstance(fields.get("weekday"), int) or not 0 <= fields["weekday"] <= 6:
        errors["weekday"] = [_("Choose a weekday from 0 (Monday) to 6 (Sunday).")]
    if fields.get("start_time") and fields.get("end_time") and fields["end_time"] <= fields["start_time"]:
        errors["end_time"] = [_("A shift ends after it starts, on the same day.")]
    if fields.get("capacity") is not None and fields["capacity"] < 1:
        errors["capacity"] = [_("The capacity is at least 1.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def template_create(*, name: str, week: str, weekday: int, start_time, end_time, capacity: int | None = None,
                    required_skill: str = "", leader: Member | None = None) -> ShiftTemplate:
    capacity = capacity if capacity is not None else CoopParameters.current().shift_capacity
    fields = dict(name=name, week=week, weekday=weekday, start_time=start_time, end_time=end_time, capacity=capacity)
    _validate_template(fields)
    return ShiftTemplate.objects.create(required_skill=required_skill, leader=leader, **fields)


@transaction.atomic
def template_update(*, template: ShiftTemplate, now: datetime.datetime, **fields) -> ShiftTemplate:
    """Change a template; its future shifts follow (times, capacity, name), never duplicated."""
    template = ShiftTemplate.objects.select_for_update().get(pk=template.pk)
    moved = {k for k in ("week", "weekday") if k in fields and fields[k] != getattr(template, k)}
    if moved and template.shifts.exists():
        raise ValidationError({k: [_("Shifts exist for this template: create a new template for another day.")] for k in moved})
    merged = {k: getattr(template, k) for k in ("name", "week", "weekday", "start_time", "end_time", "capacity")}
    merged.update(fields)
    _validate_template(merged)
    if "capacity" in fields and template.slots.filter(end_date__isnull=True).count() > fields["capacity"]:
        raise RuleViolation("slot_full", _("More members hold this slot than the new capacity."))
    if "capacity" in fields:
        crowded = template.shifts.filter(start__gt=now).annotate(n=Count("registrations", filter=Q(registrations__cancelled_at__isnull=True))).filter(n__gt=fields["capacity"])
        if crowded.exists():
            raise RuleViolation("shift_full", _("Some future shifts already hold more bookings than the new capacity."))
    for name, value in fields.items():
        setattr(template, name, value)
    template.save()
    for shift in template.shifts.filter(start__gt=now):
        shift.name = template.name
        shift.capacity = template.capacity
        shift.start = local_datetime(shift.date, template.start_time)
        shift.end = local_datetime(shift.date, template.end_time)
        shift.save(update_fields=["name", "capacity", "start", "end"])
    return template


def _slot_holders_by_template(template_ids) -> dict[int, list[SlotAssignment]]:
    holders: dict[int, list[SlotAssignment]] = {}
    for slot in SlotAssignment.objects.filter(template_id__in=template_ids).select_related("member"):
        holders.setdefault(slot.template_id, []).append(slot)
    return holders


def _absent_periods(member_ids) -> dict[int, list[st.Period]]:
    periods: dict[int, list[st.Period]] = {}
    for model in (Leave, Exemption):
        for row in model.objects.filter(member_id__in=member_ids):
            periods.setdefault(row.member_id, []).append(row.as_period())
    return periods


def _regular_expected(slot: SlotAssignment, day: datetime.date, absent: dict[int, list[st.Period]]) -> bool:
    """Is a slot holder automatically registered on the shift of this date?"""
    member = slot.member
    if member.membership == Member.Membership.LEFT or member.shift_type != Member.ShiftType.STANDARD:
        return False
    first = max(d for d in (slot.start_date, member.work_start_date) if d is not None) if member.work_start_date else None
    if first is None or day < first or (slot.end_date is not None and day > slot.end_date):
        return False
    return not any(p.covers(day) for p in absent.get(member.pk, ()))


def shifts_generate(*, start: datetime.date, end: datetime.date) -> dict[str, int]:
    """Shifts from active templates for every date in [start, end], and the slot holders'
    regular registrations on them. Idempotent: existing shifts and registrations are kept."""
    if end < start:
        raise ValidationError({"end": [_("The end date is before the start date.")]})
    anchor = cycle_start_setting()
    templates = list(ShiftTemplate.objects.filter(active=True))
    existing = set(Shift.objects.filter(date__gte=start, date__lte=end, template__isnull=False).values_list("template_id", "date"))
    new_shifts = [
        Shift(template=t, name=t.name, date=day, start=local_datetime(day, t.start_time), end=local_datetime(day, t.end_time),
              capacity=t.capacity, week=t.week)
        for t in templates
        for day in cycle.dates_of_template(t.week, t.weekday, start, end, anchor)
        if (t.pk, day) not in existing
    ]
    with transaction.atomic():
        Shift.objects.bulk_create(new_shifts, batch_size=1000, ignore_conflicts=True)
        registrations = _regular_registrations_for(start=start, end=end, template_ids=[t.pk for t in templates])
    return {"shifts": len(new_shifts), "registrations": registrations}


def _regular_registrations_for(*, start: datetime.date, end: datetime.date, template_ids, member: Member | None = None) -> int:
    """Create the missing regular registrations of slot holders on shifts in [start, end]."""
    holders = _slot_holders_by_template(template_ids)
    if member is not None:
        holders = {tid: [s for s in slots if s.member_id == member.pk] for tid, slots in holders.items()}
    member_ids = {s.member_id for slots in holders.values() for s in slots}
    if not member_ids:
        return 0
    absent = _absent_periods(member_ids)
    shifts = Shift.objects.filter(template_id__in=list(holders), date__gte=start, date__lte=end, cancelled=False)
    # A registration the member cancelled or gave away stays cancelled; one cancelled by the office
    # (a leave later shortened, a slot removed then given back) may come back.
    regs = Registration.objects.filter(shift__in=shifts, member_id__in=member_ids)
    taken = set(regs.filter(LIVE | Q(cancel_reason__in=MEMBER_CANCEL_REASONS)).values_list("shift_id", "member_id"))
    seats = dict(
        Registration.objects.filter(LIVE, shift__in=shifts).values("shift_id").annotate(n=Count("id")).values_list("shift_id", "n")
    )
    new = []
    for shift in shifts:
        for slot in holders.get(shift.template_id, ()):
            if (shift.pk, slot.member_id) in taken or not _regular_expected(slot, shift.date, absent):
                continue
            if seats.get(shift.pk, 0) >= shift.capacity:
                continue  # one-off bookings filled it first: the seat is not taken twice
            seats[shift.pk] = seats.get(shift.pk, 0) + 1
            new.append(Registration(shift=shift, member=slot.member, kind=Registration.Kind.REGULAR))
    Registration.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new)


@transaction.atomic
def slot_assign(*, template: ShiftTemplate, member: Member, start_date: datetime.date, today: datetime.date, by=None) -> SlotAssignment:
    """Give a standard member a regular slot (409 `slot_full` when the template is full)."""
    template = ShiftTemplate.objects.select_for_update().get(pk=template.pk)
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.shift_type != Member.ShiftType.STANDARD:
        raise RuleViolation("not_allowed", _("Only standard members hold a regular slot."))
    if member.membership == Member.Membership.LEFT:
        raise RuleViolation("not_allowed", _("This member has left the coop."))
    if member_status(member, today).unsubscribed:
        raise RuleViolation("not_allowed", _("This member is unsubscribed: re-enrol them first."))
    holders = template.slots.filter(Q(end_date__isnull=True) | Q(end_date__gte=start_date)).exclude(member=member)
    if holders.count() >= template.capacity:
        raise RuleViolation("slot_full", _("Every place of this regular slot is taken."))
    current = member.slots.filter(end_date__isnull=True).first()
    if current is not None:
        _end_slot(member, start_date - datetime.timedelta(days=1), reason="moved", cancel_from=start_date)
    slot = SlotAssignment.objects.create(member=member, template=template, start_date=start_date)
    _regular_registrations_for(start=max(start_date, today), end=datetime.date.max, template_ids=[template.pk], member=member)
    status_refresh(member=member, today=today, cause=_("Regular slot assigned"))
    return slot


def _end_slot(member: Member, last_day: datetime.date, *, reason: str, cancel_from: datetime.date | None = None) -> None:
    """Close the member's open slot and cancel their regular registrations after it, without points."""
    updated = member.slots.filter(end_date__isnull=True).update(end_date=last_day, end_reason=reason)
    if updated:
        first_cancelled = cancel_from or last_day + datetime.timedelta(days=1)
        Registration.objects.filter(
            LIVE, member=member, kind=Registration.Kind.REGULAR, shift__date__gte=first_cancelled, attendance__isnull=True
        ).update(cancelled_at=local_datetime(last_day, datetime.time(23, 59)), cancel_reason=reason)


@transaction.atomic
def slot_remove(*, template: ShiftTemplate, member: Member, today: datetime.date, by=None) -> None:
    if not member.slots.filter(template=template, end_date__isnull=True).exists():
        raise ValidationError({"member": [_("This member does not hold this slot.")]})
    _end_slot(member, today, reason="removed", cancel_from=today)
    status_refresh(member=member, today=today, cause=_("Regular slot removed"))


# --- booking, cancellation, exchange ----------------------------------------------------------

def _lock_shift(shift: Shift) -> Shift:
    """Row lock on the shift: concurrent bookings of its last seats queue here."""
    return Shift.objects.select_for_update().get(pk=shift.pk)


def seats_taken(shift: Shift) -> int:
    return shift.registrations.filter(LIVE).count()


def _check_may_book(member: Member) -> None:
    if member.membership == Member.Membership.LEFT:
        raise RuleViolation("not_allowed", _("This member has left the coop."))
    if member.status not in BOOKABLE_STATUSES:
        raise RuleViolation(
            "not_allowed",
            _("A member whose status is “%(status)s” cannot book shifts.") % {"status": member.get_status_display()},
        )


def _check_ftop_limits(member: Member, shift: Shift) -> None:
    if member.shift_type != Member.ShiftType.FTOP:
        return
    params = CoopParameters.current()
    live = Registration.objects.filter(LIVE, member=member)
    if live.filter(shift__date=shift.date).count() >= params.ftop_max_per_day:
        raise RuleViolation("booking_limit", _("At most %(n)d shifts a day.") % {"n": params.ftop_max_per_day})
    first = cycle.cycle_start_on_or_before(shift.date, cycle_start_setting())
    last = first + datetime.timedelta(days=cycle.CYCLE_DAYS - 1)
    if live.filter(shift__date__gte=first, shift__date__lte=last).count() >= params.ftop_max_per_cycle:
        raise RuleViolation("booking_limit", _("At most %(n)d shifts per cycle.") % {"n": params.ftop_max_per_cycle})


@transaction.atomic
def shift_book(*, shift: Shift, member: Member, now: datetime.datetime, by=None, as_coordinator: bool = False) -> Registration:
    """Book a one-off registration (make-up, extra, or an FTOP member's shift).

    Members book shifts that have not started; coordinators may also register a member on a
    shift that already happened, to record a make-up done without booking (no capacity limit).
    """
    shift = _lock_shift(shift)
    member = Member.objects.get(pk=member.pk)
    if shift.cancelled:
        raise RuleViolation("not_allowed", _("This shift is cancelled."))
    past = shift.start <= now
    if past and not as_coordinator:
        raise RuleViolation("too_late", _("This shift has already started."))
    _check_may_book(member)
    if shift.registrations.filter(LIVE, member=member).exists():
        raise RuleViolation("already_booked", _("This member is already registered on this shift."))
    if not past:
        if seats_taken(shift) >= shift.capacity:
            raise RuleViolation("shift_full", _("This shift is full."))
        _check_ftop_limits(member, shift)
    registration = Registration.objects.create(shift=shift, member=member, kind=Registration.Kind.ONE_OFF, created_by=by if by and by.pk else None)
    transaction.on_commit(lambda: notifications.booked(registration.pk), robust=True)
    return registration


def _notice(now: datetime.datetime) -> datetime.timedelta:
    return datetime.timedelta(hours=CoopParameters.current().cancel_notice_hours)


@transaction.atomic
def registration_cancel(*, shift: Shift, member: Member, now: datetime.datetime, today: datetime.date, by=None) -> Registration:
    """Cancel at least 24 h ahead: free for a one-off booking, excused (-1) for one's regular shift."""
    shift = _lock_shift(shift)
    registration = shift.registrations.filter(LIVE, member=member).select_for_update().first()
    if registration is None:
        raise ValidationError({"member": [_("This member is not registered on this shift.")]})
    if registration.attendance is not None:
        raise RuleViolation("not_allowed", _("Attendance is already recorded for this shift."))
    if shift.start - now < _notice(now):
        raise RuleViolation("too_late", _("Cancelling is possible until 24 hours before the shift; later, come, swap or be marked missed."))
    registration.cancelled_at = now
    registration.cancel_reason = "cancelled"
    registration.save(update_fields=["cancelled_at", "cancel_reason"])
    if registration.kind == Registration.Kind.REGULAR and member.shift_type == Member.ShiftType.STANDARD:
        registration.attendance = Registration.Attendance.EXCUSED
        registration.attendance_at = now
        registration.save(update_fields=["attendance", "attendance_at"])
        counter_write(member=member, kind=st.EXCUSED_REGULAR, date=shift.date, today=today, by=by, shift=shift,
                      registration=registration, reason=_("Cancelled at least 24 hours ahead"))
    return registration


@transaction.atomic
def shift_offer(*, shift: Shift, member: Member, now: datetime.datetime, by=None) -> Registration:
    shift = _lock_shift(shift)
    registration = shift.registrations.filter(LIVE, member=member).select_for_update().first()
    if registration is None:
        raise ValidationError({"member": [_("This member is not registered on this shift.")]})
    if shift.start - now < _notice(now):
        raise RuleViolation("too_late", _("A shift can be offered until 24 hours before it starts."))
    if registration.offered_at is None:
        registration.offered_at = now
        registration.save(update_fields=["offered_at"])
    return registration


@transaction.atomic
def shift_offer_withdraw(*, shift: Shift, member: Member, by=None) -> Registration:
    registration = shift.registrations.filter(LIVE, member=member, offered_at__isnull=False).select_for_update().first()
    if registration is None:
        raise ValidationError({"member": [_("This member has not offered this shift.")]})
    registration.offered_at = None
    registration.save(update_fields=["offered_at"])
    return registration


@transaction.atomic
def shift_take(*, shift: Shift, member: Member, now: datetime.datetime, by=None) -> Registration:
    """Take a shift offered on the exchange: the registration moves to the taker as a one-off
    booking and the giver owes nothing for it."""
    shift = _lock_shift(shift)
    member = Member.objects.get(pk=member.pk)
    offered = shift.registrations.filter(LIVE, offered_at__isnull=False).exclude(member=member).select_for_update().order_by("offered_at").first()
    if offered is None:
        raise RuleViolation("not_allowed", _("Nobody offers this shift."))
    if shift.start - now < _notice(now):
        raise RuleViolation("too_late", _("The offer lapsed 24 hours before the shift."))
    _check_may_book(member)
    if shift.registrations.filter(LIVE, member=member).exists():
        raise RuleViolation("already_booked", _("This member is already registered on this shift."))
    _check_ftop_limits(member, shift)
    offered.cancelled_at = now
    offered.cancel_reason = "exchanged"
    offered.save(update_fields=["cancelled_at", "cancel_reason"])
    taken = Registration.objects.create(shift=shift, member=member, kind=Registration.Kind.ONE_OFF, created_by=by if by and by.pk else None)
    transaction.on_commit(lambda: notifications.exchange_taken(offered.pk, taken.pk), robust=True)
    return taken


# --- attendance --------------------------------------------------------------------------------

def effect_kind(registration: Registration, member: Member, state: str) -> str:
    """The counter event of an attendance (DOMAIN.md §3's table)."""
    if member.shift_type == Member.ShiftType.FTOP:
        return {"attended": st.FTOP_ATTENDED, "missed": st.FTOP_MISSED, "excused": st.FTOP_EXCUSED}[state]
    if registration.kind == Registration.Kind.REGULAR:
        return {"attended": st.ATTENDED_REGULAR, "missed": st.MISSED_REGULAR, "excused": st.EXCUSED_REGULAR}[state]
    return {"attended": st.ATTENDED_OTHER, "missed": st.MISSED_OTHER, "excused": st.EXCUSED_OTHER}[state]


def _record(registration: Registration, state: str, *, now: datetime.datetime, today: datetime.date, by=None) -> Registration:
    shift = registration.shift
    if state not in Registration.Attendance.values:
        raise ValidationError({"state": [_("Choose attended, missed or excused.")]})
    if state == Registration.Attendance.ATTENDED and now < shift.start:
        raise RuleViolation("not_started", _("Attendance can be recorded from the shift's start."))
    if state == Registration.Attendance.MISSED and now < shift.end:
        raise RuleViolation("not_ended", _("A shift can be marked missed only after it ends."))
    if registration.attendance == state:
        return registration
    member = registration.member
    if registration.attendance is not None:
        # Coordinators change a recorded attendance: reverse the earlier rows, then write the new one.
        for row in registration.counter_events.filter(reversed_by__isnull=True):
            CounterEvent.objects.create(
                member=member, date=row.date, kind=st.REVERSAL, standard_points=-row.standard_points,
                ftop_points=-row.ftop_points, shift=shift, reverses=row,
                reason=_("Attendance changed from %(old)s to %(new)s") % {"old": registration.attendance, "new": state},
                author=by if by and by.pk else None,
            )
    registration.attendance = state
    registration.attendance_at = now
    registration.attendance_by = by if by and by.pk else None
    registration.save(update_fields=["attendance", "attendance_at", "attendance_by"])
    counter_write(member=member, kind=effect_kind(registration, member, state), date=shift.date, today=today, by=by,
                  shift=shift, registration=registration)
    transaction.on_commit(lambda: notifications.attendance_recorded(registration.pk, state), robust=True)
    return registration


@transaction.atomic
def attendance_record(*, shift: Shift, member: Member, state: str, now: datetime.datetime, today: datetime.date, by=None) -> Registration:
    registration = shift.registrations.filter(LIVE, member=member).select_related("shift", "member").select_for_update().first()
    if registration is None:
        raise ValidationError({"member": [_("This member is not registered on this shift.")]})
    return _record(registration, state, now=now, today=today, by=by)


@transaction.atomic
def attendance_record_bulk(*, shift: Shift, entries: list[dict], now: datetime.datetime, today: datetime.date, by=None) -> list[Registration]:
    """All or nothing: one bad entry rolls the whole batch back."""
    results = []
    for index, entry in enumerate(entries):
        try:
            results.append(attendance_record(shift=shift, member=entry["member"], state=entry["state"], now=now, today=today, by=by))
        except ValidationError as exc:
            raise ValidationError({f"{index}": exc.messages}) from exc
    return results


def shifts_close(*, today: datetime.date, now: datetime.datetime | None = None) -> dict[str, int]:
    """Every registration of a shift that ended before `today` with no attendance becomes missed.
    Idempotent: recorded registrations are left alone."""
    cutoff = local_datetime(today, datetime.time.min)
    now = now or cutoff
    pending = (
        Registration.objects.filter(LIVE, attendance__isnull=True, shift__end__lte=cutoff, shift__cancelled=False)
        .select_related("shift", "member").order_by("shift__start", "id")
    )
    missed = 0
    for registration in pending.iterator(chunk_size=500):
        with transaction.atomic():
            locked = Registration.objects.select_for_update().select_related("shift", "member").get(pk=registration.pk)
            if locked.attendance is None and locked.cancelled_at is None:
                _record(locked, Registration.Attendance.MISSED, now=max(now, locked.shift.end), today=today)
                missed += 1
    closed = Shift.objects.filter(end__lte=cutoff, closed_at__isnull=True).update(closed_at=now)
    return {"missed": missed, "shifts_closed": closed}


# --- leaves, exemptions, extensions, blocking, corrections, re-enrolment -----------------------

def _cancel_registrations_between(member: Member, first: datetime.date, last: datetime.date | None, now: datetime.datetime, reason: str) -> int:
    """Cancel the member's unrecorded registrations in [first, last] without points."""
    regs = Registration.objects.filter(LIVE, member=member, attendance__isnull=True, shift__date__gte=first)
    if last is not None:
        regs = regs.filter(shift__date__lte=last)
    return regs.update(cancelled_at=now, cancel_reason=reason)


@transaction.atomic
def leave_create(*, member: Member, start: datetime.date, end: datetime.date, reason: str, today: datetime.date,
                 now: datetime.datetime, by=None) -> Leave:
    params = CoopParameters.current()
    errors = {}
    if start < today:
        errors["start"] = [_("A leave cannot start in the past (use a correction for the past).")]
    if end is None or end < start:
        errors["end"] = [_("The leave ends on or after its start.")]
    elif (end - start).days + 1 < params.min_leave_days:
        errors["end"] = [_("A leave lasts at least %(n)d days.") % {"n": params.min_leave_days}]
    if errors:
        raise ValidationError(errors)
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.leaves.filter(start__lte=end, end__gte=start).exists():
        raise RuleViolation("not_allowed", _("This member already has a leave in these dates."))
    leave = Leave.objects.create(member=member, start=start, end=end, reason=reason, created_by=by if by and by.pk else None)
    _cancel_registrations_between(member, start, end, now, "leave")
    status_refresh(member=member, today=today, cause=_("Leave"))
    return leave


@transaction.atomic
def exemption_create(*, member: Member, start: datetime.date, end: datetime.date | None, reason: str,
                     today: datetime.date, now: datetime.datetime, by=None) -> Exemption:
    errors = {}
    if start < today:
        errors["start"] = [_("An exemption cannot start in the past (use a correction for the past).")]
    if end is not None and end < start:
        errors["end"] = [_("The exemption ends on or after its start.")]
    if errors:
        raise ValidationError(errors)
    member = Member.objects.select_for_update().get(pk=member.pk)
    overlapping = member.exemptions.filter(Q(end__isnull=True) | Q(end__gte=start))
    if end is not None:
        overlapping = overlapping.filter(start__lte=end)
    if overlapping.exists():
        raise RuleViolation("not_allowed", _("This member already has an exemption in these dates."))
    exemption = Exemption.objects.create(member=member, start=start, end=end, reason=reason, created_by=by if by and by.pk else None)
    _cancel_registrations_between(member, start, end, now, "exemption")
    status_refresh(member=member, today=today, cause=_("Exemption"))
    return exemption


@transaction.atomic
def period_end_early(*, period: Leave | Exemption, end: datetime.date, today: datetime.date, by=None) -> Leave | Exemption:
    """End a leave or an exemption early (not before today, not after its planned end)."""
    period = type(period).objects.select_for_update().get(pk=period.pk)
    if end < max(period.start, today - datetime.timedelta(days=1)):
        raise ValidationError({"end": [_("The new end cannot be before the start or in the past.")]})
    if period.end is not None and end > period.end:
        raise ValidationError({"end": [_("Use this to end early; the new end is after the planned one.")]})
    period.end = end
    period.save(update_fields=["end"])
    slot = period.member.slots.filter(end_date__isnull=True).first()
    if slot is not None:
        _regular_registrations_for(start=end + datetime.timedelta(days=1), end=datetime.date.max, template_ids=[slot.template_id], member=period.member)
    status_refresh(member=period.member, today=today, cause=_("Leave or exemption ended early"))
    return period


@transaction.atomic
def extension_grant(*, member: Member, reason: str, today: datetime.date, by=None) -> Extension:
    """28 days of delay, chained from the deadline; at most 2 in any 365 days."""
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the extension is granted.")]})
    params = CoopParameters.current()
    member = Member.objects.select_for_update().get(pk=member.pk)
    result = member_status(member, today, params=params)
    applies = result.standard if member.shift_type == Member.ShiftType.STANDARD else result.ftop
    if result.status == st.NOT_CONCERNED or applies >= 0:
        raise RuleViolation("not_allowed", _("An extension is granted only to a member who owes make-ups."))
    recent = member.extensions.filter(granted_on__gt=today - datetime.timedelta(days=365)).count()
    if recent >= params.max_extensions_per_year:
        raise RuleViolation("extension_limit", _("At most %(n)d extensions in any 365 days.") % {"n": params.max_extensions_per_year})
    grants = [x.granted_on for x in member.extensions.all()] + [today]
    windows = st.extension_windows(grants, episode_start=result.episode_start, deadline=result.alert_deadline, extension_days=params.extension_days)
    start, end = windows[-1]
    extension = Extension.objects.create(member=member, granted_on=today, start=start, end=end, reason=reason, author=by if by and by.pk else None)
    status_refresh(member=member, today=today, cause=_("Extension granted"))
    return extension


@transaction.atomic
def member_block(*, member: Member, reason: str, today: datetime.date, by=None) -> Member:
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the member is blocked.")]})
    member = Member.objects.select_for_update().get(pk=member.pk)
    member.blocked_reason = reason.strip()
    member.save(update_fields=["blocked_reason", "updated_at"])
    return status_refresh(member=member, today=today, cause=(_("Blocked: %(reason)s") % {"reason": reason.strip()})[:255])


@transaction.atomic
def member_unblock(*, member: Member, reason: str, today: datetime.date, by=None) -> Member:
    member = Member.objects.select_for_update().get(pk=member.pk)
    if not member.blocked_reason:
        raise RuleViolation("not_allowed", _("This member is not blocked."))
    member.blocked_reason = ""
    member.save(update_fields=["blocked_reason", "updated_at"])
    return status_refresh(member=member, today=today, cause=(_("Unblocked: %(reason)s") % {"reason": reason or "-"})[:255])


@transaction.atomic
def correction_write(*, member: Member, counter: str, points: int, reason: str, today: datetime.date, by=None) -> list[CounterEvent]:
    errors = {}
    if counter not in (st.STANDARD, st.FTOP):
        errors["counter"] = [_("Choose the standard or the ftop counter.")]
    if not isinstance(points, int) or points == 0 or abs(points) > 50:
        errors["points"] = [_("Points are a whole number between -50 and 50, not 0.")]
    if not (reason or "").strip():
        errors["reason"] = [_("A correction needs a reason.")]
    if errors:
        raise ValidationError(errors)
    member = Member.objects.select_for_update().get(pk=member.pk)
    return counter_write(member=member, kind=st.CORRECTION, date=today, today=today, by=by, reason=reason, points=points, counter=counter)


@transaction.atomic
def member_reenrol(*, member: Member, today: datetime.date, template: ShiftTemplate | None = None, by=None) -> Member:
    """Re-enrolment keeps the counters, resets the streak and, with a debt, starts a new alert
    episode today. A standard member gets their new regular slot in the same step."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.status != Member.Status.UNSUBSCRIBED:
        raise RuleViolation("not_allowed", _("Only an unsubscribed member can be re-enrolled."))
    CounterEvent.objects.create(member=member, date=today, kind=st.REENROL, reason=_("Re-enrolment"), author=by if by and by.pk else None)
    member = status_refresh(member=member, today=today, cause=_("Re-enrolment"))
    if template is not None:
        slot_assign(template=template, member=member, start_date=today, today=today, by=by)
    return Member.objects.get(pk=member.pk)


# --- the time-driven job ----------------------------------------------------------------------

def _bulk_facts(member_ids=None):
    """Every fact the status needs, for all members, in a constant number of queries."""
    def by_member(rows):
        grouped: dict[int, list] = {}
        for member_id, item in rows:
            grouped.setdefault(member_id, []).append(item)
        return grouped

    def scoped(qs):
        return qs if member_ids is None else qs.filter(member_id__in=member_ids)

    events = by_member(
        (m, st.Event(d, k, s, f, seq=pk, voids=rev))
        for pk, m, d, k, s, f, rev in scoped(CounterEvent.objects.all()).values_list(
            "pk", "member_id", "date", "kind", "standard_points", "ftop_points", "reverses_id"
        ).iterator(chunk_size=5000)
    )
    leaves = by_member((m, st.Period(a, b)) for m, a, b in scoped(Leave.objects.all()).values_list("member_id", "start", "end"))
    exemptions = by_member((m, st.Period(a, b)) for m, a, b in scoped(Exemption.objects.all()).values_list("member_id", "start", "end"))
    grants = by_member(scoped(Extension.objects.all()).values_list("member_id", "granted_on"))
    slots = by_member(scoped(SlotAssignment.objects.all()).values_list("member_id", "end_date"))
    return events, leaves, exemptions, grants, slots


def _members_for_job(member_ids=None):
    from django.db.models import Exists, OuterRef

    working = ShareSubscription.objects.filter(member=OuterRef("pk"), share_class__grants_work=True, redemption_requested_on__isnull=True)
    qs = Member.objects.annotate(has_work_shares=Exists(working))
    return qs if member_ids is None else qs.filter(pk__in=member_ids)


def cycle_charges_write(*, today: datetime.date, since: datetime.date | None, facts=None) -> int:
    """Write the cycle charges of every cycle start in [since, today) (the latest one only on a
    first run), for each FTOP member who owes it. Once per member and cycle (unique constraint)."""
    # A cycle start is charged by the first run after it, once its own shifts are closed, so the
    # members who work on the cycle start day are credited before the charge (DOMAIN.md §3).
    anchor = cycle_start_setting()
    last = today - datetime.timedelta(days=1)
    if since is None:
        starts = [cycle.cycle_start_on_or_before(last, anchor)]
    else:
        starts = cycle.cycle_starts_between(since, last, anchor)
    if not starts:
        return 0
    r = rules()
    members = list(_members_for_job().filter(
        shift_type=Member.ShiftType.FTOP, membership=Member.Membership.ACTIVE, has_work_shares=True
    ).only("pk", "work_start_date", "shift_type_since", "joined_on"))
    ids = [m.pk for m in members]
    facts = facts or _bulk_facts(ids)
    events, leaves, exemptions, _grants, _slots = facts
    charged = set(CounterEvent.objects.filter(member_id__in=ids, kind=st.CYCLE_CHARGE, cycle_start__in=starts).values_list("member_id", "cycle_start"))
    new_rows = []
    for member in members:
        member_events = events.get(member.pk, [])
        for start in starts:
            if (member.pk, start) in charged:
                continue
            if not st.owes_cycle_charge(
                start, active_since=member.work_start_date, ftop_since=member.shift_type_since or member.joined_on,
                leaves=leaves.get(member.pk, []), exemptions=exemptions.get(member.pk, []), events=member_events, rules=r,
            ):
                continue
            ftop_then = st.replay(member_events, shift_type=st.FTOP, day=start, rules=r).ftop
            (_kind, d_std, d_ftop), = st.resolve(st.CYCLE_CHARGE, shift_type=st.FTOP, standard=0, ftop=ftop_then)
            row = CounterEvent(member_id=member.pk, date=start, kind=st.CYCLE_CHARGE, standard_points=d_std,
                               ftop_points=d_ftop, cycle_start=start, reason=_("Cycle charge"))
            new_rows.append(row)
            member_events = [*member_events, st.Event(start, st.CYCLE_CHARGE, d_std, d_ftop, seq=10**12 + len(new_rows))]
    CounterEvent.objects.bulk_create(new_rows, batch_size=1000)
    for row in new_rows:  # the caller's facts now include the charges (no second read of the ledger)
        events.setdefault(row.member_id, []).append(row.as_event())
    return len(new_rows)


def _write_stored(changed: list[Member], now: datetime.datetime) -> None:
    """Save the stored status fields of many members: one `UPDATE ... FROM (VALUES ...)` per
    1,000 rows (Django's bulk_update builds a CASE per row and field, seconds for thousands)."""
    if not changed:
        return
    table = connection.ops.quote_name(Member._meta.db_table)
    casts = ("::bigint", "::varchar", "::integer", "::integer", "::date", "::date") if connection.vendor == "postgresql" else ("",) * 6
    row_sql = "(" + ", ".join(f"%s{cast}" for cast in casts) + ")"
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        for start in range(0, len(changed), 1000):
            batch = changed[start:start + 1000]
            params = [v for m in batch for v in (m.pk, m.status, m.counter_standard, m.counter_ftop, m.alert_deadline, m.delay_until)]
            cursor.execute(
                f"WITH v(id, status, cs, cf, ad, du) AS (VALUES {', '.join([row_sql] * len(batch))}) "
                f"UPDATE {table} SET status = v.status, counter_standard = v.cs, counter_ftop = v.cf, "
                f"alert_deadline = v.ad, delay_until = v.du, updated_at = %s FROM v WHERE {table}.id = v.id",
                [*params, stamp],
            )


def statuses_recompute_all(*, today: datetime.date, cause: str, facts=None) -> int:
    """Recompute every member's stored status as of `today` in bulk; write the history rows."""
    r = rules()
    events, leaves, exemptions, grants, slots = facts or _bulk_facts()
    changed, history, unsubscribed_with_slot = [], [], []
    now = datetime.datetime.now(tz=coop_zone())
    for member in _members_for_job().iterator(chunk_size=2000):
        member_slots = slots.get(member.pk, [])
        result = st.compute(
            day=today, shift_type=member.shift_type, events=events.get(member.pk, []),
            concerned=member.membership in (Member.Membership.ACTIVE, Member.Membership.UNPAID) and member.has_work_shares,
            blocked=bool(member.blocked_reason), has_slot=any(end is None or end >= today for end in member_slots),
            work_start=member.work_start_date, leaves=leaves.get(member.pk, []), exemptions=exemptions.get(member.pk, []),
            extension_grants=grants.get(member.pk, []), rules=r,
        )
        before = tuple(getattr(member, f) for f in STORED_FIELDS)
        previous = apply_result(member, result)
        if tuple(getattr(member, f) for f in STORED_FIELDS) != before:
            member.updated_at = now
            changed.append(member)
        if previous is not None:
            history.append(StatusChange(member=member, from_status=previous, to_status=member.status, effective_date=today, cause=cause))
        if result.unsubscribed and any(end is None for end in member_slots):
            unsubscribed_with_slot.append(member)
    with transaction.atomic():
        _write_stored(changed, now)
        StatusChange.objects.bulk_create(history, batch_size=1000)
        for member in unsubscribed_with_slot:
            _end_slot(member, today, reason="unsubscribed")
    return len(history)


def statuses_update(*, today: datetime.date) -> dict[str, int]:
    """Apply every change that only time causes, as of `today` (CONTRACT.md §2). Idempotent."""
    from members import services as member_services

    from .models import JobRun

    memberships = member_services.memberships_refresh_all(today=today)
    with transaction.atomic():
        run = JobRun.objects.select_for_update().filter(name="update_statuses").first()
        since = run.last_date if run else None
        facts = _bulk_facts()
        charges = cycle_charges_write(today=today, since=since, facts=facts)
        if run is None:
            JobRun.objects.create(name="update_statuses", last_date=today)
        elif today > run.last_date:
            run.last_date = today
            run.save(update_fields=["last_date", "updated_at"])
    statuses = statuses_recompute_all(today=today, cause=_("Daily status update"), facts=facts)
    return {"memberships": memberships, "cycle_charges": charges, "statuses": statuses}


# --- reactions to the members app (signals) ----------------------------------------------------

def on_membership_changed(sender, member: Member, today: datetime.date, **kwargs) -> None:
    if member.shift_type == Member.ShiftType.FTOP:
        _end_slot(member, today, reason="ftop")
    status_refresh(member=member, today=today, cause=_("Membership: %(m)s") % {"m": member.get_membership_display()})


def on_member_left(sender, member: Member, today: datetime.date, **kwargs) -> None:
    """Leaving: the regular slot and every future booking are cancelled without points."""
    _end_slot(member, today, reason="left", cancel_from=today)
    _cancel_registrations_between(member, today, None, local_datetime(today, datetime.time.min), "left")
