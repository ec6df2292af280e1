"""Fixtures for the shifts tests: a pinned clock, role users, working members and a small
generated calendar. Nothing here reads the real clock.

The calendar (COOP_CYCLE_START 2026-01-05): 2026-03-02 is a Monday of week A, a cycle start.
The API's clock is pinned to NOW = 2026-03-02 09:00 Paris; tests move it through `clock`.
"""
from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from members.models import Member
from members.tests.factories import active_member, qualification
from shifts import services
from shifts.models import Shift, ShiftTemplate

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
TODAY = datetime.date(2026, 3, 2)
NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
PASSWORD = "pass-word-123"


@dataclass
class Clock:
    now: datetime.datetime = NOW
    today: datetime.date = TODAY

    def set(self, when: datetime.datetime) -> None:
        self.now = when
        self.today = when.astimezone(PARIS).date()


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The API's clock, pinned; `clock.set(datetime)` moves it."""
    pinned = Clock()
    monkeypatch.setattr("shifts.api.clock_now", lambda: pinned.now)
    monkeypatch.setattr("shifts.api.clock_today", lambda: pinned.today)
    monkeypatch.setattr("members.api.local_today", lambda: pinned.today)
    return pinned


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=PARIS)


def make_user(username: str, *groups: str, superuser: bool = False):
    users = get_user_model().objects
    if superuser:
        return users.create_superuser(username=username, email=f"{username}@example.org", password=PASSWORD)
    user = users.create_user(username=username, email=f"{username}@example.org", password=PASSWORD)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def working_member(first_name: str, *, shift_type: str = Member.ShiftType.STANDARD, user=None, today=TODAY) -> Member:
    """An active member with 10 A shares paid today (so a working status), optionally linked to a user."""
    member = active_member(today=today, first_name=first_name, last_name="Test", email=f"{first_name.lower()}@example.org",
                           shift_type=shift_type)
    if user is not None:
        Member.objects.filter(pk=member.pk).update(user=user)
    member.refresh_from_db()
    return member


def make_template(name="Wednesday morning", *, week="A", weekday=2, start=(9, 0), end=(12, 0), capacity=2) -> ShiftTemplate:
    return services.template_create(
        name=name, week=week, weekday=weekday, start_time=datetime.time(*start), end_time=datetime.time(*end), capacity=capacity,
    )


def generate(start=TODAY, days=56):
    return services.shifts_generate(start=start, end=start + datetime.timedelta(days=days - 1))


def shift_of(template: ShiftTemplate, day: datetime.date) -> Shift:
    return Shift.objects.get(template=template, date=day)


@pytest.fixture
def coordinator(db):
    return make_user("coord", "coordinators")


@pytest.fixture
def coord(coordinator) -> APIClient:
    return client_for(coordinator)


@pytest.fixture
def alice_user(db):
    return make_user("alice")


@pytest.fixture
def alice(alice_user) -> Member:
    """A standard cooperator linked to the user `alice`."""
    return working_member("Alice", user=alice_user)


@pytest.fixture
def alice_api(alice, alice_user) -> APIClient:
    return client_for(alice_user)


@pytest.fixture
def bob_user(db):
    return make_user("bob")


@pytest.fixture
def bob(bob_user) -> Member:
    """An FTOP cooperator linked to the user `bob`."""
    return working_member("Bob", shift_type=Member.ShiftType.FTOP, user=bob_user)


@pytest.fixture
def bob_api(bob, bob_user) -> APIClient:
    return client_for(bob_user)


@pytest.fixture
def wednesday(db) -> ShiftTemplate:
    """Week A, Wednesday 09:00-12:00, capacity 2: its first shift starts 48 h after NOW."""
    return make_template()


@pytest.fixture
def calendar(wednesday):
    """Shifts for eight weeks from TODAY; returns the first Wednesday shift (2026-03-04 09:00)."""
    generate()
    return shift_of(wednesday, datetime.date(2026, 3, 4))


@pytest.fixture
def leader(db):
    """The `leader` qualification (shift leader)."""
    return qualification("leader", "Shift leader")


@pytest.fixture
def cashier(db):
    return qualification("cashier", "Cashier")
