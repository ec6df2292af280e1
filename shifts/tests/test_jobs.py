"""The three daily jobs (CONTRACT.md §2) as commands and as eager Celery tasks.

Every test passes its dates explicitly (commands: --start/--end/--today; services: today/now), so
nothing depends on the day the tests run. CYCLE_START is 2026-01-05 (Monday of week A), so
2026-03-02, 2026-03-30, 2026-04-27 and 2026-05-25 are cycle starts.
"""
from __future__ import annotations

import datetime
import re
import zoneinfo
from io import StringIO

import pytest
from celery.schedules import crontab
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError

from members import services as member_services
from members.models import Member
from members.tests.factories import active_member
from shifts import cycle, services, tasks
from shifts import status as st
from shifts.models import CounterEvent, CycleStartProcessed, JobRun, Registration, Shift, StatusChange

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
D = datetime.date
T = datetime.time
CYCLE = D(2026, 3, 2)  # a cycle start (Monday of week A)
DAILY = "Daily status update"

pytestmark = pytest.mark.django_db


# --- helpers ----------------------------------------------------------------------------------

def run(command: str, **options) -> str:
    out = StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


def counts(output: str) -> dict[str, int]:
    """`name: 3 changed, other: 0 changed` -> {"name": 3, "other": 0}."""
    return {name: int(n) for name, n in re.findall(r"(\w+): (\d+) (?:created|changed)", output)}


def at(day: D, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, T(hour, minute), tzinfo=PARIS)


def template(name: str, week: str, weekday: int, start: int = 9, end: int = 12, capacity: int = 6):
    return services.template_create(name=name, week=week, weekday=weekday, start_time=T(start), end_time=T(end), capacity=capacity)


def member(active_on: D, shift_type: str = "standard") -> Member:
    """An active member (10 A shares paid on `active_on`, which is their work start date)."""
    return active_member(today=active_on, shift_type=shift_type)


def shift_of(tpl, day: D) -> Shift:
    return Shift.objects.get(template=tpl, date=day)


def fresh(m: Member) -> Member:
    return Member.objects.get(pk=m.pk)


def ledger(m: Member) -> list[tuple]:
    return list(CounterEvent.objects.filter(member=m).order_by("id").values_list("date", "kind", "standard_points", "ftop_points"))


def charges(m: Member) -> list[tuple]:
    return list(CounterEvent.objects.filter(member=m, kind=st.CYCLE_CHARGE).order_by("cycle_start").values_list("cycle_start", "date", "ftop_points"))


def assert_bulk_matches_single(today: D) -> None:
    """What the bulk job stored is what the one-member computation gives."""
    for stored in Member.objects.all():
        single = Member.objects.get(pk=stored.pk)
        services.apply_result(single, services.member_status(single, today))
        fields = services.STORED_FIELDS
        assert [getattr(stored, f) for f in fields] == [getattr(single, f) for f in fields], stored


def row_counts() -> dict[str, int]:
    return {
        "shifts": Shift.objects.count(), "registrations": Registration.objects.count(),
        "events": CounterEvent.objects.count(), "history": StatusChange.objects.count(),
    }


# --- generate_shifts --------------------------------------------------------------------------

@pytest.fixture
def cycle_templates():
    return {
        "A-Mon": template("A-Mon", "A", 0),
        "B-Wed": template("B-Wed", "B", 2),
        "C-Sat": template("C-Sat", "C", 5),
        "D-Sun": template("D-Sun", "D", 6),
    }


def test_generate_shifts_makes_one_shift_per_template_and_date_with_the_right_week_letters(cycle_templates):
    out = run("generate_shifts", start="2026-03-02", end="2026-05-31")

    assert counts(out) == {"shifts": 13, "registrations": 0}
    got = {(s.template.name, s.date, s.week) for s in Shift.objects.select_related("template")}
    assert got == {
        ("A-Mon", D(2026, 3, 2), "A"), ("A-Mon", D(2026, 3, 30), "A"), ("A-Mon", D(2026, 4, 27), "A"), ("A-Mon", D(2026, 5, 25), "A"),
        ("B-Wed", D(2026, 3, 11), "B"), ("B-Wed", D(2026, 4, 8), "B"), ("B-Wed", D(2026, 5, 6), "B"),
        ("C-Sat", D(2026, 3, 21), "C"), ("C-Sat", D(2026, 4, 18), "C"), ("C-Sat", D(2026, 5, 16), "C"),
        ("D-Sun", D(2026, 3, 29), "D"), ("D-Sun", D(2026, 4, 26), "D"), ("D-Sun", D(2026, 5, 24), "D"),
    }
    # Local times in the coop's zone, across the DST change of 2026-03-29.
    assert shift_of(cycle_templates["A-Mon"], D(2026, 3, 2)).start == at(D(2026, 3, 2), 9)
    assert shift_of(cycle_templates["A-Mon"], D(2026, 3, 2)).start.astimezone(datetime.UTC).hour == 8
    sunday = shift_of(cycle_templates["D-Sun"], D(2026, 3, 29))
    assert (sunday.start, sunday.end) == (at(D(2026, 3, 29), 9), at(D(2026, 3, 29), 12))
    assert sunday.start.astimezone(datetime.UTC).hour == 7
    assert all(s.capacity == 6 and s.name == s.template.name for s in Shift.objects.select_related("template"))


def test_generate_shifts_second_run_creates_nothing(cycle_templates):
    run("generate_shifts", start="2026-03-02", end="2026-05-31")
    before = row_counts()

    out = run("generate_shifts", start="2026-03-02", end="2026-05-31")

    assert counts(out) == {"shifts": 0, "registrations": 0}
    assert row_counts() == before
    # An overlapping range only adds the missing dates.
    assert counts(run("generate_shifts", start="2026-05-01", end="2026-06-30"))["shifts"] == 4  # 06-03, 06-13, 06-21, 06-22


def test_generate_shifts_before_the_cycle_start_uses_the_signed_modulo(cycle_templates):
    out = run("generate_shifts", start="2025-12-01", end="2025-12-31")

    assert counts(out)["shifts"] == 4
    got = {(s.template.name, s.date, s.week) for s in Shift.objects.select_related("template")}
    # 2025-12-01 is 5 weeks before 2026-01-05: week D; 2025-12-08 is week A again.
    assert got == {
        ("A-Mon", D(2025, 12, 8), "A"), ("B-Wed", D(2025, 12, 17), "B"),
        ("C-Sat", D(2025, 12, 27), "C"), ("D-Sun", D(2025, 12, 7), "D"),
    }


def test_generate_shifts_skips_inactive_templates(cycle_templates):
    services.template_update(template=cycle_templates["B-Wed"], now=at(D(2026, 2, 1), 0), active=False)

    assert counts(run("generate_shifts", start="2026-03-02", end="2026-05-31"))["shifts"] == 10


def test_generate_shifts_defaults_to_today_and_the_days_ahead_parameter(cycle_templates, monkeypatch):
    import coopmarket.dates

    monkeypatch.setattr(coopmarket.dates, "coop_today", lambda: CYCLE)

    out = run("generate_shifts")

    assert "2026-03-02..2026-05-31" in out  # 90 days ahead (CoopParameters.generation_days_ahead)
    assert Shift.objects.order_by("date").first().date == CYCLE
    assert Shift.objects.order_by("date").last().date == D(2026, 5, 25)


def test_template_change_moves_future_shifts_without_duplicates():
    tpl = template("A-Mon", "A", 0)
    run("generate_shifts", start="2026-03-02", end="2026-05-31")
    ids = set(Shift.objects.values_list("pk", flat=True))

    services.template_update(template=tpl, now=at(D(2026, 3, 15), 12), start_time=T(10), end_time=T(13), capacity=4)
    out = run("generate_shifts", start="2026-03-02", end="2026-05-31")

    assert counts(out) == {"shifts": 0, "registrations": 0}
    assert set(Shift.objects.values_list("pk", flat=True)) == ids
    past = shift_of(tpl, D(2026, 3, 2))
    assert (past.start, past.capacity) == (at(D(2026, 3, 2), 9), 6)  # a shift that already happened is history
    for day in (D(2026, 3, 30), D(2026, 4, 27), D(2026, 5, 25)):
        moved = shift_of(tpl, day)
        assert (moved.start, moved.end, moved.capacity) == (at(day, 10), at(day, 13), 4)
    # Later generations follow the template as it is now.
    assert counts(run("generate_shifts", start="2026-03-02", end="2026-06-30"))["shifts"] == 1
    assert (shift_of(tpl, D(2026, 6, 22)).start, shift_of(tpl, D(2026, 6, 22)).capacity) == (at(D(2026, 6, 22), 10), 4)


def test_template_cannot_move_to_another_day_once_it_has_shifts():
    tpl = template("A-Mon", "A", 0)
    run("generate_shifts", start="2026-03-02", end="2026-05-31")
    before = list(Shift.objects.order_by("pk").values_list("pk", "date", "start"))

    with pytest.raises(ValidationError):
        services.template_update(template=tpl, now=at(D(2026, 3, 15), 12), weekday=1)  # Monday -> Tuesday

    assert counts(run("generate_shifts", start="2026-03-02", end="2026-05-31")) == {"shifts": 0, "registrations": 0}
    assert list(Shift.objects.order_by("pk").values_list("pk", "date", "start")) == before


def test_slot_holders_are_registered_from_the_later_of_slot_start_and_work_start_except_on_leave_and_exemption():
    tpl = template("A-Mon", "A", 0)
    assigned_on = D(2026, 2, 20)
    late_slot = member(D(2026, 2, 2))
    services.slot_assign(template=tpl, member=late_slot, start_date=D(2026, 3, 30), today=assigned_on)
    late_work = member(D(2026, 2, 2))
    member_services.member_update(member=late_work, work_start_date=D(2026, 4, 1), today=assigned_on)
    services.slot_assign(template=tpl, member=late_work, start_date=D(2026, 3, 2), today=assigned_on)
    on_leave = member(D(2026, 2, 2))
    services.slot_assign(template=tpl, member=on_leave, start_date=D(2026, 3, 2), today=assigned_on)
    services.leave_create(member=on_leave, start=D(2026, 4, 20), end=D(2026, 5, 20), reason="travel", today=assigned_on, now=at(assigned_on, 10))
    exempted = member(D(2026, 2, 2))
    services.slot_assign(template=tpl, member=exempted, start_date=D(2026, 3, 2), today=assigned_on)
    services.exemption_create(member=exempted, start=D(2026, 5, 1), end=None, reason="health", today=assigned_on, now=at(assigned_on, 10))
    ftop = member(D(2026, 2, 2), shift_type="ftop")

    out = run("generate_shifts", start="2026-03-02", end="2026-05-31")

    def dates(m):
        return sorted(Registration.objects.filter(member=m, kind="regular", cancelled_at__isnull=True).values_list("shift__date", flat=True))

    assert counts(out) == {"shifts": 4, "registrations": 11}
    assert dates(late_slot) == [D(2026, 3, 30), D(2026, 4, 27), D(2026, 5, 25)]
    assert dates(late_work) == [D(2026, 4, 27), D(2026, 5, 25)]
    assert dates(on_leave) == [D(2026, 3, 2), D(2026, 3, 30), D(2026, 5, 25)]
    assert dates(exempted) == [D(2026, 3, 2), D(2026, 3, 30), D(2026, 4, 27)]
    assert not Registration.objects.filter(member=ftop).exists()
    assert not Registration.objects.exclude(kind="regular").exists()

    before = row_counts()
    assert counts(run("generate_shifts", start="2026-03-02", end="2026-05-31")) == {"shifts": 0, "registrations": 0}
    assert row_counts() == before


def test_generate_shifts_does_not_give_back_what_the_member_cancelled_or_gave_away():
    tpl = template("A-Mon", "A", 0)
    canceller, giver, taker = member(D(2026, 2, 2)), member(D(2026, 2, 2)), member(D(2026, 2, 2), "ftop")
    for m in (canceller, giver):
        services.slot_assign(template=tpl, member=m, start_date=CYCLE, today=D(2026, 2, 20))
    run("generate_shifts", start="2026-03-02", end="2026-05-31")
    shift = shift_of(tpl, D(2026, 3, 30))
    services.registration_cancel(shift=shift, member=canceller, now=at(D(2026, 3, 20), 9), today=D(2026, 3, 20))  # excused, -1
    services.shift_offer(shift=shift, member=giver, now=at(D(2026, 3, 20), 9))
    services.shift_take(shift=shift, member=taker, now=at(D(2026, 3, 21), 9))
    before = row_counts()

    assert counts(run("generate_shifts", start="2026-03-02", end="2026-05-31")) == {"shifts": 0, "registrations": 0}
    assert row_counts() == before
    live = set(Registration.objects.filter(shift=shift, cancelled_at__isnull=True).values_list("member_id", "kind"))
    assert live == {(taker.pk, "one_off")}


def test_ending_a_leave_early_gives_back_the_regular_registrations_after_it():
    tpl = template("A-Mon", "A", 0)
    m = member(D(2026, 2, 2))
    services.slot_assign(template=tpl, member=m, start_date=CYCLE, today=D(2026, 2, 20))
    run("generate_shifts", start="2026-03-02", end="2026-05-31")
    services.leave_create(member=m, start=D(2026, 3, 20), end=D(2026, 5, 20), reason="travel", today=D(2026, 3, 10), now=at(D(2026, 3, 10), 9))
    services.period_end_early(period=m.leaves.get(), end=D(2026, 4, 1), today=D(2026, 3, 25))
    run("generate_shifts", start="2026-03-02", end="2026-05-31")

    live = Registration.objects.filter(member=m, kind="regular", cancelled_at__isnull=True)
    assert sorted(live.values_list("shift__date", flat=True)) == [D(2026, 3, 2), D(2026, 4, 27), D(2026, 5, 25)]


@pytest.mark.parametrize("options", [
    {"start": "2026-13-01", "end": "2026-03-31"},
    {"start": "02/03/2026", "end": "2026-03-31"},
    {"start": "2026-03-02", "end": "tomorrow"},
    {"start": "2026-03-31", "end": "2026-03-02"},  # end before start
])
def test_generate_shifts_rejects_bad_dates(options):
    with pytest.raises(CommandError):
        run("generate_shifts", **options)
    assert not Shift.objects.exists()


@pytest.mark.parametrize("command", ["close_shifts", "update_statuses"])
def test_close_and_update_reject_bad_dates(command):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run(command, today="2026-02-30")


# --- close_shifts -----------------------------------------------------------------------------

@pytest.fixture
def closing():
    """Shifts on Monday 2026-03-02 (ends before --today 2026-03-03) and Tuesday 2026-03-03 (ends on it)."""
    monday, tuesday = template("A-Mon", "A", 0), template("A-Tue", "A", 1)
    booked_on = at(D(2026, 2, 25), 10)
    people = {
        "regular": member(D(2026, 2, 16)),
        "one_off": member(D(2026, 2, 16)),
        "ftop": member(D(2026, 2, 16), "ftop"),
        "attended": member(D(2026, 2, 16), "ftop"),
        "excused": member(D(2026, 2, 16)),
        "cancelled": member(D(2026, 2, 16), "ftop"),
        "tuesday": member(D(2026, 2, 16)),
    }
    services.slot_assign(template=monday, member=people["regular"], start_date=D(2026, 3, 2), today=D(2026, 2, 20))
    run("generate_shifts", start="2026-03-02", end="2026-03-08")
    mon, tue = shift_of(monday, D(2026, 3, 2)), shift_of(tuesday, D(2026, 3, 3))
    for key in ("one_off", "ftop", "attended", "excused", "cancelled"):
        services.shift_book(shift=mon, member=people[key], now=booked_on)
    services.shift_book(shift=tue, member=people["tuesday"], now=booked_on)
    services.registration_cancel(shift=mon, member=people["cancelled"], now=booked_on, today=booked_on.date())
    services.attendance_record(shift=mon, member=people["attended"], state="attended", now=at(D(2026, 3, 2), 10), today=D(2026, 3, 2))
    services.attendance_record(shift=mon, member=people["excused"], state="excused", now=at(D(2026, 3, 2), 8), today=D(2026, 3, 2))
    return people, mon, tue


def test_close_shifts_marks_unrecorded_registrations_of_ended_shifts_missed_with_their_counter_effects(closing):
    people, mon, tue = closing

    out = run("close_shifts", today="2026-03-03")

    assert counts(out) == {"missed": 3, "shifts_closed": 1}
    attendance = dict(Registration.objects.filter(shift=mon, cancelled_at__isnull=True).values_list("member_id", "attendance"))
    assert attendance == {
        people["regular"].pk: "missed", people["one_off"].pk: "missed", people["ftop"].pk: "missed",
        people["attended"].pk: "attended", people["excused"].pk: "excused",
    }
    monday = D(2026, 3, 2)
    assert ledger(people["regular"]) == [(monday, st.MISSED_REGULAR, -2, 0)]
    assert ledger(people["one_off"]) == [(monday, st.MISSED_OTHER, -1, 0)]
    assert ledger(people["ftop"]) == [(monday, st.FTOP_MISSED, 0, -1)]
    assert ledger(people["attended"]) == [(monday, st.FTOP_ATTENDED, 0, 1)]
    assert ledger(people["excused"]) == [(monday, st.EXCUSED_OTHER, 0, 0)]
    assert ledger(people["cancelled"]) == []
    assert (fresh(people["regular"]).counter_standard, fresh(people["regular"]).status) == (-2, "alert")
    assert (fresh(people["one_off"]).counter_standard, fresh(people["one_off"]).status) == (-1, "alert")
    assert (fresh(people["ftop"]).counter_ftop, fresh(people["ftop"]).status) == (-1, "alert")
    assert fresh(people["attended"]).counter_ftop == 1
    # The shift that ends on --today is left alone.
    assert Registration.objects.get(shift=tue, member=people["tuesday"]).attendance is None
    assert ledger(people["tuesday"]) == []
    assert Shift.objects.get(pk=mon.pk).closed_at is not None
    assert Shift.objects.get(pk=tue.pk).closed_at is None


def test_close_shifts_second_run_changes_nothing(closing):
    people, mon, tue = closing
    run("close_shifts", today="2026-03-03")
    before = row_counts()
    attendance = list(Registration.objects.order_by("pk").values_list("pk", "attendance", "attendance_at"))

    out = run("close_shifts", today="2026-03-03")

    assert counts(out) == {"missed": 0, "shifts_closed": 0}
    assert row_counts() == before
    assert list(Registration.objects.order_by("pk").values_list("pk", "attendance", "attendance_at")) == attendance
    # The next day, Tuesday's shift has ended too.
    assert counts(run("close_shifts", today="2026-03-04")) == {"missed": 1, "shifts_closed": 1}
    assert ledger(people["tuesday"]) == [(D(2026, 3, 3), st.MISSED_OTHER, -1, 0)]


# --- update_statuses --------------------------------------------------------------------------

@pytest.fixture
def ftop_members():
    """FTOP members in every situation of the cycle charge at 2026-03-02 (window 02-02..03-01)."""
    long_ago = D(2026, 1, 5)
    people = {
        "zero": member(long_ago, "ftop"),
        "credit": member(long_ago, "ftop"),
        "credit_same_day": member(long_ago, "ftop"),
        "newcomer": member(D(2026, 2, 16), "ftop"),
        "switched": member(long_ago),
        "leave": member(long_ago, "ftop"),
        "exempted": member(long_ago, "ftop"),
        "unsubscribed": member(long_ago, "ftop"),
        "standard": member(long_ago),
    }
    services.correction_write(member=people["credit"], counter="ftop", points=1, reason="banked", today=D(2026, 2, 10))
    services.shift_type_switch(member=people["switched"], shift_type="ftop", today=D(2026, 2, 16))
    services.leave_create(member=people["leave"], start=D(2026, 2, 10), end=D(2026, 3, 9), reason="travel", today=D(2026, 2, 10), now=at(D(2026, 2, 10), 9))
    services.exemption_create(member=people["exempted"], start=D(2026, 2, 20), end=D(2026, 2, 25), reason="flu", today=D(2026, 2, 20), now=at(D(2026, 2, 20), 9))
    services.correction_write(member=people["unsubscribed"], counter="ftop", points=-8, reason="debt", today=D(2026, 1, 20))
    tpl = template("A-Mon", "A", 0)
    services.slot_assign(template=tpl, member=people["standard"], start_date=D(2026, 1, 5), today=long_ago)
    # A shift attended on the cycle start day itself counts before the charge.
    run("generate_shifts", start="2026-03-02", end="2026-03-02")
    services.shift_book(shift=shift_of(tpl, CYCLE), member=people["credit_same_day"], now=at(D(2026, 2, 25), 9))
    services.attendance_record(shift=shift_of(tpl, CYCLE), member=people["credit_same_day"], state="attended", now=at(CYCLE, 10), today=CYCLE)
    services.attendance_record(shift=shift_of(tpl, CYCLE), member=people["standard"], state="attended", now=at(CYCLE, 10), today=CYCLE)
    assert fresh(people["unsubscribed"]).status == "unsubscribed"
    return people


def test_update_statuses_writes_the_cycle_charge_for_ftop_members_who_owe_it(ftop_members):
    p = ftop_members

    # The charge of 03-02 comes with the first run after it, once that day's shifts are closed.
    out = run("update_statuses", today="2026-03-03")

    assert counts(out)["cycle_charges"] == 3
    assert charges(p["zero"]) == [(CYCLE, CYCLE, -2)]  # counter 0 just before: -2
    assert charges(p["credit"]) == [(CYCLE, CYCLE, -1)]  # counter 1: -1
    assert charges(p["credit_same_day"]) == [(CYCLE, CYCLE, -1)]  # the shift of that morning counts
    for name in ("newcomer", "switched", "leave", "exempted", "unsubscribed", "standard"):
        assert charges(p[name]) == [], name
    assert [fresh(p[n]).counter_ftop for n in ("zero", "credit", "credit_same_day")] == [-2, 0, 0]
    # Status history, with its cause.
    zero = fresh(p["zero"])
    assert (zero.status, zero.alert_deadline) == ("alert", D(2026, 3, 30))
    assert list(StatusChange.objects.filter(member=zero).values_list("from_status", "to_status", "effective_date", "cause")) == [
        ("up_to_date", "alert", D(2026, 3, 2), DAILY),  # the charge's date, not the run's
        ("not_concerned", "up_to_date", D(2026, 1, 5), "Membership: Active"),
    ]
    assert fresh(p["credit"]).status == "up_to_date"
    assert JobRun.objects.get(name="update_statuses").last_date == D(2026, 3, 3)
    assert_bulk_matches_single(D(2026, 3, 3))


def test_update_statuses_second_run_changes_nothing(ftop_members):
    run("update_statuses", today="2026-03-03")
    before = row_counts()
    stored = list(Member.objects.order_by("pk").values_list("status", "counter_standard", "counter_ftop", "alert_deadline", "delay_until"))

    out = run("update_statuses", today="2026-03-03")

    assert counts(out) == {"memberships": 0, "cycle_charges": 0, "statuses": 0}
    assert row_counts() == before
    assert list(Member.objects.order_by("pk").values_list("status", "counter_standard", "counter_ftop", "alert_deadline", "delay_until")) == stored
    # Later days of the same cycle write no charge either.
    assert counts(run("update_statuses", today="2026-03-04"))["cycle_charges"] == 0
    assert CounterEvent.objects.filter(kind=st.CYCLE_CHARGE).count() == 3


def test_cycle_charge_is_written_once_per_member_and_cycle_even_when_called_again(ftop_members):
    run("update_statuses", today="2026-03-03")

    assert services.cycle_charges_write(today=D(2026, 3, 3)) == 0
    assert services.cycle_charges_write(today=D(2026, 3, 5)) == 0
    assert CounterEvent.objects.filter(kind=st.CYCLE_CHARGE).count() == 3
    assert list(CycleStartProcessed.objects.values_list("cycle_start", "charges")) == [(CYCLE, 3)]


def test_cycle_starts_missed_while_the_job_did_not_run_are_charged_at_the_next_run(ftop_members):
    p = ftop_members
    run("update_statuses", today="2026-03-03")

    # Not run from 03-04 to 04-04: the charge of 03-30 (window 03-02..03-29) comes on 04-05.
    out = run("update_statuses", today="2026-04-05")

    owing = {"zero", "credit", "credit_same_day", "newcomer", "switched", "exempted"}  # the leave ends 03-09: in the window
    assert counts(out)["cycle_charges"] == len(owing)
    for name, m in p.items():
        expected = [(D(2026, 3, 30), D(2026, 3, 30), -2)] if name in owing else []
        assert [c for c in charges(m) if c[0] == D(2026, 3, 30)] == expected, name

    # Two cycle starts missed (04-27 and 05-25): both charged, each from the counter as it stood.
    out = run("update_statuses", today="2026-06-01")

    assert counts(out)["cycle_charges"] == 2 * (len(owing) + 1)  # the leave member owes again from 04-27 (window 03-30..04-26)
    assert charges(p["zero"]) == [
        (D(2026, 3, 2), D(2026, 3, 2), -2), (D(2026, 3, 30), D(2026, 3, 30), -2),
        (D(2026, 4, 27), D(2026, 4, 27), -2), (D(2026, 5, 25), D(2026, 5, 25), -2),
    ]
    assert [c[0] for c in charges(p["leave"])] == [D(2026, 4, 27), D(2026, 5, 25)]
    assert fresh(p["zero"]).counter_ftop == -8
    assert fresh(p["zero"]).status == "unsubscribed"  # -8 unsubscribes an FTOP member
    assert_bulk_matches_single(D(2026, 6, 1))
    assert counts(run("update_statuses", today="2026-06-01")) == {"memberships": 0, "cycle_charges": 0, "statuses": 0}


def test_cycle_charge_takes_one_point_from_a_positive_counter_and_two_otherwise():
    people = {points: member(D(2026, 1, 5), "ftop") for points in (3, 1, -1)}
    for points, m in people.items():
        services.correction_write(member=m, counter="ftop", points=points, reason="set", today=D(2026, 1, 10))

    run("update_statuses", today="2026-03-03")

    assert {points: charges(m)[0][2] for points, m in people.items()} == {3: -1, 1: -1, -1: -2}
    assert {points: fresh(m).counter_ftop for points, m in people.items()} == {3: 2, 1: 0, -1: -3}


def test_cycle_charge_in_daily_order_includes_the_shifts_of_the_cycle_start_day():
    tpl = template("A-Mon", "A", 0)
    m = member(D(2026, 1, 10), "ftop")  # owes the charge of 03-02, not the one of 02-02
    run("generate_shifts", start="2026-03-01", end="2026-03-08")
    services.shift_book(shift=shift_of(tpl, CYCLE), member=m, now=at(D(2026, 2, 25), 9))

    def night(day: str) -> None:  # the beat's order, before dawn
        run("generate_shifts", start=day, end="2026-03-08")
        run("close_shifts", today=day)
        run("update_statuses", today=day)

    night("2026-03-01")
    night("2026-03-02")
    assert charges(m) == [(CYCLE, CYCLE, -2)]  # on its own day, from the counter as it stands (0)
    services.attendance_record(shift=shift_of(tpl, CYCLE), member=m, state="attended", now=at(CYCLE, 10), today=CYCLE)
    night("2026-03-03")

    # The shift of that morning comes first: the charge is re-resolved from 1 (reversal, new row).
    live = CounterEvent.objects.filter(member=m, kind=st.CYCLE_CHARGE, reversed_by__isnull=True)
    assert list(live.values_list("cycle_start", "ftop_points", "revision")) == [(CYCLE, -1, 1)]
    assert CounterEvent.objects.filter(member=m, kind=st.REVERSAL, reverses__kind=st.CYCLE_CHARGE).count() == 1
    assert fresh(m).counter_ftop == 0


def test_deadline_passing_turns_alert_into_suspended():
    tpl = template("A-Mon", "A", 0)
    m = member(D(2026, 2, 2))
    services.slot_assign(template=tpl, member=m, start_date=CYCLE, today=D(2026, 2, 20))
    run("generate_shifts", start="2026-03-02", end="2026-03-08")
    run("close_shifts", today="2026-03-03")  # missed 03-02: -2, episode from 03-02, deadline 03-30
    assert (fresh(m).status, fresh(m).alert_deadline) == ("alert", D(2026, 3, 30))

    assert counts(run("update_statuses", today="2026-03-29"))["statuses"] == 0
    assert fresh(m).status == "alert"

    assert counts(run("update_statuses", today="2026-03-30"))["statuses"] == 1
    assert fresh(m).status == "suspended"
    assert list(StatusChange.objects.filter(member=m).values_list("from_status", "to_status", "effective_date", "cause")) == [
        ("alert", "suspended", D(2026, 3, 30), DAILY),
        ("up_to_date", "alert", D(2026, 3, 2), "Missed own regular shift"),  # dated on the shift, not on the job
        ("not_concerned", "up_to_date", D(2026, 2, 2), "Membership: Active"),
    ]
    assert counts(run("update_statuses", today="2026-03-30"))["statuses"] == 0
    assert_bulk_matches_single(D(2026, 3, 30))


def test_update_statuses_starts_and_ends_leaves_on_their_dates():
    m = member(D(2026, 1, 20), "ftop")  # no cycle charge owed at 02-02 or 03-02
    services.leave_create(member=m, start=D(2026, 2, 10), end=D(2026, 3, 9), reason="travel", today=D(2026, 2, 1), now=at(D(2026, 2, 1), 9))
    assert fresh(m).status == "up_to_date"

    assert counts(run("update_statuses", today="2026-02-10"))["statuses"] == 1
    assert fresh(m).status == "on_leave"
    assert counts(run("update_statuses", today="2026-03-10"))["statuses"] == 1
    assert fresh(m).status == "up_to_date"
    assert list(StatusChange.objects.filter(member=m).order_by("id").values_list("to_status", "effective_date", "cause")) == [
        ("up_to_date", D(2026, 1, 20), "Membership: Active"),
        ("on_leave", D(2026, 2, 10), DAILY), ("up_to_date", D(2026, 3, 10), DAILY),
    ]


# --- Celery tasks -----------------------------------------------------------------------------

@pytest.fixture
def daily_scenario():
    """One slot holder who misses, one FTOP member owing the charge of 2026-03-02."""
    tpl = template("A-Mon", "A", 0)
    std = member(D(2026, 2, 2))
    services.slot_assign(template=tpl, member=std, start_date=CYCLE, today=D(2026, 2, 20))
    ftop = member(D(2026, 1, 5), "ftop")
    return std, ftop


EXPECTED_DAILY = {
    "generate": {"shifts": 4, "registrations": 4},
    "close": {"missed": 1, "shifts_closed": 1},
    "update": {"memberships": 0, "cycle_charges": 1, "statuses": 1},
}


def assert_daily_outcome(std: Member, ftop: Member) -> None:
    assert (fresh(std).counter_standard, fresh(std).status) == (-2, "alert")
    assert (fresh(ftop).counter_ftop, fresh(ftop).status) == (-2, "alert")
    assert charges(ftop) == [(CYCLE, CYCLE, -2)]
    assert Shift.objects.count() == 4


def test_daily_jobs_as_commands(daily_scenario):
    got = {
        "generate": counts(run("generate_shifts", start="2026-03-02", end="2026-05-31")),
        "close": counts(run("close_shifts", today="2026-03-03")),
        "update": counts(run("update_statuses", today="2026-03-03")),
    }
    assert got == EXPECTED_DAILY
    assert_daily_outcome(*daily_scenario)


def test_daily_jobs_as_eager_celery_tasks_give_the_same_results(daily_scenario):
    got = {
        "generate": tasks.generate_shifts_task.delay("2026-03-02", "2026-05-31").get(),
        "close": tasks.close_shifts_task.delay("2026-03-03").get(),
        "update": tasks.update_statuses_task.delay("2026-03-03").get(),
    }
    assert got == EXPECTED_DAILY
    assert_daily_outcome(*daily_scenario)
    # And a re-run changes nothing.
    assert tasks.generate_shifts_task.delay("2026-03-02", "2026-05-31").get() == {"shifts": 0, "registrations": 0}
    assert tasks.close_shifts_task.delay("2026-03-03").get() == {"missed": 0, "shifts_closed": 0}
    assert tasks.update_statuses_task.delay("2026-03-03").get() == {"memberships": 0, "cycle_charges": 0, "statuses": 0}


def test_tasks_read_the_coop_clock_and_generate_the_days_ahead(daily_scenario, monkeypatch):
    monkeypatch.setattr(tasks, "coop_today", lambda: D(2026, 3, 3))

    assert tasks.generate_shifts_task.delay().get() == {"shifts": 3, "registrations": 3}  # 03-30, 04-27, 05-25 (to 06-01)
    assert tasks.close_shifts_task.delay().get() == {"missed": 0, "shifts_closed": 0}
    assert tasks.update_statuses_task.delay().get()["cycle_charges"] == 1
    assert JobRun.objects.get(name="update_statuses").last_date == D(2026, 3, 3)


def test_task_retries_on_a_database_error(monkeypatch):
    calls = []

    def flaky(*, today):
        calls.append(today)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return {"memberships": 0, "cycle_charges": 0, "statuses": 0}

    monkeypatch.setattr(tasks, "statuses_update", flaky)
    # throw=False: an eager task with eager propagation would raise the Retry instead of re-running.
    result = tasks.update_statuses_task.apply(args=("2026-03-02",), throw=False)

    assert result.get() == {"memberships": 0, "cycle_charges": 0, "statuses": 0}
    assert calls == [CYCLE, CYCLE]


def test_task_does_not_retry_other_errors(monkeypatch):
    calls = []

    def broken(*, today, now=None):
        calls.append(today)
        raise ValueError("a bug")

    monkeypatch.setattr(tasks, "shifts_close", broken)
    with pytest.raises(ValueError):
        tasks.close_shifts_task.delay("2026-03-02").get()
    assert calls == [CYCLE]


def test_beat_runs_generate_then_close_then_update_daily_in_the_coop_time_zone(settings):
    from coopmarket.celery import app

    schedule = app.conf.beat_schedule
    entries = {entry["task"]: entry["schedule"] for entry in schedule.values()}
    names = ["shifts.tasks.generate_shifts_task", "shifts.tasks.close_shifts_task", "shifts.tasks.update_statuses_task"]
    assert set(names) <= set(entries)  # the notification jobs (test_notifications.py) come after them
    assert all(name in app.tasks for name in names)
    assert all(isinstance(s, crontab) and s.day_of_week == set(range(7)) for s in entries.values())
    times = [(min(entries[n].hour), min(entries[n].minute)) for n in names]
    assert times == sorted(times) and len(set(times)) == 3  # generate, then close, then update
    assert str(app.conf.timezone) == settings.COOP_TIME_ZONE == "Europe/Paris"
    assert cycle.week_letter(CYCLE, settings.COOP_CYCLE_START) == "A"
