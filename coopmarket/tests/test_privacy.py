"""Personal data (DOMAIN.md §8): the member's export holds everything kept about them, office
notes stay off their own pages and API, and anonymisation leaves no personal data anywhere in
the database while keeping amounts, dates and counters under the member number.

The world below gives one member one of everything DOMAIN.md §8 lists. Every piece of free text
written about them carries the marker "Zorglub", so a search of every row of every table finds
what anonymisation missed.
"""
import datetime
import json
from decimal import Decimal

import pytest
from django.apps import apps
from django.core import serializers
from django.core.exceptions import ValidationError
from knox.models import AuthToken

from checkout import services as till
from checkout.models import TillCheck
from coopmarket.tokens import token_issue
from members import services
from members.models import CoopParameters, Payment, StripeCheckout, StripeEvent
from shifts import notifications
from shifts import services as shift_services
from shifts.models import CounterEvent, NotificationLog, Registration, StatusChange
from shifts.tests.conftest import (
    NOW,
    TODAY,
    client_for,
    generate,
    make_template,
    make_user,
    shift_of,
    working_member,
)

pytestmark = pytest.mark.django_db

MARK = "Zorglub"
LATER = TODAY + datetime.timedelta(days=400)  # shares redeemable (365 days after leaving)

# DOMAIN.md §8 "the data export holds": item -> where the export puts it.
DOMAIN_EXPORT = {
    "identity and contact": "member",
    "shares": "subscriptions",
    "payments and refunds": "subscriptions",
    "Stripe checkouts": "stripe_checkouts",
    "associates": "associates",
    "regular slots": "regular_slots",
    "every registration and attendance": "registrations",
    "counter events": "counter_events",
    "status history": "status_history",
    "membership and shift type history": "membership_history",
    "leaves": "leaves",
    "exemptions": "exemptions",
    "extensions": "extensions",
    "notifications sent": "notifications",
    "till checks of their cards": "till_checks",
}


@pytest.fixture
def world(settings):
    """Zoé Zorglub: a standard member with a login, shares, a Stripe checkout, an associate, a
    regular slot, an attended and a booked shift, a correction, a block and unblock, a leave, an
    exemption, an extension, a notification, till checks and an override, and office notes."""
    CoopParameters.objects.update_or_create(pk=1, defaults={"till_override_allowed": True})
    user = make_user("zoe")
    member = working_member("Zoe", user=user)
    services.member_update(
        member=member, today=TODAY, last_name=MARK, phone="+33 6 11 22 33 44", address=f"1 rue {MARK}",
        postal_code="75011", city="Paris", birth_date=datetime.date(1990, 5, 17),
        notes=f"Office note: {MARK} prefers morning shifts",
    )
    associate = services.associate_add(member=member, first_name="Zia", last_name=MARK)
    StripeCheckout.objects.create(
        session_id="cs_test_z1", member=member, share_class_id=member.subscriptions.first().share_class_id,
        quantity=1, unit_price=Decimal("10.00"), amount_cents=1000, note=f"paid by {MARK}",
        checkout_url="https://checkout.stripe.com/c/pay/cs_test_z1",
    )
    StripeEvent.objects.create(
        event_id="evt_z1", type="checkout.session.completed", session_id="cs_test_z1", outcome="recorded",
        payload={"data": {"object": {"customer_details": {"name": f"Zoe {MARK}", "email": "zoe@example.org"}}}},
    )
    template = make_template(capacity=6)
    generate(start=TODAY - datetime.timedelta(days=28), days=70)
    shift_services.slot_assign(template=template, member=member, start_date=TODAY, today=TODAY)
    past = shift_of(template, datetime.date(2026, 2, 4))
    shift_services.shift_book(shift=past, member=member, now=NOW, as_coordinator=True)
    shift_services.attendance_record(shift=past, member=member, state="attended", now=NOW, today=TODAY)
    coming = shift_of(template, datetime.date(2026, 3, 4))
    notifications.booking_confirm(registration_id=Registration.objects.get(shift=coming, member=member).pk, now=NOW)
    shift_services.correction_write(member=member, counter="standard", points=-2, reason=f"{MARK}: missed two shifts", today=TODAY)
    shift_services.extension_grant(member=member, reason=f"{MARK} is ill", today=TODAY)
    shift_services.member_block(member=member, reason=f"{MARK} was rude", today=TODAY)
    shift_services.member_unblock(member=member, reason=f"{MARK} apologised", today=TODAY)
    shift_services.leave_create(member=member, start=datetime.date(2026, 6, 1), end=datetime.date(2026, 6, 30),
                                reason=f"{MARK} travels", today=TODAY, now=NOW)
    shift_services.exemption_create(member=member, start=datetime.date(2026, 8, 1), end=datetime.date(2026, 8, 31),
                                    reason=f"{MARK} has a baby", today=TODAY, now=NOW)
    # Trained as a cashier (a note about them), seated once by coordinators with a reason (§9).
    from members.models import Qualification
    from members.qualifications import member_qualification_grant

    cashier_seat = Qualification.objects.get(code="cashier")
    member_qualification_grant(member=member, qualification=cashier_seat, since=datetime.date(2026, 1, 10), today=TODAY,
                               note=f"{MARK} trained at the old shop")
    Registration.objects.filter(shift=past, member=member).update(seat=cashier_seat, seat_reason=f"{MARK} trained elsewhere")
    cashier = make_user("till-device", "cashiers")
    till.till_check(code=member.card_barcode, user=cashier, now=NOW)
    till.till_check(code=associate.card_barcode, user=cashier, now=NOW)
    till.till_override(code=member.card_barcode, reason=f"{MARK} showed a receipt", user=cashier, now=NOW)
    if apps.is_installed("assemblies"):  # DOMAIN.md §10: they attended an assembly and gave a proxy
        from assemblies.models import Assembly, Proxy, Voter

        other = working_member("Otto")
        assembly = Assembly.objects.create(title="AG 2026", starts_at=NOW, place="Shop", agenda="Accounts",
                                           cutoff=TODAY, voters_frozen_at=NOW)
        Voter.objects.create(assembly=assembly, member=member, present_at=NOW)
        Voter.objects.create(assembly=assembly, member=other)
        Proxy.objects.create(assembly=assembly, giver=other, holder=member, created_at=NOW)
    member.refresh_from_db()
    return {"member": member, "user": user, "associate": associate, "cashier": cashier}


def export_of(user) -> dict:
    response = client_for(user).get("/me/data.json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_export_holds_every_item_domain_8_lists(world):
    data = export_of(world["user"])
    required = dict(DOMAIN_EXPORT)
    if apps.is_installed("assemblies"):  # DOMAIN.md §10: attendance and proxies (issue 15 registers it)
        required["assembly attendance and proxies"] = "assemblies"
    for item, key in required.items():
        assert data.get(key), f"the export misses {item} ({key!r})"
    member = data["member"]
    assert member["member_number"] == world["member"].display_number
    assert member["email"] == "zoe@example.org"
    assert member["phone"] and member["address"] and member["birth_date"] == "1990-05-17"
    assert data["login"]["username"] == "zoe"
    assert {p["kind"] for s in data["subscriptions"] for p in s["payments"]} == {"payment"}
    assert data["associates"][0]["last_name"] == MARK
    assert {r["attendance"] for r in data["registrations"]} >= {"attended", None}
    seated = [r for r in data["registrations"] if r["seat"]]
    assert seated and seated[0]["seat"] == "cashier" and MARK in seated[0]["seat_reason"]
    assert [q["qualification"] for q in data["member"]["qualifications"]] == ["cashier"]
    assert any(e["kind"] == "correction" and MARK in e["reason"] for e in data["counter_events"])
    assert any(MARK in row["cause"] for row in data["status_history"])
    assert data["notifications"]["sent"][0]["sent_to"] == "zoe@example.org"
    checks = data["till_checks"]
    assert [c["associate_card"] for c in checks] == [False, True, False]
    assert checks[-1]["kind"] == "override" and MARK in checks[-1]["override_reason"]
    # The cashier is another person: not named in the member's export.
    assert "till-device" not in json.dumps(data)


def test_office_notes_are_in_the_export_and_off_the_members_pages_and_api(world):
    note = world["member"].notes
    assert export_of(world["user"])["member"]["office_notes"] == note
    client = client_for(world["user"])
    for path in ("/me/", "/me/shifts/", f"/api/v1/members/{world['member'].pk}/", "/api/v1/members/me/",
                 f"/api/v1/members/{world['member'].pk}/history/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "prefers morning shifts" not in response.content.decode(), path
    office = client_for(make_user("office", "coordinators")).get(f"/members/{world['member'].pk}/")
    assert "prefers morning shifts" in office.content.decode()


def every_row() -> str:
    """Every row of every model (ours, auth, and the libraries'), as JSON text."""
    models = [m for m in apps.get_models() if m._meta.app_label not in ("contenttypes", "sessions", "admin")]
    return "\n".join(serializers.serialize("json", m._default_manager.all()) for m in models)


def test_anonymisation_leaves_no_personal_data_and_keeps_amounts_dates_and_counters(world):
    member = world["member"]
    services.member_leave(member=member, reason=f"{MARK} moves to Lyon", today=TODAY)
    for sub in member.subscriptions.all():
        services.redemption_record(subscription=sub, method="transfer", reference=f"refund to {MARK}", today=LATER)
    # Their login was used: a failed and a successful sign-in (axes logs them), an API token.
    from django.test import Client

    login = world["user"]
    Client(REMOTE_ADDR="10.9.8.7").post("/accounts/login/", {"username": login.username, "password": "wrong"})
    Client(REMOTE_ADDR="10.9.8.7").post("/accounts/login/", {"username": login.username, "password": "pass-word-123"})
    token_issue(user=login, lifetime=datetime.timedelta(days=1))
    assert MARK.lower() in every_row().lower()
    counters = list(CounterEvent.objects.filter(member=member).values_list("date", "kind", "standard_points", "ftop_points"))
    statuses = list(StatusChange.objects.filter(member=member).values_list("from_status", "to_status", "effective_date"))
    ledger = list(Payment.objects.filter(subscription__member=member).values_list("kind", "amount", "method", "paid_on"))
    checks = list(TillCheck.objects.filter(member=member).values_list("checked_at", "kind", "can_shop", "status"))
    notified = list(NotificationLog.objects.filter(member=member).values_list("kind", "key", "sent_at"))

    services.member_anonymise(member=member, today=LATER)

    dump = every_row()
    assert "10.9.8.7" not in dump  # the sign-in log of the login is gone with it
    for personal in (MARK, "zoe@example.org", "+33 6 11 22 33 44", "1990-05-17", "Zia"):
        assert personal.lower() not in dump.lower(), f"{personal!r} survived the anonymisation"
    member.refresh_from_db()
    assert member.anonymised_on == LATER and member.user is None
    login.refresh_from_db()
    assert not login.is_active and not login.has_usable_password()
    assert not AuthToken.objects.filter(user=login).exists()
    assert list(CounterEvent.objects.filter(member=member).values_list("date", "kind", "standard_points", "ftop_points")) == counters
    assert list(StatusChange.objects.filter(member=member).values_list("from_status", "to_status", "effective_date")) == statuses
    assert list(Payment.objects.filter(subscription__member=member).values_list("kind", "amount", "method", "paid_on")) == ledger
    assert list(TillCheck.objects.filter(member=member).values_list("checked_at", "kind", "can_shop", "status")) == checks
    assert list(NotificationLog.objects.filter(member=member).values_list("kind", "key", "sent_at")) == notified


def test_ledger_rows_anonymise_only_their_listed_free_text_and_only_to_blank(world):
    events = CounterEvent.objects.filter(member=world["member"])
    with pytest.raises(ValidationError):
        events.anonymise(standard_points=0)  # not a free-text field
    with pytest.raises(ValidationError):
        events.anonymise(reason="something else")  # anonymisation only blanks
    with pytest.raises(ValidationError):
        events.update(reason="")  # the ordinary update stays refused
    with pytest.raises(ValidationError):
        TillCheck.objects.filter(member=world["member"]).anonymise(code="")
    with pytest.raises(ValidationError):
        Payment.objects.filter(subscription__member=world["member"]).anonymise(amount=None)
    assert events.anonymise(reason="") == events.count()
    assert not events.exclude(reason="").exists()
