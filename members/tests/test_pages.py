"""The members office pages and the cooperator's page, once each for wiring: forms show the
service's messages, labels are translated, the invitation and password pages work end to end."""
import datetime
import importlib
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client

from members import services
from members.forms import PaymentForm, next_instalment_amount
from members.membership import instalment_schedule
from members.models import CoopParameters, Member, MemberEvent, ShareClass
from members.tests.factories import TODAY, MemberFactory, UserFactory, active_member, subscribe
from members.views import event_text

pytestmark = pytest.mark.django_db

EUR = Decimal
PASSWORD = "pass-word-123"


@pytest.fixture
def office(client):
    user = UserFactory(username="office")
    user.groups.add(Group.objects.get(name="coordinators"))
    client.force_login(user)
    return client


def french(client: Client) -> Client:
    client.cookies["django_language"] = "fr"
    return client


def reload(member):
    return Member.objects.get(pk=member.pk)


# --- registering and editing a member --------------------------------------------------------


def test_duplicate_email_shows_the_services_message_under_the_field(office):
    MemberFactory(email="ann@example.org")
    response = office.post("/members/new/", {
        "first_name": "Ann", "last_name": "Other", "email": "ANN@example.org", "shift_type": "standard",
    })
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["email"] == ["Another member already uses this e-mail address."]
    assert not form.non_field_errors()
    assert "member_email_unique_ci" not in response.content.decode()
    assert Member.objects.count() == 1


def test_duplicate_email_on_the_edit_form_shows_the_services_message_too(office):
    MemberFactory(email="ann@example.org")
    bob = MemberFactory(email="bob@example.org")
    data = {"first_name": bob.first_name, "last_name": bob.last_name, "email": "ann@example.org", "shift_type": "standard"}
    response = office.post(f"/members/{bob.pk}/edit/", data)
    assert response.context["form"].errors["email"] == ["Another member already uses this e-mail address."]
    assert not response.context["form"].non_field_errors()


# --- the invitation, and the password pages ------------------------------------------------------


def link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_invitation_lets_the_member_choose_a_password_and_sign_in(office, settings):
    settings.COOP_NAME = "La Coop du Coin"
    member = MemberFactory(email="Ann@example.org")
    response = office.post(f"/members/{member.pk}/invite/")
    assert response.status_code == 302

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Ann@example.org"]
    assert message.subject == "Your La Coop du Coin member account"
    assert "La Coop du Coin" in message.body and "testserver" not in message.body.split("http")[0]
    assert "ann@example.org" in message.body  # the login

    visitor = Client()
    page = visitor.get(link_in(message), follow=True)
    assert page.status_code == 200
    assert "registration/password_reset_confirm.html" in [t.name for t in page.templates]
    assert page.context["validlink"]
    assert "admin/base_site.html" not in [t.name for t in page.templates]
    done = visitor.post(page.redirect_chain[-1][0], {"new_password1": "Choux-fleurs 2026", "new_password2": "Choux-fleurs 2026"},
                        follow=True)
    assert "registration/password_reset_complete.html" in [t.name for t in done.templates]

    signed_in = Client().post("/accounts/login/", {"username": "ann@example.org", "password": "Choux-fleurs 2026"})
    assert signed_in.status_code == 302 and signed_in.url == "/"
    assert reload(member).user.check_password("Choux-fleurs 2026")


def test_forgotten_password_pages_are_the_coops_and_the_email_names_the_coop(client, settings):
    settings.COOP_NAME = "La Coop du Coin"
    user = UserFactory(username="ann@example.org", email="ann@example.org")
    form = client.get("/accounts/password_reset/")
    assert "registration/password_reset_form.html" in [t.name for t in form.templates]
    assert "admin/base_site.html" not in [t.name for t in form.templates]
    done = client.post("/accounts/password_reset/", {"email": "ann@example.org"}, follow=True)
    assert "registration/password_reset_done.html" in [t.name for t in done.templates]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Your new La Coop du Coin password"
    assert "La Coop du Coin" in mail.outbox[0].body
    page = client.get(link_in(mail.outbox[0]), follow=True)
    assert page.context["validlink"]
    client.post(page.redirect_chain[-1][0], {"new_password1": "Choux-fleurs 2026", "new_password2": "Choux-fleurs 2026"})
    user.refresh_from_db()
    assert user.check_password("Choux-fleurs 2026")


def test_an_used_reset_link_says_so_on_the_coops_page(client):
    page = client.get("/accounts/reset/MQ/set-password/")
    assert page.status_code == 200
    assert not page.context["validlink"]
    assert "Ask for a new link" in page.content.decode()


def test_sign_in_page_names_the_login_and_offers_the_language(client):
    page = client.get("/accounts/login/").content.decode()
    assert "Login (your e-mail address)" in page
    assert 'name="language"' in page
    french_page = french(client).get("/accounts/login/").content.decode()
    assert "Identifiant (votre adresse e-mail)" in french_page


# --- share classes ---------------------------------------------------------------------------


def test_default_share_classes_are_named_in_french():
    assert dict(ShareClass.objects.values_list("code", "name")) == {
        "A": "Parts A – coopérateur", "B": "Parts B – soutien",
    }


def test_renaming_migration_leaves_names_an_admin_chose():
    migration = importlib.import_module("members.migrations.0005_french_share_class_names")
    ShareClass.objects.filter(code="A").update(name="Cooperator shares")
    ShareClass.objects.filter(code="B").update(name="Parts de soutien")
    migration.to_french(apps, None)
    assert dict(ShareClass.objects.values_list("code", "name")) == {
        "A": "Parts A – coopérateur", "B": "Parts de soutien",
    }


# --- the member page ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "detail", "expected"),
    [
        ("registered", "", ("Registered", "")),
        ("subscribed", "10 x A, 3 instalment(s)", ("Shares subscribed", "10 × A · 3 instalments")),
        ("subscribed", "1 x B, 1 instalment(s)", ("Shares subscribed", "1 × B")),
        ("payment", "1250.00 EUR (transfer)", ("Payment recorded", "1,250.00\u00a0€ · Bank transfer")),
        ("redeemed", "100.00 EUR", ("Shares refunded", "100.00\u00a0€")),
        ("edited", "email, phone", ("Details changed", "e-mail, phone")),
        ("associate_added", "Léo Martin", ("Household associate added", "Léo Martin")),
        ("login_created", "ann@example.org", ("Login created", "ann@example.org")),
        ("something_new", "as stored", ("something_new", "as stored")),
    ],
)
def test_history_rows_read_as_sentences(kind, detail, expected):
    assert event_text(kind, detail) == expected


def test_member_page_history_is_translated_and_dated_in_french(office):
    member = active_member()
    MemberEvent.objects.filter(member=member).update(created_at=datetime.datetime(2026, 3, 2, 14, 5, tzinfo=datetime.UTC))
    page = french(office).get(f"/members/{member.pk}/").content.decode()
    assert "Parts souscrites" in page and "10 × A" in page and "10 x A" not in page
    assert "02/03/2026" in page and "2026-03-02" not in page


def test_add_an_associate_is_offered_until_the_maximum(office):
    member = active_member()
    assert "Add an associate" in office.get(f"/members/{member.pk}/").content.decode()
    services.associate_add(member=member, first_name="Léo", last_name="Martin")
    page = office.get(f"/members/{member.pk}/").content.decode()
    assert "Add an associate" not in page
    assert "already has the maximum of 1 household associate" in page
    response = office.get(f"/members/{member.pk}/associates/new/")
    assert response.status_code == 302
    CoopParameters.objects.filter(pk=1).update(max_associates=2)
    assert "Add an associate" in office.get(f"/members/{member.pk}/").content.decode()


def test_leaving_form_asks_to_confirm_the_departure(office):
    member = active_member()
    page = office.get(f"/members/{member.pk}/leave/").content.decode()
    assert "Confirm the departure" in page and "btn-danger" in page


def test_my_page_shows_the_counters_once_and_only_when_they_apply(client):
    member = active_member()
    user = services.member_login_create(member=member)
    client.force_login(user)
    Member.objects.filter(pk=member.pk).update(status="not_concerned", counter_standard=0, counter_ftop=0)
    page = client.get("/me/").content.decode()
    assert "Regular-slot counter" not in page and "FTOP 0" not in page
    Member.objects.filter(pk=member.pk).update(status="alert", counter_standard=-1, counter_ftop=2)
    page = client.get("/me/").content.decode()
    assert page.count("Regular-slot counter") == 1 and page.count("Flying (FTOP) credit") == 1


def test_my_page_in_french_puts_a_space_before_colons_and_a_comma_in_amounts(client):
    member = active_member()
    client.force_login(services.member_login_create(member=member))
    page = french(client).get("/me/").content.decode()
    assert "Statut de participation\u00a0:" in page
    assert "100,00\u00a0€" in page and "100.00" not in page


# --- recording a payment ---------------------------------------------------------------------


def test_next_instalment_completes_the_first_one_not_covered():
    schedule = instalment_schedule(EUR("100.00"), 10, TODAY)
    assert next_instalment_amount(schedule, EUR("10.00")) == EUR("10.00")
    assert next_instalment_amount(schedule, EUR("25.00")) == EUR("5.00")
    assert next_instalment_amount(schedule, EUR("100.00")) == EUR("0")
    assert next_instalment_amount(instalment_schedule(EUR("100.00"), 1, TODAY), EUR("30.00")) == EUR("70.00")


def test_payment_form_lists_what_is_due_and_prefills_the_next_instalment():
    member = MemberFactory()
    subscribe(member, 10, instalments=1)  # paid in full: not offered
    on_plan = subscribe(member, 10, instalments=5, today=datetime.date(2026, 3, 12))
    form = PaymentForm(member=member)
    field = form.fields["subscription"]
    assert list(field.queryset) == [on_plan]
    assert field.label_from_instance(on_plan) == "03/12/2026 · 10 A · 100.00\u00a0€ · 80.00\u00a0€ due"
    assert form.initial == {"subscription": on_plan.pk, "amount": EUR("20.00")}
    assert 'data-amount="20.00"' in str(form["subscription"])


def test_payment_page_of_a_member_with_nothing_due_goes_back_with_a_message(office):
    member = active_member()
    response = office.get(f"/members/{member.pk}/payments/new/", follow=True)
    assert response.redirect_chain[-1][0] == f"/members/{member.pk}/"
    assert "Nothing is due on this member" in response.content.decode()
    assert f"/members/{member.pk}/payments/new/" not in response.content.decode()


# --- lists and the dashboard -------------------------------------------------------------------


def test_members_table_uses_short_shift_types_and_all_in_empty_filters(office):
    active_member(shift_type="ftop")
    page = office.get("/members/").content.decode()
    assert "FTOP (flying)</td>" not in page and ">FTOP</td>" in page
    assert "Unknown" not in page and "---------" not in page
    french_page = french(office).get("/members/").content.decode()
    assert '<option value="" selected>Tous</option>' in french_page


def test_low_income_filter_yes_and_no(office):
    active_member(low_income=True, email="low@example.org")
    active_member(email="usual@example.org")
    assert office.get("/members/?low_income=true").context["table"].paginator.count == 1
    assert office.get("/members/?low_income=false").context["table"].paginator.count == 1
    assert office.get("/members/?low_income=").context["table"].paginator.count == 2


def test_dashboard_status_counts_match_the_lists_they_link_to(office):
    active_member(email="a@example.org")
    left = active_member(email="b@example.org")
    services.member_leave(member=left, reason="Moved", today=TODAY)
    Member.objects.filter(pk=left.pk).update(status="alert")
    MemberFactory(email="c@example.org")
    response = office.get("/")
    assert response.context["status_counts"]
    for value, _label, count in response.context["status_counts"]:
        listed = office.get(f"/members/?status={value}").context["table"].paginator.count
        assert listed == count, value


def test_redemption_rows_not_yet_due_have_a_disabled_button_and_their_date(office):
    member = active_member()
    services.member_leave(member=member, reason="Moved", today=TODAY)
    page = office.get("/members/redemptions/").content.decode()
    assert "Record the refund" in page and "disabled" in page
    assert "due on 03/02/2027" in page
    assert f"/members/redemptions/{member.subscriptions.get().pk}/redeem/" not in page


def test_a_lost_invitation_can_be_sent_again_until_a_password_is_chosen(office):
    member = MemberFactory()
    office.post(f"/members/{member.pk}/invite/")
    assert "Send the invitation again" in office.get(f"/members/{member.pk}/").content.decode()
    office.post(f"/members/{member.pk}/invite/")
    assert len(mail.outbox) == 2
    assert get_user_model().objects.filter(username=member.email.lower()).count() == 1

    user = reload(member).user
    user.set_password("Choux-fleurs 2026")
    user.save()
    assert "Send the invitation again" not in office.get(f"/members/{member.pk}/").content.decode()
    office.post(f"/members/{member.pk}/invite/")
    assert len(mail.outbox) == 2  # "This member can already sign in."


@pytest.mark.django_db
def test_forgotten_password_reaches_an_invited_member_who_never_chose_one(client, mailoutbox):
    from members import services as member_services
    from members.tests.factories import active_member

    member = active_member(email="invited@example.org")
    user = member_services.member_login_create(member=member)
    assert not user.has_usable_password()
    response = client.post("/accounts/password_reset/", {"email": "INVITED@example.org"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["invited@example.org"]
