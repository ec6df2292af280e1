"""The members API of CONTRACT.md §5, end to end through DRF's APIClient.

Time is pinned: the API reads "today" through `members.api.local_today`, which every test here
replaces with TODAY, so nothing depends on the day the suite runs.
"""
import datetime
import os
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from members import services
from members.barcodes import is_valid_ean13
from members.models import Associate, Member, Payment, ShareClass, ShareSubscription

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 2)
PASSWORD = "pass-word-123"

MEMBER_FIELDS = {
    "id", "member_number", "card_barcode", "first_name", "last_name", "email", "shift_type", "membership",
    "status", "can_shop", "shares", "holdings", "counters", "makeups_owed", "alert_deadline", "delay_until",
    "work_start_date", "regular_slot", "leave", "exemption", "blocked_reason", "associates", "calendar_url",
}


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    monkeypatch.setattr("members.api.local_today", lambda: TODAY)
    return TODAY


def make_user(username, *, groups=(), superuser=False):
    users = get_user_model().objects
    if superuser:
        return users.create_superuser(username=username, email=f"{username}@example.org", password=PASSWORD)
    user = users.create_user(username=username, email=f"{username}@example.org", password=PASSWORD)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def make_member(first_name="Ann", last_name="Smith", email=None, **kw):
    email = email or f"{first_name}.{last_name}@example.org".lower()
    return services.member_create(first_name=first_name, last_name=last_name, email=email, joined_on=TODAY, **kw)


def subscribe(member, quantity=10, *, code="A", instalments=1):
    return services.share_subscribe(
        member=member, share_class=ShareClass.objects.get(code=code), quantity=quantity,
        payment_method="cash", today=TODAY, instalments=instalments,
    )


@pytest.fixture
def coordinator():
    return make_user("coord", groups=["coordinators"])


@pytest.fixture
def api(coordinator):
    client = APIClient()
    client.force_login(coordinator)
    return client


@pytest.fixture
def member():
    return make_member()


def new_member_body(**overrides):
    body = {"first_name": "Hélène", "last_name": "Dupré", "email": "helene@example.org", "shift_type": "standard"}
    body.update(overrides)
    return body


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert "detail" in body
    assert "code" in body
    if code:
        assert body["code"] == code


# --- authentication -----------------------------------------------------------------------------

def test_token_from_username_and_password_authenticates_api_calls(coordinator):
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "coord", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"token", "expiry"}
    token = response.json()["token"]

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/members/").status_code == 200
    # Each sign-in gets a token of its own (each revocable on its own).
    again = APIClient().post("/api/v1/auth/token/", {"username": "coord", "password": PASSWORD}, format="json")
    assert again.json()["token"] != token


def test_token_refused_for_wrong_password(coordinator):
    response = APIClient().post("/api/v1/auth/token/", {"username": "coord", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


def test_bogus_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = client.get("/api/v1/members/")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_anonymous_call_is_refused_with_json():
    response = APIClient().get("/api/v1/members/")
    assert response.status_code == 401
    assert "detail" in response.json()


# --- create ---------------------------------------------------------------------------------------

def test_create_member_returns_every_contract_field(api):
    response = api.post("/api/v1/members/", new_member_body(phone="0601020304"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert MEMBER_FIELDS <= set(body)
    member = Member.objects.get(pk=body["id"])
    assert body["member_number"] == member.member_number
    assert body["card_barcode"] == member.card_barcode
    assert body["card_barcode"].startswith("0420") and is_valid_ean13(body["card_barcode"])
    assert (body["first_name"], body["last_name"], body["email"]) == ("Hélène", "Dupré", "helene@example.org")
    assert body["shift_type"] == "standard"
    assert body["membership"] == "none"
    assert body["status"] == "not_concerned"
    assert body["can_shop"] is False
    assert body["shares"] == {"quantity": 0, "amount_paid": "0.00", "amount_due": "0.00"}
    assert body["holdings"] == []
    assert body["counters"] == {"standard": 0, "ftop": 0}
    assert body["makeups_owed"] == 0
    for name in ("alert_deadline", "delay_until", "work_start_date", "regular_slot", "leave", "exemption"):
        assert body[name] is None, name
    assert body["blocked_reason"] == ""
    assert body["associates"] == []


def test_member_numbers_follow_each_other(api):
    first = api.post("/api/v1/members/", new_member_body(), format="json").json()
    second = api.post("/api/v1/members/", new_member_body(email="other@example.org"), format="json").json()
    assert second["member_number"] == first["member_number"] + 1
    assert second["card_barcode"] != first["card_barcode"]


@pytest.mark.parametrize(
    "body, field",
    [
        pytest.param(new_member_body(email="not-an-email"), "email", id="invalid-email"),
        pytest.param(new_member_body(email="ANN.SMITH@Example.org"), "email", id="duplicate-email-other-case"),
        pytest.param(new_member_body(email="ann.smith@example.org"), "email", id="duplicate-email"),
        pytest.param({k: v for k, v in new_member_body().items() if k != "first_name"}, "first_name", id="no-first-name"),
        pytest.param({k: v for k, v in new_member_body().items() if k != "last_name"}, "last_name", id="no-last-name"),
        pytest.param(new_member_body(first_name="   "), "first_name", id="blank-first-name"),
        pytest.param(new_member_body(shift_type="weekly"), "shift_type", id="unknown-shift-type"),
    ],
)
def test_create_member_bad_input_is_400_and_writes_nothing(api, member, body, field):
    before = Member.objects.count()
    response = api.post("/api/v1/members/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Member.objects.count() == before


def test_create_member_is_refused_to_a_cooperator(member):
    user = make_user("coop")
    member.user = user
    member.save()
    client = APIClient()
    client.force_login(user)
    before = Member.objects.count()
    response = client.post("/api/v1/members/", new_member_body(), format="json")
    assert_error(response, 403, "permission_denied")
    assert Member.objects.count() == before


# --- list, search, filters, pagination -------------------------------------------------------------

@pytest.fixture
def people():
    return {
        "helene": make_member("Hélène", "Dupré", "helene@example.org"),
        "bob": make_member("Bob", "Martin", "Bob.Martin@example.org"),
        "zoe": make_member("Zoé", "Leclerc", "zoe@example.org", shift_type="ftop"),
    }


def search(api, text, **params):
    response = api.get("/api/v1/members/", {"search": text, **params})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_search_by_name_ignores_accents_and_case(api, people):
    assert search(api, "helene") == {people["helene"].pk}
    assert search(api, "HÉLÈNE") == {people["helene"].pk}
    assert search(api, "dupre") == {people["helene"].pk}
    assert search(api, "zoe leclerc") == {people["zoe"].pk}
    assert search(api, "nobody") == set()


def test_search_by_member_number(api, people):
    bob = people["bob"]
    assert search(api, str(bob.member_number)) == {bob.pk}
    assert search(api, bob.display_number) == {bob.pk}


def test_search_by_card_barcode(api, people):
    zoe = people["zoe"]
    assert search(api, zoe.card_barcode) == {zoe.pk}
    assert search(api, zoe.card_barcode[1:]) == {zoe.pk}  # a scanner that drops the leading 0


def test_search_by_associate_barcode_finds_the_member(api, people):
    associate = services.associate_add(member=people["bob"], first_name="Eve", last_name="Martin")
    assert search(api, associate.card_barcode) == {people["bob"].pk}


def test_search_by_email_is_case_insensitive(api, people):
    assert search(api, "bob.martin@example.org") == {people["bob"].pk}


def test_filter_by_membership_and_status(api, people):
    subscribe(people["bob"])
    Member.objects.filter(pk=people["zoe"].pk).update(status="alert")
    assert search(api, "", membership="active") == {people["bob"].pk}
    assert search(api, "", membership="none") == {people["helene"].pk, people["zoe"].pk}
    assert search(api, "", status="alert") == {people["zoe"].pk}
    assert search(api, "", shift_type="ftop") == {people["zoe"].pk}
    assert search(api, "", status="alert", membership="active") == set()


def test_list_is_a_page_with_count_next_previous_results(api, people):
    response = api.get("/api/v1/members/", {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["previous"] is None and body["next"]
    assert MEMBER_FIELDS <= set(body["results"][0])

    second = api.get(body["next"]).json()
    assert second["count"] == 3
    assert len(second["results"]) == 1
    assert second["next"] is None and second["previous"]
    ids = [r["id"] for r in body["results"]] + [r["id"] for r in second["results"]]
    assert sorted(ids) == sorted(m.pk for m in people.values())


def test_list_query_count_does_not_grow_with_members(api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/v1/members/").status_code == 200
        return len(ctx)

    def add(n, start):
        for i in range(start, start + n):
            m = make_member(f"P{i}", "Person")
            subscribe(m, instalments=2)
            services.associate_add(member=m, first_name="A", last_name=str(i))

    add(2, 0)
    few = queries()
    add(10, 2)
    assert queries() == few


def test_page_past_the_end_is_json_404(api, people):
    assert_error(api.get("/api/v1/members/", {"page": 99}), 404, "not_found")


def test_page_size_is_capped_at_500(api):
    from members.barcodes import member_barcode

    Member.objects.bulk_create(
        Member(
            member_number=n, card_barcode=member_barcode(n), first_name="M", last_name=str(n),
            email=f"m{n}@example.org", joined_on=TODAY, calendar_token=f"token-{n}",
        )
        for n in range(1, 506)
    )
    body = api.get("/api/v1/members/", {"page_size": 1000}).json()
    assert body["count"] == 505
    assert len(body["results"]) == 500
    assert body["next"]


# --- detail and update ------------------------------------------------------------------------------

def test_get_member_detail(api, member):
    response = api.get(f"/api/v1/members/{member.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == member.pk
    assert MEMBER_FIELDS <= set(response.json())


def test_unknown_member_is_404_json(api):
    assert_error(api.get("/api/v1/members/999999/"), 404, "not_found")


def test_non_numeric_member_id_on_an_action_is_404(api):
    assert_error(api.post("/api/v1/members/abc/leave-coop/", {"reason": "x"}, format="json"), 404)
    assert_error(api.get("/api/v1/members/abc/"), 404)


def test_patch_contact_fields(api, member):
    response = api.patch(
        f"/api/v1/members/{member.pk}/",
        {"phone": "0611223344", "city": "Lyon", "email": "ann.new@example.org"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["phone"], body["city"], body["email"]) == ("0611223344", "Lyon", "ann.new@example.org")
    member.refresh_from_db()
    assert (member.phone, member.city, member.email) == ("0611223344", "Lyon", "ann.new@example.org")


def test_patch_with_another_members_email_is_400(api, member):
    other = make_member("Bob", "Martin")
    response = api.patch(f"/api/v1/members/{other.pk}/", {"email": "ANN.SMITH@example.org"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()
    other.refresh_from_db()
    assert other.email == "bob.martin@example.org"


def test_patch_a_member_who_left_is_409(api, member):
    services.member_leave(member=member, reason="moved", today=TODAY)
    response = api.patch(f"/api/v1/members/{member.pk}/", {"city": "Lyon"}, format="json")
    assert_error(response, 409, "not_allowed")


# --- shares -----------------------------------------------------------------------------------------

def post_shares(api, member, **overrides):
    body = {"share_class": "A", "quantity": 10, "payment_method": "cash"}
    body.update(overrides)
    return api.post(f"/api/v1/members/{member.pk}/shares/", body, format="json")


def test_subscribe_shares_by_class_code(api, member):
    response = post_shares(api, member)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["share_class"] == "A"
    assert body["quantity"] == 10
    assert Decimal(body["amount"]) == Decimal("100.00")
    assert Decimal(body["amount_paid"]) == Decimal("100.00")
    assert body["subscribed_on"] == TODAY.isoformat()
    member.refresh_from_db()
    assert member.membership == "active"
    detail = api.get(f"/api/v1/members/{member.pk}/").json()
    assert detail["shares"] == {"quantity": 10, "amount_paid": "100.00", "amount_due": "0.00"}
    assert detail["holdings"][0]["share_class"] == "A"
    assert detail["work_start_date"] == TODAY.isoformat()
    assert detail["can_shop"] is True


def test_subscribe_in_instalments_records_only_the_first(api, member):
    response = post_shares(api, member, instalments=5)
    assert response.status_code == 201, response.content
    body = response.json()
    assert Decimal(body["amount"]) == Decimal("100.00")
    assert Decimal(body["amount_paid"]) == Decimal("20.00")
    assert len(body["schedule"]) == 5
    assert [Decimal(p["amount"]) for p in body["payments"]] == [Decimal("20.00")]
    sub = ShareSubscription.objects.get(pk=body["id"])
    assert [p.amount for p in sub.payments.all()] == [Decimal("20.00")]
    member.refresh_from_db()
    assert member.membership == "active"
    shares = api.get(f"/api/v1/members/{member.pk}/").json()["shares"]
    assert shares == {"quantity": 10, "amount_paid": "20.00", "amount_due": "80.00"}


@pytest.mark.parametrize(
    "overrides, field",
    [
        pytest.param({"quantity": 0}, "quantity", id="quantity-0"),
        pytest.param({"quantity": -1}, "quantity", id="quantity-negative"),
        pytest.param({"quantity": 9}, "quantity", id="below-minimum-first-subscription"),
        pytest.param({"share_class": "Z"}, "share_class", id="unknown-share-class"),
        pytest.param({"paid_on": (TODAY + datetime.timedelta(days=1)).isoformat()}, "paid_on", id="paid-on-future"),
        pytest.param({"payment_method": "stripe"}, "payment_method", id="stripe-not-by-hand"),
        pytest.param({"instalments": 11}, "instalments", id="too-many-instalments"),
    ],
)
def test_subscribe_bad_input_is_400_and_writes_nothing(api, member, overrides, field):
    response = post_shares(api, member, **overrides)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not ShareSubscription.objects.exists()
    assert not Payment.objects.exists()
    member.refresh_from_db()
    assert member.membership == "none"


def test_share_class_may_be_given_by_id(api, member):
    class_a = ShareClass.objects.get(code="A")
    response = post_shares(api, member, share_class=class_a.pk)
    assert response.status_code == 201, response.content
    assert response.json()["share_class"] == "A"
    assert list(member.subscriptions.values_list("share_class__code", "quantity")) == [("A", 10)]


def test_second_subscription_may_be_below_the_minimum(api, member):
    subscribe(member)
    response = post_shares(api, member, quantity=1)
    assert response.status_code == 201, response.content
    assert sorted(member.subscriptions.values_list("quantity", flat=True)) == [1, 10]
    assert api.get(f"/api/v1/members/{member.pk}/").json()["shares"]["quantity"] == 11
    member.refresh_from_db()
    assert member.membership == "active"


def test_low_income_member_may_start_with_one_share(api):
    member = make_member(low_income=True)
    response = post_shares(api, member, quantity=1)
    assert response.status_code == 201, response.content
    assert list(member.subscriptions.values_list("quantity", flat=True)) == [1]
    member.refresh_from_db()
    assert (member.membership, member.can_shop) == ("active", True)


def test_subscribe_for_a_member_who_left_is_409(api, member):
    services.member_leave(member=member, reason="moved", today=TODAY)
    assert_error(post_shares(api, member), 409, "not_allowed")


def test_subscribe_for_unknown_member_is_404(api):
    assert_error(api.post("/api/v1/members/999999/shares/", {"share_class": "A", "quantity": 10,
                                                              "payment_method": "cash"}, format="json"), 404)


# --- payments -----------------------------------------------------------------------------------------

@pytest.fixture
def instalment_sub(member):
    return subscribe(member, instalments=5)  # 100.00, 20.00 paid


def post_payment(api, member, **body):
    return api.post(f"/api/v1/members/{member.pk}/payments/", body, format="json")


def test_record_a_payment(api, member, instalment_sub):
    response = post_payment(api, member, subscription=instalment_sub.pk, amount="20.00", payment_method="transfer",
                            reference="VIR-1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert Decimal(body["amount"]) == Decimal("20.00")
    assert body["payment_method"] == "transfer"
    assert body["subscription"] == instalment_sub.pk
    assert body["paid_on"] == TODAY.isoformat()
    assert api.get(f"/api/v1/members/{member.pk}/").json()["shares"]["amount_paid"] == "40.00"


def test_overpayment_is_400_and_writes_nothing(api, member, instalment_sub):
    before = Payment.objects.count()
    response = post_payment(api, member, subscription=instalment_sub.pk, amount="80.01", payment_method="cash")
    assert response.status_code == 400, response.content
    assert "amount" in response.json()
    assert Payment.objects.count() == before


def test_paying_the_balance_exactly_is_accepted(api, member, instalment_sub):
    response = post_payment(api, member, subscription=instalment_sub.pk, amount="80.00", payment_method="cash")
    assert response.status_code == 201, response.content
    assert sorted(instalment_sub.payments.values_list("amount", flat=True)) == [Decimal("20.00"), Decimal("80.00")]
    assert api.get(f"/api/v1/members/{member.pk}/").json()["shares"]["amount_due"] == "0.00"


def test_payment_dated_in_the_future_is_400(api, member, instalment_sub):
    before = Payment.objects.count()
    response = post_payment(api, member, subscription=instalment_sub.pk, amount="10.00", payment_method="cash",
                            paid_on=(TODAY + datetime.timedelta(days=1)).isoformat())
    assert response.status_code == 400
    assert "paid_on" in response.json()
    assert Payment.objects.count() == before


def test_payment_on_another_members_subscription_is_400(api, member, instalment_sub):
    other = make_member("Bob", "Martin")
    before = Payment.objects.count()
    response = post_payment(api, other, subscription=instalment_sub.pk, amount="10.00", payment_method="cash")
    assert response.status_code == 400
    assert "subscription" in response.json()
    assert Payment.objects.count() == before


@pytest.mark.parametrize("amount", ["0", "-5.00", "1.005", "abc"])
def test_payment_amount_must_be_positive_cents(api, member, instalment_sub, amount):
    before = Payment.objects.count()
    response = post_payment(api, member, subscription=instalment_sub.pk, amount=amount, payment_method="cash")
    assert response.status_code == 400
    assert "amount" in response.json()
    assert Payment.objects.count() == before


def test_payment_on_shares_marked_for_redemption_is_409(api, member, instalment_sub):
    services.member_leave(member=member, reason="moved", today=TODAY)
    before = Payment.objects.count()
    response = post_payment(api, member, subscription=instalment_sub.pk, amount="10.00", payment_method="cash")
    assert_error(response, 409, "not_allowed")
    assert Payment.objects.count() == before


# --- associates ---------------------------------------------------------------------------------------

def test_add_then_remove_an_associate(api, member):
    response = api.post(f"/api/v1/members/{member.pk}/associates/", {"first_name": "Eve", "last_name": "Smith"},
                        format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["card_barcode"].startswith("0421") and is_valid_ean13(body["card_barcode"])
    assert (body["first_name"], body["last_name"]) == ("Eve", "Smith")
    assert re.search(r"[+-]\d\d:\d\d$|Z$", body["created_at"]), "datetimes carry their offset"
    detail = api.get(f"/api/v1/members/{member.pk}/").json()
    assert [a["id"] for a in detail["associates"]] == [body["id"]]

    second = api.post(f"/api/v1/members/{member.pk}/associates/", {"first_name": "Max", "last_name": "Smith"},
                      format="json")
    assert_error(second, 409, "not_allowed")
    assert Associate.objects.filter(member=member).count() == 1

    removed = api.delete(f"/api/v1/members/{member.pk}/associates/{body['id']}/")
    assert removed.status_code == 204
    assert Associate.objects.get(pk=body["id"]).removed_on == TODAY
    assert api.get(f"/api/v1/members/{member.pk}/").json()["associates"] == []
    assert_error(api.delete(f"/api/v1/members/{member.pk}/associates/{body['id']}/"), 404)


def test_associate_needs_names(api, member):
    response = api.post(f"/api/v1/members/{member.pk}/associates/", {"first_name": "Eve"}, format="json")
    assert response.status_code == 400
    assert "last_name" in response.json()
    assert not Associate.objects.exists()


def test_removing_an_associate_of_another_member_is_404(api, member):
    associate = services.associate_add(member=member, first_name="Eve", last_name="Smith")
    other = make_member("Bob", "Martin")
    assert_error(api.delete(f"/api/v1/members/{other.pk}/associates/{associate.pk}/"), 404)
    associate.refresh_from_db()
    assert associate.removed_on is None


# --- leaving --------------------------------------------------------------------------------------------

def test_leave_coop(api, member):
    subscribe(member)
    response = api.post(f"/api/v1/members/{member.pk}/leave-coop/", {"reason": "Moving away"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["membership"] == "left"
    assert body["can_shop"] is False
    member.refresh_from_db()
    assert member.left_on == TODAY
    assert member.subscriptions.get().redemption_requested_on == TODAY

    again = api.post(f"/api/v1/members/{member.pk}/leave-coop/", {"reason": "Again"}, format="json")
    assert_error(again, 409, "not_allowed")


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}], ids=["missing", "empty", "blank"])
def test_leave_coop_needs_a_reason(api, member, body):
    response = api.post(f"/api/v1/members/{member.pk}/leave-coop/", body, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    member.refresh_from_db()
    assert member.membership == "none"
    assert member.left_on is None


# --- share classes ------------------------------------------------------------------------------------

def test_share_classes_list(member):
    user = make_user("coop")
    client = APIClient()
    client.force_login(user)
    response = client.get("/api/v1/share-classes/")
    assert response.status_code == 200
    rows = response.json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    by_code = {row["code"]: row for row in rows}
    assert {"code", "name", "unit_price", "min_quantity", "low_income_min_quantity", "grants_shopping",
            "grants_work"} <= set(by_code["A"])
    a = by_code["A"]
    assert Decimal(a["unit_price"]) == Decimal("10.00")
    assert (a["min_quantity"], a["low_income_min_quantity"]) == (10, 1)
    assert (a["grants_shopping"], a["grants_work"]) == (True, True)
    assert (by_code["B"]["grants_shopping"], by_code["B"]["grants_work"]) == (False, False)


# --- the cooperator's view ------------------------------------------------------------------------------

@pytest.fixture
def cooperator(member):
    user = make_user("coop")
    member.user = user
    member.save()
    client = APIClient()
    client.force_login(user)
    return client


def test_me_returns_the_cooperators_member(cooperator, member):
    make_member("Bob", "Martin")
    response = cooperator.get("/api/v1/members/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == member.pk
    assert MEMBER_FIELDS <= set(body)


def test_me_with_token_auth(member):
    user = make_user("coop")
    member.user = user
    member.save()
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": "coop", "password": PASSWORD}, format="json").json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/members/me/").json()["id"] == member.pk


def test_me_for_a_user_without_member_is_404(api):
    assert_error(api.get("/api/v1/members/me/"), 404, "not_found")


def test_cooperator_reads_own_detail_but_not_another(cooperator, member):
    other = make_member("Bob", "Martin")
    assert cooperator.get(f"/api/v1/members/{member.pk}/").status_code == 200
    assert_error(cooperator.get(f"/api/v1/members/{other.pk}/"), 403, "permission_denied")


def test_cooperator_cannot_patch_own_member(cooperator, member):
    response = cooperator.patch(f"/api/v1/members/{member.pk}/", {"email": "me@example.org"}, format="json")
    assert_error(response, 403, "permission_denied")
    member.refresh_from_db()
    assert member.email == "ann.smith@example.org"


def test_cooperator_cannot_list_members(cooperator):
    assert_error(cooperator.get("/api/v1/members/"), 403, "permission_denied")


# --- errors, schema, docs -------------------------------------------------------------------------------

def test_unknown_api_url_is_json_404_without_debug(api, settings):
    settings.DEBUG = False
    client = APIClient(raise_request_exception=False)
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert_error(response, 404, "not_found")
    response = api.get("/api/nothing-here/")
    assert_error(response, 404)


def test_method_not_allowed_is_json_405(api, member):
    response = api.delete(f"/api/v1/members/{member.pk}/")
    assert_error(response, 405, "method_not_allowed")
    assert Member.objects.filter(pk=member.pk).exists()


def test_malformed_json_is_400_parse_error(api):
    response = api.generic("POST", "/api/v1/members/", "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_inactive_user_gets_no_token(coordinator):
    coordinator.is_active = False
    coordinator.save()
    response = APIClient().post("/api/v1/auth/token/", {"username": "coord", "password": PASSWORD}, format="json")
    assert response.status_code == 400


def test_unknown_page_outside_api_is_not_json(settings):
    settings.DEBUG = False
    response = APIClient().get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_schema_is_openapi_3_and_lists_the_members_api():
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/members/" in schema["paths"]
    assert "/api/v1/members/{id}/shares/" in schema["paths"]
    assert "/api/v1/share-classes/" in schema["paths"]


def test_schema_default_format_is_openapi_yaml():
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi: 3." in response.content


def test_schema_generates_without_warnings_and_validates():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


def test_docs_page():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
