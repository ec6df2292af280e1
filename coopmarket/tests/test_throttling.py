"""API throttling per user (issue 11): what a member's own account can call is rate-limited, the
till lookup and name search included when a member on shift uses them (a tighter rate); till
device accounts and coordinators are never throttled on the lookup (a busy till, bench/till.py).
Rates are settings (COOP_THROTTLE_RATES); a throttled call answers 429 JSON with Retry-After."""
import datetime
import zoneinfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from members.models import Member
from members.tests.factories import active_member
from shifts.models import Registration, Shift

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def low_rates(settings, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    settings.COOP_THROTTLE_RATES = {"member": "8/minute", "till_member": "4/minute"}


def make_user(username, *groups, superuser=False):
    users = get_user_model().objects
    if superuser:
        return users.create_superuser(username=username, password="pass-word-123")
    user = users.create_user(username=username, password="pass-word-123")
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def cooperator():
    member = active_member(first_name="Coop", last_name="Erator", email="coop@example.org")
    Member.objects.filter(pk=member.pk).update(user=make_user("coop"))
    member.refresh_from_db()
    return member


@pytest.fixture
def on_shift(cooperator):
    shift = Shift.objects.create(name="Caisse", date=NOW.date(), start=NOW - datetime.timedelta(hours=1),
                                 end=NOW + datetime.timedelta(hours=2), capacity=6, week="A")
    Registration.objects.create(shift=shift, member=cooperator, kind=Registration.Kind.ONE_OFF)
    return cooperator


def statuses(client, path, times):
    return [client.get(path).status_code for _ in range(times)]


def test_a_members_own_account_is_throttled(cooperator):
    client = client_for(cooperator.user)
    codes = statuses(client, "/api/v1/members/me/", 10)
    assert codes[:8] == [200] * 8
    assert codes[8:] == [429, 429]
    response = client.get("/api/v1/members/me/")
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_a_member_on_shift_is_throttled_on_the_till_lookup_and_search(on_shift):
    other = active_member(first_name="Ann", last_name="Smith", email="ann@example.org")
    client = client_for(on_shift.user)
    lookups = statuses(client, f"/api/v1/checkout/{other.card_barcode}/", 5)
    assert lookups == [200] * 4 + [429]
    assert client.get("/api/v1/checkout/", {"search": "smith"}).status_code == 429  # one budget for both


@pytest.mark.parametrize("role", ["cashier", "coordinator", "superuser"])
def test_till_devices_and_coordinators_are_never_throttled_on_the_lookup(role):
    user = {
        "cashier": lambda: make_user("till", "cashiers"),
        "coordinator": lambda: make_user("office", "coordinators"),
        "superuser": lambda: make_user("root", superuser=True),
    }[role]()
    member = active_member(first_name="Ann", last_name="Smith", email="ann@example.org")
    client = client_for(user)
    assert set(statuses(client, f"/api/v1/checkout/{member.card_barcode}/", 30)) == {200}
    assert set(statuses(client, "/api/v1/checkout/?search=smith", 30)) == {200}


def test_each_member_has_their_own_budget(cooperator):
    statuses(client_for(cooperator.user), "/api/v1/members/me/", 9)
    other = active_member(first_name="Bea", last_name="B", email="bea@example.org")
    Member.objects.filter(pk=other.pk).update(user=make_user("bea"))
    assert client_for(get_user_model().objects.get(username="bea")).get("/api/v1/members/me/").status_code == 200
