"""Issue 10, the till (DOMAIN.md §6 revised): every refusing condition, associates of members who
left, search results and offline answers in the check log. Members are put in their standing by
the real services (the stored refusals are written by the shift engine)."""
import datetime
import zoneinfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from checkout.models import TillCheck
from members import services as member_services
from members.tests.factories import active_member
from shifts import services as shift_services

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOW = datetime.datetime(2026, 4, 10, 10, 0, tzinfo=PARIS)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def cashier_api():
    user = get_user_model().objects.create_user(username="till1", password="x-pass-word-1")
    user.groups.add(Group.objects.get(name="cashiers"))
    client = APIClient()
    client.force_login(user)
    return client


def blocked_and_past_deadline():
    m = active_member(today=datetime.date(2026, 1, 5), shift_type="ftop")
    shift_services.correction_write(member=m, counter="ftop", points=-2, reason="two missed", today=datetime.date(2026, 3, 1))
    shift_services.member_block(member=m, reason="Rude to a cashier", today=datetime.date(2026, 4, 1))
    shift_services.statuses_update(today=TODAY)  # the deadline (03-29) has passed
    m.refresh_from_db()
    return m


def test_reasons_list_every_refusing_condition_not_only_the_stored_status(cashier_api):
    m = blocked_and_past_deadline()
    assert m.status == "blocked"

    answer = cashier_api.get(f"/api/v1/checkout/{m.card_barcode}/").json()

    assert (answer["colour"], answer["reasons"]) == ("red", ["blocked", "suspended"])


def test_unblocking_leaves_the_suspension_as_the_reason(cashier_api):
    m = blocked_and_past_deadline()
    shift_services.member_unblock(member=m, reason="apologised", today=TODAY)

    assert cashier_api.get(f"/api/v1/checkout/{m.card_barcode}/").json()["reasons"] == ["suspended"]


def test_an_associate_of_a_member_who_left_gets_the_holders_red_left_coop(cashier_api):
    m = active_member(today=datetime.date(2026, 1, 5))
    partner = member_services.associate_add(member=m, first_name="Pat", last_name="Partner")
    member_services.member_leave(member=m, reason="moved away", today=TODAY)

    online = cashier_api.get(f"/api/v1/checkout/{partner.card_barcode}/")
    scanned_12 = cashier_api.get(f"/api/v1/checkout/{partner.card_barcode[1:]}/")
    cards = {c["card_barcode"]: c for c in cashier_api.get("/api/v1/checkout/cards/").json()["cards"]}

    assert online.status_code == 200
    assert (online.json()["associate"], online.json()["colour"], online.json()["reasons"]) == (True, "red", ["left_coop"])
    assert scanned_12.json()["reasons"] == ["left_coop"]
    assert (cards[partner.card_barcode]["colour"], cards[partner.card_barcode]["reasons"]) == ("red", ["left_coop"])


def test_an_associate_removed_while_the_holder_stays_is_unknown(cashier_api):
    m = active_member(today=datetime.date(2026, 1, 5))
    partner = member_services.associate_add(member=m, first_name="Pat", last_name="Partner")
    member_services.associate_remove(associate=partner, today=TODAY)

    assert cashier_api.get(f"/api/v1/checkout/{partner.card_barcode}/").status_code == 404


def test_a_search_result_the_cashier_opens_is_logged_like_a_scan(cashier_api):
    m = active_member(today=datetime.date(2026, 1, 5), first_name="Zélie", last_name="Martin")
    found = cashier_api.get("/api/v1/checkout/?search=zelie").json()
    assert TillCheck.objects.count() == 0  # a list of names is not a check

    cashier_api.get(f"/api/v1/checkout/{found[0]['member_number']}/?via=search")

    check = TillCheck.objects.get()
    assert (check.member_id, check.source, check.offline, check.can_shop) == (m.pk, "search", False, True)


def offline_entry(m, *, id="dev1-1", minutes_ago=30):
    return {"id": id, "code": m.card_barcode, "checked_at": (NOW - datetime.timedelta(minutes=minutes_ago)).isoformat(),
            "can_shop": True, "status": "up_to_date", "reasons": []}


def test_answers_given_offline_are_uploaded_to_the_check_log_with_their_own_time(cashier_api):
    m = active_member(today=datetime.date(2026, 1, 5))

    response = cashier_api.post("/api/v1/checkout/log/", {"checks": [offline_entry(m)]}, format="json")

    assert response.status_code == 201, response.content
    check = TillCheck.objects.get()
    assert (check.member_id, check.offline, check.checked_at, check.received_at) == (m.pk, True, NOW - datetime.timedelta(minutes=30), NOW)


def test_a_resent_offline_upload_logs_nothing_twice(cashier_api):
    m = active_member(today=datetime.date(2026, 1, 5))
    body = {"checks": [offline_entry(m), offline_entry(m, id="dev1-2", minutes_ago=20)]}

    cashier_api.post("/api/v1/checkout/log/", body, format="json")
    again = cashier_api.post("/api/v1/checkout/log/", body, format="json")

    assert again.json() == {"received": 2, "logged": 0}
    assert TillCheck.objects.count() == 2


def test_an_offline_check_from_the_future_is_refused_and_nothing_is_written(cashier_api):
    m = active_member(today=datetime.date(2026, 1, 5))
    body = {"checks": [offline_entry(m), offline_entry(m, id="dev1-9", minutes_ago=-60)]}

    response = cashier_api.post("/api/v1/checkout/log/", body, format="json")

    assert response.status_code == 400
    assert TillCheck.objects.count() == 0


def test_only_till_users_upload_offline_checks():
    m = active_member(today=datetime.date(2026, 1, 5))
    stranger = APIClient()
    stranger.force_login(get_user_model().objects.create_user(username="nobody", password="x-pass-word-1"))

    assert stranger.post("/api/v1/checkout/log/", {"checks": [offline_entry(m)]}, format="json").status_code == 403
    assert TillCheck.objects.count() == 0
