"""The assemblies API of CONTRACT.md §5, end to end through DRF's APIClient, with a pinned clock."""
import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assemblies import services
from assemblies.models import Assembly, BallotBox, Proxy, Resolution, VotedMark
from members import services as member_services
from members.models import Member
from members.tests.factories import MemberFactory

from .conftest import (
    CUTOFF,
    EVENING,
    STARTS,
    at,
    client_for,
    committed,
    convene,
    give,
    make_user,
    new_assembly,
    sign_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

BASE = "/api/v1/assemblies/"
NEW = {"title": "AG 2026", "kind": "ordinary", "convocation": 1, "starts_at": "2026-03-28T18:30:00+01:00",
       "place": "Salle des fêtes", "agenda": "1. Comptes"}


def url(assembly, suffix=""):
    return f"{BASE}{assembly.pk}/{suffix}"


def assert_conflict(response, code):
    assert response.status_code == 409, response.content
    assert response.json()["code"] == code and response.json()["detail"]


@pytest.fixture
def coord(coordinator):
    return client_for(coordinator)


@pytest.fixture
def desk(cashier):
    return client_for(cashier)


@pytest.fixture
def alice_api(people):
    return client_for(people["alice"].user)


@pytest.fixture
def bob_api(people):
    return client_for(people["bob"].user)


# --- assemblies -------------------------------------------------------------------------------

def test_coordinators_create_an_assembly_with_its_counts(coord, people):
    response = coord.post(BASE, NEW, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["cutoff"] == "2026-03-13" and body["convocation"] == 1 and body["kind"] == "ordinary"
    assert (body["voters"], body["present"], body["represented"]) == (5, 0, 0)
    assert body["quorum_required"] == "0.20" and body["quorum_reached"] is False
    assert body["opened_at"] is None and body["voters_frozen"] is False and body["resolutions"] == []


@pytest.mark.parametrize(("field", "value"), [
    ("title", "AG\x00"), ("kind", "annual"), ("convocation", 3), ("starts_at", "2026-02-01T18:00:00+01:00"),
    ("cutoff", "2026-03-01"), ("cutoff", "2026-04-01"), ("place", "x" * 300), ("starts_at", "demain"),
])
def test_bad_input_is_a_400_and_writes_nothing(coord, field, value):
    response = coord.post(BASE, {**NEW, field: value}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    # A control character is refused before any view, for every field (issue 11's middleware).
    assert field in body or ("\x00" in str(value) and body["code"] == "invalid_characters")
    assert not Assembly.objects.exists()


def test_second_extraordinary_convocation_requires_one_fifth(coord, people):
    body = coord.post(BASE, {**NEW, "kind": "extraordinary", "convocation": 2}, format="json").json()
    assert body["quorum_required"] == "0.20"
    body = coord.post(BASE, {**NEW, "convocation": 2}, format="json").json()
    assert body["quorum_required"] == "0.00" and body["quorum_reached"] is True


def test_members_read_assemblies_but_do_not_create_them(alice_api, ag):
    assert alice_api.post(BASE, NEW, format="json").status_code == 403
    listing = alice_api.get(BASE).json()
    assert set(listing) == {"count", "next", "previous", "results"} and listing["count"] == 1
    assert alice_api.get(url(ag)).json()["title"] == ag.title


def test_the_list_reads_in_a_constant_number_of_queries(coord, people):
    for n in range(2):
        new_assembly(title=f"AG {n}")
    with CaptureQueriesContext(connection) as few:
        coord.get(BASE)
    for n in range(2, 8):
        assembly = new_assembly(title=f"AG {n}")
        services.resolution_add(assembly=assembly, text="Motion")
    with CaptureQueriesContext(connection) as many:
        assert coord.get(BASE).json()["count"] == 8
    assert len(many.captured_queries) == len(few.captured_queries)


def test_convene_sends_the_emails_and_is_too_late_after_the_delay(coord, ag, people, clock):
    with committed():
        response = coord.post(url(ag, "convene/"))
    assert response.status_code == 200 and response.json()["convened_at"]
    assert len(mail.outbox) == 5
    late = new_assembly(title="AG tardive")
    clock.set(at(datetime.date(2026, 3, 14), 9))
    assert_conflict(coord.post(url(late, "convene/")), "too_late")


def test_voters_list_for_coordinators(coord, alice_api, ag, people):
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    sign_in(ag, people["alice"])
    rows = {r["first_name"]: r for r in coord.get(url(ag, "voters/")).json()["results"]}
    assert set(rows) == {"Alice", "Bob", "Chloé", "David", "Emma"}
    assert rows["Alice"]["present"] is True and rows["Alice"]["proxies_carried"] == 1
    assert rows["Chloé"]["proxy_given_to"] == people["alice"].pk
    assert {"member", "present", "proxies_carried", "proxy_given_to"} <= set(rows["Bob"])
    assert [r["first_name"] for r in coord.get(url(ag, "voters/?present=true")).json()["results"]] == ["Alice"]
    assert alice_api.get(url(ag, "voters/")).status_code == 403


# --- proxies -----------------------------------------------------------------------------------

def test_a_member_gives_their_own_proxy_and_revokes_it(ag, people, alice_api):
    convene(ag)
    user = make_user("chloe")
    Member.objects.filter(pk=people["chloe"].pk).update(user=user)
    chloe = client_for(user)
    with committed():
        response = chloe.post(url(ag, "proxies/"), {"holder": people["alice"].pk}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["giver"] == people["chloe"].pk
    assert mail.outbox[-1].to == [people["alice"].email]
    # Nobody gives or revokes another member's proxy, but coordinators.
    assert alice_api.post(url(ag, "proxies/"), {"giver": people["bob"].pk, "holder": people["alice"].pk}, format="json").status_code == 403
    assert alice_api.delete(url(ag, f"proxies/{people['chloe'].pk}/")).status_code == 403
    assert chloe.delete(url(ag, f"proxies/{people['chloe'].pk}/")).status_code == 204
    assert not Proxy.objects.filter(revoked_at__isnull=True).exists()


def test_proxy_rules_answer_409(coord, ag, people):
    convene(ag)
    p = {name: m.pk for name, m in people.items()}
    assert coord.post(url(ag, "proxies/"), {"giver": p["chloe"], "holder": p["alice"]}, format="json").status_code == 201
    assert coord.post(url(ag, "proxies/"), {"giver": p["david"], "holder": p["alice"]}, format="json").status_code == 201
    assert_conflict(coord.post(url(ag, "proxies/"), {"giver": p["emma"], "holder": p["alice"]}, format="json"), "proxy_limit")
    assert_conflict(coord.post(url(ag, "proxies/"), {"giver": p["alice"], "holder": p["bob"]}, format="json"), "not_allowed")
    assert_conflict(coord.post(url(ag, "proxies/"), {"giver": p["bob"], "holder": p["chloe"]}, format="json"), "not_allowed")
    assert coord.post(url(ag, "proxies/"), {"giver": p["bob"], "holder": p["bob"]}, format="json").status_code == 400
    assert coord.post(url(ag, "proxies/"), {"giver": p["bob"], "holder": 999999}, format="json").status_code == 400
    sign_in(ag, people["alice"])
    assert_conflict(coord.delete(url(ag, f"proxies/{p['chloe']}/")), "not_allowed")


def test_users_without_a_member_cannot_give_a_proxy(desk, ag, people):
    convene(ag)
    assert desk.post(url(ag, "proxies/"), {"holder": people["alice"].pk}, format="json").status_code == 403


# --- the door ----------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["card", "card12", "number", "padded"])
def test_the_desk_signs_in_by_card_or_member_number(desk, ag, people, code, clock):
    alice = people["alice"]
    clock.set(EVENING)
    sent = {"card": alice.card_barcode, "card12": alice.card_barcode[1:], "number": str(alice.member_number),
            "padded": f"{alice.member_number:06d}"}[code]
    response = desk.post(url(ag, "sign-in/"), {"code": sent}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["member"] == alice.pk and body["present"] is True and body["signed_in_now"] is True
    assert {"member", "present", "proxies_carried", "proxy_given_to"} <= set(body)  # the voter object
    assert body["quorum"]["present"] == 1 and body["quorum"]["voters"] == 5
    assert "email" not in str(body) and alice.email not in str(body)
    assert Assembly.objects.get(pk=ag.pk).opened_at == EVENING


def test_sign_in_by_member_id_shows_the_proxies_carried(desk, ag, people, clock):
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    clock.set(EVENING)
    body = desk.post(url(ag, "sign-in/"), {"member": people["alice"].pk}, format="json").json()
    assert body["proxies"] == [f"Chloé Petit ({people['chloe'].display_number})"]
    assert body["quorum"]["represented"] == 1
    again = desk.post(url(ag, "sign-in/"), {"member": people["alice"].pk}, format="json").json()
    assert again["signed_in_now"] is False


def test_a_giver_signing_in_is_told_their_proxy_is_void(desk, ag, people, clock):
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    clock.set(EVENING)
    body = desk.post(url(ag, "sign-in/"), {"code": people["chloe"].card_barcode}, format="json").json()
    assert body["proxy_taken_back"].startswith("Alice Bernard")


def test_not_a_voter_unknown_code_and_associate_cards_are_404(desk, ag, people, clock):
    clock.set(EVENING)
    outsider = MemberFactory(first_name="Nina", last_name="None", email="nina@example.org")
    associate = member_services.associate_add(member=people["alice"], first_name="Léa", last_name="Bernard")
    response = desk.post(url(ag, "sign-in/"), {"code": outsider.card_barcode}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_a_voter"
    response = desk.post(url(ag, "sign-in/"), {"code": associate.card_barcode}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_a_voter"
    assert desk.post(url(ag, "sign-in/"), {"code": "0420000099990"}, format="json").status_code == 404
    assert desk.post(url(ag, "sign-in/"), {"code": "robert"}, format="json").status_code == 404
    assert desk.post(url(ag, "sign-in/"), {}, format="json").status_code == 400
    assert desk.post(url(ag, "sign-in/"), {"code": "\x00"}, format="json").status_code == 400


def test_sign_in_before_the_cutoff_is_refused(desk, ag, people):
    assert_conflict(desk.post(url(ag, "sign-in/"), {"member": people["alice"].pk}, format="json"), "not_allowed")


def test_the_desk_searches_voters_by_name(desk, ag, people, clock):
    clock.set(EVENING)
    services.voters_freeze(assembly=ag, today=CUTOFF, now=at(CUTOFF))
    found = desk.get(url(ag, "sign-in/?search=chloe")).json()
    assert [p["name"] for p in found] == ["Chloé Petit"] and found[0]["present"] is False
    assert desk.get(url(ag, "sign-in/?search=a")).json() == []


def test_members_cannot_use_the_desk(alice_api, ag, people, clock):
    clock.set(EVENING)
    assert alice_api.post(url(ag, "sign-in/"), {"code": people["bob"].card_barcode}, format="json").status_code == 403
    assert alice_api.get(url(ag, "sign-in/?search=bob")).status_code == 403


# --- resolutions and votes ---------------------------------------------------------------------

@pytest.fixture
def session(ag, people, clock):
    """Alice (carrying Chloé's proxy) and Bob signed in; the clock at the assembly."""
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    sign_in(ag, people["alice"])
    sign_in(ag, people["bob"])
    clock.set(EVENING)
    return ag


def test_resolution_majority_defaults_from_the_kind_and_the_tally_is_checked(coord, session):
    body = coord.post(url(session, "resolutions/"), {"text": "Approuver les comptes"}, format="json").json()
    assert body["majority"] == "simple" and body["state"] == "draft" and body["for"] is None
    rid = body["id"]
    too_many = coord.post(url(session, f"resolutions/{rid}/tally/"), {"for": 3, "against": 1, "abstain": 0}, format="json")
    assert too_many.status_code == 400
    assert coord.post(url(session, f"resolutions/{rid}/tally/"), {"for": -1, "against": 0, "abstain": 0}, format="json").status_code == 400
    done = coord.post(url(session, f"resolutions/{rid}/tally/"), {"for": 2, "against": 1, "abstain": 0}, format="json").json()
    assert (done["for"], done["against"], done["abstain"], done["adopted"]) == (2, 1, 0, True)
    two_thirds = coord.post(url(session, "resolutions/"), {"text": "Statuts", "majority": "two_thirds"}, format="json").json()
    done = coord.post(url(session, f"resolutions/{two_thirds['id']}/tally/"), {"for": 2, "against": 1, "abstain": 0}, format="json").json()
    assert done["adopted"] is True  # exactly two thirds


def test_phone_vote_own_and_proxy_once(coord, session, people, alice_api, bob_api):
    rid = coord.post(url(session, "resolutions/"), {"text": "Affecter le résultat"}, format="json").json()["id"]
    opened = coord.post(url(session, f"resolutions/{rid}/open/"))
    assert opened.status_code == 200 and opened.json()["state"] == "open"
    ballots = [{"choice": "for", "for_member": people["alice"].pk}, {"choice": "against", "for_member": people["chloe"].pk}]
    response = alice_api.post(url(session, f"resolutions/{rid}/vote/"), ballots, format="json")
    assert response.status_code == 200, response.content
    assert sorted(response.json()["voted_for"]) == sorted([people["alice"].pk, people["chloe"].pk])
    assert_conflict(alice_api.post(url(session, f"resolutions/{rid}/vote/"), ballots[:1], format="json"), "already_voted")
    # Bob does not carry Chloé's proxy: 403; while open the room sees how many voted, not how.
    assert bob_api.post(url(session, f"resolutions/{rid}/vote/"), [{"choice": "for", "for_member": people["chloe"].pk}],
                        format="json").status_code == 403
    live = alice_api.get(url(session)).json()
    assert live["open_resolution"] == rid
    assert (live["resolutions"][0]["ballots_cast"], live["resolutions"][0]["for"], live["resolutions"][0]["adopted"]) == (2, None, None)
    assert bob_api.post(url(session, f"resolutions/{rid}/vote/"), [{"choice": "against", "for_member": people["bob"].pk}],
                        format="json").status_code == 200
    closed = coord.post(url(session, f"resolutions/{rid}/close/")).json()
    assert (closed["for"], closed["against"], closed["abstain"], closed["adopted"]) == (1, 2, 0, False)
    assert_conflict(bob_api.post(url(session, f"resolutions/{rid}/vote/"), ballots[:1], format="json"), "not_allowed")


def test_votes_from_members_not_signed_in_or_without_a_member_are_refused(coord, session, people, desk):
    rid = coord.post(url(session, "resolutions/"), {"text": "Motion"}, format="json").json()["id"]
    coord.post(url(session, f"resolutions/{rid}/open/"))
    user = make_user("emma")
    Member.objects.filter(pk=people["emma"].pk).update(user=user)
    emma = client_for(user)
    assert emma.post(url(session, f"resolutions/{rid}/vote/"), [{"choice": "for", "for_member": people["emma"].pk}],
                     format="json").status_code == 403
    assert desk.post(url(session, f"resolutions/{rid}/vote/"), [{"choice": "for", "for_member": 1}], format="json").status_code == 403
    assert not VotedMark.objects.exists() and BallotBox.objects.get().votes_for == 0


@pytest.mark.parametrize("body", [{"choice": "for"}, [{"choice": "yes", "for_member": 1}], [], "for", [{"choice": "for", "for_member": "x"}]])
def test_malformed_votes_are_400(coord, session, alice_api, body):
    rid = coord.post(url(session, "resolutions/"), {"text": "Motion"}, format="json").json()["id"]
    coord.post(url(session, f"resolutions/{rid}/open/"))
    response = alice_api.post(url(session, f"resolutions/{rid}/vote/"), body, format="json")
    assert response.status_code == 400, response.content
    assert not VotedMark.objects.exists()


def test_resolution_endpoints_are_for_coordinators(alice_api, desk, session):
    resolution = services.resolution_add(assembly=session, text="Motion")
    for client in (alice_api, desk):
        assert client.post(url(session, "resolutions/"), {"text": "x"}, format="json").status_code == 403
        assert client.post(url(session, f"resolutions/{resolution.pk}/open/")).status_code == 403
        assert client.post(url(session, f"resolutions/{resolution.pk}/tally/"), {"for": 0, "against": 0, "abstain": 0},
                           format="json").status_code == 403
    assert Resolution.objects.get(pk=resolution.pk).state == "draft"


def test_a_resolution_of_another_assembly_is_404(coord, session):
    other = new_assembly(title="Autre AG")
    resolution = services.resolution_add(assembly=other, text="Motion")
    assert coord.post(url(session, f"resolutions/{resolution.pk}/open/")).status_code == 404
    assert coord.get(f"{BASE}999999/").status_code == 404


def test_open_and_close_the_assembly(coord, ag, people, clock):
    clock.set(at(STARTS.date(), 18))
    assert coord.post(url(ag, "open/")).json()["opened_at"]
    assert coord.post(url(ag, "close/")).json()["closed_at"]
    assert_conflict(coord.post(url(ag, "open/")), "not_allowed")


def test_everything_is_json_for_anonymous_clients(ag):
    from rest_framework.test import APIClient

    response = APIClient().get(BASE)
    assert response.status_code in (401, 403) and response.json()["code"]


def test_a_nul_byte_in_the_desk_search_is_no_server_error(desk, ag, people, clock):
    clock.set(EVENING)
    services.voters_freeze(assembly=ag, today=CUTOFF, now=at(CUTOFF))
    response = desk.get(url(ag, "sign-in/?search=chl%00oe"))
    # Refused with the other control characters, in one place (coopmarket.middleware, issue 11).
    assert response.status_code == 400 and response.json()["code"] == "invalid_characters"
