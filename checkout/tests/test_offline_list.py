"""The offline card list and overrides (DOMAIN.md §6, issue 11): the list goes only to till device
accounts (`cashiers`) and coordinators, never to a member's own account; it holds no member who
left and no anonymised member; it is wiped at sign-out. Members never override their own answer.
"""
import datetime

import pytest
from django.test import Client

from checkout.models import TillCheck
from checkout.tests.test_api import NOW, client_for, make_user, member_in, shift_around
from members import services as member_services
from members.models import Associate, CoopParameters, Member

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)
LATER = datetime.date(2027, 6, 1)


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def on_shift():
    """A cooperator registered on a shift running now: they may use the online till."""
    member = member_in("up_to_date", first_name="Otto", last_name="Shift")
    member.user = make_user("otto")
    member.save()
    shift_around(member, start=NOW - H, end=NOW + H)
    return member


def test_a_member_on_shift_uses_the_online_till_but_never_gets_the_card_list(on_shift):
    other = member_in("up_to_date", first_name="Ann", last_name="Smith")
    client = client_for(on_shift.user)
    assert client.get(f"/api/v1/checkout/{other.card_barcode}/").status_code == 200
    assert client.get("/api/v1/checkout/", {"search": "smith"}).status_code == 200
    response = client.get("/api/v1/checkout/cards/")
    assert response.status_code == 403
    assert "card_barcode" not in response.content.decode()


@pytest.mark.parametrize("role", ["cashier", "coordinator", "superuser"])
def test_till_devices_and_coordinators_get_the_card_list(role):
    user = {
        "cashier": lambda: make_user("till", groups=["cashiers"]),
        "coordinator": lambda: make_user("office", groups=["coordinators"]),
        "superuser": lambda: make_user("root", superuser=True),
    }[role]()
    assert client_for(user, token=True).get("/api/v1/checkout/cards/").status_code == 200


def test_the_till_page_of_a_member_on_shift_has_no_card_list_url(on_shift):
    page = Client()
    page.force_login(on_shift.user)
    response = page.get("/till/")
    assert response.status_code == 200
    assert 'data-cards-url=""' in response.content.decode()


def test_the_card_list_holds_no_member_who_left_and_no_anonymised_member():
    stays = member_in("up_to_date", first_name="Stay", last_name="Here")
    left = member_in("up_to_date", first_name="Left", last_name="Gone")
    member_services.member_leave(member=left, reason="moved", today=NOW.date())
    gone = member_in("up_to_date", first_name="Anon", last_name="Ymous")
    member_services.member_leave(member=gone, reason="moved", today=NOW.date())
    for sub in gone.subscriptions.all():
        member_services.redemption_record(subscription=sub, method="transfer", today=LATER)
    member_services.member_anonymise(member=gone, today=LATER)
    cards = client_for(make_user("till", groups=["cashiers"])).get("/api/v1/checkout/cards/").json()["cards"]
    listed = {card["card_barcode"] for card in cards}
    assert stays.card_barcode in listed
    assert left.card_barcode not in listed
    assert gone.card_barcode not in listed


def test_an_associate_whose_holder_left_stays_in_the_list_unless_anonymised():
    """Issue 10 makes such an associate answer red `left_coop`; the list must not hide them."""
    holder = member_in("up_to_date", first_name="Hold", last_name="Er")
    associate = member_services.associate_add(member=holder, first_name="Asso", last_name="Ciate")
    Member.objects.filter(pk=holder.pk).update(membership=Member.Membership.LEFT, left_on=NOW.date())
    client = client_for(make_user("till", groups=["cashiers"]))
    listed = {card["card_barcode"]: card for card in client.get("/api/v1/checkout/cards/").json()["cards"]}
    assert associate.card_barcode in listed
    assert listed[associate.card_barcode]["can_shop"] is False
    Member.objects.filter(pk=holder.pk).update(anonymised_on=LATER)
    Associate.objects.filter(pk=associate.pk).update(first_name="Anonymised", last_name="")
    listed = {card["card_barcode"] for card in client.get("/api/v1/checkout/cards/").json()["cards"]}
    assert associate.card_barcode not in listed


def test_signing_out_tells_the_browser_to_wipe_storage_and_caches():
    client = Client()
    client.force_login(make_user("till", groups=["cashiers"]))
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    directives = {part.strip() for part in response["Clear-Site-Data"].split(",")}
    assert {'"cache"', '"storage"'} <= directives


def test_the_sign_out_form_wipes_the_device_in_script_too():
    """Browsers without Clear-Site-Data: site.js wipes the list and the till caches on sign-out."""
    client = Client()
    client.force_login(make_user("till", groups=["cashiers"]))
    page = client.get("/").content.decode()
    assert "data-signout" in page
    from django.contrib.staticfiles import finders

    with open(finders.find("coopmarket/site.js"), encoding="utf-8") as handle:
        script = handle.read()
    assert "localStorage" in script and "caches.delete" in script and "data-signout" in script


@pytest.fixture
def overrides_allowed():
    CoopParameters.objects.update_or_create(pk=1, defaults={"till_override_allowed": True})


def test_a_member_on_shift_cannot_override_their_own_red_answer(on_shift, overrides_allowed):
    Member.objects.filter(pk=on_shift.pk).update(status="suspended", counter_standard=-4)
    associate = member_services.associate_add(member=on_shift, first_name="Own", last_name="Household")
    client = client_for(on_shift.user)
    for code in (on_shift.card_barcode, associate.card_barcode, str(on_shift.member_number)):
        response = client.post(f"/api/v1/checkout/{code}/override/", {"reason": "I promise"}, format="json")
        assert response.status_code == 403, code
    assert not TillCheck.objects.filter(kind="override").exists()


def test_a_member_on_shift_may_override_another_members_answer(on_shift, overrides_allowed):
    refused = member_in("suspended", first_name="Red", last_name="Card", counter_standard=-4)
    response = client_for(on_shift.user).post(f"/api/v1/checkout/{refused.card_barcode}/override/",
                                              {"reason": "Booked a make-up"}, format="json")
    assert response.status_code == 201
