"""`/stripe/webhook/` and refunds (issue 7), with events signed by the real Stripe scheme.

A signed `checkout.session.completed` makes the subscription paid and the member a shopping
member; repeated deliveries record one payment; bad signatures, missing headers, stale
timestamps, malformed bodies and unknown sessions write nothing; refunds go through Stripe and
into the ledger, once.
"""
import json
import time
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from coopmarket.errors import RuleViolation
from members import services, stripe_payments
from members.models import Member, MemberEvent, Payment, ShareSubscription, StripeCheckout, StripeEvent
from members.tasks import payment_receipt_send
from members.tests.factories import TODAY, MemberFactory, UserFactory, subscribe
from members.tests.stripe_double import stripe_double  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator():
    user = UserFactory()
    user.groups.add(Group.objects.get(name="coordinators"))
    return user


def start_checkout(member, coordinator, quantity=17, code="A") -> str:
    api = APIClient()
    api.force_login(coordinator)
    response = api.post(f"/api/v1/members/{member.pk}/shares/checkout/", {"share_class": code, "quantity": quantity}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["session_id"]


def deliver(double, event, *, header="sign", body=None, timestamp=None):
    """POST an event to the webhook as Stripe would (CSRF enforced, to prove the view is exempt)."""
    payload = body if body is not None else json.dumps(event)
    extra = {}
    if header == "sign":
        extra["HTTP_STRIPE_SIGNATURE"] = double.sign(payload, timestamp=timestamp)
    elif header is not None:
        extra["HTTP_STRIPE_SIGNATURE"] = header
    return Client(enforce_csrf_checks=True).post("/stripe/webhook/", data=payload, content_type="application/json", **extra)


def ledger_snapshot():
    return (
        Payment.objects.count(),
        ShareSubscription.objects.count(),
        StripeEvent.objects.count(),
        MemberEvent.objects.count(),
        sorted(StripeCheckout.objects.values_list("session_id", "status", "payment_id")),
        sorted(Member.objects.values_list("pk", "membership", "status", "work_start_date")),
    )


@pytest.fixture
def paid_session(stripe_double, coordinator):  # noqa: F811
    """A member who chose 17 A shares online, and the session as Stripe reports it once paid."""
    member = MemberFactory()
    session_id = start_checkout(member, coordinator, 17)
    return member, stripe_double.pay(session_id)


# --- the happy path -------------------------------------------------------------------------------

def test_signed_completed_session_makes_the_member_a_shopping_member(
    stripe_double, paid_session, django_capture_on_commit_callbacks  # noqa: F811
):
    member, session = paid_session
    assert not member.can_shop
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(stripe_double, stripe_double.event("checkout.session.completed", session))

    assert response.status_code == 200, response.content
    assert response.json() == {"received": True, "outcome": "paid"}
    member.refresh_from_db()
    assert member.membership == Member.Membership.ACTIVE
    assert member.can_shop
    assert member.work_start_date is not None
    subscription = ShareSubscription.objects.get(member=member)
    assert (subscription.share_class.code, subscription.quantity, subscription.instalments) == ("A", 17, 1)
    assert subscription.amount == Decimal("170.00")
    payment = subscription.payments.get()
    assert payment.amount == Decimal("170.00")  # 17000 cents, exactly
    assert (payment.kind, payment.method) == (Payment.Kind.PAYMENT, Payment.Method.STRIPE)
    assert payment.stripe_reference == session["payment_intent"]
    assert payment.reference == session["id"]
    checkout = StripeCheckout.objects.get(session_id=session["id"])
    assert (checkout.status, checkout.payment, checkout.subscription) == (StripeCheckout.Status.PAID, payment, subscription)
    event = StripeEvent.objects.get()
    assert (event.type, event.session_id, event.outcome) == ("checkout.session.completed", session["id"], "paid")
    assert set(MemberEvent.objects.filter(member=member).values_list("kind", flat=True)) >= {"subscribed", "payment"}
    # The receipt went out by e-mail (Celery runs eagerly without a broker).
    [receipt] = mail.outbox
    assert receipt.to == [member.email]
    assert "receipt" in receipt.subject.lower()
    assert "170.00" in receipt.body and "17 x class A" in receipt.body


def test_the_same_event_delivered_three_times_records_one_payment(stripe_double, paid_session):  # noqa: F811
    member, session = paid_session
    event = stripe_double.event("checkout.session.completed", session)
    outcomes = [deliver(stripe_double, event).json()["outcome"] for _ in range(3)]
    assert outcomes == ["paid", "duplicate", "duplicate"]
    assert Payment.objects.filter(subscription__member=member).count() == 1
    assert ShareSubscription.objects.filter(member=member).count() == 1
    assert StripeEvent.objects.count() == 1


def test_another_event_for_a_session_already_paid_changes_nothing(stripe_double, paid_session):  # noqa: F811
    member, session = paid_session
    assert deliver(stripe_double, stripe_double.event("checkout.session.completed", session)).json()["outcome"] == "paid"
    before = ledger_snapshot()
    again = deliver(stripe_double, stripe_double.event("checkout.session.async_payment_succeeded", session))
    assert again.json()["outcome"] == "already_paid"
    after = ledger_snapshot()
    assert after[0:2] == before[0:2] and after[4:] == before[4:]  # only the event row is new
    assert after[2] == before[2] + 1


def test_delayed_payment_waits_for_async_success(stripe_double, coordinator):  # noqa: F811
    member = MemberFactory()
    session_id = start_checkout(member, coordinator, 10)
    pending = stripe_double.pay(session_id, payment_status="unpaid")  # SEPA debit: completed, not yet paid
    assert deliver(stripe_double, stripe_double.event("checkout.session.completed", pending)).json()["outcome"] == "processing"
    assert not Payment.objects.exists()
    assert StripeCheckout.objects.get().status == StripeCheckout.Status.PROCESSING

    paid = dict(pending, payment_status="paid")
    assert deliver(stripe_double, stripe_double.event("checkout.session.async_payment_succeeded", paid)).json()["outcome"] == "paid"
    assert Payment.objects.get().amount == Decimal("100.00")
    member.refresh_from_db()
    assert member.can_shop


def test_async_payment_failed_marks_the_session_failed(stripe_double, coordinator):  # noqa: F811
    member = MemberFactory()
    pending = stripe_double.pay(start_checkout(member, coordinator, 10), payment_status="unpaid")
    assert deliver(stripe_double, stripe_double.event("checkout.session.completed", pending)).json()["outcome"] == "processing"
    response = deliver(stripe_double, stripe_double.event("checkout.session.async_payment_failed", pending))
    assert response.json()["outcome"] == "failed"
    assert StripeCheckout.objects.get().status == StripeCheckout.Status.FAILED
    assert not Payment.objects.exists()
    member.refresh_from_db()
    assert member.membership == Member.Membership.NONE


def test_expired_session(stripe_double, coordinator):  # noqa: F811
    member = MemberFactory()
    session_id = start_checkout(member, coordinator, 10)
    session = dict(stripe_double.sessions[session_id], status="expired")
    assert deliver(stripe_double, stripe_double.event("checkout.session.expired", session)).json()["outcome"] == "expired"
    assert StripeCheckout.objects.get().status == StripeCheckout.Status.EXPIRED


def test_other_event_types_are_stored_once_and_ignored(stripe_double):  # noqa: F811
    event = stripe_double.event("payment_intent.created", {"id": "pi_test_1", "object": "payment_intent"})
    assert deliver(stripe_double, event).json()["outcome"] == "ignored"
    assert deliver(stripe_double, event).json()["outcome"] == "duplicate"
    assert StripeEvent.objects.get().outcome == "ignored"


# --- what writes nothing ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "case",
    ["wrong_secret", "missing_header", "garbage_header", "stale", "tampered_body", "malformed_json", "no_data_object", "unknown_session"],
)
def test_refused_or_unknown_events_write_nothing(stripe_double, paid_session, case):  # noqa: F811
    member, session = paid_session
    event = stripe_double.event("checkout.session.completed", session)
    payload = json.dumps(event)
    before = ledger_snapshot()
    if case == "wrong_secret":
        response = deliver(stripe_double, event, header=stripe_double.sign(payload, secret="whsec_" + "0" * 32))
    elif case == "missing_header":
        response = deliver(stripe_double, event, header=None)
    elif case == "garbage_header":
        response = deliver(stripe_double, event, header="not-a-signature")
    elif case == "stale":
        response = deliver(stripe_double, event, timestamp=int(time.time()) - 301)
    elif case == "tampered_body":
        header = stripe_double.sign(payload)
        response = deliver(stripe_double, event, header=header, body=payload.replace('"amount_total": 17000', '"amount_total": 1'))
    elif case == "malformed_json":
        response = deliver(stripe_double, event, body='{"id": "evt_1", "type": ')
    elif case == "no_data_object":
        response = deliver(stripe_double, event, body=json.dumps({"id": "evt_1", "type": "checkout.session.completed"}))
    else:
        unknown = dict(session, id="cs_test_made_elsewhere")
        response = deliver(stripe_double, stripe_double.event("checkout.session.completed", unknown))

    if case == "unknown_session":
        assert response.status_code == 200
        assert response.json()["outcome"] == "unknown_session"
    else:
        assert response.status_code == 400, response.content
        assert response.json()["code"] in ("bad_signature", "malformed")
    assert ledger_snapshot() == before
    member.refresh_from_db()
    assert not member.can_shop


def test_a_fresh_signature_within_tolerance_is_accepted(stripe_double, paid_session):  # noqa: F811
    member, session = paid_session
    response = deliver(stripe_double, stripe_double.event("checkout.session.completed", session), timestamp=int(time.time()) - 290)
    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "paid"}
    assert Payment.objects.get(subscription__member=member).amount == Decimal("170.00")


def test_webhook_answers_only_post(stripe_double):  # noqa: F811
    assert Client().get("/stripe/webhook/").status_code == 405


def test_paid_amount_that_is_not_what_was_asked_is_not_recorded(stripe_double, paid_session):  # noqa: F811
    member, session = paid_session
    response = deliver(stripe_double, stripe_double.event("checkout.session.completed", dict(session, amount_total=100)))
    assert response.json()["outcome"] == "rejected"
    assert not Payment.objects.exists()
    checkout = StripeCheckout.objects.get()
    assert checkout.status == StripeCheckout.Status.REJECTED
    assert "amount_total" in checkout.note


def test_payment_for_a_member_who_left_meanwhile_is_not_recorded(stripe_double, paid_session):  # noqa: F811
    member, session = paid_session
    services.member_leave(member=member, reason="Moved", today=TODAY)
    response = deliver(stripe_double, stripe_double.event("checkout.session.completed", session))
    assert response.json()["outcome"] == "rejected"
    assert not ShareSubscription.objects.filter(member=member).exists()
    assert StripeCheckout.objects.get().status == StripeCheckout.Status.REJECTED


# --- refunds ----------------------------------------------------------------------------------

@pytest.fixture
def paid_member(stripe_double, paid_session):  # noqa: F811
    member, session = paid_session
    assert deliver(stripe_double, stripe_double.event("checkout.session.completed", session)).json()["outcome"] == "paid"
    member.refresh_from_db()
    assert member.can_shop
    return member, Payment.objects.get(subscription__member=member), session


def test_office_refund_goes_through_stripe_and_into_the_ledger(
    stripe_double, paid_member, coordinator, client, django_capture_on_commit_callbacks  # noqa: F811
):
    member, payment, session = paid_member
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/members/{member.pk}/payments/{payment.pk}/refund/", follow=True)
    assert response.status_code == 200
    assert "Refund made through Stripe" in response.content.decode()

    [stripe_refund] = stripe_double.refunds.values()
    assert stripe_refund["payment_intent"] == session["payment_intent"]
    assert stripe_refund["amount"] == 17000
    refund_call = [r for r in stripe_double.requests if r["path"] == "/v1/refunds"][0]
    assert refund_call["headers"]["Idempotency-Key"] == f"coopmarket-refund-{session['id']}"

    refund = Payment.objects.get(kind=Payment.Kind.REFUND)
    assert (refund.method, refund.amount, refund.stripe_reference) == (Payment.Method.STRIPE, Decimal("170.00"), stripe_refund["id"])
    assert refund.recorded_by == coordinator
    subscription = payment.subscription
    subscription.refresh_from_db()
    assert subscription.redeemed_on is not None  # the shares bought are given back
    member.refresh_from_db()
    assert member.membership == Member.Membership.NONE
    assert not member.can_shop
    assert StripeCheckout.objects.get().status == StripeCheckout.Status.REFUNDED
    assert MemberEvent.objects.filter(member=member, kind="refunded").count() == 1
    assert [m.subject for m in mail.outbox][-1].endswith("your share payment was refunded")

    # A second click changes nothing, at Stripe or in the ledger.
    assert client.post(f"/members/{member.pk}/payments/{payment.pk}/refund/").status_code == 302
    assert len(stripe_double.refunds) == 1
    assert Payment.objects.filter(kind=Payment.Kind.REFUND).count() == 1


def test_refund_service_is_idempotent(stripe_double, paid_member):  # noqa: F811
    _member, payment, _session = paid_member
    first = stripe_payments.refund_create(payment=payment, today=TODAY)
    second = stripe_payments.refund_create(payment=payment, today=TODAY)
    assert first == second
    assert len(stripe_double.refunds) == 1


def test_stripe_refusing_the_refund_writes_nothing(stripe_double, paid_member, coordinator, client):  # noqa: F811
    member, payment, _session = paid_member
    stripe_double.fail_next = (400, "This charge is disputed")
    before = ledger_snapshot()
    client.force_login(coordinator)
    response = client.post(f"/members/{member.pk}/payments/{payment.pk}/refund/", follow=True)
    assert "Stripe refused the refund" in response.content.decode()
    assert ledger_snapshot() == before
    with pytest.raises(stripe_payments.StripeFailure):
        stripe_double.fail_next = (400, "still disputed")
        stripe_payments.refund_create(payment=payment, today=TODAY)


def test_only_online_payments_are_refunded_through_stripe(stripe_double, coordinator, client):  # noqa: F811
    member = MemberFactory()
    cash = subscribe(member, 10).payments.get()
    client.force_login(coordinator)
    assert client.post(f"/members/{member.pk}/payments/{cash.pk}/refund/").status_code == 404
    with pytest.raises(RuleViolation, match="Only an online"):
        stripe_payments.refund_create(payment=cash, today=TODAY)
    assert not stripe_double.refunds


def test_a_member_cannot_refund_themself(stripe_double, paid_member, client):  # noqa: F811
    member, payment, _session = paid_member
    member.user = UserFactory()
    member.save()
    client.force_login(member.user)
    assert client.post(f"/members/{member.pk}/payments/{payment.pk}/refund/").status_code == 403
    assert client.get(f"/members/{member.pk}/payments/{payment.pk}/refund/").status_code == 403
    assert not stripe_double.refunds


def test_shares_marked_for_redemption_are_not_refunded_here(stripe_double, paid_member):  # noqa: F811
    member, payment, _session = paid_member
    services.member_leave(member=member, reason="Moved", today=TODAY)
    with pytest.raises(RuleViolation, match="marked for redemption"):
        stripe_payments.refund_create(payment=payment, today=TODAY)
    assert not stripe_double.refunds


# --- receipts ---------------------------------------------------------------------------------

def test_receipt_task_e_mails_the_member(settings):
    member = MemberFactory()
    sub = subscribe(member, 12)
    assert payment_receipt_send.delay(sub.payments.get().pk).get() == member.email
    [message] = mail.outbox
    assert "120.00" in message.body
    assert member.display_number in message.body
