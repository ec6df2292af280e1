"""Concurrent webhook deliveries (PostgreSQL only: SQLite has no row locks).

Stripe may deliver one event twice at once, or two events for one session (completed, then
async_payment_succeeded) close together. The session row is locked before the event is looked up,
so exactly one delivery records the payment; a pause is widened inside the payment write so the
race is not left to chance.
"""
from __future__ import annotations

import threading
import time

import pytest
from django.db import connections

from members import services, stripe_payments
from members.models import Payment, StripeCheckout, StripeEvent
from members.tests.factories import MemberFactory, share_class_a
from members.tests.stripe_double import stripe_double  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),  # keep the migrated share classes
]

WIDEN = 0.2


def in_threads(targets) -> list:
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def work(index):
        try:
            barrier.wait(timeout=30)
            results[index] = targets[index]()
        except BaseException as exc:  # noqa: BLE001  (asserted on by the test)
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.fixture
def widened(monkeypatch):
    record = services.payment_record

    def slow_record(**kwargs):
        time.sleep(WIDEN)
        return record(**kwargs)

    monkeypatch.setattr(services, "payment_record", slow_record)


@pytest.fixture
def paid_session(stripe_double):  # noqa: F811
    member = MemberFactory()
    checkout = stripe_payments.checkout_start(
        member=member, share_class=share_class_a(), quantity=10, success_url="https://coop.test/ok", cancel_url="https://coop.test/no",
    )
    return member, stripe_double.pay(checkout.session_id)


def process(event):
    return lambda: stripe_payments.event_process(event=event, now=stripe_payments.timezone.now())


def test_one_event_delivered_four_times_at_once_records_one_payment(stripe_double, paid_session, widened):  # noqa: F811
    member, session = paid_session
    event = stripe_double.event("checkout.session.completed", session)
    outcomes = in_threads([process(event)] * 4)
    assert sorted(outcomes) == ["duplicate", "duplicate", "duplicate", "paid"], outcomes
    assert Payment.objects.filter(subscription__member=member).count() == 1
    assert StripeEvent.objects.count() == 1


def test_two_events_for_one_session_at_once_record_one_payment(stripe_double, paid_session, widened):  # noqa: F811
    member, session = paid_session
    events = [
        stripe_double.event("checkout.session.completed", session),
        stripe_double.event("checkout.session.async_payment_succeeded", session),
    ]
    outcomes = in_threads([process(e) for e in events])
    assert sorted(outcomes) == ["already_paid", "paid"], outcomes
    assert Payment.objects.filter(subscription__member=member).count() == 1
    assert StripeCheckout.objects.get().status == StripeCheckout.Status.PAID
    member.refresh_from_db()
    assert member.can_shop
