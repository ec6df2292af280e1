"""Shift-engine services (DOMAIN.md §2-§5). Every write goes through here, in one transaction.

Services take `today`/`now` as arguments; only views, commands and tasks read the clock. Bad
input raises ValidationError (400); a coop rule raises RuleViolation with a CONTRACT.md code (409).
"""
from __future__ import annotations

import contextlib
import datetime
import zlib
import zoneinfo
from itertools import groupby

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils.translation import gettext as _

from coopmarket import lookups  # noqa: F401  (registers `__any`: batches of ids as one array parameter)
from coopmarket.bulk import copy_insert
from coopmarket.errors import RuleViolation
from members import qualifications as quals
from members.models import CoopParameters, Member, MemberStateChange, Qualification, ShareSubscription

from . import cycle, notifications
from . import seats as seat_rules
from . import status as st
from .models import (
    CounterEvent,
    CycleStartProcessed,
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
        charge_window_days=params.charge_window_days,
        missed_regular=params.points_missed_regular,
        excused_regular=params.points_excused_regular,
        missed_one_off=params.points_missed_one_off,
        attended_other=params.points_attended_other,
        ftop_attended=params.points_ftop_attended,
        ftop_missed=params.points_ftop_missed,
        charge_with_credit=params.points_charge_with_credit,
        charge=params.points_charge,
    )


def coop_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.COOP_TIME_ZONE)


def cycle_start_setting() -> datetime.date:
    return settings.COOP_CYCLE_START


def local_datetime(day: datetime.date, at: datetime.time) -> datetime.datetime:
    return datetime.datetime.combine(day, at, tzinfo=coop_zone())


# --- the ledger: rows, their order, re-resolution --------------------------------------------

LEDGER_FIELDS = ("pk", "member_id", "date", "kind", "standard_points", "ftop_points", "reverses_id", "supersedes_id",
                 "cause_id", "points_entered", "counter_entered")


def _orders(rows) -> dict[int, int]:
    """Each row's place in its day: a re-resolved row keeps the place of the row it replaces.
    (Rows come in primary-key order; only re-resolved rows need a lookup.)"""
    orders: dict[int, int] = {}
    for row in rows:
        supersedes = row[7]
        if supersedes:
            orders[row[0]] = orders.get(supersedes, supersedes)
    return orders


def _events_of(rows) -> list[st.Event]:
    """Ledger rows as value tuples (LEDGER_FIELDS, in primary-key order) -> replay events."""
    orders = _orders(rows)
    event = st.Event
    return [event(r[2], r[3], r[4], r[5], r[0], r[6], orders.get(r[0], r[0])) for r in rows]


def _views(rows) -> tuple[list[st.Event], list[st.LedgerRow]]:
    """Ledger rows as value tuples (LEDGER_FIELDS) -> replay events and re-resolution rows."""
    rows = sorted(rows, key=lambda r: r[0])
    orders = _orders(rows)
    voided = {r[6] for r in rows if r[6] is not None}
    ledger = [
        st.LedgerRow(date, kind, std, ftop, pk, orders.get(pk, pk), reverses is not None or pk in voided, cause,
                     points or 0, counter or st.STANDARD)
        for pk, _member, date, kind, std, ftop, reverses, _sup, cause, points, counter in rows
    ]
    return _events_of(rows), ledger


def _ledger_of(member: Member) -> list[tuple]:
    return list(CounterEvent.objects.filter(member=member).order_by("pk").values_list(*LEDGER_FIELDS))


def member_events(member: Member) -> list[st.Event]:
    return _views(_ledger_of(member))[0]


def _history(member_ids, field: str) -> dict[int, list[tuple[datetime.date, str]]]:
    """Dated membership or shift-type history per member, in write order."""
    rows = MemberStateChange.objects.filter(field=field).order_by("id")
    if member_ids is not None:
        rows = rows.filter(member_id__in=member_ids)
    history: dict[int, list[tuple[datetime.date, str]]] = {}
    for member_id, day, value in rows.values_list("member_id", "effective_date", "value").iterator(chunk_size=5000):
        history.setdefault(member_id, []).append((day, value))
    return history


def _shift_type_on(history: list[tuple[datetime.date, str]], current: str):
    def on(day: datetime.date) -> str:
        return st.value_on(history, day) or current
    return on


class _Plan:
    """Rows a re-resolution writes, created in bulk: mains and reversals first, then the transfers
    that name their main row."""

    def __init__(self, stored: dict[int, CounterEvent]):
        self._stored = stored
        self.first: list[CounterEvent] = []
        self.transfers: list[tuple[CounterEvent, int, CounterEvent | int]] = []  # (transfer, moved, main row or its pk)

    def reverse(self, old: CounterEvent, *, by=None) -> None:
        self.first.append(CounterEvent(
            member_id=old.member_id, date=old.date, kind=st.REVERSAL, standard_points=-old.standard_points,
            ftop_points=-old.ftop_points, shift_id=old.shift_id, reverses_id=old.pk,
            reason=_("Re-resolved: an earlier event was recorded after it"), author=by if by and by.pk else None,
        ))

    def add(self, member_id: int, resolution: st.Resolution, *, old: CounterEvent | None, new_fields: dict | None, by=None) -> CounterEvent | None:
        main = None
        if resolution.stale_transfer is not None:
            self.reverse(self._stored[resolution.stale_transfer.seq], by=by)
        if resolution.changed:
            if old is not None:
                self.reverse(old, by=by)
                fields = {
                    "kind": old.kind, "date": old.date, "shift_id": old.shift_id, "registration_id": old.registration_id,
                    "cycle_start": old.cycle_start, "reason": old.reason, "points_entered": old.points_entered,
                    "counter_entered": old.counter_entered, "supersedes_id": old.pk, "revision": old.revision + 1,
                    "author": by if by and by.pk else None,
                }
            else:
                fields = new_fields
            main = CounterEvent(member_id=member_id, standard_points=resolution.standard, ftop_points=resolution.ftop, **fields)
            self.first.append(main)
        if resolution.transfer:
            anchor = main if main is not None else old
            self.transfers.append((CounterEvent(
                member_id=member_id, date=anchor.date, kind=st.TRANSFER, standard_points=resolution.transfer,
                ftop_points=-resolution.transfer, shift_id=anchor.shift_id, registration_id=anchor.registration_id,
            ), resolution.transfer, anchor))
        return main

    def save(self) -> list[CounterEvent]:
        CounterEvent.objects.bulk_create(self.first, batch_size=1000)
        transfers = []
        for transfer, _moved, anchor in self.transfers:
            transfer.cause_id = anchor.pk
            transfers.append(transfer)
        CounterEvent.objects.bulk_create(transfers, batch_size=1000)
        return [*self.first, *transfers]


def _resolve_into(plan: _Plan, member: Member, stored: dict[int, CounterEvent], resolutions, *, new_fields: list[dict], by=None) -> list[CounterEvent]:
    """Queue what `resolve_ledger` asked for; returns the new main rows, in order."""
    created, pending = [], iter(new_fields)
    for resolution in resolutions:
        old = stored.get(resolution.row.seq) if resolution.row.seq is not None else None
        main = plan.add(member.pk, resolution, old=old, new_fields=None if old else next(pending), by=by)
        if old is None and main is not None:
            created.append(main)
    return created


def counter_write(
    *, member: Member, kind: str, date: datetime.date, today: datetime.date, by=None, shift: Shift | None = None,
    registration: Registration | None = None, reason: str = "", points: int = 0, counter: str = st.STANDARD,
    cycle_start: datetime.date | None = None,
) -> list[CounterEvent]:
    """Write an event where it belongs in the member's ledger (by its date, shift events before a
    charge), re-resolve every later row it changes (a charge, a make-up, a transfer: reversal and
    new row, never an edit), then refresh the status. Returns the rows written."""
    stored = {row.pk: row for row in CounterEvent.objects.filter(member=member).order_by("pk")}
    _events, ledger = _views([tuple(getattr(r, f) for f in LEDGER_FIELDS) for r in stored.values()])
    pending = st.LedgerRow(date, kind, points=points, counter=counter)
    type_on = _shift_type_on(_history([member.pk], "shift_type").get(member.pk, []), member.shift_type)
    resolutions = st.resolve_ledger([*ledger, pending], shift_type_on=type_on, rules=rules())
    entered = kind == st.CORRECTION
    new_fields = {
        "kind": kind, "date": date, "shift": shift, "registration": registration, "reason": reason,
        "author": by if by and by.pk else None, "cycle_start": cycle_start,
        "points_entered": points if entered else None, "counter_entered": counter if entered else "",
    }
    plan = _Plan(stored)
    _resolve_into(plan, member, stored, resolutions, new_fields=[new_fields], by=by)
    rows = plan.save()
    status_refresh(member=member, today=today, cause=CounterEvent.Kind(kind).label)
    return rows


def _reverse_registration_rows(registration: Registration, *, reason: str, by=None) -> None:
    """A changed answer: the registration's live rows (and their transfers) are reversed."""
    rows = list(registration.counter_events.exclude(kind=st.REVERSAL).filter(reversed_by__isnull=True))
    transfers = list(CounterEvent.objects.filter(cause__in=rows, reversed_by__isnull=True).exclude(pk__in=[r.pk for r in rows]))
    CounterEvent.objects.bulk_create([
        CounterEvent(member_id=row.member_id, date=row.date, kind=st.REVERSAL, standard_points=-row.standard_points,
                     ftop_points=-row.ftop_points, shift_id=row.shift_id, reverses=row, reason=reason,
                     author=by if by and by.pk else None)
        for row in [*rows, *transfers]
    ])


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


def _status_facts(member: Member) -> dict:
    """What the status needs besides the ledger, for one member."""
    return {
        "concerned": works(member),
        "blocked": bool(member.blocked_reason),
        "work_start": member.work_start_date,
        "leaves": [leave.as_period() for leave in member.leaves.all()],
        "exemptions": [e.as_period() for e in member.exemptions.all()],
        "extension_grants": [x.granted_on for x in member.extensions.all()],
    }


def member_status(member: Member, day: datetime.date, *, params: CoopParameters | None = None) -> st.StatusResult:
    """The working status of one member as of `day`, from the database."""
    return st.compute(
        day=day, shift_type=member.shift_type, events=member_events(member), has_slot=has_slot(member, day),
        rules=rules(params), **_status_facts(member),
    )


STORED_FIELDS = ["status", "counter_standard", "counter_ftop", "alert_deadline", "delay_until", "refusals", "debt_since"]
# What the daily job reads of each member it recomputes (not the whole row: names, addresses...).
JOB_FIELDS = ["pk", "shift_type", "membership", "blocked_reason", "work_start_date", "joined_on", *STORED_FIELDS]


def apply_result(member: Member, result: st.StatusResult) -> str | None:
    """Copy a result onto the member instance; return the previous status when it changed."""
    previous = member.status
    member.status = result.status
    member.counter_standard = result.standard
    member.counter_ftop = result.ftop
    concerned = result.status != st.NOT_CONCERNED
    member.alert_deadline = result.alert_deadline if concerned else None
    member.delay_until = result.delay_until
    member.refusals = ",".join(result.refusals)
    member.debt_since = result.episode_start
    return previous if previous != result.status else None


def _status_change_date(
    member: Member, previous: str, new: str, *, today: datetime.date, events, facts: dict, slot_ends, floor: datetime.date | None,
    membership_since: datetime.date | None, rules_now: st.Rules | None = None,
) -> datetime.date:
    """The date a status change took effect (DOMAIN.md §5): the event, deadline, leave or extension
    boundary that caused it, or the membership change; a block takes effect the day it is set.
    Never before the previous change of the history, never after today."""
    floor = floor or member.joined_on or today
    if st.BLOCKED in (previous, new):
        effective = today
    elif st.NOT_CONCERNED in (previous, new):
        effective = membership_since or today
    else:
        effective = st.status_since(day=today, shift_type=member.shift_type, events=events, floor=min(floor, today),
                                    slot_ends=slot_ends, rules=rules_now or rules(), **facts)
    return min(max(effective, floor), today)


def _last_status_dates(member_ids) -> dict[int, datetime.date]:
    rows = StatusChange.objects.filter(member_id__in=member_ids).values("member_id").annotate(last=Max("effective_date"))
    return {row["member_id"]: row["last"] for row in rows}


def _membership_since(member_ids) -> dict[int, datetime.date]:
    rows = MemberStateChange.objects.filter(member_id__in=member_ids, field="membership").values("member_id").annotate(last=Max("effective_date"))
    return {row["member_id"]: row["last"] for row in rows}


def _unsubscription_mark(member_id: int, result: st.StatusResult) -> CounterEvent | None:
    """An automatic unsubscription is written down once, so no later re-resolution undoes it."""
    if not result.unsubscribed or result.unsubscription_kept or result.unsubscribed_on is None:
        return None
    return CounterEvent(member_id=member_id, date=result.unsubscribed_on, kind=st.UNSUBSCRIBED_MARK,
                        reason=_("Unsubscribed automatically"))


def status_refresh(*, member: Member, today: datetime.date, cause: str) -> Member:
    """Recompute and store a member's status as of `today`; write a history row, dated when the
    change took effect, if it changed."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    events = member_events(member)
    facts = _status_facts(member)
    slot_ends = list(member.slots.values_list("end_date", flat=True))
    result = st.compute(day=today, shift_type=member.shift_type, events=events, rules=rules(),
                        has_slot=any(end is None or end >= today for end in slot_ends), **facts)
    previous = apply_result(member, result)
    member.save(update_fields=[*STORED_FIELDS, "updated_at"])
    mark = _unsubscription_mark(member.pk, result)
    if mark is not None:
        mark.save()
    if previous is not None:
        effective = _status_change_date(
            member, previous, member.status, today=today, events=events, facts=facts, slot_ends=slot_ends,
            floor=_last_status_dates([member.pk]).get(member.pk), membership_since=_membership_since([member.pk]).get(member.pk),
        )
        StatusChange.objects.create(
            member=member, from_status=previous, to_status=member.status, effective_date=effective, cause=cause[:255]
        )
    if result.unsubscribed:
        _end_slot(member, today, reason="unsubscribed")
    return member


def counters(member: Member) -> tuple[int, int]:
    totals = CounterEvent.objects.filter(member=member).aggregate(s=Sum("standard_points"), f=Sum("ftop_points"))
    return totals["s"] or 0, totals["f"] or 0


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
                    required_skill: str = "", leader: Member | None = None, welcome: bool = False) -> ShiftTemplate:
    capacity = capacity if capacity is not None else CoopParameters.current().shift_capacity
    fields = dict(name=name, week=week, weekday=weekday, start_time=start_time, end_time=end_time, capacity=capacity)
    _validate_template(fields)
    return ShiftTemplate.objects.create(required_skill=required_skill, leader=leader, welcome=bool(welcome), **fields)


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
    _check_template_seats(template, fields)
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
        shift.welcome = template.welcome
        shift.save(update_fields=["name", "capacity", "start", "end", "welcome"])
    return template


def _slot_holders_by_template(template_ids, member_ids=None) -> dict[int, list[SlotAssignment]]:
    holders: dict[int, list[SlotAssignment]] = {}
    slots = SlotAssignment.objects.filter(template_id__in=template_ids)
    if member_ids is not None:
        slots = slots.filter(member_id__in=member_ids)
    for slot in slots.select_related("member"):
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
              capacity=t.capacity, week=t.week, welcome=t.welcome)
        for t in templates
        for day in cycle.dates_of_template(t.week, t.weekday, start, end, anchor)
        if (t.pk, day) not in existing
    ]
    with transaction.atomic():
        Shift.objects.bulk_create(new_shifts, batch_size=1000, ignore_conflicts=True)
        _copy_requirements(templates, {(s.template_id, s.date) for s in new_shifts}, start=start, end=end)
        registrations = _regular_registrations_for(start=start, end=end, template_ids=[t.pk for t in templates])
    return {"shifts": len(new_shifts), "registrations": registrations}


def _regular_registrations_for(*, start: datetime.date, end: datetime.date, template_ids, member: Member | None = None,
                               member_ids=None) -> int:
    """Create the missing regular registrations of slot holders (or of `member_ids`) on shifts in [start, end]."""
    if member_ids is not None and not Shift.objects.filter(template_id__in=template_ids, date__gte=start, date__lte=end).exists():
        return 0  # nothing generated there yet: the holders need not be read
    holders = _slot_holders_by_template(template_ids, member_ids)
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
    placer = _RegularSeats(shifts, member_ids, start=start, end=end)
    new = []
    for shift in shifts:
        for slot in holders.get(shift.template_id, ()):
            if (shift.pk, slot.member_id) in taken or not _regular_expected(slot, shift.date, absent):
                continue
            if seats.get(shift.pk, 0) >= shift.capacity:
                continue  # one-off bookings filled it first: the seat is not taken twice
            seat = placer.place(shift, slot)
            if seat is seat_rules.AUTO:
                continue  # only seats the holder does not qualify for are left
            seats[shift.pk] = seats.get(shift.pk, 0) + 1
            new.append(Registration(shift=shift, member=slot.member, kind=Registration.Kind.REGULAR, seat_id=seat))
    Registration.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new)


class _RegularSeats:
    """Seats of slot holders' registrations on many shifts, in a constant number of queries: the
    shifts' qualified seats, their seats taken, and the holders' qualifications."""

    def __init__(self, shifts, member_ids, *, start: datetime.date, end: datetime.date):
        shift_ids = [s.pk for s in shifts]
        self.requirements = _requirements_by_shift(shift_ids)
        self.taken: dict[int, dict] = {}
        for shift_id, seat_id, n in (
            Registration.objects.filter(LIVE, shift_id__in=shift_ids).values("shift_id", "seat_id").annotate(n=Count("id"))
            .order_by().values_list("shift_id", "seat_id", "n")
        ):
            self.taken.setdefault(shift_id, {})[seat_id] = n
        self.holdings = quals.holdings_of(member_ids, first=start, last=None if end == datetime.date.max else end)
        self.holders = quals.holders_count(start) if any(self.requirements.values()) else {}

    def seats(self, shift: Shift) -> seat_rules.Seats:
        return seat_rules.Seats(shift.capacity, self.requirements.get(shift.pk, ()), self.taken.get(shift.pk, {}))

    def place(self, shift: Shift, slot: SlotAssignment):
        """The holder's seat on this shift (AUTO: none), counted as taken."""
        held = quals.ids_held_from(self.holdings.get(slot.member_id, {}), shift.date)
        seat = seat_rules.regular_seat(self.seats(shift), slot_seat=slot.seat_id, held=held, holders=self.holders)
        if seat is not seat_rules.AUTO:
            taken = self.taken.setdefault(shift.pk, {})
            taken[seat] = taken.get(seat, 0) + 1
        return seat


def _full_dates(template: ShiftTemplate, member: Member, start: datetime.date) -> list[datetime.date]:
    """Dates from `start` on which the member would be registered by the slot but the template's
    generated shift is already full (DOMAIN.md §4: a slot never skips a date silently)."""
    absent = _absent_periods([member.pk])
    shifts = (
        Shift.objects.filter(template=template, date__gte=start, cancelled=False)
        .annotate(n=Count("registrations", filter=Q(registrations__cancelled_at__isnull=True)),
                  mine=Count("registrations", filter=Q(registrations__cancelled_at__isnull=True, registrations__member=member)))
        .order_by("date")
    )
    first = max(d for d in (start, member.work_start_date) if d is not None)
    return [
        shift.date for shift in shifts
        if shift.date >= first and not shift.mine and shift.n >= shift.capacity
        and not any(p.covers(shift.date) for p in absent.get(member.pk, ()))
    ]


@transaction.atomic
def slot_assign(*, template: ShiftTemplate, member: Member, start_date: datetime.date, today: datetime.date, by=None,
                seat=seat_rules.AUTO, reason: str = "") -> SlotAssignment:
    """Give a standard member a regular slot (409 `slot_full` when the template is full; 409
    `shift_full` naming the dates when a generated shift of it is already full from the start).

    The slot takes a seat of the template (DOMAIN.md §9): `seat` names one (a qualification, or
    None for an open seat), else the rule chooses; 409 `not_qualified` when only seats the member
    does not qualify for are left, 409 `welcome_first` when the coop wants newcomers welcomed
    first. A `reason` lets coordinators confirm an unqualified member when the parameter allows."""
    template = ShiftTemplate.objects.select_for_update().get(pk=template.pk)
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.shift_type != Member.ShiftType.STANDARD:
        raise RuleViolation("not_allowed", _("Only standard members hold a regular slot."))
    if member.membership == Member.Membership.LEFT:
        raise RuleViolation("not_allowed", _("This member has left the coop."))
    if member_status(member, today).unsubscribed:
        raise RuleViolation("not_allowed", _("This member is unsubscribed: re-enrol them first."))
    if template.welcome:
        raise RuleViolation("not_allowed", _("A welcome session is not a regular slot."))
    _check_welcomed(member, None)
    holders = template.slots.filter(Q(end_date__isnull=True) | Q(end_date__gte=start_date)).exclude(member=member)
    if holders.count() >= template.capacity:
        raise RuleViolation("slot_full", _("Every place of this regular slot is taken."))
    chosen = _slot_seat(template, member, holders, day=max(start_date, today), seat=seat, reason=reason)
    # Lock the template's future shifts so a booking cannot fill one between the check and the registrations.
    list(Shift.objects.select_for_update().filter(template=template, date__gte=max(start_date, today)).values_list("pk", flat=True))
    full = _full_dates(template, member, max(start_date, today))
    full = sorted(set(full) | set(_seatless_dates(template, member, chosen.seat, max(start_date, today))))
    if full:
        dates = ", ".join(d.isoformat() for d in full)
        raise RuleViolation(
            "shift_full",
            _("The shift of this slot is already full on %(dates)s: start the slot after that, or free a seat first.") % {"dates": dates},
            dates=[d.isoformat() for d in full],
        )
    current = member.slots.filter(end_date__isnull=True).first()
    if current is not None:
        _end_slot(member, start_date - datetime.timedelta(days=1), reason="moved", cancel_from=start_date)
    slot = SlotAssignment.objects.create(
        member=member, template=template, start_date=start_date, seat_id=chosen.seat,
        seat_reason=reason.strip()[:255] if chosen.why == seat_rules.OVERRIDE else "",
    )
    _regular_registrations_for(start=max(start_date, today), end=datetime.date.max, template_ids=[template.pk], member=member)
    status_refresh(member=member, today=today, cause=_("Regular slot assigned"))
    return slot


@transaction.atomic
def shift_type_switch(*, member: Member, shift_type: str, today: datetime.date, template: ShiftTemplate | None = None,
                      start_date: datetime.date | None = None, by=None) -> Member:
    """Switch a member between standard and FTOP (DOMAIN.md §4), dated today: refused while they
    owe make-ups (they work the debt off first, or coordinators settle it with a correction); a
    switch to standard takes the regular slot named in the same request; a switch to FTOP ends it."""
    from members import services as member_services

    if shift_type not in Member.ShiftType.values:
        raise ValidationError({"shift_type": [_("Choose standard or ftop.")]})
    member = Member.objects.select_for_update().get(pk=member.pk)
    if shift_type == member.shift_type:
        if template is not None:
            raise ValidationError({"template": [_("The member is already standard: assign the slot on its own.")]})
        return member
    if member.membership == Member.Membership.LEFT:
        raise RuleViolation("not_allowed", _("This member has left the coop."))
    owed = member_status(member, today).makeups_owed
    if owed:
        raise RuleViolation("not_allowed", _(
            "The shift type cannot change while %(n)d make-up(s) are owed: work them off first, or settle them with a correction."
        ) % {"n": owed})
    if shift_type == Member.ShiftType.STANDARD and template is None:
        raise ValidationError({"template": [_("A switch to standard names the regular slot (template).")]})
    if shift_type == Member.ShiftType.FTOP and template is not None:
        raise ValidationError({"template": [_("FTOP members hold no regular slot.")]})
    member_services.shift_type_set(member=member, shift_type=shift_type, today=today, by=by)
    if shift_type == Member.ShiftType.FTOP:
        _end_slot(member, today, reason="ftop", cancel_from=today)
        status_refresh(member=member, today=today, cause=_("Switched to FTOP"))
    else:
        slot_assign(template=template, member=member, start_date=start_date or today, today=today, by=by)
    return Member.objects.get(pk=member.pk)


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


def _check_may_book(member: Member, shift: Shift | None = None) -> None:
    if member.membership == Member.Membership.LEFT:
        raise RuleViolation("not_allowed", _("This member has left the coop."))
    if shift is not None and member.leaves.filter(start__lte=shift.date, end__gte=shift.date).exists():
        raise RuleViolation("not_allowed", _("This date is inside the member's leave."))
    if member.status not in BOOKABLE_STATUSES and not _welcome_for_newcomer(member, shift):
        raise RuleViolation(
            "not_allowed",
            _("A member whose status is “%(status)s” cannot book shifts.") % {"status": member.get_status_display()},
        )


def _check_ftop_limits(member: Member, shift: Shift) -> None:
    if member.shift_type != Member.ShiftType.FTOP or shift.welcome:
        return
    params = CoopParameters.current()
    live = Registration.objects.filter(LIVE, member=member).exclude(shift__welcome=True)  # welcome sessions are not shifts worked
    if live.filter(shift__date=shift.date).count() >= params.ftop_max_per_day:
        raise RuleViolation("booking_limit", _("At most %(n)d shifts a day.") % {"n": params.ftop_max_per_day})
    first = cycle.cycle_start_on_or_before(shift.date, cycle_start_setting())
    last = first + datetime.timedelta(days=cycle.CYCLE_DAYS - 1)
    if live.filter(shift__date__gte=first, shift__date__lte=last).count() >= params.ftop_max_per_cycle:
        raise RuleViolation("booking_limit", _("At most %(n)d shifts per cycle.") % {"n": params.ftop_max_per_cycle})


@transaction.atomic
def shift_book(*, shift: Shift, member: Member, now: datetime.datetime, by=None, as_coordinator: bool = False,
               seat=seat_rules.AUTO, reason: str = "") -> Registration:
    """Book a one-off registration (make-up, extra, or an FTOP member's shift).

    Members book shifts that have not started; coordinators may also register a member on a
    shift that already happened, to record a make-up done without booking (no capacity limit).
    The booking takes a seat (DOMAIN.md §9, `seats.choose`): `seat` names one (a qualification,
    or None for an open seat), else the rule chooses; 409 `not_qualified` when only seats the
    member does not qualify for are free. Members not yet welcomed get 409 `welcome_first` when
    the coop asks for it (not on welcome sessions, not when coordinators register them).
    """
    shift = _lock_shift(shift)
    member = Member.objects.get(pk=member.pk)
    if shift.cancelled:
        raise RuleViolation("not_allowed", _("This shift is cancelled."))
    past = shift.start <= now
    if past and not as_coordinator:
        raise RuleViolation("too_late", _("This shift has already started."))
    _check_may_book(member, shift)
    if not as_coordinator:
        _check_welcomed(member, shift)
    if shift.registrations.filter(LIVE, member=member).exists():
        raise RuleViolation("already_booked", _("This member is already registered on this shift."))
    if not past:
        if seats_taken(shift) >= shift.capacity:
            raise RuleViolation("shift_full", _("This shift is full."))
        _check_ftop_limits(member, shift)
    chosen = _seat_for(shift, member, seat=seat, now=now, bound=not past, as_coordinator=as_coordinator, reason=reason)
    registration = Registration.objects.create(
        shift=shift, member=member, kind=Registration.Kind.ONE_OFF, created_by=by if by and by.pk else None,
        seat_id=chosen.seat, seat_reason=reason.strip()[:255] if chosen.why == seat_rules.OVERRIDE else "",
    )
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
def shift_take(*, shift: Shift, member: Member, now: datetime.datetime, by=None, as_coordinator: bool = False,
               reason: str = "") -> Registration:
    """Take a shift offered on the exchange: the registration moves to the taker as a one-off
    booking, on the seat it had, and the giver owes nothing for it. An offered qualified seat
    goes only to a member who holds its qualification on the shift's date (409 `not_qualified`)."""
    shift = _lock_shift(shift)
    member = Member.objects.get(pk=member.pk)
    offers = list(shift.registrations.filter(LIVE, offered_at__isnull=False).exclude(member=member).select_for_update().order_by("offered_at", "id"))
    if not offers:
        raise RuleViolation("not_allowed", _("Nobody offers this shift."))
    if shift.start - now < _notice(now):
        raise RuleViolation("too_late", _("The offer lapsed 24 hours before the shift."))
    _check_may_book(member, shift)
    if not as_coordinator:
        _check_welcomed(member, shift)
    if shift.registrations.filter(LIVE, member=member).exists():
        raise RuleViolation("already_booked", _("This member is already registered on this shift."))
    _check_ftop_limits(member, shift)
    offered, override = _offer_for(offers, member, shift, as_coordinator=as_coordinator, reason=reason)
    offered.cancelled_at = now
    offered.cancel_reason = "exchanged"
    offered.save(update_fields=["cancelled_at", "cancel_reason"])
    taken = Registration.objects.create(
        shift=shift, member=member, kind=Registration.Kind.ONE_OFF, created_by=by if by and by.pk else None,
        seat_id=offered.seat_id, seat_reason=reason.strip()[:255] if override else "",
    )
    transaction.on_commit(lambda: notifications.exchange_taken(offered.pk, taken.pk), robust=True)
    return taken


# --- qualified seats and welcome sessions (DOMAIN.md §9) ----------------------------------------

def _requirements_by_shift(shift_ids) -> dict[int, tuple[seat_rules.Requirement, ...]]:
    """Each shift's qualified seats, in the template's order: one query."""
    found: dict[int, list[seat_rules.Requirement]] = {}
    for shift_id, qualification_id, seats in (
        ShiftRequirement.objects.filter(shift_id__in=list(shift_ids)).order_by("shift_id", "position", "id")
        .values_list("shift_id", "qualification_id", "seats")
    ):
        found.setdefault(shift_id, []).append(seat_rules.Requirement(qualification_id, seats))
    return {shift_id: tuple(rows) for shift_id, rows in found.items()}


def _template_requirements(template: ShiftTemplate) -> tuple[seat_rules.Requirement, ...]:
    return tuple(
        seat_rules.Requirement(q, n) for q, n in template.requirements.order_by("position", "id").values_list("qualification_id", "seats")
    )


def seat_counts(shift: Shift) -> dict[int | None, int]:
    """Live registrations of a shift per seat (None: open seats): one query."""
    return dict(
        Registration.objects.filter(LIVE, shift=shift).values("seat_id").annotate(n=Count("id")).order_by().values_list("seat_id", "n")
    )


def shift_seats(shift: Shift) -> seat_rules.Seats:
    return seat_rules.Seats(shift.capacity, _requirements_by_shift([shift.pk]).get(shift.pk, ()), seat_counts(shift))


def _copy_requirements(templates, new_pairs: set, *, start: datetime.date, end: datetime.date) -> None:
    """Newly generated shifts copy their template's qualified seats."""
    per_template: dict[int, list[tuple[int, int, int]]] = {}
    for template_id, qualification_id, seats, position in TemplateRequirement.objects.filter(
        template__in=templates
    ).values_list("template_id", "qualification_id", "seats", "position"):
        per_template.setdefault(template_id, []).append((qualification_id, seats, position))
    if not per_template or not new_pairs:
        return
    rows = [
        ShiftRequirement(shift_id=shift_id, qualification_id=qualification_id, seats=seats, position=position)
        for shift_id, template_id, day in Shift.objects.filter(
            template_id__in=list(per_template), date__gte=start, date__lte=end,
        ).values_list("pk", "template_id", "date")
        if (template_id, day) in new_pairs
        for qualification_id, seats, position in per_template[template_id]
    ]
    ShiftRequirement.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def _check_template_seats(template: ShiftTemplate, fields: dict) -> None:
    """A template change keeps its qualified seats within the capacity; a welcome session has no
    slot holders."""
    if "capacity" in fields:
        needed = template.requirements.aggregate(n=Sum("seats"))["n"] or 0
        if fields["capacity"] is not None and fields["capacity"] < needed:
            raise ValidationError({"capacity": [_("The capacity cannot be under the %(n)d qualified seats.") % {"n": needed}]})
    if fields.get("welcome") and not template.welcome and template.slots.filter(end_date__isnull=True).exists():
        raise RuleViolation("not_allowed", _("Members hold this regular slot: a welcome session has no slot holders."))


def _keep_first(rows, wanted: dict[int, int]) -> list[int]:
    """Ids of the rows (oldest first) beyond the number of seats their kind still has."""
    kept: dict[int, int] = {}
    beyond = []
    for pk, seat_id in rows:
        kept[seat_id] = kept.get(seat_id, 0) + 1
        if kept[seat_id] > wanted.get(seat_id, 0):
            beyond.append(pk)
    return beyond


@transaction.atomic
def template_requirements_set(*, template: ShiftTemplate, requirements: list[tuple[Qualification, int]],
                              now: datetime.datetime, by=None) -> ShiftTemplate:
    """Say how many seats of a template need which qualification, in this order (0 seats: none).

    The template's future shifts follow (DOMAIN.md §9): their qualified seats are replaced; the
    registrations already there stay, on their seat while it still exists (beyond it, on an open
    seat). Slot holders on a seat that no longer exists keep their slot on an open seat."""
    template = ShiftTemplate.objects.select_for_update().get(pk=template.pk)
    errors, seen, clean = [], set(), []
    for qualification, seats in requirements:
        if not isinstance(qualification, Qualification):
            errors.append(_("Unknown qualification."))
            continue
        if isinstance(seats, bool) or not isinstance(seats, int) or not 0 <= seats <= 1000:
            errors.append(_("%(code)s: the seats are a whole number from 0 to 1000.") % {"code": qualification.code})
            continue
        if qualification.pk in seen:
            errors.append(_("%(code)s is named twice.") % {"code": qualification.code})
            continue
        seen.add(qualification.pk)
        if seats:
            clean.append((qualification, seats))
    total = sum(n for _q, n in clean)
    if not errors and total > template.capacity:
        errors.append(_("%(n)d qualified seats do not fit in a capacity of %(capacity)d.") % {"n": total, "capacity": template.capacity})
    if errors:
        raise ValidationError({"requirements": errors})
    TemplateRequirement.objects.filter(template=template).delete()
    TemplateRequirement.objects.bulk_create([
        TemplateRequirement(template=template, qualification=q, seats=n, position=index) for index, (q, n) in enumerate(clean)
    ])
    wanted = {q.pk: n for q, n in clean}
    today = now.astimezone(coop_zone()).date()
    slots = template.slots.filter(Q(end_date__isnull=True) | Q(end_date__gte=today), seat__isnull=False).order_by("start_date", "id")
    SlotAssignment.objects.filter(pk__in=_keep_first(slots.values_list("pk", "seat_id"), wanted)).update(seat=None)
    shifts = list(Shift.objects.select_for_update().filter(template=template, start__gt=now).order_by("pk").values_list("pk", flat=True))
    ShiftRequirement.objects.filter(shift_id__in=shifts).delete()
    ShiftRequirement.objects.bulk_create([
        ShiftRequirement(shift_id=shift_id, qualification=q, seats=n, position=index)
        for shift_id in shifts for index, (q, n) in enumerate(clean)
    ], batch_size=1000)
    seated = Registration.objects.filter(LIVE, shift_id__in=shifts, seat__isnull=False).order_by("shift_id", "id")
    beyond = []
    for _shift_id, rows in groupby(seated.values_list("shift_id", "pk", "seat_id"), key=lambda row: row[0]):
        beyond += _keep_first([(pk, seat_id) for _s, pk, seat_id in rows], wanted)
    Registration.objects.filter(pk__in=beyond).update(seat=None, seat_reason="")
    return template


def _welcome_for_newcomer(member: Member, shift: Shift | None) -> bool:
    """Welcome sessions are open to newcomers whose shares are not paid yet (no working status)."""
    return shift is not None and shift.welcome and member.status == Member.Status.NOT_CONCERNED


def _check_welcomed(member: Member, shift: Shift | None) -> None:
    """With "welcome before booking" on, a member not yet welcomed books only welcome sessions."""
    if shift is not None and shift.welcome:
        return
    if member.welcomed_on is None and CoopParameters.current().welcome_before_booking:
        raise RuleViolation("welcome_first", _("Come to a welcome session first: booking shifts opens once you are welcomed."))


def _override_allowed(as_coordinator: bool, reason: str) -> bool:
    """Coordinators may seat a member without the qualification, with a reason, if the parameter allows."""
    return as_coordinator and bool((reason or "").strip()) and CoopParameters.current().coordinators_confirm_unqualified


def _names(ids) -> str:
    found = {q.pk: q.display_name for q in Qualification.objects.filter(pk__in=[i for i in ids if i is not None])}
    return ", ".join(found.get(i, str(i)) for i in ids if i is not None)


def _refuse_seat(choice: seat_rules.Choice, state: seat_rules.Seats, day: datetime.date, *, slot: bool = False):
    if choice.refusal == seat_rules.NO_SUCH_SEAT:
        raise ValidationError({"seat": [_("This shift has no seat for this qualification.")]})
    if choice.refusal == seat_rules.NOT_QUALIFIED:
        # A named seat, or else the qualified seats still free.
        needed = [choice.seat] if choice.seat is not None else [q for q, n in state.free_by_seat().items() if q is not None and n > 0]
        raise RuleViolation("not_qualified", _(
            "Only seats for trained members are left (%(names)s): this member does not hold the qualification on %(date)s."
        ) % {"names": _names(needed), "date": day.isoformat()})
    if slot:
        raise RuleViolation("slot_full", _("No seat of this kind is free in this regular slot."))
    if choice.seat is not None:
        raise RuleViolation("shift_full", _("No %(name)s seat is free on this shift.") % {"name": _names([choice.seat])})
    raise RuleViolation("shift_full", _("No open seat is free on this shift."))


def _seat_for(shift: Shift, member: Member, *, seat, now: datetime.datetime, bound: bool, as_coordinator: bool,
              reason: str) -> seat_rules.Choice:
    """The seat a booking takes, under the shift's row lock (409 `not_qualified`, `shift_full`)."""
    if isinstance(seat, Qualification):
        seat = seat.pk
    requirements = _requirements_by_shift([shift.pk]).get(shift.pk, ())
    if not requirements and seat in (seat_rules.AUTO, seat_rules.OPEN):
        return seat_rules.Choice(seat_rules.OPEN, seat_rules.OPEN_SEAT)  # no qualified seat: the capacity check said it all
    state = seat_rules.Seats(shift.capacity, requirements, seat_counts(shift))
    holders = quals.holders_count(now.astimezone(coop_zone()).date()) if len(requirements) > 1 else {}
    choice = seat_rules.choose(state, held=quals.held_ids(member, shift.date), named=seat, holders=holders, bound=bound,
                               override=_override_allowed(as_coordinator, reason))
    if not choice.ok:
        _refuse_seat(choice, state, shift.date)
    return choice


def _offer_for(offers: list[Registration], member: Member, shift: Shift, *, as_coordinator: bool, reason: str):
    """The offer a member takes (the oldest one whose seat they qualify for), and whether
    coordinators confirmed a member without the qualification."""
    held = quals.held_ids(member, shift.date) if any(o.seat_id for o in offers) else set()
    for offer in offers:
        if offer.seat_id is None or offer.seat_id in held:
            return offer, False
    if _override_allowed(as_coordinator, reason):
        return offers[0], True
    raise RuleViolation("not_qualified", _(
        "The seat offered needs a qualification (%(names)s) this member does not hold on %(date)s."
    ) % {"names": _names(sorted({o.seat_id for o in offers})), "date": shift.date.isoformat()})


def _slot_seat(template: ShiftTemplate, member: Member, holders, *, day: datetime.date, seat, reason: str) -> seat_rules.Choice:
    """The seat a regular slot takes among the template's seats (the slot holders' count)."""
    if isinstance(seat, Qualification):
        seat = seat.pk
    requirements = _template_requirements(template)
    if not requirements and seat in (seat_rules.AUTO, seat_rules.OPEN):
        return seat_rules.Choice(seat_rules.OPEN, seat_rules.OPEN_SEAT)
    taken = dict(holders.values("seat_id").annotate(n=Count("id")).order_by().values_list("seat_id", "n"))
    state = seat_rules.Seats(template.capacity, requirements, taken)
    choice = seat_rules.choose(state, held=quals.held_ids(member, day), named=seat, holders=quals.holders_count(day),
                               override=_override_allowed(True, reason))
    if not choice.ok:
        _refuse_seat(choice, state, day, slot=True)
    return choice


def _seatless_dates(template: ShiftTemplate, member: Member, seat, start: datetime.date) -> list[datetime.date]:
    """Dates from `start` on which the slot's holder would find no seat they may take on the
    template's generated shift (only seats they do not qualify for left)."""
    first = max(d for d in (start, member.work_start_date) if d is not None)
    mine = Registration.objects.filter(LIVE, member=member).values("shift_id")
    shifts = list(Shift.objects.filter(template=template, date__gte=first, cancelled=False).exclude(pk__in=mine).order_by("date"))
    if not shifts:
        return []
    absent = _absent_periods([member.pk])
    placer = _RegularSeats(shifts, [member.pk], start=first, end=datetime.date.max)
    slot = SlotAssignment(member=member, template=template, seat_id=seat)
    return [
        shift.date for shift in shifts
        if not any(p.covers(shift.date) for p in absent.get(member.pk, ())) and placer.place(shift, slot) is seat_rules.AUTO
    ]


def _welcome_attendance(registration: Registration, state: str, *, by=None) -> None:
    """Attending a welcome session records the welcome date; an answer changed away from
    attended takes it back to the member's other attended session, if any."""
    member, day = registration.member, registration.shift.date
    if state == Registration.Attendance.ATTENDED:
        quals.member_welcomed_set(member=member, day=day, by=by, reason=_("Welcome session of %(date)s") % {"date": day.isoformat()})
        return
    if Member.objects.filter(pk=member.pk, welcomed_on=day).exists():
        other = (
            Registration.objects.filter(LIVE, member=member, shift__welcome=True, attendance=Registration.Attendance.ATTENDED)
            .exclude(pk=registration.pk).aggregate(first=Min("shift__date"))["first"]
        )
        Member.objects.filter(pk=member.pk).update(welcomed_on=other)


@transaction.atomic
def welcome_desk_register(*, shift: Shift, member: Member, template: ShiftTemplate, today: datetime.date,
                          now: datetime.datetime, by=None, seat=seat_rules.AUTO, reason: str = "") -> SlotAssignment:
    """The welcome desk, right after a welcome session: the newcomer's attendance (when not yet
    recorded) and their first regular slot, from today, in one step."""
    if not shift.welcome:
        raise ValidationError({"shift": [_("This shift is not a welcome session.")]})
    registration = shift.registrations.filter(LIVE, member=member).select_related("shift", "member").select_for_update().first()
    if registration is None:
        raise ValidationError({"member": [_("This member is not registered on this welcome session.")]})
    if registration.attendance != Registration.Attendance.ATTENDED:
        _record(registration, Registration.Attendance.ATTENDED, now=now, today=today, by=by)
    return slot_assign(template=template, member=member, start_date=today, today=today, by=by, seat=seat, reason=reason)


def seats_reassign(*, member: Member, today: datetime.date) -> int:
    """After the member's qualifications changed: their coming registrations take the seat the
    rules now give (a slot holder back on the slot's seat once trained again; a booking on a seat
    they no longer qualify for moves to an open seat when one is free, else stays and the shift
    is flagged). Seats coordinators confirmed with a reason are left alone. Returns how many moved."""
    regs = list(
        Registration.objects.filter(LIVE, member=member, attendance__isnull=True, shift__date__gte=today, shift__cancelled=False,
                                    seat_reason="").select_related("shift").order_by("shift_id")
    )
    if not regs:
        return 0
    shift_ids = sorted({r.shift_id for r in regs})
    requirements = _requirements_by_shift(shift_ids)
    if not requirements:
        return 0
    list(Shift.objects.select_for_update().filter(pk__in=shift_ids).order_by("pk").values_list("pk", flat=True))
    taken: dict[int, dict] = {}
    for shift_id, seat_id, n in (
        Registration.objects.filter(LIVE, shift_id__in=shift_ids).values("shift_id", "seat_id").annotate(n=Count("id"))
        .order_by().values_list("shift_id", "seat_id", "n")
    ):
        taken.setdefault(shift_id, {})[seat_id] = n
    holdings = quals.holdings_of([member.pk], first=today).get(member.pk, {})
    slot_seats = dict(member.slots.filter(Q(end_date__isnull=True) | Q(end_date__gte=today)).values_list("template_id", "seat_id"))
    holders = quals.holders_count(today)
    moved = 0
    for reg in regs:
        counts = taken.setdefault(reg.shift_id, {})
        state = seat_rules.Seats(reg.shift.capacity, requirements.get(reg.shift_id, ()), counts).with_one_less(reg.seat_id)
        preferred = slot_seats.get(reg.shift.template_id, reg.seat_id) if reg.kind == Registration.Kind.REGULAR else reg.seat_id
        seat = seat_rules.regular_seat(state, slot_seat=preferred, held=quals.ids_held_from(holdings, reg.shift.date), holders=holders)
        if seat is seat_rules.AUTO or seat == reg.seat_id:
            continue
        counts[reg.seat_id] = counts.get(reg.seat_id, 1) - 1
        counts[seat] = counts.get(seat, 0) + 1
        Registration.objects.filter(pk=reg.pk).update(seat=seat)
        moved += 1
    return moved


def on_qualifications_changed(sender, member: Member, today: datetime.date, **kwargs) -> None:
    seats_reassign(member=member, today=today)


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
        # Coordinators change a recorded answer: the earlier rows are reversed, and the new one is
        # written where it belongs, re-resolving what came after (DOMAIN.md §3 "Changed answers").
        _reverse_registration_rows(
            registration, by=by,
            reason=_("Attendance changed from %(old)s to %(new)s") % {"old": registration.attendance, "new": state},
        )
    registration.attendance = state
    registration.attendance_at = now
    registration.attendance_by = by if by and by.pk else None
    registration.save(update_fields=["attendance", "attendance_at", "attendance_by"])
    if shift.welcome:
        _welcome_attendance(registration, state, by=by)  # no points, attended or missed
        return registration
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
    """28 days of delay, chained from the deadline; at most 2 in any 365 days (parameters)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the extension is granted.")]})
    params = CoopParameters.current()
    member = Member.objects.select_for_update().get(pk=member.pk)
    result = member_status(member, today, params=params)
    applies = result.standard if member.shift_type == Member.ShiftType.STANDARD else result.ftop
    if result.status == st.NOT_CONCERNED or applies >= 0:
        raise RuleViolation("not_allowed", _("An extension is granted only to a member who owes make-ups."))
    recent = member.extensions.filter(granted_on__gt=today - datetime.timedelta(days=params.extension_window_days)).count()
    if recent >= params.max_extensions_per_year:
        raise RuleViolation("extension_limit", _("At most %(n)d extensions in any %(days)d days.") % {
            "n": params.max_extensions_per_year, "days": params.extension_window_days})
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

def _bulk_facts(member_ids=None, *, ledger: bool = True):
    """Every fact the status needs for the members of `member_ids` (or everyone), in a constant
    number of queries (the ids travel as one array parameter on PostgreSQL); without their ledger
    rows when `ledger` is false."""
    def by_member(rows):
        grouped: dict[int, list] = {}
        for member_id, item in rows:
            grouped.setdefault(member_id, []).append(item)
        return grouped

    def scoped(qs):
        return qs if member_ids is None else qs.filter(member_id__any=member_ids)

    rows = {}
    if ledger:
        rows = by_member((row[1], row) for row in scoped(CounterEvent.objects.all()).order_by("pk").values_list(*LEDGER_FIELDS).iterator(chunk_size=10000))
    leaves = by_member((m, st.Period(a, b)) for m, a, b in scoped(Leave.objects.all()).values_list("member_id", "start", "end"))
    exemptions = by_member((m, st.Period(a, b)) for m, a, b in scoped(Exemption.objects.all()).values_list("member_id", "start", "end"))
    grants = by_member(scoped(Extension.objects.all()).values_list("member_id", "granted_on"))
    slots = by_member(scoped(SlotAssignment.objects.all()).values_list("member_id", "end_date"))
    return Facts(rows, leaves, exemptions, grants, slots)


class Facts:
    """The bulk facts of the daily job; ledger rows are turned into events on first use."""

    def __init__(self, rows, leaves, exemptions, grants, slots):
        self.rows, self.leaves, self.exemptions, self.grants, self.slots = rows, leaves, exemptions, grants, slots

    def views(self, member_id: int) -> tuple[list[st.Event], list[st.LedgerRow]]:
        return _views(self.rows.get(member_id, []))

    def events(self, member_id: int) -> list[st.Event]:
        return _events_of(self.rows.get(member_id, []))

    def of(self, member: Member) -> dict:
        """The status facts besides the ledger of one member of `_members_for_job()` (JOB_FIELDS)."""
        return {
            "concerned": member.membership in (Member.Membership.ACTIVE, Member.Membership.UNPAID) and member.has_work_shares,
            "blocked": bool(member.blocked_reason), "work_start": member.work_start_date,
            "leaves": self.leaves.get(member.pk, []), "exemptions": self.exemptions.get(member.pk, []),
            "extension_grants": self.grants.get(member.pk, []),
        }

    def has_slot(self, member_id: int, day: datetime.date) -> bool:
        return any(end is None or end >= day for end in self.slots.get(member_id, []))


def _members_for_job():
    from django.db.models import Exists, OuterRef

    working = ShareSubscription.objects.filter(member=OuterRef("pk"), share_class__grants_work=True, redemption_requested_on__isnull=True)
    return Member.objects.annotate(has_work_shares=Exists(working))


def cycle_starts_to_charge(*, today: datetime.date) -> list[datetime.date]:
    """The cycle starts the job charges as of `today`: those after the latest one it processed, up
    to today; with none processed yet, only the latest cycle start on or before today."""
    anchor = cycle_start_setting()
    latest = cycle.cycle_start_on_or_before(today, anchor)
    last_done = CycleStartProcessed.objects.aggregate(last=Max("cycle_start"))["last"]
    if last_done is None:
        return [latest]
    return [d for d in cycle.cycle_starts_between(last_done + datetime.timedelta(days=1), today, anchor)]


def _charged_through(ids) -> dict[int, datetime.date]:
    """Imported members count as charged up to the import date (the day after their opening row)."""
    rows = (CounterEvent.objects.filter(member_id__any=ids, kind=st.OPENING)
            .values("member_id").annotate(last=Max("date")).order_by())
    return {row["member_id"]: row["last"] + datetime.timedelta(days=1) for row in rows}


def _histories_of(ids) -> dict[str, dict[int, list[tuple[datetime.date, str]]]]:
    """The dated membership and shift-type histories of the members of `ids`, in one query."""
    rows = MemberStateChange.objects.filter(field__in=("membership", "shift_type"), member_id__any=ids).order_by("id")
    histories: dict[str, dict[int, list[tuple[datetime.date, str]]]] = {"membership": {}, "shift_type": {}}
    for field, member_id, day, value in rows.values_list("field", "member_id", "effective_date", "value").iterator(chunk_size=10000):
        histories[field].setdefault(member_id, []).append((day, value))
    return histories


CHUNK = 5000  # members per batch of the daily job: memory stays flat whatever the number of members


def _chunks(queryset, size: int | None = None):
    """Member ids of a queryset, in ranges of `size` (CHUNK) members (by primary key)."""
    size = size or CHUNK
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def cycle_charges_write(*, today: datetime.date) -> int:
    """Write the charges due as of `today` (see `_charges_write`); returns how many were written."""
    return _charges_write(today=today)[0]


def _charges_write(*, today: datetime.date, trust_stored: bool = False) -> tuple[int, set[int], set[int]]:
    """Write the charges of the cycle starts to process (see `cycle_starts_to_charge`) for every
    FTOP member who owes them, each from the counter as it stands on its date (that day's shift
    events included), re-resolving any later row it changes; mark the cycle starts processed.
    From the first run on a cycle start D, the stored counters include D's charge. Returns the
    number of charges, the ids of the members charged whose status is to be recomputed next, and
    the ids of every member charged.

    With `trust_stored` (the stored counters and unsubscription marks are those of the current
    status computation), a member with nothing dated after a single cycle start is charged from
    the stored FTOP counter, without reading their ledger: the common case, at any size. When the
    charge is their newest row and leaves their status as it was, their stored standing is moved
    forward at once (see `_settle`), and they are not among the members returned."""
    starts = cycle_starts_to_charge(today=today)
    if not starts:
        return 0, set(), set()
    r = rules()
    window_first = min(starts) - datetime.timedelta(days=r.charge_window_days)
    ftop_lately = MemberStateChange.objects.filter(field="shift_type", value=Member.ShiftType.FTOP, effective_date__gte=window_first)
    candidates = _members_for_job().filter(has_work_shares=True).filter(
        Q(shift_type=Member.ShiftType.FTOP) | Q(pk__in=ftop_lately.values("member_id"))
    )
    charged: set[int] = set()
    settled: set[int] = set()
    per_start = dict.fromkeys(starts, 0)
    now = datetime.datetime.now(tz=coop_zone())
    for ids in _chunks(candidates):
        # One short transaction per chunk (the till keeps reading and writing meanwhile). A run cut
        # short leaves whole chunks charged: the rerun skips the charges already written.
        with transaction.atomic():
            members = list(_members_for_job().filter(pk__any=ids).only(*JOB_FIELDS))
            histories = _histories_of(ids)
            done = set(CounterEvent.objects.filter(member_id__any=ids, kind=st.CYCLE_CHARGE, cycle_start__in=starts)
                       .values_list("member_id", "cycle_start"))
            judge = {"memberships": histories["membership"], "shift_types": histories["shift_type"], "charged_through": _charged_through(ids),
                     "done": done}
            slow = members
            if trust_stored and len(starts) == 1:
                start = starts[0]
                dated = CounterEvent.objects.filter(member_id__any=ids, date__gte=start).order_by().values_list("member_id", "date").distinct()
                later, on_start = set(), set()
                for member_id, day in dated:
                    (later if day > start else on_start).add(member_id)
                slow = [m for m in members if m.pk in later]
                settled |= _charge_from_stored(
                    [m for m in members if m.pk not in later and (m.pk, start) not in done], start, judge=judge, rules=r,
                    charged=charged, per_start=per_start, today=today, now=now, quiet=set(ids) - later - on_start,
                )
            if slow:
                _charge_from_ledgers(slow, starts, judge=judge, rules=r, charged=charged, per_start=per_start)
    for start in starts:
        CycleStartProcessed.objects.get_or_create(cycle_start=start, defaults={"charges": per_start[start]})
    return sum(per_start.values()), charged - settled, charged


def _owes(member: Member, start: datetime.date, *, judge: dict, leaves, exemptions, events, rules: st.Rules) -> bool:
    return st.owes_cycle_charge(
        start, membership_history=judge["memberships"].get(member.pk, []), shift_type_history=judge["shift_types"].get(member.pk, []),
        leaves=leaves.get(member.pk, []), exemptions=exemptions.get(member.pk, []), events=events, rules=rules,
        charged_through=judge["charged_through"].get(member.pk),
    )


def _charge_from_stored(members: list[Member], start: datetime.date, *, judge, rules, charged, per_start,
                        today: datetime.date, now: datetime.datetime, quiet: set[int]) -> set[int]:
    """Members with nothing dated after the cycle start: the FTOP counter just before the charge
    is the stored one, and the charge comes last in their ledger (nothing to re-resolve).
    Unsubscription in the window is read from the unsubscription and re-enrolment rows.
    For the `quiet` ones (nothing dated on the cycle start either: the charge is alone on its
    date), the stored standing is moved forward in the same transaction where `_settle` can;
    returns the ids of those."""
    if not members:
        return set()
    ids = [m.pk for m in members]
    facts = _bulk_facts(ids, ledger=False)
    marks: dict[int, list[st.Event]] = {}
    rows = CounterEvent.objects.filter(member_id__any=ids, kind__in=(st.UNSUBSCRIBED_MARK, st.REENROL), reversed_by__isnull=True)
    for pk, member_id, date, kind in rows.order_by("pk").values_list("pk", "member_id", "date", "kind"):
        marks.setdefault(member_id, []).append(st.Event(date, kind, seq=pk))
    label = _("Cycle charge")
    new_rows, settled = [], []
    for member in members:
        if not _owes(member, start, judge=judge, leaves=facts.leaves, exemptions=facts.exemptions,
                     events=marks.get(member.pk, []), rules=rules):
            continue
        (_kind, d_std, d_ftop), = st.resolve(st.CYCLE_CHARGE, shift_type=st.FTOP, standard=0, ftop=member.counter_ftop, rules=rules)
        new_rows.append(CounterEvent(member_id=member.pk, date=start, kind=st.CYCLE_CHARGE, standard_points=d_std,
                                     ftop_points=d_ftop, cycle_start=start, reason=label))
        charged.add(member.pk)
        per_start[start] += 1
        if member.pk in quiet and _settle(member, start, (d_std, d_ftop), today=today, facts=facts, rules=rules):
            member.updated_at = now
            settled.append(member)
    copy_insert(CounterEvent, new_rows)
    _write_stored(settled, now)
    return {m.pk for m in settled}


def _settle(member: Member, start: datetime.date, points: tuple[int, int], *, today: datetime.date, facts: Facts,
            rules: st.Rules) -> bool:
    """Move the stored standing of a member forward by a cycle charge that is alone on the newest
    date of their ledger, without replaying the ledger; False (and the member untouched) where
    only the full replay can.

    Exact for an FTOP member who is neither unsubscribed nor outside the working rules: the replay
    then carries nothing into the charge's date but the two counters and the day the counter went
    below zero (`debt_since`; the miss streak and the last re-enrolment only count for standard
    members). So the ledger is summed up to one opening row on that day (or the day before the
    charge), the charge follows, and the same status rules run on those two rows. Only a status
    the charge leaves unchanged is settled here: a change is dated from the whole history, and an
    unsubscription writes its mark, in the full recomputation."""
    refusals = member.refusals.split(",") if member.refusals else []
    if (member.shift_type != Member.ShiftType.FTOP or member.status in (st.NOT_CONCERNED, st.UNSUBSCRIBED)
            or st.UNSUBSCRIBED in refusals or (member.counter_ftop < 0) != (member.debt_since is not None)
            or (member.debt_since is not None and member.debt_since >= start)):
        return False
    d_std, d_ftop = points
    summed_on = member.debt_since or start - datetime.timedelta(days=1)
    # An opening row sets the counters without crossing the unsubscription threshold (the stored
    # status says whether that happened); a negative one opens the episode on its date.
    summed = [st.Event(summed_on, st.OPENING, member.counter_standard, member.counter_ftop, seq=1),
              st.Event(start, st.CYCLE_CHARGE, d_std, d_ftop, seq=2)]
    result = st.compute(day=today, shift_type=member.shift_type, events=summed, rules=rules,
                        has_slot=facts.has_slot(member.pk, today), **facts.of(member))
    if result.status != member.status or result.unsubscribed:
        return False
    apply_result(member, result)
    return True


def _charge_from_ledgers(members: list[Member], starts: list[datetime.date], *, judge, rules, charged, per_start) -> None:
    """The general case: each member's ledger is read, the charges placed and what follows them
    re-resolved (a late run, several cycle starts, events dated after the cycle start)."""
    facts = _bulk_facts([m.pk for m in members])
    pending = []
    for member in members:
        type_on = _shift_type_on(judge["shift_types"].get(member.pk, []), member.shift_type)
        events, ledger = facts.views(member.pk)
        owed, resolutions = [], []
        for start in starts:
            if (member.pk, start) in judge["done"]:
                continue
            if not _owes(member, start, judge=judge, leaves=facts.leaves, exemptions=facts.exemptions, events=events, rules=rules):
                continue
            owed.append(st.LedgerRow(start, st.CYCLE_CHARGE))
            # The next cycle start is judged with this charge in place (it may unsubscribe).
            resolutions = st.resolve_ledger([*ledger, *owed], shift_type_on=type_on, rules=rules)
            events = st.events_after(ledger, resolutions)
        if owed:
            pending.append((member, resolutions, owed))
    touched = {res.row.seq for _m, resolutions, _o in pending for res in resolutions if res.row.seq is not None}
    touched |= {res.stale_transfer.seq for _m, resolutions, _o in pending for res in resolutions if res.stale_transfer}
    stored = {row.pk: row for row in CounterEvent.objects.filter(pk__in=touched)} if touched else {}
    plan = _Plan(stored)
    label = _("Cycle charge")
    for member, resolutions, owed in pending:
        _resolve_into(plan, member, stored, resolutions, new_fields=[
            {"kind": st.CYCLE_CHARGE, "date": row.date, "cycle_start": row.date, "reason": label} for row in owed
        ])
        charged.add(member.pk)
        for row in owed:
            per_start[row.date] += 1
    plan.save()


def _write_stored(changed: list[Member], now: datetime.datetime) -> None:
    """Save the stored status fields of many members. On PostgreSQL, one `UPDATE ... FROM UNNEST`
    of one array per column (a statement with thousands of placeholders took longer to split and
    parse than to run); elsewhere `UPDATE ... FROM (VALUES ...)` per 1,000 rows (Django's
    bulk_update builds a CASE per row and field, seconds for thousands)."""
    if not changed:
        return
    q = connection.ops.quote_name
    table = q(Member._meta.db_table)
    fields = [Member._meta.pk, *(Member._meta.get_field(name) for name in STORED_FIELDS)]
    columns = [q(f.column) for f in fields]
    assignments = ", ".join(f"{c} = v.{c}" for c in columns[1:])
    stamp = connection.ops.adapt_datetimefield_value(now)
    size = 5000 if connection.vendor == "postgresql" else 1000
    with connection.cursor() as cursor:
        for start in range(0, len(changed), size):
            rows = [tuple(getattr(m, f.attname) for f in fields) for m in changed[start:start + size]]
            if connection.vendor == "postgresql":
                # Each array typed as its column, without a length (varchar(16)[] -> varchar[]).
                types = [f.db_type(connection).split("(")[0] for f in fields]
                source = f"UNNEST({', '.join(f'%s::{t}[]' for t in types)})"
                params = [list(column) for column in zip(*rows, strict=True)]
            else:
                source = f"(VALUES {', '.join(['(' + ', '.join(['%s'] * len(columns)) + ')'] * len(rows))})"
                params = [v for row in rows for v in row]
            cursor.execute(
                f"WITH v({', '.join(columns)}) AS (SELECT * FROM {source}) "
                f"UPDATE {table} SET {assignments}, updated_at = %s FROM v WHERE {table}.id = v.id",
                [*params, stamp],
            )


def _recompute_chunk(ids: list[int], *, today: datetime.date, cause: str, r: st.Rules, now: datetime.datetime) -> int:
    """Recompute and store the statuses of one batch of members, in one short transaction."""
    chunk = _members_for_job().filter(pk__any=ids).only(*JOB_FIELDS)
    facts = _bulk_facts(ids)
    changed, history, marks, unsubscribed_with_slot = [], [], [], []
    for member in chunk:
        member_slots = facts.slots.get(member.pk, [])
        member_facts = facts.of(member)
        events = facts.events(member.pk)
        result = st.compute(day=today, shift_type=member.shift_type, events=events, rules=r,
                            has_slot=facts.has_slot(member.pk, today), **member_facts)
        before = tuple(getattr(member, f) for f in STORED_FIELDS)
        previous = apply_result(member, result)
        if tuple(getattr(member, f) for f in STORED_FIELDS) != before:
            member.updated_at = now
            changed.append(member)
        if previous is not None:
            history.append((member, previous, events, member_facts, member_slots))
        mark = _unsubscription_mark(member.pk, result)
        if mark is not None:
            marks.append(mark)
        if result.unsubscribed and any(end is None for end in member_slots):
            unsubscribed_with_slot.append(member)
    changed_ids = [m.pk for m, *_rest in history]
    floors, since = _last_status_dates(changed_ids), _membership_since(changed_ids)
    rows = [
        StatusChange(
            member=member, from_status=previous, to_status=member.status, cause=cause,
            effective_date=_status_change_date(member, previous, member.status, today=today, events=events, facts=member_facts,
                                               slot_ends=slots, floor=floors.get(member.pk), membership_since=since.get(member.pk),
                                               rules_now=r),
        )
        for member, previous, events, member_facts, slots in history
    ]
    with transaction.atomic():
        _write_stored(changed, now)
        StatusChange.objects.bulk_create(rows, batch_size=1000)
        CounterEvent.objects.bulk_create(marks, batch_size=1000)
        for member in unsubscribed_with_slot:
            _end_slot(member, today, reason="unsubscribed")
    return len(rows)


def statuses_recompute_all(*, today: datetime.date, cause: str, member_ids: set[int] | None = None) -> int:
    """Recompute the stored status as of `today` of every member (or of `member_ids`), batch by
    batch (CHUNK members a batch, each in its own short transaction: the till never waits on a
    lock over the member table); write the history rows, dated when each change took effect."""
    r = rules()
    now = datetime.datetime.now(tz=coop_zone())
    members = Member.objects.all() if member_ids is None else Member.objects.filter(pk__any=sorted(member_ids))
    if member_ids is not None and not member_ids:
        return 0
    return sum(_recompute_chunk(ids, today=today, cause=cause, r=r, now=now) for ids in _chunks(members))


# The version of the stored-status computation. A run that finds an older (or no) mark recomputes
# every member once, so stored fields added by a new version (e.g. `refusals`) are filled.
STATUS_ENGINE = "status-engine-3"  # 3: debt_since


def members_changing_by_time(*, since: datetime.date, today: datetime.date) -> set[int]:
    """Members whose status only time can have changed between the day after `since` and `today`
    (DOMAIN.md §5, what `update_statuses` is for): a deadline or the end of an extension, a leave
    or an exemption starting or ending, a slot ending, the no-slot grace of standard members
    without a slot. Every event, decision and membership change recomputes its member when it is
    written; these are the rest."""
    def ids(qs):
        return set(qs.values_list("member_id" if qs.model is not Member else "pk", flat=True))

    found = ids(Member.objects.filter(alert_deadline__gt=since, alert_deadline__lte=today))
    found |= ids(Member.objects.filter(status=Member.Status.ALERT, alert_deadline__lte=today))
    # An end date counts when the day after it falls in the window.
    found |= ids(Member.objects.filter(delay_until__gte=since, delay_until__lt=today))
    for model in (Leave, Exemption, Extension):
        found |= ids(model.objects.filter(Q(start__gt=since, start__lte=today) | Q(end__gte=since, end__lt=today)))
    found |= ids(SlotAssignment.objects.filter(end_date__gte=since, end_date__lt=today))
    open_slot = SlotAssignment.objects.filter(Q(end_date__isnull=True) | Q(end_date__gte=today)).values("member_id")
    found |= ids(Member.objects.filter(
        shift_type=Member.ShiftType.STANDARD, membership__in=(Member.Membership.ACTIVE, Member.Membership.UNPAID),
    ).exclude(status=Member.Status.UNSUBSCRIBED).exclude(pk__in=open_slot))
    return found


def statuses_update(*, today: datetime.date, full: bool = False) -> dict[str, int]:
    """Apply every change that only time causes, as of `today` (CONTRACT.md §2). Idempotent.

    The charges are written first; then only the members that time or a charge can have changed
    since the last run are recomputed. A first run, a run as of an earlier date than the last
    one, a new version of the status computation or `full` recompute every member."""
    from members import services as member_services

    from .models import JobRun

    with job_lock("update_statuses"):  # two runs at once wait for each other, without a long transaction
        memberships = member_services.memberships_refresh_all(today=today)
        run = JobRun.objects.filter(name="update_statuses").first()
        engine = JobRun.objects.filter(name=STATUS_ENGINE).exists()
        last = run.last_date if run else None
        charges, to_recompute, charged = _charges_write(today=today, trust_stored=engine and last is not None and today >= last)
        everyone = full or last is None or today < last or not engine
        targets = None
        if not everyone:
            # With the members a run that stopped before its recomputation had charged (their
            # charges are dated after the last completed run; this run does not charge them again).
            earlier = set(CounterEvent.objects.filter(kind=st.CYCLE_CHARGE, date__gt=last, date__lte=today)
                          .values_list("member_id", flat=True)) - charged
            targets = members_changing_by_time(since=last, today=today) | to_recompute | earlier
        statuses = statuses_recompute_all(today=today, cause=_("Daily status update"), member_ids=targets)
        # The run counts as done only now: a run that stops before this point is done again.
        if run is None:
            JobRun.objects.create(name="update_statuses", last_date=today)
        elif today > run.last_date:
            run.last_date = today
            run.save(update_fields=["last_date", "updated_at"])
        if everyone:
            JobRun.objects.update_or_create(name=STATUS_ENGINE, defaults={"last_date": today})
    return {"memberships": memberships, "cycle_charges": charges, "statuses": statuses}


@contextlib.contextmanager
def job_lock(name: str):
    """One run of a job at a time: a PostgreSQL session advisory lock (held outside any
    transaction, so the job's own transactions stay short). SQLite has one writer anyway."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    key = zlib.crc32(f"coopmarket.job.{name}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


# --- reactions to the members app (signals) ----------------------------------------------------

def on_membership_changed(sender, member: Member, today: datetime.date, **kwargs) -> None:
    if member.shift_type == Member.ShiftType.FTOP:
        _end_slot(member, today, reason="ftop")
    status_refresh(member=member, today=today, cause=_("Membership: %(m)s") % {"m": member.get_membership_display()})


def on_member_left(sender, member: Member, today: datetime.date, **kwargs) -> None:
    """Leaving: the regular slot and every future booking are cancelled without points."""
    _end_slot(member, today, reason="left", cancel_from=today)
    _cancel_registrations_between(member, today, None, local_datetime(today, datetime.time.min), "left")


# --- bringing a coop in (CONTRACT.md §7) --------------------------------------------------------

def _import_errors(errors: dict[str, list[str]], index: int, field: str, message: str) -> None:
    errors.setdefault(f"{index}:{field}", []).append(str(message))


def _overlaps(a: st.Period, b: st.Period) -> bool:
    return a.start <= (b.end or datetime.date.max) and b.start <= (a.end or datetime.date.max)


def _opening_rows(opening: dict, *, opening_date: datetime.date, reason: str) -> list[st.LedgerRow]:
    """The opening rows of one imported member: the counters on the day before the import; when
    the member's current alert episode began earlier, the counters from that day and a marker
    (no points) the day before the import, which says the import date."""
    member = opening["member"]
    applies = opening["standard"] if member.shift_type == Member.ShiftType.STANDARD else opening["ftop"]
    episode = opening.get("episode_start")
    if applies < 0 and episode is not None and episode < opening_date:
        return [st.LedgerRow(episode, st.OPENING, opening["standard"], opening["ftop"]), st.LedgerRow(opening_date, st.OPENING)]
    return [st.LedgerRow(opening_date, st.OPENING, opening["standard"], opening["ftop"])]


@transaction.atomic
def standing_import(*, slots: list[dict], absences: list[dict], extensions: list[dict], openings: list[dict],
                    today: datetime.date, by=None) -> dict[str, int]:
    """Write the shift standing of members brought from a coop's previous system, in bulk.

    - `slots` {member, template, start_date}: `slot_assign` for many (a standard member who has
      not left, at most one open slot, never more holders than the template's capacity, never a
      welcome session, never a generated shift where the holder finds no seat: refused naming the
      dates), start dates in the past too. Each slot takes a seat of its template by the seat rule
      (DOMAIN.md §9, in row order, with the qualifications the member holds on the later of the
      slot's start and today, so import them first); a holder the previous system seated where
      only seats for trained members are left keeps the slot on one of them (as a holder whose
      qualification expired: the shift is flagged), and the result lists them (`unqualified`:
      [(slot index, qualification id)]).
    - `absences` {member, kind (leave|exemption), start, end, reason}: leaves and exemptions that
      may have started in the past (a leave has an end; none overlaps another of its kind).
    - `extensions` {member, granted_on, start, end, reason}: extensions already granted.
    - `openings` {member, standard, ftop, episode_start, unsubscribed}: the counters as they stand
      the day before the import, as `opening` rows (`_opening_rows`; a standard member's credit pays
      their debt at once, as a transfer row), and an `unsubscribed` row for a member the previous
      system had unsubscribed. These rows include every cycle charge up to the import date, so the
      job charges these members nothing before the next cycle start.

    Regular registrations are made on the shifts already generated from today. Statuses are left
    to the caller (`statuses_recompute_all` for these members). Errors: one ValidationError keyed
    "<list>.<row index>:<field>"."""
    errors: dict[str, list[str]] = {}
    author = by if by and by.pk else None
    # The members as they stand now (their membership and work start date were just settled).
    fresh = Member.objects.in_bulk({row["member"].pk for rows in (slots, absences, extensions, openings) for row in rows})
    slots, absences, extensions, openings = (
        [{**row, "member": fresh[row["member"].pk]} for row in rows] for rows in (slots, absences, extensions, openings)
    )
    template_ids = {row["template"].pk for row in slots}
    templates = {t.pk: t for t in ShiftTemplate.objects.select_for_update().filter(pk__in=template_ids).order_by("pk")}
    member_ids = {row["member"].pk for row in slots}
    holders: dict[int, int] = dict(
        SlotAssignment.objects.filter(template_id__in=template_ids).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .values("template_id").annotate(n=Count("id")).values_list("template_id", "n")
    )
    open_slot = set(SlotAssignment.objects.filter(member_id__in=member_ids, end_date__isnull=True).values_list("member_id", flat=True))
    for index, row in enumerate(slots):
        member, template = row["member"], templates[row["template"].pk]
        if member.shift_type != Member.ShiftType.STANDARD:
            _import_errors(errors, index, "slots:slot_template", _("Only standard members hold a regular slot."))
        if member.left_on is not None:
            _import_errors(errors, index, "slots:slot_template", _("This member has left the coop."))
        if member.pk in open_slot:
            _import_errors(errors, index, "slots:slot_template", _("This member already holds a regular slot."))
        if template.welcome:
            _import_errors(errors, index, "slots:slot_template", _("A welcome session is not a regular slot."))
        open_slot.add(member.pk)
        holders[template.pk] = holders.get(template.pk, 0) + 1
        if holders[template.pk] > template.capacity:
            _import_errors(errors, index, "slots:slot_template", _("Every place of this regular slot is taken (capacity %(n)d).") % {"n": template.capacity})
    periods: dict[tuple[int, str], list[st.Period]] = {}
    absent_ids = {row["member"].pk for row in absences}
    for model, kind in ((Leave, "leave"), (Exemption, "exemption")):
        for member_id, start, end in model.objects.filter(member_id__in=absent_ids).values_list("member_id", "start", "end"):
            periods.setdefault((member_id, kind), []).append(st.Period(start, end))
    for index, row in enumerate(absences):
        if row["kind"] not in ("leave", "exemption"):
            _import_errors(errors, index, "absences:kind", _("Choose leave or exemption."))
            continue
        if row["kind"] == "leave" and row["end"] is None:
            _import_errors(errors, index, "absences:end", _("A leave has an end."))
            continue
        if row["end"] is not None and row["end"] < row["start"]:
            _import_errors(errors, index, "absences:end", _("It ends before it starts."))
            continue
        period = st.Period(row["start"], row["end"])
        known = periods.setdefault((row["member"].pk, row["kind"]), [])
        if any(_overlaps(period, other) for other in known):
            _import_errors(errors, index, "absences:start", _("This member already has a leave or an exemption of this kind in these dates."))
        known.append(period)
    for index, row in enumerate(extensions):
        if row["end"] < row["start"]:
            _import_errors(errors, index, "extensions:end", _("It ends before it starts."))
        if row["granted_on"] > today:
            _import_errors(errors, index, "extensions:granted_on", _("An extension cannot be granted in the future."))
    for index, row in enumerate(openings):
        if row["standard"] > 0:
            _import_errors(errors, index, "openings:counter_standard", _("The standard counter is never above 0."))
    if errors:
        raise ValidationError(errors)

    seats, unqualified = _import_slot_seats(slots, templates, today=today)
    new_slots = [
        SlotAssignment(member=row["member"], template=templates[row["template"].pk], start_date=row["start_date"], seat_id=seat)
        for row, seat in zip(slots, seats, strict=True)
    ]
    SlotAssignment.objects.bulk_create(new_slots, batch_size=1000)
    Leave.objects.bulk_create([
        Leave(member=row["member"], start=row["start"], end=row["end"], reason=row.get("reason", ""), created_by=author)
        for row in absences if row["kind"] == "leave"
    ], batch_size=1000)
    Exemption.objects.bulk_create([
        Exemption(member=row["member"], start=row["start"], end=row["end"], reason=row.get("reason", ""), created_by=author)
        for row in absences if row["kind"] == "exemption"
    ], batch_size=1000)
    Extension.objects.bulk_create([
        Extension(member=row["member"], granted_on=row["granted_on"], start=row["start"], end=row["end"],
                  reason=row.get("reason") or _("Imported"), author=author)
        for row in extensions
    ], batch_size=1000)

    opening_date = today - datetime.timedelta(days=1)
    reason = _("Imported")
    r = rules()
    mains, transfers, marks = [], [], []
    for row in openings:
        member = row["member"]
        ledger = _opening_rows(row, opening_date=opening_date, reason=reason)
        kind = member.shift_type
        for resolution in st.resolve_ledger(ledger, shift_type_on=lambda day, kind=kind: kind, rules=r):
            main = CounterEvent(member=member, date=resolution.row.date, kind=st.OPENING, standard_points=resolution.standard,
                                ftop_points=resolution.ftop, reason=reason, author=author)
            mains.append(main)
            if resolution.transfer:
                transfers.append((main, resolution.transfer))
        if row.get("unsubscribed"):
            marks.append(CounterEvent(member=member, date=opening_date, kind=st.UNSUBSCRIBED_MARK, reason=_("Unsubscribed before the import"),
                                      author=author))
    CounterEvent.objects.bulk_create(mains, batch_size=2000)
    CounterEvent.objects.bulk_create([
        CounterEvent(member_id=main.member_id, date=main.date, kind=st.TRANSFER, standard_points=moved, ftop_points=-moved, cause=main)
        for main, moved in transfers
    ], batch_size=2000)
    CounterEvent.objects.bulk_create(marks, batch_size=2000)

    registrations = 0
    if new_slots:
        full = _import_full_dates(new_slots, today=today)
        if full:
            raise ValidationError({
                f"{index}:slots:slot_template": [
                    _("The shift of this slot is already full on %(dates)s: start the slot after that, or free a seat first.")
                    % {"dates": ", ".join(d.isoformat() for d in dates)}
                ]
                for index, dates in full.items()
            })
        registrations = _regular_registrations_for(start=today, end=datetime.date.max, template_ids=list(templates),
                                                   member_ids={slot.member_id for slot in new_slots})
    return {"slots": len(new_slots), "absences": len(absences), "extensions": len(extensions), "openings": len(mains),
            "registrations": registrations, "unqualified": unqualified}


def _import_slot_seats(slots: list[dict], templates: dict[int, ShiftTemplate], *, today: datetime.date) -> tuple[list, list[int]]:
    """The seat each new slot takes (`slot_assign`'s rule, row after row), and (index, seat) of the
    holders seated where only seats for trained members were left. Four queries whatever the
    number of slots, none when no template has qualified seats."""
    requirements: dict[int, list[seat_rules.Requirement]] = {}
    for template_id, qualification_id, seats in TemplateRequirement.objects.filter(template_id__in=list(templates)).order_by(
        "template_id", "position", "id",
    ).values_list("template_id", "qualification_id", "seats"):
        requirements.setdefault(template_id, []).append(seat_rules.Requirement(qualification_id, seats))
    if not requirements or not slots:
        return [seat_rules.OPEN] * len(slots), []
    taken: dict[int, dict] = {}
    for template_id, seat_id, n in (
        SlotAssignment.objects.filter(template_id__in=list(requirements)).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .values("template_id", "seat_id").annotate(n=Count("id")).order_by().values_list("template_id", "seat_id", "n")
    ):
        taken.setdefault(template_id, {})[seat_id] = n
    holdings = quals.holdings_of({row["member"].pk for row in slots if row["template"].pk in requirements})
    holders = quals.holders_count(today)
    seats, unqualified = [], []
    for index, row in enumerate(slots):
        template = templates[row["template"].pk]
        if template.pk not in requirements:
            seats.append(seat_rules.OPEN)
            continue
        counts = taken.setdefault(template.pk, {})
        state = seat_rules.Seats(template.capacity, tuple(requirements[template.pk]), counts)
        held = quals.ids_held_from(holdings.get(row["member"].pk, {}), max(row["start_date"], today))
        choice = seat_rules.choose(state, held=held, holders=holders)
        if not choice.ok:
            choice = seat_rules.choose(state, held=held, holders=holders, override=True)
            if choice.ok:
                unqualified.append((index, choice.seat))
        seat = choice.seat if choice.ok else seat_rules.OPEN
        counts[seat] = counts.get(seat, 0) + 1
        seats.append(seat)
    return seats, unqualified


def _import_full_dates(new_slots: list[SlotAssignment], *, today: datetime.date) -> dict[int, list[datetime.date]]:
    """Generated shifts from today on which a new slot holder would find no seat (the shift is
    full, or only seats they do not qualify for are left; DOMAIN.md §4 and §9: a slot never skips a
    date silently): {slot index: dates}. A constant number of queries."""
    by_template: dict[int, list[tuple[int, SlotAssignment]]] = {}
    for index, slot in enumerate(new_slots):
        by_template.setdefault(slot.template_id, []).append((index, slot))
    shifts = list(Shift.objects.filter(template_id__in=list(by_template), date__gte=today, cancelled=False).order_by("date", "pk"))
    if not shifts:
        return {}
    absent = _absent_periods({slot.member_id for slot in new_slots})
    placer = _RegularSeats(shifts, {slot.member_id for slot in new_slots}, start=today, end=datetime.date.max)
    full: dict[int, list[datetime.date]] = {}
    for shift in shifts:
        for index, slot in by_template.get(shift.template_id, ()):
            if _regular_expected(slot, shift.date, absent) and placer.place(shift, slot) is seat_rules.AUTO:
                full.setdefault(index, []).append(shift.date)
    return full


def standings_export(*, today: datetime.date) -> dict[int, dict]:
    """What the interchange files say of each member's standing (CONTRACT.md §7), as of `today`:
    the open regular slot (template, start date), the start of the current alert episode when the
    counter that applies is below 0, and whether they were unsubscribed automatically (and not
    re-enrolled). Bulk reads, one replay per member."""
    r = rules()
    facts = _bulk_facts()
    slots = {
        member_id: (template_id, start)
        for member_id, template_id, start in SlotAssignment.objects.filter(end_date__isnull=True).values_list("member_id", "template_id", "start_date")
    }
    standings = {}
    for member_id, shift_type in Member.objects.values_list("pk", "shift_type").iterator(chunk_size=5000):
        events = facts.events(member_id)
        state = st.replay(events, shift_type=shift_type, day=today, rules=r) if events else st.ReplayState()
        applies = state.standard if shift_type == Member.ShiftType.STANDARD else state.ftop
        slot = slots.get(member_id)
        standings[member_id] = {
            "slot_template": slot[0] if slot else None, "slot_start_date": slot[1] if slot else None,
            "alert_started_on": state.episode_start if applies < 0 else None, "unsubscribed": state.unsubscribed,
        }
    return standings
