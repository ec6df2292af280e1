"""Issue 10: the stored standing never drifts from the rules (DOMAIN.md §3-§6, revised).

Each test here failed on the code before issue 10. CYCLE_START is 2026-01-05, so 2026-02-02,
2026-03-02, 2026-03-30 and 2026-04-27 are cycle starts (Mondays of week A).
"""
from __future__ import annotations

import datetime
import zoneinfo
from io import StringIO

import pytest
from django.core.management import call_command

from checkout import services as till
from members import services as member_services
from members.models import Member
from members.tests.factories import MemberFactory, active_member, share_class_a
from shifts import services
from shifts import status as st
from shifts.models import CounterEvent, Shift, StatusChange

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
D = datetime.date
T = datetime.time
CYCLE = D(2026, 3, 2)

pytestmark = pytest.mark.django_db


def run(command: str, **options) -> str:
    out = StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


def at(day: D, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, T(hour, minute), tzinfo=PARIS)


def template(name: str = "A-Mon", week: str = "A", weekday: int = 0, capacity: int = 6):
    return services.template_create(name=name, week=week, weekday=weekday, start_time=T(9), end_time=T(12), capacity=capacity)


def shift_of(tpl, day: D) -> Shift:
    return Shift.objects.get(template=tpl, date=day)


def fresh(m: Member) -> Member:
    return Member.objects.get(pk=m.pk)


LONG_AGO = D(2026, 1, 5)


def ftop_member(active_on: D = LONG_AGO) -> Member:
    return active_member(today=active_on, shift_type="ftop")


def charges(m: Member) -> list[tuple]:
    """The live cycle charges (not reversed): (cycle start, FTOP points)."""
    rows = CounterEvent.objects.filter(member=m, kind=st.CYCLE_CHARGE, reversed_by__isnull=True).order_by("cycle_start", "id")
    return list(rows.values_list("cycle_start", "ftop_points"))


def book_and_generate(tpl, m: Member, day: D) -> Shift:
    services.shifts_generate(start=day, end=day)
    shift = shift_of(tpl, day)
    services.shift_book(shift=shift, member=m, now=at(day - datetime.timedelta(days=5), 9))
    return shift


# --- the charge on its own day ----------------------------------------------------------------

def test_update_statuses_on_a_cycle_start_already_shows_that_days_charge_at_the_till():
    m = ftop_member()

    run("update_statuses", today="2026-03-02")

    m = fresh(m)
    assert (m.counter_ftop, m.status) == (-2, "alert")
    answer = till.till_check(code=m.card_barcode, user=None, now=at(CYCLE, 10))
    assert (answer["colour"], answer["warnings"][0]["code"]) == ("orange", "alert")


def test_an_attendance_on_the_cycle_start_entered_after_the_charge_re_resolves_it():
    tpl = template()
    m = ftop_member()
    shift = book_and_generate(tpl, m, CYCLE)
    run("update_statuses", today="2026-03-02")
    assert fresh(m).counter_ftop == -2

    services.attendance_record(shift=shift, member=m, state="attended", now=at(CYCLE, 13), today=D(2026, 3, 3))

    m = fresh(m)
    assert (m.counter_ftop, m.status) == (0, "up_to_date")  # +1 then -1, as the table gives
    assert charges(m) == [(CYCLE, -1)]
    ledger = list(CounterEvent.objects.filter(member=m).order_by("id").values_list("kind", "ftop_points"))
    assert ledger == [(st.CYCLE_CHARGE, -2), (st.FTOP_ATTENDED, 1), (st.REVERSAL, 2), (st.CYCLE_CHARGE, -1)]


def _night_order_counter(order: list[str]) -> int:
    tpl = template()
    m = ftop_member()
    services.correction_write(member=m, counter="ftop", points=1, reason="banked", today=D(2026, 2, 1))
    book_and_generate(tpl, m, CYCLE)  # never recorded: close_shifts marks it missed
    for command in order:
        run(command, today="2026-03-03")
    return fresh(m).counter_ftop


def test_the_order_of_the_daily_jobs_never_changes_a_counter_close_first():
    # +1, missed on the cycle start (0), then the charge from 0: -2.
    assert _night_order_counter(["close_shifts", "update_statuses"]) == -2


def test_the_order_of_the_daily_jobs_never_changes_a_counter_update_first():
    assert _night_order_counter(["update_statuses", "close_shifts"]) == -2


def handmade_shift(day: D) -> Shift:
    return Shift.objects.create(name="extra", date=day, start=at(day, 9), end=at(day, 12), capacity=6, week="A")


def test_a_late_event_before_several_charges_re_resolves_each_of_them():
    m = ftop_member()
    run("update_statuses", today="2026-03-02")  # 03-02: -2
    run("update_statuses", today="2026-03-30")  # 03-30: -2 (from -2)
    assert charges(m) == [(CYCLE, -2), (D(2026, 3, 30), -2)]
    # Two shifts worked in February (before both charges), entered on 04-01.
    for day in (D(2026, 2, 16), D(2026, 2, 17)):
        shift = handmade_shift(day)
        services.shift_book(shift=shift, member=m, now=at(D(2026, 4, 1), 9), as_coordinator=True)
        services.attendance_record(shift=shift, member=m, state="attended", now=at(D(2026, 4, 1), 10), today=D(2026, 4, 1))

    # +1 +1 = 2; the 03-02 charge from 2: -1 (1); the 03-30 charge from 1: -1 (0).
    assert charges(fresh(m)) == [(CYCLE, -1), (D(2026, 3, 30), -1)]
    assert (fresh(m).counter_ftop, fresh(m).status) == (0, "up_to_date")
    reversed_charges = CounterEvent.objects.filter(member=m, kind=st.REVERSAL, reverses__kind=st.CYCLE_CHARGE)
    assert reversed_charges.count() == 2


# --- processed cycle starts, no back-billing ---------------------------------------------------

def test_first_run_charges_only_the_latest_cycle_start_on_or_before_today():
    m = ftop_member(D(2025, 11, 1))

    run("update_statuses", today="2026-03-02")

    assert charges(m) == [(CYCLE, -2)]  # never 02-02 or older


def test_cycle_starts_missed_since_the_last_processed_one_are_each_charged_once():
    m = ftop_member(D(2025, 11, 1))
    run("update_statuses", today="2026-03-02")

    run("update_statuses", today="2026-04-28")
    run("update_statuses", today="2026-04-28")

    assert charges(m) == [(CYCLE, -2), (D(2026, 3, 30), -2), (D(2026, 4, 27), -2)]


# --- owed over the window, from dated history --------------------------------------------------

def test_a_membership_turning_unpaid_the_day_after_the_cycle_start_does_not_erase_its_charge():
    # Two instalments from 2025-12-31: the second is due 2026-01-31 and more than 30 days late on 03-03.
    m = MemberFactory(joined_on=D(2025, 12, 31), shift_type="ftop")
    member_services.share_subscribe(member=m, share_class=share_class_a(), quantity=10, payment_method="cash",
                                    today=D(2025, 12, 31), instalments=2)
    assert fresh(m).membership == "active"

    run("update_statuses", today="2026-03-03")

    m = fresh(m)
    assert m.membership == "unpaid"
    assert charges(m) == [(CYCLE, -2)]


def test_a_switch_to_ftop_is_dated_the_day_it_is_made_and_gives_one_free_cycle():
    m = active_member(today=D(2025, 11, 1), shift_type="standard")
    tpl = template("B-Tue", "B", 1)
    services.slot_assign(template=tpl, member=m, start_date=D(2025, 11, 3), today=D(2025, 11, 1))
    services.shift_type_switch(member=m, shift_type="ftop", today=D(2026, 2, 20))

    run("update_statuses", today="2026-03-02")

    assert charges(m) == []  # FTOP only from 02-20: not for all 28 days before 03-02
    run("update_statuses", today="2026-03-30")
    assert charges(m) == [(D(2026, 3, 30), -2)]


def test_members_created_through_the_api_hold_their_shift_type_from_joined_on(coord, clock):
    response = coord.post("/api/v1/members/", {
        "first_name": "Old", "last_name": "Timer", "email": "old@example.org", "shift_type": "ftop", "joined_on": "2025-12-01",
    }, format="json")
    assert response.status_code == 201, response.content
    m = Member.objects.get(pk=response.json()["id"])
    member_services.share_subscribe(member=m, share_class=share_class_a(), quantity=10, payment_method="cash",
                                    today=D(2026, 1, 2), paid_on=D(2026, 1, 2))

    run("update_statuses", today="2026-03-02")

    assert charges(m) == [(CYCLE, -2)]


def test_joined_on_cannot_be_in_the_future(coord, clock):
    response = coord.post("/api/v1/members/", {
        "first_name": "Not", "last_name": "Yet", "email": "soon@example.org", "shift_type": "ftop", "joined_on": "2026-03-03",
    }, format="json")

    assert response.status_code == 400
    assert "joined_on" in response.json()
    assert not Member.objects.filter(email="soon@example.org").exists()


# --- changed answers ---------------------------------------------------------------------------

def test_a_miss_changed_to_attended_after_two_make_ups_ends_at_standard_0_ftop_2():
    m = active_member(today=D(2026, 1, 5))
    regular = template("A-Mon")
    services.slot_assign(template=regular, member=m, start_date=D(2026, 2, 2), today=D(2026, 1, 20))
    services.shifts_generate(start=D(2026, 2, 2), end=D(2026, 2, 3))
    services.shifts_close(today=D(2026, 2, 3))  # the regular shift of 02-02 is missed: -2
    make_ups = []
    for day in (D(2026, 2, 10), D(2026, 2, 12)):
        shift = handmade_shift(day)
        services.shift_book(shift=shift, member=m, now=at(day - datetime.timedelta(days=3), 9))
        services.attendance_record(shift=shift, member=m, state="attended", now=at(day, 10), today=day)
        make_ups.append(shift)
    assert (fresh(m).counter_standard, fresh(m).counter_ftop) == (0, 0)

    services.attendance_record(shift=shift_of(regular, D(2026, 2, 2)), member=m, state="attended",
                               now=at(D(2026, 2, 13), 9), today=D(2026, 2, 13))

    m = fresh(m)
    assert (m.counter_standard, m.counter_ftop, m.status) == (0, 2, "up_to_date")
    assert len(make_ups) == 2


def test_the_standard_counter_never_ends_above_zero_after_a_changed_excuse():
    m = active_member(today=D(2026, 1, 5))
    regular = template("A-Mon")
    services.slot_assign(template=regular, member=m, start_date=D(2026, 2, 2), today=D(2026, 1, 20))
    services.shifts_generate(start=D(2026, 2, 2), end=D(2026, 2, 2))
    shift = shift_of(regular, D(2026, 2, 2))
    services.attendance_record(shift=shift, member=m, state="excused", now=at(D(2026, 2, 1), 9), today=D(2026, 2, 1))
    services.correction_write(member=m, counter="standard", points=1, reason="made up", today=D(2026, 2, 5))

    services.attendance_record(shift=shift, member=m, state="attended", now=at(D(2026, 2, 6), 9), today=D(2026, 2, 6))

    assert (fresh(m).counter_standard, fresh(m).counter_ftop) == (0, 1)


# --- FTOP unsubscription on crossing -8 --------------------------------------------------------

def test_ftop_unsubscription_needs_the_counter_to_come_from_above_the_threshold():
    events = st.resolve_sequence([
        {"date": D(2026, 1, 10), "kind": st.CORRECTION, "counter": st.FTOP, "points": -9},
    ], shift_type=st.FTOP)
    state = st.replay(events, shift_type=st.FTOP, day=D(2026, 1, 10))
    assert state.unsubscribed  # -0 -> -9 crosses
    reenrolled = [*events, st.Event(D(2026, 1, 11), st.REENROL, seq=50)]
    later_miss = [*reenrolled, st.Event(D(2026, 1, 20), st.FTOP_MISSED, 0, -1, seq=60)]

    state = st.replay(later_miss, shift_type=st.FTOP, day=D(2026, 1, 20))

    assert state.ftop == -10
    assert not state.unsubscribed  # from -9 to -10: it did not come from above -8


# --- status history dates ----------------------------------------------------------------------

def test_status_history_carries_the_date_the_change_took_effect_not_the_date_the_job_noticed_it():
    m = ftop_member()
    run("update_statuses", today="2026-03-02")  # alert from 03-02, deadline 03-30

    run("update_statuses", today="2026-04-04")  # the job did not run for days

    change = StatusChange.objects.filter(member=m, to_status="suspended").get()
    assert change.effective_date == D(2026, 3, 30)
    alert = StatusChange.objects.filter(member=m, to_status="alert").get()
    assert alert.effective_date == CYCLE


def test_a_late_miss_dates_the_status_change_on_the_shift():
    m = active_member(today=D(2026, 1, 5))
    regular = template("A-Mon")
    services.slot_assign(template=regular, member=m, start_date=D(2026, 2, 2), today=D(2026, 1, 20))
    services.shifts_generate(start=D(2026, 2, 2), end=D(2026, 2, 2))

    services.attendance_record(shift=shift_of(regular, D(2026, 2, 2)), member=m, state="missed",
                               now=at(D(2026, 2, 6), 9), today=D(2026, 2, 6))

    change = StatusChange.objects.filter(member=m, to_status="alert").get()
    assert change.effective_date == D(2026, 2, 2)




# --- the numbers come from the parameters ------------------------------------------------------

def _set(**values):
    from members.models import CoopParameters

    params = CoopParameters.current()
    for name, value in values.items():
        setattr(params, name, value)
    params.save()


def test_point_values_come_from_the_parameters():
    _set(points_missed_regular=3, points_charge=4)
    m = active_member(today=D(2026, 1, 5))
    regular = template("A-Mon")
    services.slot_assign(template=regular, member=m, start_date=D(2026, 2, 2), today=D(2026, 1, 20))
    services.shifts_generate(start=D(2026, 2, 2), end=D(2026, 2, 2))
    services.shifts_close(today=D(2026, 2, 3))
    f = ftop_member()

    run("update_statuses", today="2026-03-02")

    assert fresh(m).counter_standard == -3
    assert charges(f) == [(CYCLE, -4)]


def test_the_charge_window_comes_from_the_parameters():
    _set(charge_window_days=7)
    m = ftop_member(D(2026, 2, 20))  # active and FTOP for the 7 days before 03-02, not for 28

    run("update_statuses", today="2026-03-02")

    assert charges(m) == [(CYCLE, -2)]


def test_the_extension_window_comes_from_the_parameters():
    from coopmarket.errors import RuleViolation

    _set(extension_window_days=30)
    m = ftop_member()
    services.correction_write(member=m, counter="ftop", points=-3, reason="debt", today=D(2026, 1, 10))
    services.extension_grant(member=m, reason="one", today=D(2026, 1, 10))
    services.extension_grant(member=m, reason="two", today=D(2026, 1, 20))
    with pytest.raises(RuleViolation):
        services.extension_grant(member=m, reason="three", today=D(2026, 2, 8))
    assert services.extension_grant(member=m, reason="three", today=D(2026, 2, 9)).granted_on == D(2026, 2, 9)
