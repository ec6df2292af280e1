"""The seat rule (DOMAIN.md §9) as a pure function: `shifts.seats`."""
import pytest

from shifts.seats import (
    AUTO,
    BEYOND,
    NAMED,
    NO_SUCH_SEAT,
    NOT_QUALIFIED,
    OPEN,
    OPEN_SEAT,
    OVERRIDE,
    QUALIFIED,
    SHIFT_FULL,
    Requirement,
    Seats,
    choose,
    empty_qualified,
    regular_seat,
)

LEADER, CASHIER, RECEPTION = 1, 2, 3
# Capacity 6: 1 leader, 2 cashier, 3 open seats (DOMAIN.md's example).
TILL = (Requirement(LEADER, 1), Requirement(CASHIER, 2))


def seats(taken=None, capacity=6, requirements=TILL):
    return Seats(capacity, requirements, taken or {})


def test_open_seats_are_the_capacity_minus_the_qualified_seats():
    assert seats().open_seats == 3
    assert seats().free_by_seat() == {LEADER: 1, CASHIER: 2, OPEN: 3}
    assert seats({LEADER: 1, OPEN: 2}).free_by_seat() == {LEADER: 0, CASHIER: 2, OPEN: 1}


def test_a_kind_holding_more_than_its_number_keeps_them_and_no_seat_goes_beyond_the_capacity():
    # Leader seat added to a shift already full of open bookings: they stay, nothing is free.
    full = seats({OPEN: 6})
    assert full.free(LEADER) == 0 and full.free(OPEN) == 0 and full.room == 0
    # One of them cancels: the one seat freed is a qualified one (the requirements took the free seats).
    assert seats({OPEN: 5}).free_by_seat() == {LEADER: 1, CASHIER: 1, OPEN: 0}
    assert seats({OPEN: 5}).room == 1


def test_a_qualified_member_gets_a_qualified_seat_before_an_open_seat():
    assert choose(seats(), held={CASHIER}) == choose(seats(), held={CASHIER}).__class__(CASHIER, QUALIFIED)
    assert choose(seats(), held={CASHIER}).seat == CASHIER


def test_a_qualified_member_takes_an_open_seat_when_their_seats_are_full():
    choice = choose(seats({CASHIER: 2}), held={CASHIER})
    assert choice.ok and choice.seat is OPEN and choice.why == OPEN_SEAT


def test_among_several_the_qualification_with_the_fewest_holders_wins():
    choice = choose(seats(), held={LEADER, CASHIER}, holders={LEADER: 12, CASHIER: 30})
    assert choice.seat == LEADER
    choice = choose(seats(), held={LEADER, CASHIER}, holders={LEADER: 40, CASHIER: 30})
    assert choice.seat == CASHIER


def test_with_as_many_holders_the_templates_order_decides():
    assert choose(seats(), held={LEADER, CASHIER}, holders={LEADER: 5, CASHIER: 5}).seat == LEADER
    reordered = (Requirement(CASHIER, 2), Requirement(LEADER, 1))
    assert choose(seats(requirements=reordered), held={LEADER, CASHIER}, holders={LEADER: 5, CASHIER: 5}).seat == CASHIER


def test_an_unqualified_member_takes_an_open_seat_only():
    choice = choose(seats(), held=set())
    assert choice.seat is OPEN and choice.why == OPEN_SEAT


def test_only_seats_one_does_not_qualify_for_is_not_qualified():
    choice = choose(seats({OPEN: 3}), held=set())
    assert not choice.ok and choice.refusal == NOT_QUALIFIED
    # A reception member is not a leader or a cashier either.
    assert choose(seats({OPEN: 3}), held={RECEPTION}).refusal == NOT_QUALIFIED


def test_no_free_seat_at_all_is_shift_full():
    assert choose(seats({LEADER: 1, CASHIER: 2, OPEN: 3}), held={LEADER}).refusal == SHIFT_FULL
    assert choose(seats({OPEN: 6}), held=set()).refusal == SHIFT_FULL


def test_a_named_seat_is_taken_when_held_and_free():
    assert choose(seats(), held={LEADER, CASHIER}, named=CASHIER) == choose(seats(), held={CASHIER}, named=CASHIER)
    assert choose(seats(), held={LEADER}, named=OPEN).seat is OPEN
    assert choose(seats(), held={LEADER}, named=OPEN).why == NAMED


def test_a_named_seat_one_does_not_hold_is_not_qualified_even_when_free():
    assert choose(seats(), held={CASHIER}, named=LEADER).refusal == NOT_QUALIFIED


def test_a_named_seat_that_is_taken_is_shift_full_even_with_other_seats_free():
    assert choose(seats({LEADER: 1}), held={LEADER}, named=LEADER).refusal == SHIFT_FULL
    assert choose(seats({OPEN: 3}), held=set(), named=OPEN).refusal == SHIFT_FULL


def test_a_seat_the_shift_does_not_have_is_bad_input():
    assert choose(seats(), held={RECEPTION}, named=RECEPTION).refusal == NO_SUCH_SEAT


def test_coordinators_override_takes_a_qualified_seat_for_a_member_without_it():
    choice = choose(seats({OPEN: 3}), held=set(), override=True)
    assert choice.ok and choice.why == OVERRIDE and choice.seat == LEADER
    assert choose(seats(), held=set(), named=CASHIER, override=True).why == OVERRIDE
    # The override never goes beyond the capacity.
    assert choose(seats({LEADER: 1, CASHIER: 2, OPEN: 3}), held=set(), override=True).refusal == SHIFT_FULL


def test_not_bound_by_capacity_takes_an_open_seat_beyond_it():
    choice = choose(seats({LEADER: 1, CASHIER: 2, OPEN: 3}), held=set(), bound=False)
    assert choice.ok and choice.seat is OPEN and choice.why == BEYOND
    assert choose(seats({OPEN: 3}), held=set(), bound=False).why == BEYOND


def test_a_shift_without_qualified_seats_has_only_open_seats():
    plain = Seats(4, (), {OPEN: 3})
    assert choose(plain, held={LEADER}).seat is OPEN
    assert choose(Seats(4, (), {OPEN: 4}), held={LEADER}).refusal == SHIFT_FULL


@pytest.mark.parametrize(("taken", "slot_seat", "held", "expected"), [
    ({}, LEADER, {LEADER}, LEADER),            # the slot's seat while trained
    ({}, LEADER, set(), OPEN),                 # training expired: an open seat, the leader seat stays free
    ({OPEN: 3}, LEADER, set(), LEADER),        # no open seat left: keeps the slot's seat (the shift is flagged)
    ({LEADER: 1}, LEADER, {LEADER}, OPEN),     # someone took the leader seat by booking first
    ({}, OPEN, {CASHIER}, OPEN),               # an open slot stays on an open seat
    ({OPEN: 3}, OPEN, {CASHIER}, CASHIER),     # ...unless only qualified seats they hold are left
    ({OPEN: 3}, OPEN, set(), AUTO),            # nothing they may take: no registration
    ({LEADER: 1, CASHIER: 2, OPEN: 3}, OPEN, set(), AUTO),
])
def test_the_seat_of_a_slot_holders_registration(taken, slot_seat, held, expected):
    assert regular_seat(seats(taken), slot_seat=slot_seat, held=held) == expected


def test_a_qualified_seat_is_empty_until_someone_who_holds_it_sits_there():
    assert empty_qualified(TILL, {}) == {LEADER: 1, CASHIER: 2}
    assert empty_qualified(TILL, {LEADER: 1, CASHIER: 1}) == {CASHIER: 1}
    assert empty_qualified(TILL, {LEADER: 1, CASHIER: 2}) == {}


def test_requirements_read_and_write_the_interchange_text():
    from shifts.seats import parse_requirements_text, requirements_text

    assert parse_requirements_text("leader:1;cashier:2") == [("leader", 1), ("cashier", 2)]
    assert parse_requirements_text(" leader : 1 ; ") == [("leader", 1)]
    assert parse_requirements_text("") == []
    assert requirements_text([("leader", 1), ("cashier", 2), ("reception", 0)]) == "leader:1;cashier:2"
    for bad in ("leader", "leader:0", "leader:x", ":1", "leader:1;leader:2", "leader:-1"):
        with pytest.raises(ValueError):
            parse_requirements_text(bad)


@pytest.mark.django_db
def test_templates_give_their_requirements_text_and_welcome_sessions_are_created_as_such():
    import datetime

    from members.tests.factories import qualification
    from shifts import selectors, services

    template = services.template_create(name="Welcome", week="A", weekday=5, start_time=datetime.time(10),
                                        end_time=datetime.time(11), capacity=10, welcome=True)
    till = services.template_create(name="Till", week="A", weekday=2, start_time=datetime.time(9), end_time=datetime.time(12), capacity=6)
    now = datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC)
    services.template_requirements_set(template=till, requirements=[(qualification("leader"), 1), (qualification("cashier"), 2)], now=now)
    assert template.welcome
    assert selectors.requirements_texts([template.pk, till.pk]) == {till.pk: "leader:1;cashier:2"}
