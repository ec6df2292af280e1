"""The till API of CONTRACT.md §5 (DOMAIN.md §6), end to end through DRF's APIClient.

The till reads the stored standing only, so members are put in a status by writing the stored
fields. The clock is pinned (`django.utils.timezone.now`) so the shift window is exact.
"""
import datetime
import zoneinfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from checkout import services
from checkout.models import TillCheck
from coopmarket.tokens import token_issue
from members import services as member_services
from members.models import CoopParameters, Member
from members.tests.factories import TODAY, active_member
from shifts.models import Registration, Shift

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)
PASSWORD = "pass-word-123"
ELIGIBILITY_FIELDS = {
    "member_number", "display_name", "card_barcode", "associate", "can_shop", "status", "reasons", "warnings",
    "message", "checked_at",
}
CARD_FIELDS = {"card_barcode", "display_name", "associate", "can_shop", "status", "reasons", "warnings", "colour"}  # CONTRACT.md §5
CONTACT_FIELDS = {"email", "phone", "address", "postal_code", "city", "last_name", "birth_date", "first_name", "notes"}


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


def make_user(username, *, groups=(), superuser=False):
    users = get_user_model().objects
    if superuser:
        return users.create_superuser(username=username, email=f"{username}@example.org", password=PASSWORD)
    user = users.create_user(username=username, email=f"{username}@example.org", password=PASSWORD)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def client_for(user=None, *, token=False):
    client = APIClient()
    if user is not None:
        if token:
            client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user, lifetime=datetime.timedelta(days=1))[1]}")
        else:
            client.force_login(user)
    return client


def member_in(status="up_to_date", *, first_name="Ann", last_name="Smith", **stored):
    """An active member (10 A shares paid) with the given stored working status."""
    member = active_member(first_name=first_name, last_name=last_name,
                           email=f"member{Member.objects.count()}@example.org")
    Member.objects.filter(pk=member.pk).update(status=status, **stored)
    member.refresh_from_db()
    return member


def shift_around(member, *, start, end):
    shift = Shift.objects.create(name="Caisse", date=start.date(), start=start, end=end, capacity=6, week="A")
    return Registration.objects.create(shift=shift, member=member, kind=Registration.Kind.ONE_OFF)


@pytest.fixture
def cashier():
    return make_user("till1", groups=["cashiers"])


@pytest.fixture
def api(cashier):
    return client_for(cashier)


@pytest.fixture
def ann():
    return member_in("up_to_date", first_name="Ann", last_name="Smith", phone="0601020304", address="1 rue X", city="Paris")


def no_contact_data(body: dict, member: Member) -> None:
    assert not CONTACT_FIELDS & set(body), body
    text = str(body)
    for value in (member.email, member.last_name, member.phone, member.address):
        if value:
            assert value not in text


# --- lookups ----------------------------------------------------------------------------------


def test_member_barcode_gives_every_field_of_the_eligibility_object_and_no_contact_data(api, ann):
    response = api.get(f"/api/v1/checkout/{ann.card_barcode}/")
    assert response.status_code == 200
    body = response.json()
    assert ELIGIBILITY_FIELDS <= set(body)
    assert body["member_number"] == ann.member_number
    assert body["display_name"] == "Ann S."
    assert body["card_barcode"] == ann.card_barcode
    assert body["associate"] is False
    assert body["can_shop"] is True
    assert body["status"] == "up_to_date"
    assert body["reasons"] == [] and body["warnings"] == []
    assert body["colour"] == "green"
    assert body["message"] == "Ann S. may shop."
    assert datetime.datetime.fromisoformat(body["checked_at"]) == NOW
    no_contact_data(body, ann)


def test_twelve_digit_scan_without_the_leading_zero_finds_the_card(api, ann):
    assert ann.card_barcode.startswith("0420")
    body = api.get(f"/api/v1/checkout/{ann.card_barcode[1:]}/").json()
    assert body["card_barcode"] == ann.card_barcode and body["can_shop"] is True


@pytest.mark.parametrize("padding", ["", "0", "000", "0000000"])
def test_member_number_with_or_without_leading_zeros(api, ann, padding):
    code = padding + str(ann.member_number)
    response = api.get(f"/api/v1/checkout/{code}/")
    assert response.status_code == 200
    assert response.json()["member_number"] == ann.member_number


def test_associate_card_takes_the_holders_answer(api):
    holder = member_in("suspended", first_name="Paul", last_name="Martin", counter_standard=-4)
    associate = member_services.associate_add(member=holder, first_name="Léa", last_name="Martin")
    for code in (associate.card_barcode, associate.card_barcode[1:]):
        body = api.get(f"/api/v1/checkout/{code}/").json()
        assert body["associate"] is True
        assert body["card_barcode"] == associate.card_barcode
        assert body["display_name"] == "Léa M."
        assert body["member_number"] == holder.member_number
        assert body["can_shop"] is False and body["reasons"] == ["suspended"] and body["colour"] == "red"
        assert "Léa M. may not shop" in body["message"]


def test_removed_associate_card_is_unknown(api):
    holder = member_in("up_to_date", first_name="Paul", last_name="Martin")
    associate = member_services.associate_add(member=holder, first_name="Léa", last_name="Martin")
    member_services.associate_remove(associate=associate, today=TODAY)
    assert api.get(f"/api/v1/checkout/{associate.card_barcode}/").status_code == 404


def test_alert_answer_is_orange_with_make_ups_and_deadline(api):
    member = member_in("alert", first_name="Zoé", last_name="Petit", counter_standard=-2,
                       alert_deadline=datetime.date(2026, 3, 30))
    body = api.get(f"/api/v1/checkout/{member.card_barcode}/").json()
    assert body["can_shop"] is True and body["colour"] == "orange" and body["reasons"] == []
    assert body["warnings"] == [{"code": "alert", "makeups_owed": 2, "deadline": "2026-03-30"}]
    assert body["message"] == "Zoé P. may shop, but owes 2 make-ups before 30 March."


def test_delay_answer_is_orange_with_its_end(api):
    member = member_in("delay", counter_standard=-1, delay_until=datetime.date(2026, 4, 6))
    body = api.get(f"/api/v1/checkout/{member.card_barcode}/").json()
    assert body["colour"] == "orange"
    assert body["warnings"] == [{"code": "delay", "until": "2026-04-06"}]


def test_refusal_lists_every_reason_in_order(api):
    member = member_in("suspended", counter_standard=-4, blocked_reason="Unpaid fine")
    Member.objects.filter(pk=member.pk).update(membership="unpaid")
    body = api.get(f"/api/v1/checkout/{member.card_barcode}/").json()
    assert body["can_shop"] is False and body["colour"] == "red"
    assert body["reasons"] == ["shares_unpaid", "blocked", "suspended"]
    assert body["warnings"] == []
    assert "pay their shares" in body["message"]


@pytest.mark.parametrize("code", [
    "0420000099990",   # a member card nobody holds
    "0420000000010",   # wrong check digit
    "0123456789012",   # a valid EAN-13 that is no coop card
    "999999",          # a member number nobody has
    "0", "000", "abc", "12a", "123456789", "04200000000001",
])
def test_unknown_or_malformed_code_is_404_json_with_detail(api, ann, code):
    response = api.get(f"/api/v1/checkout/{code}/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_every_check_is_logged_with_user_code_and_answer(api, cashier, ann):
    refused = member_in("suspended", first_name="Bob", last_name="Lee", counter_standard=-4)
    api.get(f"/api/v1/checkout/{ann.card_barcode}/")
    api.get(f"/api/v1/checkout/{refused.member_number:06d}/")
    api.get("/api/v1/checkout/0420000099990/")
    checks = list(TillCheck.objects.order_by("id"))
    assert [(c.user, c.code, c.member, c.can_shop, c.status, c.reasons, c.kind) for c in checks] == [
        (cashier, ann.card_barcode, ann, True, "up_to_date", [], "check"),
        (cashier, f"{refused.member_number:06d}", refused, False, "suspended", ["suspended"], "check"),
        (cashier, "0420000099990", None, None, "", [], "check"),
    ]
    assert all(c.checked_at == NOW for c in checks)


@pytest.mark.parametrize("kind", ["member_card", "scan12", "number", "padded_number", "associate_card"])
def test_lookup_is_one_query(kind):
    member = member_in("up_to_date")
    associate = member_services.associate_add(member=member, first_name="Léa", last_name="Smith")
    code = {
        "member_card": member.card_barcode, "scan12": member.card_barcode[1:], "number": str(member.member_number),
        "padded_number": f"{member.member_number:08d}", "associate_card": associate.card_barcode,
    }[kind]
    with CaptureQueriesContext(connection) as queries:
        holder = services.find_holder(code)
        answer = services.answer(holder, now=NOW)
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert answer["member_number"] == member.member_number


@pytest.mark.parametrize(("kind", "reads"), [
    ("member_card", 1), ("scan12", 1), ("number", 1), ("padded_number", 1), ("unknown_card", 1), ("associate_card", 2),
])
def test_a_token_scan_reads_the_token_and_the_member_in_one_statement(kind, reads, cashier):
    """TillAuthentication reads the scanned member with the token, user and roles (one round trip
    per scan; an associate's card still needs its own). The answer is the one the session path
    gives, which reads the member on its own."""
    member = member_in("alert", counter_standard=-2, alert_deadline=datetime.date(2026, 3, 20))
    associate = member_services.associate_add(member=member, first_name="Léa", last_name="Smith")
    code = {
        "member_card": member.card_barcode, "scan12": member.card_barcode[1:], "number": str(member.member_number),
        "padded_number": f"{member.member_number:08d}", "associate_card": associate.card_barcode,
        "unknown_card": "0420099999991",  # a valid EAN-13 no card has
    }[kind]
    token_client = client_for(cashier, token=True)
    with CaptureQueriesContext(connection) as queries:
        by_token = token_client.get(f"/api/v1/checkout/{code}/")
    selects = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(selects) == reads, selects
    by_session = client_for(cashier).get(f"/api/v1/checkout/{code}/")
    assert by_token.status_code == by_session.status_code == (404 if kind == "unknown_card" else 200)
    assert by_token.json() == by_session.json()
    if kind != "unknown_card":
        assert by_token.json()["warnings"] == [{"code": "alert", "makeups_owed": 2, "deadline": "2026-03-20"}]
        logged = TillCheck.objects.filter(user=cashier).order_by("pk")
        assert [(c.member_id, c.associate_id) for c in logged] == [(member.pk, associate.pk if kind == "associate_card" else None)] * 2


def test_a_scan_with_a_bad_token_says_nothing_about_the_card(ann):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)
    response = client.get(f"/api/v1/checkout/{ann.card_barcode}/")
    assert response.status_code == 401
    assert ann.first_name not in response.content.decode() and not TillCheck.objects.exists()


def test_a_member_read_for_another_code_is_not_used(ann):
    bob = member_in("suspended", first_name="Bob", last_name="Brown")
    wrong = services.Prefetched(("card_barcode", bob.card_barcode), bob)
    assert services.find_holder(ann.card_barcode, prefetched=wrong).member.pk == ann.pk
    right = services.Prefetched(services.member_key(ann.card_barcode), None)  # the join found no one
    assert services.find_holder(ann.card_barcode, prefetched=right) is None


def test_a_lookup_over_the_api_makes_a_flat_number_of_queries(api, ann, django_assert_max_num_queries):
    api.get(f"/api/v1/checkout/{ann.card_barcode}/")  # warm the session
    # session + user + groups (role check) + lookup + log insert
    with django_assert_max_num_queries(5):
        assert api.get(f"/api/v1/checkout/{ann.card_barcode}/").status_code == 200


# --- search -----------------------------------------------------------------------------------


def test_search_is_accent_and_case_insensitive(api):
    helene = member_in("up_to_date", first_name="Hélène", last_name="Dupré")
    member_in("up_to_date", first_name="Marc", last_name="Durand")
    for text in ("helene", "HÉLÈNE", "dupre", "Hélène Dupre", "hel dup"):
        response = api.get("/api/v1/checkout/", {"search": text})
        assert response.status_code == 200, text
        body = response.json()
        assert [r["member_number"] for r in body] == [helene.member_number], text
        assert ELIGIBILITY_FIELDS <= set(body[0])
        no_contact_data(body[0], helene)


def test_search_returns_at_most_twenty(api):
    for i in range(23):
        member_in("up_to_date", first_name=f"Jean{i:02d}", last_name="Commun")
    body = api.get("/api/v1/checkout/", {"search": "commun"}).json()
    assert len(body) == 20


def test_search_needs_two_letters(api, ann):
    response = api.get("/api/v1/checkout/", {"search": "a"})
    assert response.status_code == 400
    assert api.get("/api/v1/checkout/").status_code == 400


def test_search_finds_an_associate_by_name(api):
    holder = member_in("up_to_date", first_name="Paul", last_name="Martin")
    associate = member_services.associate_add(member=holder, first_name="Léa", last_name="Zyx")
    body = api.get("/api/v1/checkout/", {"search": "zyx"}).json()
    assert [r["card_barcode"] for r in body] == [associate.card_barcode]


# --- the offline card list --------------------------------------------------------------------


def test_cards_list_has_every_member_card_and_every_current_associate_card(api):
    members = [member_in(s, first_name=f"M{i}", last_name="Card") for i, s in enumerate(["up_to_date", "alert", "suspended"])]
    unpaid = member_services.member_create(first_name="No", last_name="Shares", email="no.shares@example.org", joined_on=TODAY)
    current = member_services.associate_add(member=members[0], first_name="Cur", last_name="Rent")
    removed = member_services.associate_add(member=members[1], first_name="Re", last_name="Moved")
    member_services.associate_remove(associate=removed, today=TODAY)
    response = api.get("/api/v1/checkout/cards/")
    assert response.status_code == 200
    body = response.json()
    assert datetime.datetime.fromisoformat(body["generated_at"]) == NOW
    by_card = {c["card_barcode"]: c for c in body["cards"]}
    assert set(by_card) == {m.card_barcode for m in [*members, unpaid]} | {current.card_barcode}
    assert by_card[current.card_barcode]["associate"] is True
    assert by_card[members[2].card_barcode]["colour"] == "red"
    assert by_card[unpaid.card_barcode]["reasons"] == ["shares_missing"]
    assert (body["full"], body["removed"]) == (True, [])
    for card in body["cards"]:
        assert set(card) == CARD_FIELDS  # no sentence and no time per card: the till page writes the sentence
        assert not CONTACT_FIELDS & set(card)
    assert "example.org" not in response.content.decode()


# --- overrides --------------------------------------------------------------------------------


def test_override_is_409_when_the_coop_does_not_allow_it(api):
    refused = member_in("suspended", counter_standard=-4)
    response = api.post(f"/api/v1/checkout/{refused.card_barcode}/override/", {"reason": "Shift booked"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "not_allowed"
    assert not TillCheck.objects.filter(kind="override").exists()


def test_override_is_201_and_logged_when_allowed(api, cashier):
    CoopParameters.objects.update_or_create(pk=1, defaults={"till_override_allowed": True})
    refused = member_in("suspended", counter_standard=-4)
    response = api.post(f"/api/v1/checkout/{refused.card_barcode}/override/", {"reason": "Shift booked tomorrow"}, format="json")
    assert response.status_code == 201
    entry = TillCheck.objects.get(kind="override")
    assert response.json()["id"] == entry.pk
    assert (entry.user, entry.member, entry.can_shop, entry.reasons, entry.reason) == (
        cashier, refused, False, ["suspended"], "Shift booked tomorrow")


def test_override_needs_a_reason_and_a_known_card(api):
    CoopParameters.objects.update_or_create(pk=1, defaults={"till_override_allowed": True})
    refused = member_in("suspended", counter_standard=-4)
    assert api.post(f"/api/v1/checkout/{refused.card_barcode}/override/", {"reason": ""}, format="json").status_code == 400
    assert api.post("/api/v1/checkout/0420000099990/override/", {"reason": "x"}, format="json").status_code == 404
    assert not TillCheck.objects.filter(kind="override").exists()


# --- who may use the till ---------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/api/v1/checkout/{card}/", {}),
    ("get", "/api/v1/checkout/", {"search": "smith"}),
    ("get", "/api/v1/checkout/cards/", {}),
    ("post", "/api/v1/checkout/{card}/override/", {"reason": "ok"}),
]

# What a member on a shift may call: everything but the offline card list (test_offline_list.py).
ONLINE_ENDPOINTS = [endpoint for endpoint in ENDPOINTS if "/cards/" not in endpoint[1]]


def _call(client, method, path, data, card):
    path = path.format(card=card)
    if method == "post":
        return client.post(path, data, format="json")
    return client.get(path, data)


@pytest.fixture
def world(ann):
    CoopParameters.objects.update_or_create(pk=1, defaults={"till_override_allowed": True})
    return ann


@pytest.mark.parametrize("method,path,data", ENDPOINTS)
def test_anonymous_is_refused(world, method, path, data):
    response = _call(client_for(None), method, path, data, world.card_barcode)
    assert response.status_code == 401  # token first: anonymous API calls get 401
    assert not TillCheck.objects.exists()


@pytest.mark.parametrize("role", ["cashier", "coordinator", "superuser"])
@pytest.mark.parametrize("token", [False, True], ids=["session", "token"])
@pytest.mark.parametrize("method,path,data", ENDPOINTS)
def test_cashiers_and_coordinators_may_use_the_till(world, role, token, method, path, data):
    user = {
        "cashier": lambda: make_user("c1", groups=["cashiers"]),
        "coordinator": lambda: make_user("k1", groups=["coordinators"]),
        "superuser": lambda: make_user("root", superuser=True),
    }[role]()
    response = _call(client_for(user, token=token), method, path, data, world.card_barcode)
    assert response.status_code == (201 if method == "post" else 200), response.content


@pytest.mark.parametrize("method,path,data", ENDPOINTS)
def test_supply_may_not_use_the_till(world, method, path, data):
    response = _call(client_for(make_user("s1", groups=["supply"])), method, path, data, world.card_barcode)
    assert response.status_code == 403
    assert not TillCheck.objects.exists()


@pytest.fixture
def cooperator():
    member = member_in("up_to_date", first_name="Coop", last_name="Erator")
    member.user = make_user("coop")
    member.save()
    return member


@pytest.mark.parametrize("method,path,data", ENDPOINTS)
def test_a_cooperator_not_on_a_shift_may_not(world, cooperator, method, path, data):
    # A shift yesterday, and one tomorrow: neither is running now.
    shift_around(cooperator, start=NOW - datetime.timedelta(days=1), end=NOW - datetime.timedelta(days=1, hours=-3))
    shift_around(cooperator, start=NOW + datetime.timedelta(days=1), end=NOW + datetime.timedelta(days=1, hours=3))
    response = _call(client_for(cooperator.user), method, path, data, world.card_barcode)
    assert response.status_code == 403
    assert not TillCheck.objects.exists()


H = datetime.timedelta(hours=1)
M = datetime.timedelta(minutes=1)


@pytest.mark.parametrize("start,end,allowed", [
    (NOW - H, NOW + 2 * H, True),                  # running now
    (NOW + 20 * M, NOW + 3 * H, True),             # starts in 20 minutes
    (NOW + 21 * M, NOW + 3 * H, False),            # starts in 21 minutes
    (NOW - 3 * H, NOW - 20 * M, True),             # ended 20 minutes ago
    (NOW - 3 * H, NOW - 21 * M, False),            # ended 21 minutes ago
], ids=["running", "20-before", "21-before", "20-after", "21-after"])
@pytest.mark.parametrize("method,path,data", ONLINE_ENDPOINTS)
def test_a_cooperator_on_a_shift_running_now_may(world, cooperator, start, end, allowed, method, path, data):
    shift_around(cooperator, start=start, end=end)
    response = _call(client_for(cooperator.user), method, path, data, world.card_barcode)
    if allowed:
        assert response.status_code == (201 if method == "post" else 200), response.content
    else:
        assert response.status_code == 403


def test_a_cancelled_registration_or_shift_gives_no_access(world, cooperator):
    registration = shift_around(cooperator, start=NOW - H, end=NOW + H)
    Registration.objects.filter(pk=registration.pk).update(cancelled_at=NOW - H)
    client = client_for(cooperator.user)
    assert client.get(f"/api/v1/checkout/{world.card_barcode}/").status_code == 403
    other = shift_around(cooperator, start=NOW - H, end=NOW + H)
    Shift.objects.filter(pk=other.shift_id).update(cancelled=True)
    assert client.get(f"/api/v1/checkout/{world.card_barcode}/").status_code == 403


def test_a_cooperator_on_shift_never_sees_another_members_contact_data(world, cooperator):
    shift_around(cooperator, start=NOW - H, end=NOW + H)
    client = client_for(cooperator.user)
    body = client.get(f"/api/v1/checkout/{world.card_barcode}/").json()
    no_contact_data(body, world)
    assert client.get("/api/v1/checkout/cards/").status_code == 403  # the list stays on till devices
    for row in client.get("/api/v1/checkout/", {"search": "smith"}).json():
        no_contact_data(row, world)
    # ...and the members API stays closed to them.
    assert client.get(f"/api/v1/members/{world.pk}/").status_code == 403


def test_ping_answers_any_signed_in_user(cooperator):
    assert client_for(None).get("/api/v1/ping/").status_code == 401
    response = client_for(cooperator.user, token=True).get("/api/v1/ping/")
    assert response.status_code == 200 and response.json() == {"ok": True}


# --- the pages that use the API: the till, its service worker, the coordinators' log --------------


def test_till_page_sends_anonymous_users_to_the_login_page():
    response = client_for(None).get("/till/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/till/")


@pytest.mark.parametrize("role,status", [("cashier", 200), ("coordinator", 200), ("supply", 403), ("cooperator", 403)])
def test_till_page_is_for_till_users(role, status, cooperator):
    user = {
        "cashier": lambda: make_user("c1", groups=["cashiers"]),
        "coordinator": lambda: make_user("k1", groups=["coordinators"]),
        "supply": lambda: make_user("s1", groups=["supply"]),
        "cooperator": lambda: cooperator.user,
    }[role]()
    assert client_for(user).get("/till/").status_code == status


def test_a_cooperator_on_shift_opens_the_till(cooperator):
    shift_around(cooperator, start=NOW + 15 * M, end=NOW + 3 * H)
    response = client_for(cooperator.user).get("/till/")
    assert response.status_code == 200
    assert b'id="scan"' in response.content


def test_till_page_has_the_scan_field_the_texts_and_no_inline_script(api):
    response = api.get("/till/")
    html = response.content.decode()
    assert 'id="scan"' in html and "autofocus" in html
    assert 'id="till-texts" type="application/json"' in html
    assert "/static/checkout/till.js" in html and 'data-sw-url="/till/sw.js"' in html
    assert 'id="override-open"' not in html  # hard block by default
    assert "<script>" not in html  # CSP: scripts come from static files only
    assert "Content-Security-Policy" in response.headers
    assert response["Cache-Control"].startswith("max-age=0")


def test_till_page_offers_the_override_only_when_the_coop_allows_it(api):
    CoopParameters.objects.update_or_create(pk=1, defaults={"till_override_allowed": True})
    assert 'id="override-open"' in api.get("/till/").content.decode()


def test_till_page_lists_the_cashiers_last_checks_of_today(api, cashier, ann):
    for _ in range(12):
        api.get(f"/api/v1/checkout/{ann.card_barcode}/")
    TillCheck.objects.create(user=cashier, code="old", checked_at=NOW - datetime.timedelta(days=1))
    TillCheck.objects.create(user=make_user("other", groups=["cashiers"]), code="others", checked_at=NOW)
    html = api.get("/till/").content.decode()
    assert html.count("till-recent-green") == 10
    assert "Smith" not in html and ann.email not in html
    assert "old" not in html.split('id="recent"')[1].split("</ol>")[0]
    assert "others" not in html


def test_navbar_shows_the_till_to_cashiers_and_the_log_to_coordinators(api):
    html = api.get("/").content.decode()
    assert 'href="/till/"' in html and 'href="/till/checks/"' not in html
    html = client_for(make_user("k1", groups=["coordinators"])).get("/").content.decode()
    assert 'href="/till/"' in html and 'href="/till/checks/"' in html
    html = client_for(make_user("s1", groups=["supply"])).get("/").content.decode()
    assert 'href="/till/"' not in html


def test_service_worker_is_served_under_till_with_the_files_to_keep():
    response = client_for(None).get("/till/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/till/"
    body = response.content.decode()
    assert body.startswith('const TILL_CACHE = "till-')
    assert '"/till/"' in body and "/static/checkout/till.js" in body
    assert "/api/" not in body.split("\n", 2)[1]  # the API is never kept


@pytest.fixture
def log(cashier, ann):
    """Checks of today (allowed, refused, unknown, an override) and one of yesterday."""
    refused = member_in("suspended", first_name="Bob", last_name="Lee", counter_standard=-4)
    other = make_user("till2", groups=["cashiers"])
    TillCheck.objects.create(user=cashier, code=ann.card_barcode, member=ann, can_shop=True, status="up_to_date", checked_at=NOW)
    TillCheck.objects.create(user=other, code=refused.card_barcode, member=refused, can_shop=False, status="suspended",
                             reasons=["suspended"], checked_at=NOW - 2 * H)
    TillCheck.objects.create(user=cashier, code="=HYPERLINK(1)", checked_at=NOW - H)
    TillCheck.objects.create(kind="override", user=other, code=refused.card_barcode, member=refused, can_shop=False,
                             status="suspended", reasons=["suspended"], reason="Make-up booked", checked_at=NOW - H)
    TillCheck.objects.create(user=cashier, code="yesterday", member=ann, can_shop=True, status="up_to_date",
                             checked_at=NOW - datetime.timedelta(days=1))
    return {"other": other, "refused": refused}


@pytest.fixture
def office():
    return client_for(make_user("k1", groups=["coordinators"]))


def test_checks_page_is_for_coordinators(api):
    assert client_for(None).get("/till/checks/").status_code == 302
    assert api.get("/till/checks/").status_code == 403
    assert client_for(make_user("s1", groups=["supply"])).get("/till/checks/").status_code == 403


def test_checks_page_shows_today_by_default(office, log):
    response = office.get("/till/checks/")
    assert response.status_code == 200
    codes = [row.record.code for row in response.context["table"].rows]
    assert len(codes) == 4 and "yesterday" not in codes
    html = response.content.decode()
    assert "Make-up booked" in html and "is suspended for missed shifts" in html
    yesterday = office.get("/till/checks/", {"date": "2026-03-01"})
    assert [row.record.code for row in yesterday.context["table"].rows] == ["yesterday"]


@pytest.mark.parametrize("answer,expected", [("allowed", 1), ("refused", 1), ("override", 1), ("unknown", 1), ("", 4)])
def test_checks_page_filters_by_answer(office, log, answer, expected):
    response = office.get("/till/checks/", {"answer": answer})
    assert len(response.context["table"].rows) == expected


def test_checks_page_filters_by_cashier(office, log):
    response = office.get("/till/checks/", {"cashier": log["other"].pk})
    assert {row.record.user for row in response.context["table"].rows} == {log["other"]}
    assert len(response.context["table"].rows) == 2


def test_checks_csv_export_keeps_the_filters_and_is_formula_safe(office, log):
    response = office.get("/till/checks/", {"_export": "csv"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "'=HYPERLINK(1)" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert "yesterday" not in text
    assert "Override" in text and "Make-up booked" in text and "till2" in text
    refused = office.get("/till/checks/", {"_export": "csv", "answer": "refused"}).content.decode()
    assert len(refused.strip().splitlines()) == 2  # header + one row


def test_checks_page_makes_a_constant_number_of_queries(office, log, cashier):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert office.get("/till/checks/").status_code == 200
        return len(queries)

    few = count()
    for i in range(30):
        member = member_in("up_to_date", first_name=f"N{i}", last_name="Q")
        TillCheck.objects.create(user=make_user(f"u{i}", groups=["cashiers"]), code=member.card_barcode, member=member,
                                 can_shop=True, status="up_to_date", checked_at=NOW - M * i)
    assert count() == few


def test_admin_shows_checks_read_only(log):
    admin = client_for(make_user("root", superuser=True))
    assert admin.get("/admin/checkout/tillcheck/").status_code == 200
    entry = TillCheck.objects.first()
    assert admin.get(f"/admin/checkout/tillcheck/{entry.pk}/change/").status_code == 200
    assert admin.get("/admin/checkout/tillcheck/add/").status_code == 403
    assert admin.post(f"/admin/checkout/tillcheck/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert TillCheck.objects.filter(pk=entry.pk).exists()
