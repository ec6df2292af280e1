"""Fixtures for the assemblies tests: a pinned calendar, role users, voters and an assembly.
Nothing reads the real clock.

TODAY = 2026-03-02. The assembly `ag` is an ordinary first convocation on 2026-03-28 at 18:30
(Paris), cut-off 2026-03-13 (15 days before), to convene by 2026-03-13 at the latest.
"""
from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.test import TestCase
from rest_framework.test import APIClient

from assemblies import services
from assemblies.models import Assembly
from coopmarket.tests.test_permissions import make_user as members_walk_make_user
from members.models import Member
from members.tests.factories import MemberFactory, active_member, subscribe, supporting_member
from members.text import search_key

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
TODAY = datetime.date(2026, 3, 2)
NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)
STARTS = datetime.datetime(2026, 3, 28, 18, 30, tzinfo=PARIS)
CUTOFF = datetime.date(2026, 3, 13)
EVENING = datetime.datetime(2026, 3, 28, 18, 40, tzinfo=PARIS)  # at the assembly
PASSWORD = "pass-word-123"


def committed():
    """Run the on-commit hooks (the e-mails the services queue) when the block ends, as a real
    commit would; the test's own transaction never commits."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def at(day: datetime.date, hour: int = 12, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=PARIS)


@dataclass
class Clock:
    now: datetime.datetime = NOW

    @property
    def today(self) -> datetime.date:
        return self.now.astimezone(PARIS).date()

    def set(self, when: datetime.datetime) -> None:
        self.now = when


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The clock of the assemblies' API and pages, pinned; `clock.set(datetime)` moves it."""
    pinned = Clock()
    monkeypatch.setattr("assemblies.api.clock_now", lambda: pinned.now)
    monkeypatch.setattr("assemblies.views.clock_now", lambda: pinned.now)
    monkeypatch.setattr("assemblies.templatetags.assembly_tags.clock_today", lambda: pinned.today)
    return pinned


def make_user(username: str, *groups: str, superuser: bool = False):
    """A login (password PASSWORD) in these role groups: the members' permission walk's helper."""
    return members_walk_make_user(username, groups=groups, superuser=superuser)


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def voter(first_name: str, last_name: str = "Test", *, user=None, **stored) -> Member:
    """An active member (10 A shares paid), optionally linked to a login, with stored fields set."""
    member = active_member(today=TODAY, first_name=first_name, last_name=last_name,
                           email=f"{search_key(first_name)}.{search_key(last_name)}@example.org".replace(" ", "-"))
    if user is not None:
        stored["user"] = user
    if stored:
        Member.objects.filter(pk=member.pk).update(**stored)
    member.refresh_from_db()
    return member


def unpaid_member(first_name: str) -> Member:
    member = MemberFactory(first_name=first_name, last_name="Unpaid", email=f"{first_name.lower()}@example.org", joined_on=TODAY)
    subscribe(member, 10, today=TODAY, instalments=5)
    member.refresh_from_db()
    return member


def supporter(first_name: str) -> Member:
    return supporting_member(today=TODAY, first_name=first_name, last_name="Supporter", email=f"{first_name.lower()}@example.org")


def new_assembly(*, kind="ordinary", convocation=1, starts_at=STARTS, today=TODAY, title="Assemblée générale 2026", **kw) -> Assembly:
    return services.assembly_create(
        title=title, kind=kind, convocation=convocation, starts_at=starts_at, place="Salle des fêtes, 18 rue Myrha",
        agenda="1. Rapport moral\n2. Comptes 2025\n3. Élection du comité", today=today, **kw,
    )


def convene(assembly: Assembly, *, today=TODAY) -> Assembly:
    with committed():
        services.assembly_convene(assembly=assembly, today=today, now=at(today, 10))
    assembly.refresh_from_db()
    return assembly


def freeze(assembly: Assembly, *, today=CUTOFF) -> Assembly:
    with committed():
        services.voters_freeze(assembly=assembly, today=today, now=at(today, 2))
    assembly.refresh_from_db()
    return assembly


def sign_in(assembly: Assembly, member: Member, *, now=EVENING):
    result = services.voter_sign_in(assembly=assembly, member=member, today=now.astimezone(PARIS).date(), now=now)
    assembly.refresh_from_db()
    return result


def give(assembly: Assembly, giver: Member, holder: Member, *, today=TODAY):
    with committed():
        return services.proxy_give(assembly=assembly, giver=giver, holder=holder, today=today, now=at(today, 11))


@pytest.fixture
def migrated_rows(transactional_db):
    """For tests that commit (`transaction=True`): what the migrations write (share classes, role
    groups), put back after an earlier transactional test's flush. Idempotent. These tests do not
    use `serialized_rollback`: after a flush that re-ran post_migrate (the checkout browser test's),
    reloading the serialized groups would collide with the ones it made."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Permission

    from coopmarket.roles import sync_group_permissions

    importlib.import_module("members.migrations.0002_roles_and_share_classes").create_share_classes(apps, None)
    sync_group_permissions(Group, Permission)


@pytest.fixture
def coordinator(db):
    return make_user("coord", "coordinators")


@pytest.fixture
def cashier(db):
    return make_user("desk", "cashiers")


@pytest.fixture
def ag(db) -> Assembly:
    return new_assembly()


@pytest.fixture
def people(db) -> dict[str, Member]:
    """Five active voters; `alice` and `bob` can sign in."""
    return {
        "alice": voter("Alice", "Bernard", user=make_user("alice")),
        "bob": voter("Bob", "Durand", user=make_user("bob")),
        "chloe": voter("Chloé", "Petit"),
        "david": voter("David", "Martin"),
        "emma": voter("Emma", "Roux"),
    }
