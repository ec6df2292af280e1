"""The shift services with the database (DOMAIN.md §2-§5): booking, cancellation, exchange,
attendance, unsubscription, re-enrolment, leaves, exemptions, extensions, blocking, corrections,
the status history, leaving the coop, slots, templates, cycle charges and the immutable ledger.

Calendar (COOP_CYCLE_START 2026-01-05): 2026-03-02 is a Monday of week A, a cycle start. The
template "A Wednesday 09:00-12:00" has shifts on 03-04, 04-01, 04-29, 05-27, 06-24.
Every `now`/`today` is explicit; nothing reads the real clock.
"""
from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from coopmarket.errors import RuleViolation
from members import services as member_services
from members.models import Member
from members.tests.factories import MemberFactory, UserFactory, active_member, supporting_member
from shifts import services
from shifts import status as st
from shifts.models import (
    CounterEvent,
    Exemption,
    Leave,
    Registration,
    Shift,
    ShiftTemplate,
    SlotAssignment,
    StatusChange,
)

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
D = datetime.date
T = D(2026, 3, 2)  # "today" in most tests: Monday, week A, cycle start
W1, W2, W3, W4 = D(2026, 3, 4), D(2026, 4, 1), D(2026, 4, 29), D(2026, 5, 27)  # the A-Wednesday shifts
LAST_GENERATED = D(2026, 6, 30)
STANDARD, FTOP = Member.ShiftType.STANDARD, Member.ShiftType.FTOP


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=PARIS)


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def template(name="A Wednesday", *, week="A", weekday=2, start=9, end=12, capacity=3) -> ShiftTemplate:
    return services.template_create(
        name=name, week=week, weekday=weekday, start_time=datetime.time(start), end_time=datetime.time(end), capacity=capacity
    )


def generate(first=T, last=LAST_GENERATED):
    return services.shifts_generate(start=first, end=last)


def shift_of(tpl: ShiftTemplate, day: datetime.date) -> Shift:
    return Shift.objects.get(template=tpl, date=day)


def member(shift_type=STANDARD, today=T) -> Member:
    return active_member(today=today, shift_type=shift_type)


def holder(tpl: ShiftTemplate, today=T) -> Member:
    """A standard member holding a slot on `tpl` from `today`."""
    m = member(today=today)
    services.slot_assign(template=tpl, member=m, start_date=today, today=today)
    return fresh(m)


def fresh(m: Member) -> Member:
    return Member.objects.get(pk=m.pk)


def live(m: Member, shift: Shift) -> Registration | None:
    return Registration.objects.filter(member=m, shift=shift, cancelled_at__isnull=True).first()


def ledger(m: Member) -> list[tuple]:
    return [(e.date, e.kind, e.standard_points, e.ftop_points) for e in CounterEvent.objects.filter(member=m).order_by("id")]


def totals(m: Member) -> tuple[int, int]:
    return services.counters(m)


def correct(m: Member, points: int, today=T, counter=st.STANDARD):
    return services.correction_write(member=m, counter=counter, points=points, reason="test", today=today)


def record(m: Member, shift: Shift, state: str, *, now=None, today=None, by=None):
    now = now or shift.end
    return services.attendance_record(shift=shift, member=m, state=state, now=now, today=today or shift.date, by=by)


class rule:  # used like pytest.raises
    """`with rule("shift_full"):` asserts that a RuleViolation with that code is raised."""

    def __init__(self, code: str):
        self.code = code

    def __enter__(self):
        self._ctx = pytest.raises(RuleViolation)
        self.info = self._ctx.__enter__()
        return self.info

    def __exit__(self, *exc):
        handled = self._ctx.__exit__(*exc)
        assert self.info.value.code == self.code, f"expected {self.code}, got {self.info.value.code}"
        return handled


@pytest.fixture
def wed(db) -> ShiftTemplate:
    tpl = template()
    generate()
    return tpl


@pytest.fixture
def coordinator(db):
    return UserFactory()


# --- regular slots and generation (§2) --------------------------------------------------------------

def test_slot_holder_is_registered_on_every_generated_shift_of_the_template(wed):
    m = holder(wed)
    regs = Registration.objects.filter(member=m, cancelled_at__isnull=True).order_by("shift__date")
    assert [(r.shift.date, r.kind) for r in regs] == [(d, "regular") for d in (W1, W2, W3, W4, D(2026, 6, 24))]


def test_regular_registrations_start_at_the_later_of_slot_start_and_work_start(wed):
    m = member()
    member_services.member_update(member=m, today=T, work_start_date=D(2026, 3, 20))
    services.slot_assign(template=wed, member=m, start_date=T, today=T)
    dates = list(Registration.objects.filter(member=m).order_by("shift__date").values_list("shift__date", flat=True))
    assert dates == [W2, W3, W4, D(2026, 6, 24)]


def test_shifts_generated_later_register_slot_holders_except_on_leave_days():
    tpl = template()
    generate(T, D(2026, 3, 31))
    m = holder(tpl)
    services.leave_create(member=m, start=D(2026, 4, 20), end=D(2026, 5, 20), reason="trip", today=T, now=at(T, 10))
    generate(D(2026, 4, 1), LAST_GENERATED)
    dates = list(Registration.objects.filter(member=m, cancelled_at__isnull=True).values_list("shift__date", flat=True))
    assert sorted(dates) == [W1, W2, W4, D(2026, 6, 24)]  # not 04-29 (on leave)


def test_generation_is_idempotent_and_one_shift_per_template_and_date(wed):
    holder(wed)
    before = (Shift.objects.count(), Registration.objects.count())
    assert generate() == {"shifts": 0, "registrations": 0}
    assert (Shift.objects.count(), Registration.objects.count()) == before
    first = shift_of(wed, W1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Shift.objects.create(template=wed, name="dup", date=W1, start=first.start, end=first.end, capacity=3, week="A")


def test_a_template_never_has_more_slot_holders_than_its_capacity(db):
    tpl = template(capacity=1)
    holder(tpl)
    with rule("slot_full"):
        services.slot_assign(template=tpl, member=member(), start_date=T, today=T)
    assert SlotAssignment.objects.filter(template=tpl).count() == 1


def test_an_ftop_member_holds_no_slot(db):
    with rule("not_allowed"):
        services.slot_assign(template=template(), member=member(FTOP), start_date=T, today=T)


def test_template_capacity_cannot_drop_below_its_slot_holders(wed):
    holder(wed)
    holder(wed)
    with rule("slot_full"):
        services.template_update(template=wed, now=at(T, 10), capacity=1)
    assert ShiftTemplate.objects.get(pk=wed.pk).capacity == 3


def test_template_change_updates_future_shifts_only_and_never_duplicates(wed):
    services.template_update(template=wed, now=at(D(2026, 3, 10), 10), start_time=datetime.time(14), end_time=datetime.time(17),
                             capacity=4)
    past, future = shift_of(wed, W1), shift_of(wed, W2)
    assert (past.start, past.capacity) == (at(W1, 9), 3)
    assert (future.start, future.end, future.capacity) == (at(W2, 14), at(W2, 17), 4)
    generate()
    assert Shift.objects.filter(template=wed).count() == 5
    assert Shift.objects.filter(template=wed, date=W2).count() == 1


def test_a_template_with_shifts_cannot_move_to_another_day(wed):
    with pytest.raises(ValidationError):
        services.template_update(template=wed, now=at(T, 10), weekday=3)
    generate()
    assert sorted(Shift.objects.filter(template=wed).values_list("date", flat=True)) == [W1, W2, W3, W4, D(2026, 6, 24)]


# --- booking (§4) ---------------------------------------------------------------------------------

def test_booking_creates_a_one_off_registration(wed):
    m = member()
    reg = services.shift_book(shift=shift_of(wed, W1), member=m, now=at(T, 10))
    assert (reg.kind, reg.member_id, reg.cancelled_at) == ("one_off", m.pk, None)


def test_booking_is_refused_when_full_counting_slot_holders(db):
    tpl = template(capacity=2)
    generate()
    holder(tpl)
    shift = shift_of(tpl, W1)
    services.shift_book(shift=shift, member=member(), now=at(T, 10))
    with rule("shift_full"):
        services.shift_book(shift=shift, member=member(), now=at(T, 10))
    assert shift.registrations.filter(cancelled_at__isnull=True).count() == 2


def test_a_cancelled_booking_frees_its_seat(db):
    tpl = template(capacity=1)
    generate()
    first = member()
    shift = shift_of(tpl, W1)
    services.shift_book(shift=shift, member=first, now=at(T, 8))
    services.registration_cancel(shift=shift, member=first, now=at(T, 8), today=T)
    assert services.shift_book(shift=shift, member=member(), now=at(T, 9)).kind == "one_off"


def test_a_member_is_registered_at_most_once_per_shift(wed):
    m = member()
    shift = shift_of(wed, W1)
    services.shift_book(shift=shift, member=m, now=at(T, 10))
    with rule("already_booked"):
        services.shift_book(shift=shift, member=m, now=at(T, 10))
    slot_holder = holder(wed)
    with rule("already_booked"):
        services.shift_book(shift=shift, member=slot_holder, now=at(T, 10))


@pytest.fixture
def ftop_week(db):
    """Three shifts on Wednesday 03-04 and one on each other weekday of week A and B."""
    tpls = [template(f"Wed {h}", weekday=2, start=h, end=h + 2) for h in (8, 12, 16)]
    tpls += [template(f"A{d}", weekday=d) for d in (0, 1, 3, 4)]
    tpls += [template(f"B{d}", week="B", weekday=d) for d in (0, 1)]
    generate()
    return tpls


def test_ftop_member_books_at_most_two_shifts_a_day(ftop_week):
    m = member(FTOP)
    services.shift_book(shift=shift_of(ftop_week[0], W1), member=m, now=at(T, 10))
    services.shift_book(shift=shift_of(ftop_week[1], W1), member=m, now=at(T, 10))
    with rule("booking_limit"):
        services.shift_book(shift=shift_of(ftop_week[2], W1), member=m, now=at(T, 10))


def test_standard_member_is_not_bound_by_the_ftop_daily_limit(ftop_week):
    m = member()
    for tpl in ftop_week[:3]:
        services.shift_book(shift=shift_of(tpl, W1), member=m, now=at(T, 7))
    assert Registration.objects.filter(member=m, shift__date=W1).count() == 3


def test_ftop_member_books_at_most_five_shifts_per_cycle(ftop_week):
    m = member(FTOP)
    in_cycle = [
        shift_of(ftop_week[3], D(2026, 3, 2)), shift_of(ftop_week[4], D(2026, 3, 3)), shift_of(ftop_week[5], D(2026, 3, 5)),
        shift_of(ftop_week[6], D(2026, 3, 6)), shift_of(ftop_week[7], D(2026, 3, 9)),
    ]
    for shift in in_cycle:
        services.shift_book(shift=shift, member=m, now=at(D(2026, 3, 1), 10))
    with rule("booking_limit"):
        services.shift_book(shift=shift_of(ftop_week[8], D(2026, 3, 10)), member=m, now=at(D(2026, 3, 1), 10))
    # The next cycle (from 03-30) has its own five.
    assert services.shift_book(shift=shift_of(ftop_week[3], D(2026, 3, 30)), member=m, now=at(D(2026, 3, 1), 10))
    # A cancelled booking no longer counts.
    services.registration_cancel(shift=in_cycle[-1], member=m, now=at(D(2026, 3, 1), 10), today=D(2026, 3, 1))
    assert services.shift_book(shift=shift_of(ftop_week[8], D(2026, 3, 10)), member=m, now=at(D(2026, 3, 1), 10))


def _on_leave(m):
    services.leave_create(member=m, start=T, end=T + days(40), reason="trip", today=T, now=at(T, 8))


def _blocked(m):
    Member.objects.filter(pk=m.pk).update(blocked_reason="rude to cashiers")
    services.status_refresh(member=m, today=T, cause="test")


def _left(m):
    member_services.member_leave(member=m, reason="moved away", today=T)


@pytest.mark.parametrize(
    ("make", "status"),
    [(_on_leave, "on_leave"), (_blocked, "blocked"), (_left, "not_concerned")],
    ids=["on_leave", "blocked", "left"],
)
def test_members_on_leave_blocked_or_left_cannot_book(wed, make, status):
    m = member()
    make(m)
    m = fresh(m)
    assert m.status == status
    with rule("not_allowed"):
        services.shift_book(shift=shift_of(wed, W3), member=m, now=at(T, 10))


@pytest.mark.parametrize("make", [lambda: MemberFactory(joined_on=T), lambda: supporting_member(today=T)], ids=["no-shares", "supporting"])
def test_members_without_a_working_status_cannot_book(wed, make):
    m = make()
    assert fresh(m).status == "not_concerned"
    with rule("not_allowed"):
        services.shift_book(shift=shift_of(wed, W1), member=m, now=at(T, 10))


def test_suspended_member_may_book_a_make_up(wed):
    m = member()
    correct(m, -2)
    services.status_refresh(member=m, today=T + days(28), cause="test")
    assert fresh(m).status == "suspended"
    assert services.shift_book(shift=shift_of(wed, W2), member=m, now=at(T + days(28), 10)).kind == "one_off"


def test_unsubscribed_member_may_book_a_make_up(wed):
    m = member()  # standard, no slot: unsubscribed 29 days after the work start
    services.status_refresh(member=m, today=T + days(29), cause="test")
    assert fresh(m).status == "unsubscribed"
    assert services.shift_book(shift=shift_of(wed, W2), member=m, now=at(T + days(29), 10)).kind == "one_off"


@pytest.mark.parametrize(
    ("now", "allowed"),
    [(at(W1, 8, 59), True), (at(W1, 9), False), (at(W1, 10), False), (at(W2, 8), False)],
    ids=["one-minute-before", "at-start", "running", "days-after"],
)
def test_members_book_only_shifts_that_have_not_started(wed, now, allowed):
    m = member()
    if allowed:
        assert services.shift_book(shift=shift_of(wed, W1), member=m, now=now)
    else:
        with rule("too_late"):
            services.shift_book(shift=shift_of(wed, W1), member=m, now=now)


def test_coordinator_records_a_make_up_on_a_past_full_shift(db, coordinator):
    tpl = template(capacity=1)
    generate()
    holder(tpl)
    shift = shift_of(tpl, W1)
    m = member()
    correct(m, -2)
    after = at(W1, 13)
    reg = services.shift_book(shift=shift, member=m, now=after, by=coordinator, as_coordinator=True)
    assert shift.registrations.filter(cancelled_at__isnull=True).count() == 2
    services.attendance_record(shift=shift, member=m, state="attended", now=after, today=W1, by=coordinator)
    assert totals(m) == (-1, 0)
    assert CounterEvent.objects.get(registration=reg).kind == st.ATTENDED_OTHER


def test_coordinator_is_bound_by_capacity_on_a_future_shift(db, coordinator):
    tpl = template(capacity=1)
    generate()
    holder(tpl)
    with rule("shift_full"):
        services.shift_book(shift=shift_of(tpl, W1), member=member(), now=at(T, 10), by=coordinator, as_coordinator=True)


# --- cancellation (§4) ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("now", "allowed"),
    [(at(D(2026, 3, 3), 8, 59), True), (at(D(2026, 3, 3), 9), True), (at(D(2026, 3, 3), 9, 1), False),
     (at(W1, 8), False)],
    ids=["24h01", "exactly-24h", "23h59", "1h"],
)
def test_one_off_booking_is_cancelled_free_at_least_24_hours_ahead(wed, now, allowed):
    m = member(FTOP)
    shift = shift_of(wed, W1)
    services.shift_book(shift=shift, member=m, now=at(T, 8))
    if allowed:
        reg = services.registration_cancel(shift=shift, member=m, now=now, today=now.date())
        assert (reg.cancelled_at, reg.attendance) == (now, None)
        assert ledger(m) == []
        assert live(m, shift) is None
    else:
        with rule("too_late"):
            services.registration_cancel(shift=shift, member=m, now=now, today=now.date())
        assert live(m, shift) is not None


@pytest.mark.parametrize(
    ("now", "allowed"),
    [(at(D(2026, 3, 3), 9), True), (at(D(2026, 3, 3), 9, 1), False)],
    ids=["exactly-24h", "23h59"],
)
def test_own_regular_shift_cancelled_24_hours_ahead_is_excused_minus_one_on_the_shift_date(wed, now, allowed):
    m = holder(wed)
    shift = shift_of(wed, W1)
    if not allowed:
        with rule("too_late"):
            services.registration_cancel(shift=shift, member=m, now=now, today=now.date())
        assert live(m, shift) is not None and ledger(m) == []
        return
    reg = services.registration_cancel(shift=shift, member=m, now=now, today=now.date())
    assert (reg.attendance, live(m, shift)) == ("excused", None)
    assert ledger(m) == [(W1, st.EXCUSED_REGULAR, -1, 0)]  # dated on the shift, not the day of cancelling
    # The status as of a date counts only events dated that day or earlier.
    assert fresh(m).counter_standard == 0
    on_shift_day = services.member_status(fresh(m), W1)
    assert (on_shift_day.status, on_shift_day.standard, on_shift_day.alert_deadline) == ("alert", -1, W2)


# --- exchange (§4) ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("now", "allowed"), [(at(D(2026, 3, 3), 9), True), (at(D(2026, 3, 3), 9, 1), False)])
def test_a_shift_can_be_offered_until_24_hours_before(wed, now, allowed):
    m = holder(wed)
    shift = shift_of(wed, W1)
    if allowed:
        assert services.shift_offer(shift=shift, member=m, now=now).offered_at == now
    else:
        with rule("too_late"):
            services.shift_offer(shift=shift, member=m, now=now)
        assert live(m, shift).offered_at is None


def test_taking_an_offer_moves_the_registration_as_one_off_and_the_giver_owes_nothing(db):
    tpl = template(capacity=1)
    generate()
    giver, taker = holder(tpl), member()
    shift = shift_of(tpl, W1)
    services.shift_offer(shift=shift, member=giver, now=at(T, 10))
    taken = services.shift_take(shift=shift, member=taker, now=at(T, 11))  # the shift is full: the seat moves
    assert (taken.kind, taken.member_id) == ("one_off", taker.pk)
    assert live(giver, shift) is None
    assert Registration.objects.get(member=giver, shift=shift).cancel_reason == "exchanged"
    assert shift.registrations.filter(cancelled_at__isnull=True).count() == 1
    services.attendance_record(shift=shift, member=taker, state="attended", now=at(W1, 9), today=W1)
    services.shifts_close(today=W1 + days(1))
    assert ledger(giver) == []
    assert ledger(taker) == [(W1, st.ATTENDED_OTHER, 0, 1)]  # banked: the taker owed nothing
    # The giver is not re-registered on that shift by a later generation.
    generate()
    assert live(giver, shift) is None


def test_the_taker_of_an_exchange_must_be_allowed_to_book(wed):
    giver = holder(wed)
    shift = shift_of(wed, W1)
    services.shift_offer(shift=shift, member=giver, now=at(T, 10))
    with rule("not_allowed"):
        services.shift_take(shift=shift, member=supporting_member(today=T), now=at(T, 11))
    with rule("already_booked"):
        services.shift_take(shift=shift, member=holder(wed), now=at(T, 11))
    assert live(giver, shift) is not None


def test_nothing_to_take_without_an_offer(wed):
    holder(wed)
    with rule("not_allowed"):
        services.shift_take(shift=shift_of(wed, W1), member=member(), now=at(T, 10))


def test_an_offer_nobody_took_lapses_24_hours_before_and_the_giver_stays_registered(wed):
    giver = holder(wed)
    shift = shift_of(wed, W1)
    services.shift_offer(shift=shift, member=giver, now=at(T, 10))
    with rule("too_late"):
        services.shift_take(shift=shift, member=member(), now=at(D(2026, 3, 3), 9, 1))
    assert live(giver, shift) is not None
    services.shifts_close(today=W1 + days(1))
    assert ledger(giver) == [(W1, st.MISSED_REGULAR, -2, 0)]


# --- attendance (§4) ---------------------------------------------------------------------------------

def test_attended_is_recorded_from_the_start_only(wed):
    m = holder(wed)
    shift = shift_of(wed, W1)
    with rule("not_started"):
        record(m, shift, "attended", now=at(W1, 8, 59))
    assert record(m, shift, "attended", now=at(W1, 9)).attendance == "attended"


def test_missed_is_recorded_after_the_end_only(wed):
    m = holder(wed)
    shift = shift_of(wed, W1)
    with rule("not_ended"):
        record(m, shift, "missed", now=at(W1, 11, 59))
    assert ledger(m) == []
    assert record(m, shift, "missed", now=at(W1, 12)).attendance == "missed"


def test_coordinators_excuse_at_any_time(wed, coordinator):
    m = holder(wed)
    reg = record(m, shift_of(wed, W3), "excused", now=at(T, 10), today=T, by=coordinator)
    assert (reg.attendance, reg.attendance_by) == ("excused", coordinator)
    assert ledger(m) == [(W3, st.EXCUSED_REGULAR, -1, 0)]


@pytest.mark.parametrize(
    ("shift_type", "regular", "debt", "state", "expected_kind", "expected"),
    [
        pytest.param(STANDARD, True, 0, "attended", st.ATTENDED_REGULAR, (0, 0), id="std-regular-attended"),
        pytest.param(STANDARD, True, 0, "missed", st.MISSED_REGULAR, (-2, 0), id="std-regular-missed"),
        pytest.param(STANDARD, True, 0, "excused", st.EXCUSED_REGULAR, (-1, 0), id="std-regular-excused"),
        pytest.param(STANDARD, False, 0, "attended", st.ATTENDED_OTHER, (0, 1), id="std-extra-banked"),
        pytest.param(STANDARD, False, -2, "attended", st.ATTENDED_OTHER, (-1, 0), id="std-make-up"),
        pytest.param(STANDARD, False, 0, "missed", st.MISSED_OTHER, (-1, 0), id="std-one-off-missed"),
        pytest.param(STANDARD, False, -2, "excused", st.EXCUSED_OTHER, (-2, 0), id="std-one-off-excused"),
        pytest.param(FTOP, False, 0, "attended", st.FTOP_ATTENDED, (0, 1), id="ftop-attended"),
        pytest.param(FTOP, False, 0, "missed", st.FTOP_MISSED, (0, -1), id="ftop-missed"),
        pytest.param(FTOP, False, 0, "excused", st.FTOP_EXCUSED, (0, 0), id="ftop-excused"),
    ],
)
def test_attendance_counter_effects(wed, shift_type, regular, debt, state, expected_kind, expected):
    shift = shift_of(wed, W1)
    if regular:
        m = holder(wed)
    else:
        m = member(shift_type)
        services.shift_book(shift=shift, member=m, now=at(T, 8))
    if debt:
        correct(m, debt)
    record(m, shift, state, now=at(W1, 12))
    assert totals(m) == expected
    m = fresh(m)
    assert (m.counter_standard, m.counter_ftop) == expected
    assert CounterEvent.objects.get(member=m, date=W1).kind == expected_kind


def test_changing_a_recorded_attendance_reverses_the_earlier_rows(wed, coordinator):
    m = holder(wed)
    shift = shift_of(wed, W1)
    record(m, shift, "missed")
    assert fresh(m).status == "alert"
    record(m, shift, "attended", by=coordinator)
    missed, reversal, attended = CounterEvent.objects.filter(member=m).order_by("id")
    assert (missed.kind, missed.standard_points) == (st.MISSED_REGULAR, -2)
    assert (reversal.kind, reversal.standard_points, reversal.reverses_id, reversal.date) == (st.REVERSAL, 2, missed.pk, W1)
    assert attended.kind == st.ATTENDED_REGULAR
    m = fresh(m)
    assert (m.status, m.counter_standard, m.alert_deadline) == ("up_to_date", 0, None)
    # Changed again: only the live row is reversed, never a row twice.
    record(m, shift, "excused", by=coordinator)
    assert totals(m) == (-1, 0)
    assert CounterEvent.objects.filter(member=m, kind=st.REVERSAL).count() == 2
    assert CounterEvent.objects.get(member=m, reverses=attended).standard_points == 0


def test_changing_a_miss_paid_by_credit_reverses_its_transfer_too(wed):
    m = holder(wed)
    correct(m, 2, counter=st.FTOP)
    shift = shift_of(wed, W1)
    record(m, shift, "missed")
    assert totals(m) == (0, 0)
    assert [r[1:] for r in ledger(m)][-2:] == [(st.MISSED_REGULAR, -2, 0), (st.TRANSFER, 2, -2)]
    record(m, shift, "attended")
    assert totals(m) == (0, 2)


def test_recording_the_same_attendance_twice_writes_nothing_more(wed):
    m = holder(wed)
    shift = shift_of(wed, W1)
    record(m, shift, "missed")
    record(m, shift, "missed")
    assert ledger(m) == [(W1, st.MISSED_REGULAR, -2, 0)]


def test_close_shifts_marks_unrecorded_registrations_missed_once(wed):
    present, absent = holder(wed), holder(wed)
    shift = shift_of(wed, W1)
    record(present, shift, "attended", now=at(W1, 10))
    assert services.shifts_close(today=W1)["missed"] == 0  # not ended before the start of W1
    assert services.shifts_close(today=W1 + days(1))["missed"] == 1
    assert services.shifts_close(today=W1 + days(1))["missed"] == 0
    assert ledger(absent) == [(W1, st.MISSED_REGULAR, -2, 0)]
    assert ledger(present) == [(W1, st.ATTENDED_REGULAR, 0, 0)]


# --- automatic unsubscription and re-enrolment (§4) --------------------------------------------------

def test_two_consecutive_regular_misses_with_a_debt_cost_the_slot(wed):
    m = holder(wed)
    services.shift_book(shift=shift_of(wed, W3), member=member(), now=at(T, 8))  # someone else
    record(m, shift_of(wed, W1), "missed")
    assert fresh(m).status == "alert"
    record(m, shift_of(wed, W2), "missed")
    m = fresh(m)
    assert (m.status, m.counter_standard) == ("unsubscribed", -4)
    slot = SlotAssignment.objects.get(member=m)
    assert (slot.end_date, slot.end_reason) == (W2, "unsubscribed")
    assert live(m, shift_of(wed, W3)) is None and live(m, shift_of(wed, W4)) is None
    assert Registration.objects.get(member=m, shift=shift_of(wed, W3)).cancel_reason == "unsubscribed"
    # No points for the cancelled registrations; the unsubscription is written down so that no
    # later re-resolution undoes it.
    assert ledger(m) == [(W1, st.MISSED_REGULAR, -2, 0), (W2, st.MISSED_REGULAR, -2, 0), (W2, st.UNSUBSCRIBED_MARK, 0, 0)]
    change = StatusChange.objects.filter(member=m).order_by("id").last()
    assert (change.from_status, change.to_status, change.effective_date) == ("alert", "unsubscribed", W2)


def test_a_make_up_between_two_misses_keeps_the_slot(db):
    wed = template()
    sat = template("Saturday", weekday=5)
    generate()
    m = holder(wed)
    record(m, shift_of(wed, W1), "missed")
    services.shift_book(shift=shift_of(sat, D(2026, 3, 7)), member=m, now=at(T, 8))
    record(m, shift_of(sat, D(2026, 3, 7)), "attended")
    record(m, shift_of(wed, W2), "missed")
    m = fresh(m)
    assert (m.status, m.counter_standard) == ("suspended", -3)  # deadline 04-01 from the first episode
    assert SlotAssignment.objects.get(member=m).end_date is None
    assert live(m, shift_of(wed, W3)) is not None


@pytest.mark.parametrize(("points", "status"), [(-7, "alert"), (-8, "unsubscribed")])
def test_ftop_member_is_unsubscribed_at_minus_8(db, points, status):
    m = member(FTOP)
    correct(m, points, counter=st.FTOP)
    assert fresh(m).status == status


def test_reenrolment_keeps_the_counters_starts_a_new_episode_and_gives_a_slot(db):
    wed = template()
    sat = template("Saturday", weekday=5)
    generate()
    m = holder(wed)
    record(m, shift_of(wed, W1), "missed")
    record(m, shift_of(wed, W2), "missed")
    assert fresh(m).status == "unsubscribed"
    day = D(2026, 4, 10)
    services.member_reenrol(member=m, today=day, template=sat)
    m = fresh(m)
    assert (m.status, m.counter_standard, m.alert_deadline) == ("alert", -4, day + days(28))
    slot = SlotAssignment.objects.get(member=m, end_date__isnull=True)
    assert (slot.template, slot.start_date) == (sat, day)
    assert live(m, shift_of(sat, D(2026, 5, 2))) is not None
    # The streak restarted: one more regular miss does not unsubscribe.
    record(m, shift_of(sat, D(2026, 5, 2)), "missed")
    assert fresh(m).status == "alert"
    assert CounterEvent.objects.filter(member=m, kind=st.REENROL, date=day).count() == 1


def test_only_an_unsubscribed_member_is_reenrolled(wed):
    m = holder(wed)
    with rule("not_allowed"):
        services.member_reenrol(member=m, today=T)


def test_reenrolled_ftop_member_at_minus_8_is_subscribed_again(db):
    m = member(FTOP)
    correct(m, -8, counter=st.FTOP)
    services.member_reenrol(member=m, today=T + days(3))
    m = fresh(m)
    assert (m.status, m.counter_ftop, m.alert_deadline) == ("alert", -8, T + days(31))


# --- leaves (§5) -----------------------------------------------------------------------------------

def test_a_leave_lasts_at_least_28_days_both_ends_included(wed):
    m = holder(wed)
    with pytest.raises(ValidationError) as info:
        services.leave_create(member=m, start=T, end=T + days(26), reason="x", today=T, now=at(T, 8))
    assert "end" in info.value.message_dict
    leave = services.leave_create(member=m, start=T, end=T + days(27), reason="x", today=T, now=at(T, 8))
    assert (leave.start, leave.end) == (T, D(2026, 3, 29))


def test_a_leave_cannot_start_in_the_past(wed):
    m = holder(wed)
    with pytest.raises(ValidationError) as info:
        services.leave_create(member=m, start=T - days(1), end=T + days(40), reason="x", today=T, now=at(T, 8))
    assert "start" in info.value.message_dict
    assert not Leave.objects.exists()


def test_a_leave_cancels_registrations_inside_without_points_and_sets_on_leave(db):
    wed = template()
    sat = template("Saturday", weekday=5)
    generate()
    m = holder(wed)
    services.shift_book(shift=shift_of(sat, D(2026, 3, 7)), member=m, now=at(T, 8))
    services.shift_book(shift=shift_of(sat, D(2026, 4, 4)), member=m, now=at(T, 8))
    services.leave_create(member=m, start=T, end=D(2026, 4, 1), reason="trip", today=T, now=at(T, 8))
    assert live(m, shift_of(wed, W1)) is None and live(m, shift_of(wed, W2)) is None  # both ends included
    assert live(m, shift_of(sat, D(2026, 3, 7))) is None
    assert live(m, shift_of(wed, W3)) is not None and live(m, shift_of(sat, D(2026, 4, 4))) is not None
    assert set(Registration.objects.filter(cancelled_at__isnull=False).values_list("cancel_reason", flat=True)) == {"leave"}
    assert ledger(m) == []
    m = fresh(m)
    assert m.status == "on_leave"
    change = StatusChange.objects.filter(member=m).order_by("id").last()
    assert (change.from_status, change.to_status, change.effective_date) == ("up_to_date", "on_leave", T)


def test_a_future_leave_starts_with_the_daily_update(wed):
    m = holder(wed)
    services.leave_create(member=m, start=D(2026, 3, 20), end=D(2026, 4, 30), reason="trip", today=T, now=at(T, 8))
    assert fresh(m).status == "up_to_date"
    services.statuses_update(today=D(2026, 3, 19))
    assert fresh(m).status == "up_to_date"
    services.statuses_update(today=D(2026, 3, 20))
    assert fresh(m).status == "on_leave"
    services.statuses_update(today=D(2026, 5, 1))
    assert fresh(m).status == "up_to_date"
    assert list(StatusChange.objects.filter(member=m, to_status="on_leave").values_list("effective_date", flat=True)) == [
        D(2026, 3, 20)
    ]


def test_a_leave_ended_early_changes_the_status_back(wed):
    m = holder(wed)
    leave = services.leave_create(member=m, start=T, end=D(2026, 5, 4), reason="trip", today=T, now=at(T, 8))
    services.period_end_early(period=leave, end=D(2026, 4, 10), today=D(2026, 4, 10))
    assert Leave.objects.get(pk=leave.pk).end == D(2026, 4, 10)
    assert services.member_status(fresh(m), D(2026, 4, 11)).status == "up_to_date"


def test_a_leave_ended_early_registers_the_slot_holder_again_after_the_new_end(wed):
    m = holder(wed)
    leave = services.leave_create(member=m, start=T, end=D(2026, 5, 4), reason="trip", today=T, now=at(T, 8))
    assert live(m, shift_of(wed, W3)) is None
    services.period_end_early(period=leave, end=D(2026, 4, 10), today=D(2026, 4, 10))
    assert live(m, shift_of(wed, W2)) is None
    assert live(m, shift_of(wed, W3)) is not None


# --- exemptions (§5) --------------------------------------------------------------------------------

def test_an_open_ended_exemption_cancels_future_registrations_and_sets_exempted(wed):
    m = holder(wed)
    services.shift_book(shift=shift_of(wed, W1), member=member(), now=at(T, 8))
    exemption = services.exemption_create(member=m, start=D(2026, 3, 10), end=None, reason="health", today=T, now=at(T, 8))
    assert exemption.end is None
    assert live(m, shift_of(wed, W1)) is not None  # before it
    assert [live(m, shift_of(wed, d)) for d in (W2, W3, W4)] == [None, None, None]
    assert ledger(m) == []
    assert services.member_status(fresh(m), D(2027, 1, 1)).status == "exempted"
    services.statuses_update(today=D(2026, 3, 10))
    assert fresh(m).status == "exempted"


def test_an_exempted_member_in_debt_is_exempted_and_the_clock_pauses(wed):
    m = holder(wed)
    record(m, shift_of(wed, W1), "missed")  # deadline 04-01
    exemption = services.exemption_create(member=m, start=D(2026, 3, 10), end=D(2026, 3, 19), reason="flu", today=D(2026, 3, 10),
                                          now=at(D(2026, 3, 10), 8))
    m = fresh(m)
    assert (m.status, m.alert_deadline) == ("exempted", D(2026, 4, 11))
    assert exemption.end == D(2026, 3, 19)


def test_an_exemption_cannot_start_in_the_past(wed):
    with pytest.raises(ValidationError):
        services.exemption_create(member=holder(wed), start=T - days(1), end=None, reason="x", today=T, now=at(T, 8))
    assert not Exemption.objects.exists()


def test_an_exemption_ended_early_ends_the_exempted_status(wed):
    m = holder(wed)
    exemption = services.exemption_create(member=m, start=T, end=None, reason="health", today=T, now=at(T, 8))
    assert fresh(m).status == "exempted"
    services.period_end_early(period=exemption, end=D(2026, 3, 15), today=D(2026, 3, 16))
    m = fresh(m)
    assert (m.status, Exemption.objects.get(pk=exemption.pk).end) == ("up_to_date", D(2026, 3, 15))
    change = StatusChange.objects.filter(member=m).order_by("id").last()
    assert (change.from_status, change.to_status, change.effective_date) == ("exempted", "up_to_date", D(2026, 3, 16))


def test_an_exemption_ended_early_registers_the_slot_holder_again(wed):
    m = holder(wed)
    exemption = services.exemption_create(member=m, start=T, end=None, reason="health", today=T, now=at(T, 8))
    services.period_end_early(period=exemption, end=D(2026, 3, 15), today=D(2026, 3, 16))
    assert live(m, shift_of(wed, W2)) is not None


# --- extensions (§5) ---------------------------------------------------------------------------------

def test_an_extension_needs_a_debt(wed):
    m = holder(wed)
    with rule("not_allowed"):
        services.extension_grant(member=m, reason="hard month", today=T)


def test_an_extension_needs_a_reason(wed):
    m = holder(wed)
    correct(m, -2)
    with pytest.raises(ValidationError):
        services.extension_grant(member=m, reason="  ", today=T)


def test_extensions_chain_from_the_deadline_and_give_delay(wed):
    m = holder(wed)
    record(m, shift_of(wed, W1), "missed")  # deadline 04-01
    first = services.extension_grant(member=m, reason="hard month", today=D(2026, 3, 10))
    assert (first.granted_on, first.start, first.end) == (D(2026, 3, 10), W2, D(2026, 4, 28))
    assert fresh(m).status == "alert"
    second = services.extension_grant(member=m, reason="still hard", today=D(2026, 3, 20))
    assert (second.start, second.end) == (D(2026, 4, 29), D(2026, 5, 26))
    services.statuses_update(today=W2)
    m = fresh(m)
    assert (m.status, m.delay_until) == ("delay", D(2026, 4, 28))
    services.statuses_update(today=D(2026, 5, 26))
    assert (fresh(m).status, fresh(m).delay_until) == ("delay", D(2026, 5, 26))
    services.statuses_update(today=D(2026, 5, 27))
    assert fresh(m).status == "suspended"


def test_an_extension_granted_while_suspended_starts_today(wed):
    m = holder(wed)
    record(m, shift_of(wed, W1), "missed")
    ext = services.extension_grant(member=m, reason="hard month", today=D(2026, 4, 10))
    assert (ext.start, ext.end) == (D(2026, 4, 10), D(2026, 5, 7))
    m = fresh(m)
    assert (m.status, m.delay_until) == ("delay", D(2026, 5, 7))


def test_at_most_two_extensions_in_any_365_days(wed):
    m = member()
    correct(m, -5)
    g1 = T
    services.extension_grant(member=m, reason="one", today=g1)
    services.extension_grant(member=m, reason="two", today=g1 + days(100))
    with rule("extension_limit"):
        services.extension_grant(member=m, reason="three", today=g1 + days(364))
    third = services.extension_grant(member=m, reason="three", today=g1 + days(365))
    assert third.granted_on == g1 + days(365)


# --- blocking (§5) ----------------------------------------------------------------------------------

def test_blocking_needs_a_reason(wed):
    with pytest.raises(ValidationError):
        services.member_block(member=holder(wed), reason=" ", today=T)


def test_blocking_and_unblocking_write_the_status_and_history(wed):
    m = holder(wed)
    services.member_block(member=m, reason="rude to cashiers", today=T)
    m = fresh(m)
    assert (m.status, m.blocked_reason) == ("blocked", "rude to cashiers")
    change = StatusChange.objects.filter(member=m).order_by("id").last()
    assert (change.from_status, change.to_status, change.effective_date) == ("up_to_date", "blocked", T)
    assert "rude to cashiers" in change.cause
    services.member_unblock(member=m, reason="apologised", today=T + days(1))
    assert fresh(m).status == "up_to_date"


def test_unblocking_restores_the_computed_status(wed):
    m = holder(wed)
    record(m, shift_of(wed, W1), "missed")
    Member.objects.filter(pk=m.pk).update(blocked_reason="rude")
    services.status_refresh(member=m, today=W1, cause="test")
    assert fresh(m).status == "blocked"
    services.member_unblock(member=m, reason="apologised", today=W1 + days(1))
    m = fresh(m)
    assert (m.status, m.blocked_reason) == ("alert", "")
    change = StatusChange.objects.filter(member=m).order_by("id").last()
    assert (change.from_status, change.to_status) == ("blocked", "alert")
    assert "apologised" in change.cause


def test_unblocking_a_member_who_is_not_blocked_is_refused(wed):
    with rule("not_allowed"):
        services.member_unblock(member=holder(wed), reason="x", today=T)


# --- corrections (§3) --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kw", "field"),
    [({"reason": ""}, "reason"), ({"reason": "   "}, "reason"), ({"points": 0}, "points"), ({"counter": "bonus"}, "counter")],
)
def test_a_correction_needs_a_reason_points_and_a_counter(wed, kw, field):
    m = holder(wed)
    args = {"member": m, "counter": st.STANDARD, "points": -1, "reason": "forgot to sign", "today": T, **kw}
    with pytest.raises(ValidationError) as info:
        services.correction_write(**args)
    assert field in info.value.message_dict
    assert ledger(m) == []


def test_a_correction_above_zero_overflows_to_ftop_dated_on_entry(wed, coordinator):
    m = holder(wed)
    correct(m, -2)
    rows = services.correction_write(member=m, counter=st.STANDARD, points=5, reason="did 5 shifts", today=T + days(3),
                                     by=coordinator)
    assert [(r.date, r.kind, r.standard_points, r.ftop_points, r.reason, r.author) for r in rows] == [
        (T + days(3), st.CORRECTION, 2, 3, "did 5 shifts", coordinator)
    ]
    m = fresh(m)
    assert (m.counter_standard, m.counter_ftop) == (0, 3)


def test_ftop_credit_pays_a_standard_debt_at_once(wed):
    m = holder(wed)
    record(m, shift_of(wed, W1), "missed")
    rows = correct(m, 3, today=W1, counter=st.FTOP)
    assert [(r.kind, r.standard_points, r.ftop_points) for r in rows] == [(st.CORRECTION, 0, 3), (st.TRANSFER, 2, -2)]
    m = fresh(m)
    assert (m.counter_standard, m.counter_ftop, m.status, m.alert_deadline) == (0, 1, "up_to_date", None)


# --- the status history ------------------------------------------------------------------------------

def test_each_status_change_writes_one_history_row_and_no_change_writes_none(db):
    wed = template()
    thu = template("Thursday", weekday=3)
    fri = template("Friday", weekday=4)
    generate()
    m = holder(wed)
    start = StatusChange.objects.filter(member=m).count()
    record(m, shift_of(wed, W1), "missed")
    for tpl, day in ((thu, D(2026, 3, 5)), (fri, D(2026, 3, 6))):
        services.shift_book(shift=shift_of(tpl, day), member=m, now=at(T, 8))
    record(m, shift_of(thu, D(2026, 3, 5)), "attended")  # -1: still alert, no row
    record(m, shift_of(fri, D(2026, 3, 6)), "attended")
    rows = list(StatusChange.objects.filter(member=m).order_by("id"))[start:]
    assert [(r.from_status, r.to_status, r.effective_date) for r in rows] == [
        ("up_to_date", "alert", W1), ("alert", "up_to_date", D(2026, 3, 6)),
    ]
    assert rows[0].cause == str(CounterEvent.Kind.MISSED_REGULAR.label)
    assert all(r.written_at is not None for r in rows)


def test_the_daily_update_writes_the_deadline_change_to_suspended(wed):
    m = holder(wed)
    record(m, shift_of(wed, W1), "missed")
    assert services.statuses_update(today=D(2026, 3, 31))["statuses"] == 0
    services.statuses_update(today=W2)
    change = StatusChange.objects.filter(member=m).order_by("id").last()
    assert (change.from_status, change.to_status, change.effective_date) == ("alert", "suspended", W2)
    assert services.statuses_update(today=W2)["statuses"] == 0


def test_new_member_without_slot_becomes_unsubscribed_after_28_days_by_the_daily_update(db):
    m = member()
    services.statuses_update(today=T + days(28))
    assert fresh(m).status == "up_to_date"
    services.statuses_update(today=T + days(29))
    assert fresh(m).status == "unsubscribed"


def test_not_concerned_members_have_counters_but_no_deadline(wed):
    m = holder(wed)
    record(m, shift_of(wed, W1), "missed")
    member_services.member_leave(member=m, reason="moved away", today=D(2026, 3, 5))
    m = fresh(m)
    assert (m.status, m.counter_standard, m.alert_deadline) == ("not_concerned", -2, None)


# --- leaving the coop (§1, §4) ----------------------------------------------------------------------

def test_leaving_the_coop_ends_the_slot_and_cancels_regular_shifts_without_points(wed):
    m = holder(wed)
    member_services.member_leave(member=m, reason="moved away", today=D(2026, 3, 10))
    slot = SlotAssignment.objects.get(member=m)
    assert (slot.end_date, slot.end_reason) == (D(2026, 3, 10), "left")
    assert [live(m, shift_of(wed, d)) for d in (W2, W3, W4)] == [None, None, None]
    assert live(m, shift_of(wed, W1)) is not None  # the past stays
    assert ledger(m) == []


def test_leaving_the_coop_cancels_future_one_off_bookings_without_points(db):
    sat = template("Saturday", weekday=5)
    generate()
    m = member()
    services.shift_book(shift=shift_of(sat, D(2026, 4, 4)), member=m, now=at(T, 8))
    member_services.member_leave(member=m, reason="moved away", today=D(2026, 3, 10))
    assert live(m, shift_of(sat, D(2026, 4, 4))) is None
    assert ledger(m) == []


def test_switching_to_ftop_ends_the_regular_slot(wed):
    m = holder(wed)
    services.shift_type_switch(member=m, today=D(2026, 3, 10), shift_type=FTOP)
    assert SlotAssignment.objects.get(member=m).end_date == D(2026, 3, 10)
    assert live(m, shift_of(wed, W2)) is None
    assert fresh(m).status == "up_to_date"


# --- cycle charges (§3) -----------------------------------------------------------------------------

def ftop_member_since(day: datetime.date) -> Member:
    return active_member(today=day, shift_type=FTOP)


def test_cycle_charge_for_an_ftop_member_who_owes_it(db):
    m = ftop_member_since(D(2026, 1, 5))  # active and FTOP for the 28 days before 02-02
    newcomer = ftop_member_since(D(2026, 1, 6))
    standard = active_member(today=D(2026, 1, 5))
    services.statuses_update(today=D(2026, 2, 2))
    assert ledger(m) == [(D(2026, 2, 2), st.CYCLE_CHARGE, 0, -2)]  # on its own day (DOMAIN.md §3)
    services.statuses_update(today=D(2026, 2, 3))
    assert ledger(m) == [(D(2026, 2, 2), st.CYCLE_CHARGE, 0, -2)]
    assert ledger(newcomer) == [] and ledger(standard) == []
    m = fresh(m)
    assert (m.status, m.counter_ftop, m.alert_deadline) == ("alert", -2, D(2026, 3, 2))
    services.statuses_update(today=D(2026, 2, 3))
    services.statuses_update(today=D(2026, 2, 4))
    assert len(ledger(m)) == 1


def test_cycle_charge_is_one_point_when_the_counter_is_at_least_one_before_it(db):
    m = ftop_member_since(D(2026, 1, 5))
    correct(m, 1, today=D(2026, 1, 20), counter=st.FTOP)
    services.statuses_update(today=D(2026, 2, 3))
    assert ledger(m)[-1] == (D(2026, 2, 2), st.CYCLE_CHARGE, 0, -1)
    assert fresh(m).counter_ftop == 0


def test_cycle_charge_counts_the_shift_events_of_the_cycle_start_day(db):
    mon = template("Monday", weekday=0)
    generate(D(2026, 1, 5), D(2026, 3, 1))
    m = ftop_member_since(D(2026, 1, 5))
    shift = shift_of(mon, D(2026, 2, 2))
    services.shift_book(shift=shift, member=m, now=at(D(2026, 1, 20), 8))
    record(m, shift, "attended", now=at(D(2026, 2, 2), 10))
    services.statuses_update(today=D(2026, 2, 3))
    assert ledger(m) == [(D(2026, 2, 2), st.FTOP_ATTENDED, 0, 1), (D(2026, 2, 2), st.CYCLE_CHARGE, 0, -1)]


def test_a_cycle_start_missed_by_the_job_is_charged_at_its_next_run(db):
    m = ftop_member_since(D(2026, 1, 5))
    services.statuses_update(today=D(2026, 1, 20))
    services.statuses_update(today=D(2026, 3, 5))
    assert ledger(m) == [(D(2026, 2, 2), st.CYCLE_CHARGE, 0, -2), (D(2026, 3, 2), st.CYCLE_CHARGE, 0, -2)]
    assert CounterEvent.objects.get(member=m, date=D(2026, 3, 2)).cycle_start == D(2026, 3, 2)


def test_no_cycle_charge_during_or_just_after_a_leave(db):
    m = ftop_member_since(D(2026, 1, 5))
    services.leave_create(member=m, start=D(2026, 1, 6), end=D(2026, 2, 10), reason="trip", today=D(2026, 1, 6),
                          now=at(D(2026, 1, 6), 8))
    services.statuses_update(today=D(2026, 1, 10))
    services.statuses_update(today=D(2026, 3, 3))  # window of 03-02 (02-02..03-01) overlaps the leave
    assert ledger(m) == []
    services.statuses_update(today=D(2026, 3, 31))  # window of 03-30 (03-02..03-29) is clear
    assert ledger(m) == [(D(2026, 3, 30), st.CYCLE_CHARGE, 0, -2)]


def test_one_cycle_charge_per_member_and_cycle_in_the_database(db):
    m = ftop_member_since(D(2026, 1, 5))
    CounterEvent.objects.create(member=m, date=D(2026, 2, 2), kind=st.CYCLE_CHARGE, ftop_points=-2, cycle_start=D(2026, 2, 2))
    with pytest.raises(IntegrityError), transaction.atomic():
        CounterEvent.objects.create(member=m, date=D(2026, 2, 2), kind=st.CYCLE_CHARGE, ftop_points=-2, cycle_start=D(2026, 2, 2))


# --- the ledger is immutable (§3) --------------------------------------------------------------------

def test_counter_events_cannot_be_edited_or_deleted(wed):
    m = holder(wed)
    (row,) = correct(m, -1)
    row.standard_points = 5
    with pytest.raises(ValidationError):
        row.save()
    with pytest.raises(ValidationError):
        row.delete()
    with pytest.raises(ValidationError):
        CounterEvent.objects.filter(member=m).update(standard_points=0)
    with pytest.raises(ValidationError):
        CounterEvent.objects.filter(member=m).delete()
    assert ledger(m) == [(T, st.CORRECTION, -1, 0)]


def test_status_history_rows_cannot_be_edited_or_deleted_in_bulk(wed):
    m = holder(wed)
    assert StatusChange.objects.filter(member=m).exists()
    with pytest.raises(ValidationError):
        StatusChange.objects.filter(member=m).update(to_status="blocked")
    with pytest.raises(ValidationError):
        StatusChange.objects.filter(member=m).delete()
