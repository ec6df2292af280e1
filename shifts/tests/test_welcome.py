"""Welcome sessions (DOMAIN.md §9): no points, the welcome date, "welcome before booking", the
welcome desk."""
import datetime

import pytest

from coopmarket.errors import RuleViolation
from members import qualifications as quals
from members.models import CoopParameters, Member
from members.tests.factories import MemberFactory
from shifts import services
from shifts.models import CounterEvent, Registration, SlotAssignment

from .conftest import NOW, TODAY, at, generate, make_template, shift_of, working_member

pytestmark = pytest.mark.django_db

WED = datetime.date(2026, 3, 4)
SAT = datetime.date(2026, 3, 7)


@pytest.fixture
def welcome(db):
    """A welcome session on Saturdays of week A, 10:00-11:30, capacity 10; shifts generated."""
    template = make_template("Welcome", weekday=5, start=(10, 0), end=(11, 30), capacity=10)
    services.template_update(template=template, now=NOW, welcome=True)
    return template


@pytest.fixture
def sessions(welcome, wednesday):
    generate()
    return shift_of(welcome, SAT)


def welcome_on():
    CoopParameters.objects.filter(pk=CoopParameters.current().pk).update(welcome_before_booking=True)


def refusal(call) -> str:
    with pytest.raises(RuleViolation) as refused:
        call()
    return refused.value.code


def test_generated_welcome_sessions_are_flagged(sessions):
    assert sessions.welcome


def test_attending_a_welcome_session_records_the_welcome_date_and_no_points(sessions):
    member = working_member("New")
    services.shift_book(shift=sessions, member=member, now=NOW)
    services.attendance_record(shift=sessions, member=member, state="attended", now=at(SAT, 11), today=SAT)
    member.refresh_from_db()
    assert member.welcomed_on == SAT
    assert not CounterEvent.objects.filter(member=member, shift=sessions).exists()
    assert (member.counter_standard, member.counter_ftop) == (0, 0)


def test_missing_a_welcome_session_costs_nothing(sessions):
    member = working_member("Absent", shift_type=Member.ShiftType.FTOP)
    services.shift_book(shift=sessions, member=member, now=NOW)
    services.shifts_close(today=SAT + datetime.timedelta(days=1))
    registration = Registration.objects.get(shift=sessions, member=member)
    member.refresh_from_db()
    assert registration.attendance == "missed"
    assert not CounterEvent.objects.filter(member=member).exists()
    assert member.counter_ftop == 0 and member.welcomed_on is None


def test_an_attendance_changed_away_from_attended_takes_the_welcome_date_back(sessions):
    member = working_member("Oops")
    services.shift_book(shift=sessions, member=member, now=NOW)
    services.attendance_record(shift=sessions, member=member, state="attended", now=at(SAT, 11), today=SAT)
    services.attendance_record(shift=sessions, member=member, state="missed", now=at(SAT, 12), today=SAT)
    member.refresh_from_db()
    assert member.welcomed_on is None and not CounterEvent.objects.filter(member=member).exists()


def test_with_the_parameter_off_nobody_needs_a_welcome(sessions, wednesday):
    member = working_member("Free", shift_type=Member.ShiftType.FTOP)
    assert services.shift_book(shift=shift_of(wednesday, WED), member=member, now=NOW)


def test_welcome_first_on_own_bookings_takes_and_slots_but_not_on_welcome_sessions(sessions, wednesday, coordinator):
    welcome_on()
    newcomer = working_member("Newbie", shift_type=Member.ShiftType.FTOP)
    shift = shift_of(wednesday, WED)
    assert refusal(lambda: services.shift_book(shift=shift, member=newcomer, now=NOW)) == "welcome_first"
    giver = working_member("Giver", shift_type=Member.ShiftType.FTOP)
    quals.member_welcomed_set(member=giver, day=TODAY)
    services.shift_book(shift=shift, member=giver, now=NOW)
    services.shift_offer(shift=shift, member=giver, now=NOW)
    assert refusal(lambda: services.shift_take(shift=shift, member=newcomer, now=NOW)) == "welcome_first"
    standard = working_member("Standard")
    assert refusal(lambda: services.slot_assign(template=wednesday, member=standard, start_date=TODAY, today=TODAY, by=coordinator)) == "welcome_first"
    assert not SlotAssignment.objects.filter(member=standard).exists()
    # A welcome session is always open to them.
    assert services.shift_book(shift=sessions, member=newcomer, now=NOW).shift == sessions


def test_coordinators_registering_a_member_are_not_bound_by_the_welcome(sessions, wednesday, coordinator):
    welcome_on()
    newcomer = working_member("Newbie", shift_type=Member.ShiftType.FTOP)
    registration = services.shift_book(shift=shift_of(wednesday, WED), member=newcomer, now=NOW, by=coordinator, as_coordinator=True)
    assert registration.member == newcomer


def test_switching_the_parameter_on_counts_existing_members_as_welcomed(sessions, wednesday):
    existing = working_member("Before", shift_type=Member.ShiftType.FTOP)
    quals.welcome_before_booking_set(on=True, today=TODAY)
    existing.refresh_from_db()
    assert existing.welcomed_on == existing.joined_on
    assert services.shift_book(shift=shift_of(wednesday, WED), member=existing, now=NOW)
    after = working_member("After", shift_type=Member.ShiftType.FTOP)
    assert refusal(lambda: services.shift_book(shift=shift_of(wednesday, WED), member=after, now=NOW)) == "welcome_first"


def test_a_newcomer_without_paid_shares_books_a_welcome_session_and_nothing_else(sessions, wednesday):
    newcomer = MemberFactory(joined_on=TODAY)
    assert newcomer.status == Member.Status.NOT_CONCERNED
    assert services.shift_book(shift=sessions, member=newcomer, now=NOW).shift == sessions
    assert refusal(lambda: services.shift_book(shift=shift_of(wednesday, WED), member=newcomer, now=NOW)) == "not_allowed"


def test_the_welcome_desk_records_the_session_and_gives_the_first_slot(sessions, wednesday, coordinator):
    welcome_on()
    newcomer = working_member("Newbie")
    services.shift_book(shift=sessions, member=newcomer, now=NOW)
    slot = services.welcome_desk_register(shift=sessions, member=newcomer, template=wednesday, today=SAT, now=at(SAT, 11, 30),
                                          by=coordinator)
    newcomer.refresh_from_db()
    assert newcomer.welcomed_on == SAT
    assert Registration.objects.get(shift=sessions, member=newcomer).attendance == "attended"
    assert (slot.template, slot.start_date) == (wednesday, SAT)
    assert Registration.objects.filter(member=newcomer, kind="regular", shift__template=wednesday).exists()


def test_the_welcome_desk_cannot_record_a_session_before_it_starts(sessions, wednesday, coordinator):
    newcomer = working_member("Early")
    services.shift_book(shift=sessions, member=newcomer, now=NOW)
    assert refusal(lambda: services.welcome_desk_register(shift=sessions, member=newcomer, template=wednesday, today=TODAY,
                                                          now=NOW, by=coordinator)) == "not_started"
    assert not SlotAssignment.objects.filter(member=newcomer).exists()


def test_a_welcome_session_is_not_a_regular_slot(sessions, welcome, wednesday):
    member = working_member("Std")
    assert refusal(lambda: services.slot_assign(template=welcome, member=member, start_date=TODAY, today=TODAY)) == "not_allowed"
    services.slot_assign(template=wednesday, member=member, start_date=TODAY, today=TODAY)
    assert refusal(lambda: services.template_update(template=wednesday, now=NOW, welcome=True)) == "not_allowed"


def test_welcome_sessions_do_not_count_in_the_ftop_limits(sessions, wednesday):
    params = CoopParameters.current()
    CoopParameters.objects.filter(pk=params.pk).update(ftop_max_per_cycle=1)
    member = working_member("Fly", shift_type=Member.ShiftType.FTOP)
    services.shift_book(shift=sessions, member=member, now=NOW)
    assert services.shift_book(shift=shift_of(wednesday, WED), member=member, now=NOW)
