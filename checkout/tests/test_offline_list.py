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


# --- issue 16: ETag and 304, gzip, changes since a version ----------------------------------------


@pytest.fixture
def till_device():
    return client_for(make_user("till", groups=["cashiers"]), token=True)


def listing(response):
    import gzip
    import json

    body = response.content
    if response.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return json.loads(body)


def test_an_unchanged_list_answers_304_to_its_etag_and_200_to_another(till_device):
    member_in("up_to_date", first_name="Ann", last_name="Smith")
    first = till_device.get("/api/v1/checkout/cards/")
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"')
    again = till_device.get("/api/v1/checkout/cards/", HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", etag)
    assert till_device.get("/api/v1/checkout/cards/", HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304  # weakened by a proxy
    assert till_device.get("/api/v1/checkout/cards/", HTTP_IF_NONE_MATCH='"something-else"').status_code == 200
    member_in("alert", first_name="Bob", last_name="Jones", counter_standard=-1)
    changed = till_device.get("/api/v1/checkout/cards/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


@pytest.fixture
def fresh_memory(monkeypatch):
    """This process's fingerprint -> ETag memory, empty for the test."""
    from checkout import cardlist

    monkeypatch.setattr(cardlist, "_KNOWN", {})
    return cardlist


@pytest.mark.postgres
@pytest.mark.parametrize("change", ["stored standing", "associate removed", "name", "anonymised"])
def test_an_unchanged_list_answers_304_without_being_built_and_any_change_builds_it(till_device, fresh_memory, monkeypatch, change):
    """A revalidation reads the rows' fingerprint (one statement); when this process built the list
    from the same rows, it answers 304 without building the list. A change to any column a card is
    read from, also by a bulk update that leaves `updated_at` alone, makes the list built again."""
    ann = member_in("up_to_date", first_name="Ann", last_name="Smith")
    associate = member_services.associate_add(member=ann, first_name="Léa", last_name="Smith")
    etag = till_device.get("/api/v1/checkout/cards/")["ETag"]
    assert till_device.get("/api/v1/checkout/cards/", HTTP_IF_NONE_MATCH=etag).status_code == 304  # built, remembered
    built = []
    real = fresh_memory.current_cards
    monkeypatch.setattr(fresh_memory, "current_cards", lambda: built.append(1) or real())
    again = till_device.get("/api/v1/checkout/cards/", HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again["ETag"], built) == (304, etag, [])
    if change == "stored standing":
        Member.objects.filter(pk=ann.pk).update(status="suspended", counter_standard=-2)
    elif change == "associate removed":
        Associate.objects.filter(pk=associate.pk).update(removed_on=datetime.date(2026, 3, 1))
    elif change == "name":
        Associate.objects.filter(pk=associate.pk).update(first_name="Lea")
    else:
        Member.objects.filter(pk=ann.pk).update(anonymised_on=datetime.date(2026, 3, 1))
    changed = till_device.get("/api/v1/checkout/cards/", HTTP_IF_NONE_MATCH=etag)
    assert (changed.status_code, built) == (200, [1])
    assert changed["ETag"] != etag


@pytest.mark.postgres
def test_a_list_whose_rows_changed_while_it_was_built_is_not_remembered(till_device, fresh_memory, monkeypatch):
    ann = member_in("up_to_date", first_name="Ann", last_name="Smith")
    real = fresh_memory.current_cards

    def racing():
        cards = real()
        Member.objects.filter(pk=ann.pk).update(status="suspended")  # the daily job, meanwhile
        return cards

    monkeypatch.setattr(fresh_memory, "current_cards", racing)
    response = till_device.get("/api/v1/checkout/cards/", HTTP_IF_NONE_MATCH='"an-old-list"')
    assert response.status_code == 200 and fresh_memory._KNOWN == {}


def test_the_list_is_gzipped_for_a_till_that_accepts_it(till_device):
    for n in range(30):
        member_in("up_to_date", first_name=f"Name{n}", last_name="Smith")
    plain = till_device.get("/api/v1/checkout/cards/")
    zipped = till_device.get("/api/v1/checkout/cards/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert plain.get("Content-Encoding") is None and zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert len(zipped.content) < len(plain.content) / 3
    assert listing(zipped) == listing(plain)
    assert len(listing(plain)["cards"]) == 30


def test_since_gives_the_cards_changed_and_the_barcodes_removed(till_device, monkeypatch):
    stays = member_in("up_to_date", first_name="Stay", last_name="Same")
    blocked = member_in("up_to_date", first_name="Will", last_name="Block")
    leaves = member_in("up_to_date", first_name="Will", last_name="Leave")
    partner = member_services.associate_add(member=stays, first_name="Pat", last_name="Ner")
    held = listing(till_device.get("/api/v1/checkout/cards/"))
    assert held["full"] is True and len(held["cards"]) == 4

    later = NOW + H
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    member_services.associate_remove(associate=partner, today=later.date())
    Member.objects.filter(pk=blocked.pk).update(blocked_reason="Rude to a cashier")
    member_services.member_leave(member=leaves, reason="Moved", today=later.date())
    new = member_in("up_to_date", first_name="New", last_name="Comer")
    delta = listing(till_device.get("/api/v1/checkout/cards/", {"since": held["generated_at"]}))
    assert delta["full"] is False
    assert datetime.datetime.fromisoformat(delta["generated_at"]) == later
    assert {card["card_barcode"]: card["colour"] for card in delta["cards"]} == {blocked.card_barcode: "red", new.card_barcode: "green"}
    assert sorted(delta["removed"]) == sorted([leaves.card_barcode, partner.card_barcode])
    assert stays.card_barcode not in {card["card_barcode"] for card in delta["cards"]}

    # The till merges: what it holds now is what a whole download gives.
    merged = {card["card_barcode"]: card for card in held["cards"]}
    for barcode in delta["removed"]:
        merged.pop(barcode)
    merged.update({card["card_barcode"]: card for card in delta["cards"]})
    whole = listing(till_device.get("/api/v1/checkout/cards/"))
    assert merged == {card["card_barcode"]: card for card in whole["cards"]}
    # Asked again since the new version: nothing changed.
    nothing = listing(till_device.get("/api/v1/checkout/cards/", {"since": delta["generated_at"]}))
    assert (nothing["full"], nothing["cards"], nothing["removed"]) == (False, [], [])


def test_since_older_than_every_version_kept_gives_the_whole_list(monkeypatch):
    till_device = client_for(make_user("till", groups=["cashiers"]))  # a session: the test's token would expire
    member_in("up_to_date", first_name="Ann", last_name="Smith")
    first = listing(till_device.get("/api/v1/checkout/cards/"))
    member_in("up_to_date", first_name="Bob", last_name="Jones")
    later = NOW + datetime.timedelta(days=8)  # the first version is pruned when a new one is made a week on
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    whole = listing(till_device.get("/api/v1/checkout/cards/", {"since": first["generated_at"]}))
    assert whole["full"] is True and len(whole["cards"]) == 2
    from checkout.models import CardListVersion

    assert CardListVersion.objects.count() == 1


@pytest.mark.parametrize("since", ["yesterday", "2026-13-45T99:00:00", "x" * 500])
def test_a_malformed_since_is_a_400_that_says_what_to_send(till_device, since):
    response = till_device.get("/api/v1/checkout/cards/", {"since": since})
    assert response.status_code == 400
    assert "generated_at" in response.json()["since"][0]


def test_a_since_with_its_plus_sign_unencoded_still_works(till_device):
    member_in("up_to_date", first_name="Ann", last_name="Smith")
    held = listing(till_device.get("/api/v1/checkout/cards/"))
    stamp = datetime.datetime.fromisoformat(held["generated_at"]).astimezone(datetime.timezone(datetime.timedelta(hours=2))).isoformat()
    response = till_device.get("/api/v1/checkout/cards/?since=" + stamp)  # '+02:00' arrives as ' 02:00'
    assert response.status_code == 200
    assert listing(response)["full"] is False


def test_members_cannot_use_since_or_etags_to_probe_the_list(on_shift):
    client = client_for(on_shift.user)
    assert client.get("/api/v1/checkout/cards/", {"since": "2026-01-01T00:00:00Z"}).status_code == 403
    assert client.get("/api/v1/checkout/cards/", HTTP_IF_NONE_MATCH="*").status_code == 403
