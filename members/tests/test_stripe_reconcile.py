"""`stripe_reconcile` (issue 7): sessions Stripe reports paid that the ledger lacks, and ledger
Stripe payments Stripe does not know. The pure comparison first, then the command against the
local Stripe double (Checkout Sessions list API, paginated)."""
import datetime
import json
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from members import services
from members.models import Payment
from members.stripe_payments import LedgerFacts, StripeSessionFacts, reconcile
from members.tests.factories import TODAY, MemberFactory, UserFactory, subscribe
from members.tests.stripe_double import stripe_double  # noqa: F401  (fixture)

NOW = datetime.datetime(2026, 3, 2, 10, tzinfo=datetime.UTC)


def session(session_id, *, paid=True, amount=10000, intent=None):
    return StripeSessionFacts(session_id, "paid" if paid else "unpaid", amount, intent, NOW)


def row(payment_id, *, amount=10000, reference="", session_id=""):
    return LedgerFacts(payment_id, "000001", amount, NOW.date(), reference, session_id)


# --- the pure comparison ----------------------------------------------------------------------

def test_reconcile_matches_by_session_or_payment_intent():
    report = reconcile(
        [session("cs_1", intent="pi_1"), session("cs_2", intent="pi_2"), session("cs_3", paid=False)],
        [row(1, session_id="cs_1", reference="pi_1"), row(2, reference="pi_2")],
    )
    assert report.matched == 2
    assert report.clean


def test_reconcile_lists_both_sides_and_amount_differences():
    report = reconcile(
        [session("cs_missing", intent="pi_m"), session("cs_short", intent="pi_s", amount=9000)],
        [row(7, reference="pi_ghost"), row(8, reference="pi_s", amount=10000)],
    )
    assert [s.session_id for s in report.missing_in_ledger] == ["cs_missing"]
    assert [r.payment_id for r in report.unknown_to_stripe] == [7]
    assert [(s.session_id, r.payment_id) for s, r in report.amount_differences] == [("cs_short", 8)]
    assert report.matched == 0
    assert not report.clean


def test_unpaid_sessions_are_not_expected_in_the_ledger():
    assert reconcile([session("cs_open", paid=False)], []).clean


# --- the command ------------------------------------------------------------------------------

def run(*args) -> str:
    out = StringIO()
    call_command("stripe_reconcile", *args, stdout=out)
    return out.getvalue()


def pay_through_webhook(double, member, coordinator, quantity=10) -> dict:
    api = APIClient()
    api.force_login(coordinator)
    session_id = api.post(
        f"/api/v1/members/{member.pk}/shares/checkout/", {"share_class": "A", "quantity": quantity}, format="json"
    ).json()["session_id"]
    paid = double.pay(session_id)
    payload = json.dumps(double.event("checkout.session.completed", paid))
    response = Client().post("/stripe/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=double.sign(payload))
    assert response.json()["outcome"] == "paid"
    return paid


@pytest.mark.django_db
def test_command_reports_what_stripe_and_the_ledger_disagree_on(stripe_double):  # noqa: F811
    stripe_double.page_limit_cap = 2  # make the command walk several pages
    coordinator = UserFactory()
    coordinator.groups.add(Group.objects.get(name="coordinators"))
    matched = [pay_through_webhook(stripe_double, MemberFactory(), coordinator) for _ in range(3)]
    # Paid at Stripe, but the webhook never arrived.
    api = APIClient()
    api.force_login(coordinator)
    lost_member = MemberFactory()
    lost_id = api.post(f"/api/v1/members/{lost_member.pk}/shares/checkout/", {"share_class": "A", "quantity": 17}, format="json").json()["session_id"]
    stripe_double.pay(lost_id)
    # A session left open (never paid) is nobody's concern.
    api.post(f"/api/v1/members/{lost_member.pk}/shares/checkout/", {"share_class": "A", "quantity": 10}, format="json")
    # A Stripe payment in the ledger that Stripe does not know (typed by hand with a wrong reference).
    ghost_member = MemberFactory()
    sub = subscribe(ghost_member, 10, instalments=2)
    ghost = services.payment_record(
        subscription=sub, amount="50.00", method=Payment.Method.STRIPE, today=TODAY, stripe_reference="pi_test_ghost",
    )

    output = run()

    assert "3 paid session(s) match the ledger." in output
    assert "Paid at Stripe, missing from the ledger (1):" in output
    assert f"  {lost_id}  " in output and "170.00 EUR" in output
    assert "In the ledger, not reported paid by Stripe (1):" in output
    assert f"  payment {ghost.pk}  {TODAY:%Y-%m-%d}  50.00 EUR  member {ghost_member.display_number}  pi_test_ghost" in output
    assert "Everything matches." not in output
    for paid in matched:
        assert paid["id"] not in output
    lists = [r for r in stripe_double.requests if r["method"] == "GET"]
    assert len(lists) >= 3  # six sessions, two per page
    assert lists[0]["params"]["limit"] == "100"


@pytest.mark.django_db
def test_since_limits_both_sides(stripe_double):  # noqa: F811
    coordinator = UserFactory()
    coordinator.groups.add(Group.objects.get(name="coordinators"))
    pay_through_webhook(stripe_double, MemberFactory(), coordinator)
    stripe_double.add_session(amount_total=5000, created=int(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC).timestamp()))

    everything = run()
    assert "1 paid session(s) match" in everything and "missing from the ledger (1)" in everything

    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    output = run("--since", tomorrow)
    assert "0 paid session(s) match" in output
    assert "Everything matches." in output
    assert stripe_double.requests[-1]["params"]["created"]["gte"].isdigit()


@pytest.mark.django_db
def test_everything_matches(stripe_double):  # noqa: F811
    coordinator = UserFactory()
    coordinator.groups.add(Group.objects.get(name="coordinators"))
    pay_through_webhook(stripe_double, MemberFactory(), coordinator)
    output = run("--since", "2020-01-01")
    assert "1 paid session(s) match the ledger." in output
    assert "Everything matches." in output


@pytest.mark.django_db
def test_command_needs_stripe_keys_and_a_valid_date(settings, stripe_double):  # noqa: F811
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("--since", "March")
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(CommandError, match="not set up"):
        run()


@pytest.mark.django_db
def test_command_reports_stripe_errors(stripe_double):  # noqa: F811
    stripe_double.fail_next = (400, "Bad request")
    with pytest.raises(CommandError, match="Stripe could not list"):
        run()
