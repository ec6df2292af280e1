"""Qualified seats through the services (DOMAIN.md §9): booking, coordinators, regular slots, the
exchange, template changes, re-seating when qualifications change, and the "no leader" flag."""
import datetime

import pytest
from django.core.exceptions import ValidationError

from coopmarket.errors import RuleViolation
from members import qualifications as quals
from members.models import CoopParameters, Member, Qualification
from shifts import selectors, services
from shifts.models import Registration, Shift, ShiftRequirement, SlotAssignment
from shifts.seats import OPEN

from .conftest import NOW, TODAY, at, generate, make_template, shift_of, working_member

pytestmark = pytest.mark.django_db

WED = datetime.date(2026, 3, 4)   # the first Wednesday shift, 48 h after NOW
LATER = datetime.date(2026, 4, 1)  # the same template four weeks later (week A again)
DAY = datetime.timedelta(days=1)




@pytest.fixture
def till(leader, cashier):
    """Week A Wednesday 09:00-12:00, capacity 4: 1 leader seat, 1 cashier seat, 2 open seats; shifts generated."""
    template = make_template("Till", capacity=4)
    services.template_requirements_set(template=template, requirements=[(leader, 1), (cashier, 1)], now=NOW)
    generate()
    return template


def trained(name, *qualifications, shift_type=Member.ShiftType.FTOP, since=TODAY - 30 * DAY, until=None):
    member = working_member(name, shift_type=shift_type)
    for qualification in qualifications:
        quals.member_qualification_grant(member=member, qualification=qualification, since=since, until=until, today=TODAY)
    return Member.objects.get(pk=member.pk)


def book(shift, member, **kw):
    return services.shift_book(shift=shift, member=member, now=NOW, **kw)


def seat_of(shift, member):
    return Registration.objects.get(shift=shift, member=member, cancelled_at__isnull=True).seat_id


def refusal(call) -> str:
    with pytest.raises(RuleViolation) as refused:
        call()
    return refused.value.code


# --- booking --------------------------------------------------------------------------------------------

def test_generated_shifts_copy_the_templates_qualified_seats(till, leader, cashier):
    shift = shift_of(till, WED)
    assert list(shift.requirements.values_list("qualification__code", "seats")) == [("leader", 1), ("cashier", 1)]
    assert Shift.objects.filter(template=till).count() == ShiftRequirement.objects.filter(qualification=leader).count()


def test_a_trained_member_takes_the_qualified_seat_before_an_open_seat(till, cashier):
    shift = shift_of(till, WED)
    registration = book(shift, trained("Cora", cashier))
    assert registration.seat == cashier


def test_a_member_trained_for_both_gets_the_qualification_with_fewer_holders(till, leader, cashier):
    trained("Other1", cashier), trained("Other2", cashier)
    both = trained("Both", leader, cashier)
    assert book(shift_of(till, WED), both).seat == leader  # 1 leader, 3 cashiers hold them


def test_an_untrained_member_takes_an_open_seat_then_gets_not_qualified(till):
    shift = shift_of(till, WED)
    assert book(shift, working_member("Ann", shift_type=Member.ShiftType.FTOP)).seat_id is OPEN
    assert book(shift, working_member("Ben", shift_type=Member.ShiftType.FTOP)).seat_id is OPEN
    assert refusal(lambda: book(shift, working_member("Cid", shift_type=Member.ShiftType.FTOP))) == "not_qualified"
    assert shift.registrations.filter(cancelled_at__isnull=True).count() == 2


def test_a_full_shift_is_shift_full_for_everyone(till, leader, cashier):
    shift = shift_of(till, WED)
    for name in ("Ann", "Ben"):
        book(shift, working_member(name, shift_type=Member.ShiftType.FTOP))
    book(shift, trained("Lea", leader))
    book(shift, trained("Cas", cashier))
    assert refusal(lambda: book(shift, trained("Lou", leader))) == "shift_full"


def test_a_trained_member_takes_an_open_seat_once_their_seat_is_taken(till, cashier):
    shift = shift_of(till, WED)
    book(shift, trained("First", cashier))
    assert book(shift, trained("Second", cashier)).seat_id is OPEN


def test_a_member_names_the_seat_they_want(till, leader, cashier):
    shift = shift_of(till, WED)
    both = trained("Both", leader, cashier)
    assert book(shift, both, seat=cashier).seat == cashier
    assert book(shift_of(till, LATER), both, seat=OPEN).seat_id is OPEN


def test_naming_a_seat_one_is_not_trained_for_is_not_qualified(till, leader, cashier):
    shift = shift_of(till, WED)
    assert refusal(lambda: book(shift, trained("Cas", cashier), seat=leader)) == "not_qualified"


def test_naming_a_taken_seat_is_shift_full_and_a_seat_the_shift_lacks_is_bad_input(till, leader):
    shift = shift_of(till, WED)
    book(shift, trained("Lea", leader))
    assert refusal(lambda: book(shift, trained("Lou", leader), seat=leader)) == "shift_full"
    reception = Qualification.objects.get_or_create(code="reception", defaults={"name": "Reception"})[0]
    with pytest.raises(ValidationError):
        book(shift, trained("Rex", reception), seat=reception)


def test_a_qualification_counts_when_it_is_held_on_the_shifts_date(till, leader):
    shift = shift_of(till, WED)
    expiring = trained("Exp", leader, until=WED - DAY)  # held today, expired on the shift's date
    assert book(shift, expiring).seat_id is OPEN
    coming = trained("Com", leader, since=WED)  # not held today, held on the shift's date
    assert book(shift, coming).seat == leader


def test_a_revoked_qualification_no_longer_counts(till, leader):
    member = trained("Rev", leader)
    quals.member_qualification_revoke(member=member, qualification=leader, today=TODAY)
    assert refusal(lambda: book(shift_of(till, WED), member, seat=leader)) == "not_qualified"


# --- coordinators -------------------------------------------------------------------------------------------

def fill_open(shift, n=2):
    for index in range(n):
        book(shift, working_member(f"Open{index}", shift_type=Member.ShiftType.FTOP))


def test_coordinators_are_bound_by_qualifications_too(till, coordinator):
    shift = shift_of(till, WED)
    fill_open(shift)
    member = working_member("New", shift_type=Member.ShiftType.FTOP)
    assert refusal(lambda: book(shift, member, by=coordinator, as_coordinator=True, reason="Knows the till")) == "not_qualified"


def test_with_the_parameter_coordinators_confirm_an_untrained_member_with_a_logged_reason(till, coordinator, leader):
    CoopParameters.objects.filter(pk=CoopParameters.current().pk).update(coordinators_confirm_unqualified=True)
    shift = shift_of(till, WED)
    fill_open(shift)
    member = working_member("New", shift_type=Member.ShiftType.FTOP)
    assert refusal(lambda: book(shift, member, by=coordinator, as_coordinator=True)) == "not_qualified"  # no reason given
    assert refusal(lambda: book(shift, member, reason="I say so")) == "not_qualified"  # a member is never confirmed
    registration = book(shift, member, by=coordinator, as_coordinator=True, reason="Trained last week, not recorded yet")
    assert registration.seat == leader
    assert (registration.seat_reason, registration.created_by) == ("Trained last week, not recorded yet", coordinator)
    # Confirmed but not qualified: the seat still counts as empty for the "no leader" flag.
    fact = selectors.seat_facts([shift])[shift.pk]
    assert [q.code for q, _n in fact.empty] == ["leader", "cashier"]


def test_coordinators_record_a_make_up_on_a_started_shift_beyond_its_seats(till, coordinator):
    shift = shift_of(till, WED)
    fill_open(shift)
    registration = services.shift_book(shift=shift, member=working_member("Late", shift_type=Member.ShiftType.FTOP),
                                       now=at(WED, 10), by=coordinator, as_coordinator=True)
    assert registration.seat_id is OPEN


# --- regular slots ----------------------------------------------------------------------------------------

def test_a_slot_takes_a_seat_and_its_registrations_sit_there(till, leader):
    member = trained("Lea", leader, shift_type=Member.ShiftType.STANDARD)
    slot = services.slot_assign(template=till, member=member, start_date=TODAY, today=TODAY)
    assert slot.seat == leader
    assert set(Registration.objects.filter(member=member).values_list("seat__code", flat=True)) == {"leader"}


def test_an_untrained_member_gets_no_slot_when_only_qualified_seats_are_left(till):
    for index in range(2):
        services.slot_assign(template=till, member=working_member(f"Std{index}"), start_date=TODAY, today=TODAY)
    member = working_member("Third")
    assert refusal(lambda: services.slot_assign(template=till, member=member, start_date=TODAY, today=TODAY)) == "not_qualified"
    assert not SlotAssignment.objects.filter(member=member).exists()


def test_a_slot_whose_seat_is_taken_on_some_dates_is_refused_naming_them(till, leader):
    book(shift_of(till, WED), working_member("Ann", shift_type=Member.ShiftType.FTOP))
    book(shift_of(till, WED), working_member("Ben", shift_type=Member.ShiftType.FTOP))
    member = working_member("Std")
    with pytest.raises(RuleViolation) as refused:
        services.slot_assign(template=till, member=member, start_date=TODAY, today=TODAY)
    assert refused.value.code == "shift_full" and refused.value.extra["dates"] == [WED.isoformat()]
    slot = services.slot_assign(template=till, member=member, start_date=WED + DAY, today=TODAY)
    assert slot.seat_id is OPEN


def test_a_slot_holder_whose_qualification_expires_keeps_the_slot_and_the_shift_is_flagged(till, leader):
    member = trained("Exp", leader, shift_type=Member.ShiftType.STANDARD, until=LATER - DAY)
    slot = services.slot_assign(template=till, member=member, start_date=TODAY, today=TODAY)
    assert slot.seat == leader
    assert seat_of(shift_of(till, WED), member) == leader.pk
    # After the expiry the holder is still registered (an open seat while one is free) and the
    # leader seat is empty: flagged when it comes within the days of the parameter.
    later = shift_of(till, LATER)
    assert seat_of(later, member) is OPEN
    assert SlotAssignment.objects.get(pk=slot.pk).end_date is None
    flagged = selectors.mark_seats([Shift.objects.get(pk=later.pk)], now=at(LATER - 2 * DAY, 9), today=LATER - 2 * DAY)[0]
    assert flagged.no_leader and [q.code for q, _n in flagged.empty_seats] == ["leader", "cashier"]


def test_with_no_open_seat_left_an_expired_holder_keeps_the_qualified_seat_and_the_shift_is_flagged(till, leader):
    for index in range(2):
        services.slot_assign(template=till, member=working_member(f"Std{index}"), start_date=TODAY, today=TODAY)
    member = trained("Exp", leader, shift_type=Member.ShiftType.STANDARD, until=WED - DAY)
    slot = services.slot_assign(template=till, member=member, start_date=TODAY, today=TODAY)
    assert slot.seat == leader  # trained on the slot's first day
    shift = shift_of(till, WED)
    assert seat_of(shift, member) == leader.pk  # expired on WED, no open seat free: keeps the seat
    fact = selectors.seat_facts([shift])[shift.pk]
    assert ("leader", 1) in [(q.code, n) for q, n in fact.empty]
    assert flagged(shift, today=TODAY)


# --- the exchange ------------------------------------------------------------------------------------------

def test_an_offered_qualified_seat_goes_only_to_a_trained_member(till, leader):
    shift = shift_of(till, WED)
    giver = trained("Giv", leader)
    book(shift, giver)
    services.shift_offer(shift=shift, member=giver, now=NOW)
    untrained = working_member("Unt", shift_type=Member.ShiftType.FTOP)
    assert refusal(lambda: services.shift_take(shift=shift, member=untrained, now=NOW)) == "not_qualified"
    taker = trained("Tak", leader)
    taken = services.shift_take(shift=shift, member=taker, now=NOW)
    assert taken.seat == leader
    assert Registration.objects.get(shift=shift, member=giver).cancel_reason == "exchanged"


def test_the_taker_gets_an_offer_they_qualify_for_when_several_are_offered(till, leader):
    shift = shift_of(till, WED)
    giver_leader, giver_open = trained("Giv", leader), working_member("Opn", shift_type=Member.ShiftType.FTOP)
    book(shift, giver_leader)
    book(shift, giver_open)
    services.shift_offer(shift=shift, member=giver_leader, now=NOW)
    services.shift_offer(shift=shift, member=giver_open, now=NOW + datetime.timedelta(minutes=1))
    taken = services.shift_take(shift=shift, member=working_member("Unt", shift_type=Member.ShiftType.FTOP), now=NOW)
    assert taken.seat_id is OPEN
    assert Registration.objects.get(shift=shift, member=giver_open).cancel_reason == "exchanged"
    assert Registration.objects.get(shift=shift, member=giver_leader).cancelled_at is None


# --- template changes --------------------------------------------------------------------------------------

def test_a_requirement_added_to_a_template_takes_the_free_seats_of_its_future_shifts(leader):
    template = make_template("Shelves", capacity=3)
    generate()
    shift = shift_of(template, WED)
    for name in ("Ann", "Ben"):
        book(shift, working_member(name, shift_type=Member.ShiftType.FTOP))
    services.template_requirements_set(template=template, requirements=[(leader, 1)], now=NOW)
    # Registrations already there stay on their seats; the last seat now needs a leader.
    assert Registration.objects.filter(shift=shift, cancelled_at__isnull=True, seat__isnull=True).count() == 2
    assert refusal(lambda: book(shift, working_member("Cid", shift_type=Member.ShiftType.FTOP))) == "not_qualified"
    assert book(shift, trained("Lea", leader)).seat == leader


def test_a_full_shift_given_a_requirement_keeps_everyone(leader):
    template = make_template("Shelves", capacity=2)
    generate()
    shift = shift_of(template, WED)
    for name in ("Ann", "Ben"):
        book(shift, working_member(name, shift_type=Member.ShiftType.FTOP))
    services.template_requirements_set(template=template, requirements=[(leader, 1)], now=NOW)
    assert shift.registrations.filter(cancelled_at__isnull=True).count() == 2
    assert refusal(lambda: book(shift, trained("Lea", leader))) == "shift_full"


def test_past_shifts_keep_their_requirements_and_removing_one_moves_its_seats_to_open(till, leader):
    past = Shift.objects.create(template=till, name="Till", date=TODAY - 7 * DAY, start=at(TODAY - 7 * DAY, 9),
                                end=at(TODAY - 7 * DAY, 12), capacity=4, week="D")
    ShiftRequirement.objects.create(shift=past, qualification=leader, seats=1)
    shift = shift_of(till, WED)
    lea = trained("Lea", leader)
    book(shift, lea)
    services.template_requirements_set(template=till, requirements=[], now=NOW)
    assert not shift.requirements.exists()
    assert seat_of(shift, lea) is OPEN
    assert past.requirements.filter(qualification=leader).exists()


def test_template_requirements_fit_in_the_capacity(till, leader, cashier):
    with pytest.raises(ValidationError):
        services.template_requirements_set(template=till, requirements=[(leader, 3), (cashier, 2)], now=NOW)
    with pytest.raises(ValidationError):
        services.template_requirements_set(template=till, requirements=[(leader, 1), (leader, 1)], now=NOW)
    with pytest.raises(ValidationError):
        services.template_requirements_set(template=till, requirements=[(leader, -1)], now=NOW)
    with pytest.raises(ValidationError):
        services.template_update(template=till, now=NOW, capacity=1)
    assert list(till.requirements.values_list("qualification__code", "seats")) == [("leader", 1), ("cashier", 1)]


# --- re-seating when qualifications change -----------------------------------------------------------------

def test_a_revoke_moves_the_members_coming_qualified_seats_to_open_seats(till, leader):
    member = trained("Lea", leader)
    shift = shift_of(till, WED)
    book(shift, member)
    quals.member_qualification_revoke(member=member, qualification=leader, today=TODAY)
    assert seat_of(shift, member) is OPEN
    assert book(shift, trained("New", leader)).seat == leader


def test_a_refresher_training_puts_a_slot_holder_back_on_the_slots_seat(till, leader):
    member = trained("Exp", leader, shift_type=Member.ShiftType.STANDARD, until=LATER - DAY)
    services.slot_assign(template=till, member=member, start_date=TODAY, today=TODAY)
    assert seat_of(shift_of(till, LATER), member) is OPEN
    quals.member_qualification_grant(member=member, qualification=leader, since=LATER - 3 * DAY, until=LATER + 365 * DAY, today=TODAY)
    assert seat_of(shift_of(till, LATER), member) == leader.pk


# --- the "no leader" flag ----------------------------------------------------------------------------------

def flagged(shift, *, today, now=None):
    shift = Shift.objects.get(pk=shift.pk)
    return selectors.mark_seats([shift], now=now or at(today, 8), today=today)[0].no_leader


def test_a_shift_with_an_empty_qualified_seat_is_flagged_within_the_parameters_days(till, leader, cashier):
    shift = shift_of(till, WED)
    assert flagged(shift, today=TODAY)  # two days ahead
    assert not flagged(shift_of(till, LATER), today=TODAY)  # four weeks ahead
    CoopParameters.objects.filter(pk=CoopParameters.current().pk).update(no_leader_days=1)
    assert not flagged(shift, today=TODAY)
    assert flagged(shift, today=WED - DAY)


def test_the_flag_goes_once_qualified_members_sit_on_every_qualified_seat(till, leader, cashier):
    shift = shift_of(till, WED)
    book(shift, trained("Lea", leader))
    assert flagged(shift, today=TODAY)
    book(shift, trained("Cas", cashier))
    assert not flagged(shift, today=TODAY)
    assert selectors.shifts_without_leader(now=NOW, today=TODAY) == []


def test_a_cancelled_or_ended_shift_is_not_flagged(till):
    shift = shift_of(till, WED)
    assert not flagged(shift, today=WED, now=at(WED, 12, 30))
    Shift.objects.filter(pk=shift.pk).update(cancelled=True)
    assert not flagged(shift, today=TODAY)


def test_shifts_without_a_qualified_seat_are_never_flagged(wednesday, calendar):
    assert not flagged(calendar, today=TODAY)
    assert selectors.shifts_without_leader(now=NOW, today=TODAY) == []
