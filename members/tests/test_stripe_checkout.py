"""Starting online share payments (issue 7): cents, the first-subscription minimum before Stripe,
who may start a checkout, the "Pay online" pages, and online payment hidden without keys.

Stripe is the local double of `stripe_double.py`: no network.
"""
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from members import services, stripe_payments
from members.models import Member, Payment, ShareClass, ShareSubscription, StripeCheckout
from members.tests.factories import TODAY, MemberFactory, UserFactory, subscribe
from members.tests.stripe_double import stripe_double  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def coordinator_client():
    user = UserFactory()
    user.groups.add(Group.objects.get(name="coordinators"))
    client = APIClient()
    client.force_login(user)
    return client


def member_with_login(**kw) -> tuple[Member, APIClient]:
    member = MemberFactory(**kw)
    member.user = UserFactory()
    member.save()
    client = APIClient()
    client.force_login(member.user)
    return member, client


def checkout_path(member) -> str:
    return f"/api/v1/members/{member.pk}/shares/checkout/"


# --- money: integer cents to Stripe, Decimal euros in the ledger --------------------------------

def test_seventeen_shares_at_ten_euros_are_17000_cents():
    assert stripe_payments.to_cents(Decimal("10.00")) * 17 == 17000
    assert stripe_payments.from_cents(17000) == Decimal("170.00")
    assert stripe_payments.to_cents(Decimal("12.34")) == 1234
    assert stripe_payments.from_cents(1) == Decimal("0.01")


def test_fractions_of_a_cent_are_refused_not_rounded():
    with pytest.raises(ValueError):
        stripe_payments.to_cents(Decimal("0.015"))


# --- the API --------------------------------------------------------------------------------------

def test_checkout_sends_cents_metadata_and_reference_to_stripe(stripe_double):  # noqa: F811
    member = MemberFactory()
    response = coordinator_client().post(checkout_path(member), {"share_class": "A", "quantity": 17}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"checkout_url", "session_id"}
    assert body["checkout_url"].startswith("https://checkout.stripe.com/")
    sent = stripe_double.requests[-1]
    assert (sent["method"], sent["path"]) == ("POST", "/v1/checkout/sessions")
    assert sent["headers"]["Authorization"] == f"Bearer {stripe_double.api_key}"
    params = sent["params"]
    assert params["mode"] == "payment"
    [item] = params["line_items"]
    assert item["quantity"] == "17"
    assert item["price_data"]["unit_amount"] == "1000"
    assert item["price_data"]["currency"] == "eur"
    assert params["metadata"] == {
        "member_id": str(member.pk), "member_number": member.display_number, "share_class": "A",
        "quantity": "17", "unit_price_cents": "1000",
    }
    assert params["client_reference_id"] == f"member-{member.pk}-A-17"
    assert params["customer_email"] == member.email
    assert params["success_url"].endswith("/members/online-payment/done/?session_id={CHECKOUT_SESSION_ID}")
    assert params["cancel_url"].endswith("/members/online-payment/cancelled/?session_id={CHECKOUT_SESSION_ID}")
    assert stripe_double.sessions[body["session_id"]]["amount_total"] == 17000

    checkout = StripeCheckout.objects.get(session_id=body["session_id"])
    assert (checkout.member, checkout.share_class.code, checkout.quantity) == (member, "A", 17)
    assert checkout.amount_cents == 17000 and checkout.amount == Decimal("170.00")
    assert checkout.status == StripeCheckout.Status.OPEN
    # Nothing is in the ledger until Stripe says it is paid.
    assert not ShareSubscription.objects.filter(member=member).exists()
    member.refresh_from_db()
    assert member.membership == Member.Membership.NONE


def test_share_class_may_be_given_by_id(stripe_double):  # noqa: F811
    member = MemberFactory()
    pk = ShareClass.objects.get(code="B").pk
    response = coordinator_client().post(checkout_path(member), {"share_class": pk, "quantity": 3}, format="json")
    assert response.status_code == 201
    assert StripeCheckout.objects.get().amount_cents == 3000


@pytest.mark.parametrize(
    ("setup", "code", "quantity", "expected"),
    [
        ("new", "A", 9, 400),  # a first A subscription needs 10
        ("new", "A", 10, 201),
        ("low_income", "A", 1, 201),  # low-income minimum 1
        ("holds_a", "A", 1, 201),  # later subscriptions may add any number
        ("new", "B", 1, 201),  # supporting shares: minimum 1, and no shopping minimum rule
        ("new", "A", 0, 400),
        ("new", "Z", 10, 400),
    ],
)
def test_first_subscription_minimum_applies_before_stripe_is_called(stripe_double, setup, code, quantity, expected):  # noqa: F811
    member = MemberFactory(low_income=setup == "low_income")
    if setup == "holds_a":
        subscribe(member, 10)
    calls = len(stripe_double.requests)
    response = coordinator_client().post(checkout_path(member), {"share_class": code, "quantity": quantity}, format="json")
    assert response.status_code == expected, response.content
    if expected == 400:
        assert len(stripe_double.requests) == calls, "Stripe was called for a refused subscription"
        assert not StripeCheckout.objects.exists()
        if code == "A" and quantity == 9:
            assert "at least 10 shares" in response.json()["quantity"][0]


def test_member_may_pay_for_themself_not_for_another(stripe_double):  # noqa: F811
    member, client = member_with_login()
    other = MemberFactory()
    assert client.post(checkout_path(member), {"share_class": "A", "quantity": 10}, format="json").status_code == 201
    refused = client.post(checkout_path(other), {"share_class": "A", "quantity": 10}, format="json")
    assert refused.status_code == 403
    assert StripeCheckout.objects.filter(member=other).count() == 0


@pytest.mark.parametrize("role", ["anonymous", "cashiers", "supply"])
def test_other_roles_cannot_start_a_checkout(stripe_double, role):  # noqa: F811
    member = MemberFactory()
    client = APIClient()
    if role != "anonymous":
        user = UserFactory()
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
    response = client.post(checkout_path(member), {"share_class": "A", "quantity": 10}, format="json")
    assert response.status_code == (401 if role == "anonymous" else 403)
    assert not StripeCheckout.objects.exists()
    assert not stripe_double.requests


def test_member_who_left_cannot_pay_online(stripe_double):  # noqa: F811
    member = MemberFactory()
    services.member_leave(member=member, reason="Moved", today=TODAY)
    response = coordinator_client().post(checkout_path(member), {"share_class": "A", "quantity": 10}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "not_allowed"


def test_stripe_refusing_the_session_is_a_502_with_nothing_written(stripe_double):  # noqa: F811
    member = MemberFactory()
    stripe_double.fail_next = (400, "Something is wrong")
    response = coordinator_client().post(checkout_path(member), {"share_class": "A", "quantity": 10}, format="json")
    assert response.status_code == 502
    assert response.json()["code"] == "stripe_error"
    assert not StripeCheckout.objects.exists()


def test_checkout_action_is_in_the_api_schema():
    schema = APIClient().get("/api/schema/").content.decode()
    assert "/api/v1/members/{id}/shares/checkout/" in schema


# --- without Stripe keys (the embedded default) -------------------------------------------------

@pytest.fixture
def no_stripe(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.STRIPE_API_BASE = ""


def test_without_keys_the_api_says_409_not_allowed(no_stripe):
    member = MemberFactory()
    response = coordinator_client().post(checkout_path(member), {"share_class": "A", "quantity": 10}, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "Online payment is not set up for this coop (no Stripe keys).", "code": "not_allowed"}
    assert not StripeCheckout.objects.exists()


def test_without_keys_no_pay_online_button_and_the_rest_works(no_stripe, client):
    member, _api = member_with_login()
    client.force_login(member.user)
    page = client.get("/me/")
    assert page.status_code == 200
    assert "Pay online" not in page.content.decode()
    coordinator = UserFactory()
    coordinator.groups.add(Group.objects.get(name="coordinators"))
    client.force_login(coordinator)
    page = client.get(f"/members/{member.pk}/")
    assert page.status_code == 200
    assert "Pay online" not in page.content.decode()
    # The office still records shares paid at the desk.
    subscribe(member, 10)
    member.refresh_from_db()
    assert member.membership == Member.Membership.ACTIVE
    # And the webhook is not there.
    assert client.post("/stripe/webhook/", data="{}", content_type="application/json").status_code == 404


def test_settings_embed_no_stripe_key():
    source = (Path(django_settings.BASE_DIR) / "coopmarket" / "settings.py").read_text()
    assert 'env_str("STRIPE_SECRET_KEY")' in source and 'env_str("STRIPE_WEBHOOK_SECRET")' in source


SECRET = re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{8,}|\bwhsec_[0-9A-Za-z]{8,}")
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "staticfiles", "__pycache__", "tests", ".pytest_cache", ".ruff_cache"}


def test_no_stripe_secret_in_the_repository():
    """API keys and webhook secrets come from the environment only (tests build throwaway ones)."""
    root = Path(django_settings.BASE_DIR)
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            path = Path(directory) / name
            if path.suffix in {".sqlite3", ".png", ".jpg", ".pdf", ".woff", ".woff2", ".mo", ".ico", ".gz", ".br"}:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            found += [f"{path.relative_to(root)}: {m}" for m in SECRET.findall(text)]
    assert found == []


# --- the pages ----------------------------------------------------------------------------------

def test_member_pays_online_from_their_page(stripe_double, client):  # noqa: F811
    member, _api = member_with_login()
    client.force_login(member.user)
    page = client.get("/me/").content.decode()
    assert "Pay online" in page
    assert f'action="/members/{member.pk}/pay-online/"' in page
    assert 'name="quantity" type="number" min="1" max="100000" required value="10"' in page  # the A minimum

    response = client.post(f"/members/{member.pk}/pay-online/", {"share_class": "A", "quantity": "12"})
    checkout = StripeCheckout.objects.get()
    assert response.status_code == 302
    assert response["Location"] == checkout.checkout_url
    assert checkout.amount_cents == 12000
    assert checkout.created_by == member.user


def test_pay_online_below_the_minimum_goes_back_with_the_reason(stripe_double, client):  # noqa: F811
    member, _api = member_with_login()
    client.force_login(member.user)
    response = client.post(f"/members/{member.pk}/pay-online/", {"share_class": "A", "quantity": "2"}, follow=True)
    assert response.redirect_chain[-1][0] == "/me/"
    assert "at least 10 shares" in response.content.decode()
    assert not StripeCheckout.objects.exists()
    assert not stripe_double.requests


def test_office_pays_online_for_a_member_from_the_member_page(stripe_double, client):  # noqa: F811
    member = MemberFactory()
    coordinator = UserFactory()
    coordinator.groups.add(Group.objects.get(name="coordinators"))
    client.force_login(coordinator)
    assert "Pay online" in client.get(f"/members/{member.pk}/").content.decode()
    response = client.post(f"/members/{member.pk}/pay-online/", {"share_class": "B", "quantity": "1"})
    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.com/")


def test_cooperator_cannot_pay_for_another_member_through_the_form(stripe_double, client):  # noqa: F811
    member, _api = member_with_login()
    other = MemberFactory()
    client.force_login(member.user)
    assert client.post(f"/members/{other.pk}/pay-online/", {"share_class": "A", "quantity": "10"}).status_code == 403
    assert client.get(f"/members/{member.pk}/pay-online/").status_code == 405
    assert not StripeCheckout.objects.exists()


def test_success_and_cancel_pages(stripe_double, client):  # noqa: F811
    member, api = member_with_login()
    session_id = api.post(checkout_path(member), {"share_class": "A", "quantity": 10}, format="json").json()["session_id"]
    client.force_login(member.user)
    done = client.get(f"/members/online-payment/done/?session_id={session_id}")
    assert done.status_code == 200
    assert "Stripe is confirming your payment" in done.content.decode()
    cancelled = client.get(f"/members/online-payment/cancelled/?session_id={session_id}")
    assert cancelled.status_code == 200
    assert "Nothing was charged" in cancelled.content.decode()
    # Pages are read-only: the session stays open until Stripe says otherwise.
    assert StripeCheckout.objects.get().status == StripeCheckout.Status.OPEN
    assert client.get("/members/online-payment/done/?session_id=cs_test_unknown").status_code == 404

    other, _ = member_with_login()
    client.force_login(other.user)
    assert client.get(f"/members/online-payment/done/?session_id={session_id}").status_code == 403


def test_refund_button_only_on_the_office_page(stripe_double, client):  # noqa: F811
    member, _api = member_with_login()
    sub = subscribe(member, 10)
    payment = sub.payments.get()
    checkout = StripeCheckout.objects.create(
        session_id="cs_test_shown", member=member, share_class=sub.share_class, quantity=10, unit_price=Decimal("10.00"),
        amount_cents=10000, status=StripeCheckout.Status.PAID, payment=payment, subscription=sub, payment_intent="pi_x",
    )
    assert payment.method == Payment.Method.CASH  # (only the row link matters for the button)
    client.force_login(member.user)
    assert "Refund" not in client.get("/me/").content.decode()
    coordinator = UserFactory()
    coordinator.groups.add(Group.objects.get(name="coordinators"))
    client.force_login(coordinator)
    page = client.get(f"/members/{member.pk}/").content.decode()
    assert f'action="/members/{member.pk}/payments/{checkout.payment_id}/refund/"' in page
