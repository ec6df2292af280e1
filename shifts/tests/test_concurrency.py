"""Concurrent bookings of a shift's last seats (DOMAIN.md §4: never more than its capacity).

pretix style, in pairs: one test proves the race happens without the row lock on the shift, the
others prove the lock (`services._lock_shift`, SELECT ... FOR UPDATE) prevents it, in the service
and through the HTTP API. Each thread uses its own database connection (Django's connections are
per thread) and closes it at the end. PostgreSQL only: SQLite has no row locks.
"""
from __future__ import annotations

import datetime
import threading
import time
import zoneinfo

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connections

from coopmarket.errors import RuleViolation
from coopmarket.tokens import token_issue
from members.models import Member
from members.tests.factories import active_member
from shifts import services
from shifts.models import Registration, Shift

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
ACTIVE_ON = datetime.date(2026, 2, 16)
NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)  # two days before the shift
CAPACITY = 6
THREADS = 12
FREE_SEATS = 3
WIDEN = 0.05  # seconds between counting the seats and inserting the booking

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),  # keep the migrated share classes
]


@pytest.fixture
def last_seats():
    """A Wednesday shift of capacity 6 holding 2 slot holders and 1 one-off booking (3 seats left),
    and 12 members who each want one of the 3 seats."""
    tpl = services.template_create(
        name="Wednesday morning", week="A", weekday=2, start_time=datetime.time(9), end_time=datetime.time(12), capacity=CAPACITY,
    )
    for n in range(2):
        holder = active_member(today=ACTIVE_ON, email=f"holder{n}@example.org")
        services.slot_assign(template=tpl, member=holder, start_date=ACTIVE_ON, today=ACTIVE_ON)
    services.shifts_generate(start=datetime.date(2026, 3, 2), end=datetime.date(2026, 3, 8))
    shift = Shift.objects.get(template=tpl)
    services.shift_book(shift=shift, member=active_member(today=ACTIVE_ON, email="early@example.org"), now=NOW)
    assert services.seats_taken(shift) == CAPACITY - FREE_SEATS
    bookers = [active_member(today=ACTIVE_ON, email=f"booker{n}@example.org") for n in range(THREADS)]
    return shift, bookers


def in_threads(target, items) -> list:
    """Run target(item) in one thread per item, released together; each thread closes its connections."""
    barrier = threading.Barrier(len(items))
    results: list = [None] * len(items)

    def work(index, item):
        try:
            barrier.wait(timeout=30)
            results[index] = target(item)
        except BaseException as exc:  # noqa: BLE001  (reported and asserted on by the test)
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i, item)) for i, item in enumerate(items)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def book(shift: Shift):
    def attempt(member: Member):
        try:
            services.shift_book(shift=shift, member=member, now=NOW)
        except RuleViolation as exc:
            return exc.code
        return "booked"
    return attempt


def live_on(shift: Shift) -> int:
    return Registration.objects.filter(shift=shift, cancelled_at__isnull=True).count()


@pytest.fixture
def widened(monkeypatch):
    """Make the race window wide: sleep between counting the seats and inserting."""
    count = services.seats_taken

    def slow_seats_taken(shift):
        taken = count(shift)
        time.sleep(WIDEN)
        return taken

    monkeypatch.setattr(services, "seats_taken", slow_seats_taken)


def test_without_the_row_lock_concurrent_bookings_overfill_the_shift(last_seats, widened, monkeypatch):
    shift, bookers = last_seats
    monkeypatch.setattr(services, "_lock_shift", lambda s: Shift.objects.get(pk=s.pk))  # no FOR UPDATE

    results = in_threads(book(shift), bookers)

    assert not [r for r in results if isinstance(r, BaseException)]
    assert results.count("booked") > FREE_SEATS  # the race happens...
    assert live_on(shift) > CAPACITY  # ...and the capacity is exceeded


def test_concurrent_bookings_of_the_last_seats_never_exceed_the_capacity(last_seats):
    shift, bookers = last_seats

    results = in_threads(book(shift), bookers)

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(results) == ["booked"] * FREE_SEATS + ["shift_full"] * (THREADS - FREE_SEATS)
    assert live_on(shift) == CAPACITY


def test_the_lock_holds_even_with_a_wide_race_window(last_seats, widened):
    shift, bookers = last_seats

    results = in_threads(book(shift), bookers)

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(results) == ["booked"] * FREE_SEATS + ["shift_full"] * (THREADS - FREE_SEATS)
    assert live_on(shift) == CAPACITY


def test_concurrent_http_bookings_get_201_or_409_shift_full_and_never_a_500(last_seats, live_server, monkeypatch):
    shift, bookers = last_seats
    monkeypatch.setattr("shifts.api.clock_now", lambda: NOW)
    monkeypatch.setattr("shifts.api.clock_today", lambda: NOW.date())
    tokens = {}
    for member in bookers:
        user = get_user_model().objects.create_user(username=f"booker{member.pk}", password="pass-word-123")
        Member.objects.filter(pk=member.pk).update(user=user)
        tokens[member.pk] = token_issue(user=user, lifetime=datetime.timedelta(days=1))[1]
    url = f"{live_server.url}/api/v1/shifts/{shift.pk}/registrations/"
    # The session-scoped live server loaded its middleware before the test settings (and the
    # X-Forwarded-Proto header is trusted only behind a declared proxy): no HTTPS redirect here.
    from django.middleware.security import SecurityMiddleware

    monkeypatch.setattr(SecurityMiddleware, "process_request", lambda self, request: None)

    def post(member: Member):
        headers = {"Authorization": f"Token {tokens[member.pk]}"}
        response = requests.post(url, json={"member": member.pk}, headers=headers, timeout=60, allow_redirects=False)
        body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else response.text[:200]
        return response.status_code, body.get("code") if isinstance(body, dict) else body

    results = in_threads(post, bookers)

    assert not [r for r in results if isinstance(r, BaseException)], results
    statuses = sorted(status for status, _code in results)
    assert statuses == [201] * FREE_SEATS + [409] * (THREADS - FREE_SEATS), results
    assert {code for status, code in results if status == 409} == {"shift_full"}
    assert live_on(shift) == CAPACITY
