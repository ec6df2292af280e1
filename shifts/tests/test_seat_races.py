"""Concurrent bookings of the last seat of each kind (DOMAIN.md §9: "capacity and races as §4").

pretix style, in pairs, per seat kind: one test proves the race happens without the row lock on the
shift, the other proves the lock (`services._lock_shift`, SELECT ... FOR UPDATE) prevents it. The
race window is widened between counting the seats per kind (`services.seat_counts`) and inserting.
PostgreSQL only: SQLite has no row locks.

- The last qualified seat: capacity 4 with 1 leader seat and 3 open seats all taken; 8 trained
  leaders book at once. Exactly one gets the leader seat, the others `shift_full`.
- The last open seat: the leader seat is free, 1 open seat is left; 8 untrained members book at
  once. Exactly one gets the open seat, the others `not_qualified` (only the leader seat is left).
"""
from __future__ import annotations

import datetime
import time

import pytest

from members import qualifications as quals
from members.models import Qualification
from members.tests.factories import active_member
from shifts import services
from shifts.models import Registration, Shift

from .test_concurrency import ACTIVE_ON, NOW, WIDEN, book, in_threads

THREADS = 8

pytestmark = [
    pytest.mark.postgres,  # row locks need PostgreSQL (coopmarket/tests/components.py)
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def till():
    """A Wednesday shift of capacity 4: 1 leader seat, 3 open seats."""
    leader = Qualification.objects.get_or_create(code="leader", defaults={"name": "Shift leader"})[0]
    template = services.template_create(
        name="Till", week="A", weekday=2, start_time=datetime.time(9), end_time=datetime.time(12), capacity=4,
    )
    services.template_requirements_set(template=template, requirements=[(leader, 1)], now=NOW)
    services.shifts_generate(start=datetime.date(2026, 3, 2), end=datetime.date(2026, 3, 8))
    return Shift.objects.get(template=template), leader


def members(prefix: str, n: int, qualification=None):
    found = []
    for index in range(n):
        member = active_member(today=ACTIVE_ON, email=f"{prefix}{index}@example.org", shift_type="ftop")
        if qualification is not None:
            quals.member_qualification_grant(member=member, qualification=qualification, since=ACTIVE_ON, today=ACTIVE_ON)
        found.append(member)
    return found


@pytest.fixture
def last_leader_seat(till):
    shift, leader = till
    for member in members("open", 3):
        services.shift_book(shift=shift, member=member, now=NOW)
    return shift, leader, members("leader", THREADS, leader)


@pytest.fixture
def last_open_seat(till):
    shift, leader = till
    for member in members("open", 2):
        services.shift_book(shift=shift, member=member, now=NOW)
    return shift, leader, members("plain", THREADS)


@pytest.fixture
def widened(monkeypatch):
    """Sleep between counting the seats per kind and inserting the booking."""
    count = services.seat_counts

    def slow_seat_counts(shift):
        counts = count(shift)
        time.sleep(WIDEN)
        return counts

    monkeypatch.setattr(services, "seat_counts", slow_seat_counts)


@pytest.fixture
def unlocked(monkeypatch):
    monkeypatch.setattr(services, "_lock_shift", lambda s: Shift.objects.get(pk=s.pk))  # no FOR UPDATE


def seated(shift: Shift, seat) -> int:
    return Registration.objects.filter(shift=shift, cancelled_at__isnull=True, seat=seat).count()


def test_without_the_row_lock_two_leaders_take_the_last_leader_seat(last_leader_seat, widened, unlocked):
    shift, leader, bookers = last_leader_seat

    results = in_threads(book(shift), bookers)

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert results.count("booked") > 1  # the race happens...
    assert seated(shift, leader) > 1  # ...and one leader seat holds several members


def test_the_lock_gives_the_last_leader_seat_to_exactly_one_leader(last_leader_seat, widened):
    shift, leader, bookers = last_leader_seat

    results = in_threads(book(shift), bookers)

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(results) == ["booked"] + ["shift_full"] * (THREADS - 1)
    assert seated(shift, leader) == 1 and services.seats_taken(shift) == 4


def test_without_the_row_lock_untrained_members_overfill_the_open_seats(last_open_seat, widened, unlocked):
    shift, leader, bookers = last_open_seat

    results = in_threads(book(shift), bookers)

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert results.count("booked") > 1
    assert seated(shift, None) > 3  # more than the 3 open seats


def test_the_lock_gives_the_last_open_seat_to_one_and_keeps_the_leader_seat(last_open_seat, widened):
    shift, leader, bookers = last_open_seat

    results = in_threads(book(shift), bookers)

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(results) == ["booked"] + ["not_qualified"] * (THREADS - 1)
    assert seated(shift, None) == 3 and seated(shift, leader) == 0
