"""Every role over every assembly and open-figures page and API endpoint (CONTRACT.md §4-§6).

Access kinds:
- office: coordinators and superusers; other signed-in users get 403.
- desk: the office and `cashiers` (till device accounts).
- member: a cooperator acting for themself, and the office.
- me: the cooperator's own pages; a signed-in user without a member gets 404.
- voter: a member signed in at the assembly (the cooperator here); everyone else 403.
- signed_in: any signed-in user. public: anyone.
Anonymous users go to the login page on pages and get 401/403 JSON from the API. A refused
request writes nothing.
"""
import datetime

import pytest
from django.core import mail
from rest_framework.test import APIClient

from assemblies import services
from assemblies.models import Assembly, AssemblyMail, Proxy, Resolution, VotedMark, Voter
from coopmarket import queueing
from coopmarket.tests.test_permissions import Endpoint, client_for
from coopmarket.tests.test_permissions import expected_status as members_expected_status

from .conftest import EVENING, at, committed, convene, give, make_user, new_assembly, sign_in, voter

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock_at_the_assembly")]

ROLES = ["anonymous", "cooperator", "cashier", "supply", "coordinator", "superuser"]
OFFICE = {"coordinator", "superuser"}
FUTURE = at(datetime.date(2026, 6, 20), 14)


NEW = {"title": "AG 2027", "kind": "ordinary", "convocation": "1", "starts_at": "2026-09-12T18:30", "place": "Salle",
       "agenda": "1. Comptes", "cutoff": ""}

PAGES = [
    Endpoint("GET", "/assemblies/", "desk", 200),
    Endpoint("GET", "/assemblies/?_export=csv", "desk", 200),
    Endpoint("GET", "/assemblies/new/", "office", 200),
    Endpoint("POST", "/assemblies/new/", "office", 302, NEW),
    Endpoint("GET", "/assemblies/{session}/", "office", 200),
    Endpoint("GET", "/assemblies/{future}/edit/", "office", 200),
    Endpoint("POST", "/assemblies/{future}/edit/", "office", 302, {**NEW, "starts_at": "2026-06-20T14:00", "title": "AG renommée"}),
    Endpoint("POST", "/assemblies/{future}/convene/", "office", 302),
    Endpoint("POST", "/assemblies/{ready}/open/", "office", 302),
    Endpoint("POST", "/assemblies/{session}/close/", "office", 302),
    Endpoint("POST", "/assemblies/{future}/proxies/new/", "office", 302, {"giver": "{n_own}", "holder": "{n_other}"}),
    Endpoint("POST", "/assemblies/{revocable}/proxies/{own}/revoke/", "office", 302),
    Endpoint("POST", "/assemblies/{session}/resolutions/new/", "office", 302, {"text": "Motion", "majority": ""}),
    Endpoint("POST", "/assemblies/{session}/resolutions/{r_tally}/tally/", "office", 302,
             {"votes_for": "1", "votes_against": "0", "votes_abstain": "0"}),
    Endpoint("POST", "/assemblies/{session}/resolutions/{r_draft}/open/", "office", 302),
    Endpoint("POST", "/assemblies/{voting}/resolutions/{r_open}/close/", "office", 302),
    Endpoint("GET", "/assemblies/{session}/voters/", "office", 200),
    Endpoint("GET", "/assemblies/{session}/voters/?_export=csv", "office", 200),
    Endpoint("GET", "/assemblies/{session}/desk/", "desk", 200),
    Endpoint("GET", "/assemblies/{session}/screen/", "signed_in", 200),
    Endpoint("GET", "/assemblies/{session}/sign-in.pdf", "office", 200),
    Endpoint("GET", "/assemblies/{session}/minutes.pdf", "office", 200),
    Endpoint("GET", "/assemblies/{closed}/minutes.pdf", "member", 200),
    Endpoint("GET", "/assemblies/{future}/proxy/", "me", 200),
    Endpoint("POST", "/assemblies/{future}/proxy/", "me", 302, {"holder_number": "{n_other}", "holder_last_name": "Other"}),
    Endpoint("GET", "/assemblies/{voting}/vote/", "me", 200),
    Endpoint("POST", "/assemblies/{voting}/vote/", "me", 302, {"resolution": "{r_open}", "member_{own}": "for"}),
    Endpoint("GET", "/figures/", "public", 200),
    Endpoint("GET", "/figures/figures.csv", "public", 200),
]

API = [
    Endpoint("GET", "/api/v1/assemblies/", "signed_in", 200),
    Endpoint("POST", "/api/v1/assemblies/", "office", 201, {**NEW, "starts_at": "2026-09-12T18:30:00+02:00", "cutoff": None}),
    Endpoint("GET", "/api/v1/assemblies/{session}/", "signed_in", 200),
    Endpoint("POST", "/api/v1/assemblies/{future}/convene/", "office", 200),
    Endpoint("POST", "/api/v1/assemblies/{ready}/open/", "office", 200),
    Endpoint("POST", "/api/v1/assemblies/{session}/close/", "office", 200),
    Endpoint("GET", "/api/v1/assemblies/{session}/voters/", "office", 200),
    Endpoint("POST", "/api/v1/assemblies/{future}/proxies/", "member", 201, {"giver": "{own}", "holder": "{other}"}),
    Endpoint("DELETE", "/api/v1/assemblies/{revocable}/proxies/{own}/", "member", 204),
    Endpoint("GET", "/api/v1/assemblies/{session}/sign-in/?search=other", "desk", 200),
    Endpoint("POST", "/api/v1/assemblies/{session}/sign-in/", "desk", 200, {"code": "{other_card}"}),
    Endpoint("POST", "/api/v1/assemblies/{session}/resolutions/", "office", 201, {"text": "Motion"}),
    Endpoint("POST", "/api/v1/assemblies/{session}/resolutions/{r_tally}/tally/", "office", 200, {"for": 1, "against": 0, "abstain": 0}),
    Endpoint("POST", "/api/v1/assemblies/{session}/resolutions/{r_draft}/open/", "office", 200),
    Endpoint("POST", "/api/v1/assemblies/{voting}/resolutions/{r_open}/close/", "office", 200),
    Endpoint("POST", "/api/v1/assemblies/{voting}/resolutions/{r_open}/vote/", "voter", 200, [{"choice": "for", "for_member": "{own}"}]),
    Endpoint("GET", "/api/v1/figures/", "public", 200),
]

ENDPOINTS = PAGES + API


def expected_status(endpoint: Endpoint, role: str):
    """The access kinds of the members' walk, plus `desk`, `member` and `voter`."""
    if role == "anonymous" or endpoint.access in ("public", "signed_in", "me", "office"):
        return members_expected_status(endpoint, role)
    allowed = {"desk": OFFICE | {"cashier"}, "member": OFFICE | {"cooperator"}, "voter": {"cooperator"}}[endpoint.access]
    return endpoint.ok if role in allowed else 403


@pytest.fixture
def clock_at_the_assembly(clock):
    clock.set(EVENING)
    return clock


@pytest.fixture
def world(db):
    with queueing.muted():  # the e-mails of the setting-up are not what this walk is about
        return _world()


def _world():
    users = {
        "cooperator": make_user("cooperator"),
        "cashier": make_user("cashier", "cashiers"),
        "supply": make_user("supply", "supply"),
        "coordinator": make_user("coordinator", "coordinators"),
        "superuser": make_user("root", superuser=True),
    }
    own = voter("Cora", "Cooperator", user=users["cooperator"])
    other = voter("Olga", "Other")
    third, fourth = voter("Tom", "Third"), voter("Fay", "Fourth")

    session = new_assembly(title="AG en cours")  # 2026-03-28: its list is frozen, Fay signed in
    voting = new_assembly(title="AG qui vote")
    ready = new_assembly(title="AG prête")
    closed = new_assembly(title="AG close")
    for assembly in (session, voting, ready, closed):
        convene(assembly)
    sign_in(session, fourth)
    r_draft = services.resolution_add(assembly=session, text="À voter")
    r_tally = services.resolution_add(assembly=session, text="À compter")
    sign_in(voting, own)
    r_open = services.resolution_open(resolution=services.resolution_add(assembly=voting, text="Ouverte"), now=EVENING)
    sign_in(closed, third)
    services.assembly_close(assembly=closed, now=EVENING)

    future = new_assembly(title="AG future", starts_at=FUTURE)
    revocable = new_assembly(title="AG avec procuration", starts_at=FUTURE)
    convene(future)
    convene(revocable)
    give(revocable, own, other)
    return {
        "users": users,
        "ids": {
            "session": session.pk, "voting": voting.pk, "ready": ready.pk, "closed": closed.pk, "future": future.pk,
            "revocable": revocable.pk, "r_draft": r_draft.pk, "r_tally": r_tally.pk, "r_open": r_open.pk,
            "own": own.pk, "other": other.pk, "n_own": own.member_number, "n_other": other.member_number,
            "other_card": other.card_barcode,
        },
    }


def fill(value, ids):
    if isinstance(value, str):
        text = value.format(**ids)
        return int(text) if text.isdigit() and value.startswith("{") and value != "{other_card}" else text
    if isinstance(value, dict):
        return {fill(key, ids): fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    return value


def send(client, endpoint: Endpoint, ids):
    path = endpoint.path.format(**ids)
    data = fill(endpoint.data, ids)
    method = getattr(client, endpoint.method.lower())
    if endpoint.method == "GET":
        return method(path)
    if endpoint.api:
        return method(path, data, format="json")
    return method(path, {k: str(v) for k, v in data.items()})


def snapshot():
    return (
        sorted(Assembly.objects.values_list("pk", "title", "convened_at", "opened_at", "closed_at", "voters_frozen_at")),
        sorted(Proxy.objects.values_list("pk", "revoked_at", "voided_at")),
        sorted(Voter.objects.values_list("pk", "present_at")),
        sorted(Resolution.objects.values_list("pk", "state", "votes_for")),
        VotedMark.objects.count(),
        AssemblyMail.objects.count(),
        len(mail.outbox),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.id for e in ENDPOINTS])
def test_role_over_endpoint(world, role, endpoint):
    client = client_for(world, role)
    expected = expected_status(endpoint, role)
    before = snapshot()
    with committed():
        response = send(client, endpoint, world["ids"])

    if expected == "login":
        assert response.status_code == 302, response.content[:300]
        assert response["Location"].startswith("/accounts/login/?next=")
    elif expected == "api_denied":
        assert response.status_code in (401, 403), response.content[:300]
        assert response.json()["code"]
    else:
        assert response.status_code == expected, response.content[:500]

    if expected in ("login", "api_denied", 403, 404):
        assert snapshot() == before, "a refused request wrote something"
    elif expected == 200:
        path = endpoint.path
        if ".pdf" in path:
            assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
        elif "csv" in path:
            assert response["Content-Type"].startswith("text/csv")
        elif endpoint.api:
            assert response["Content-Type"].startswith("application/json")
    if endpoint.method == "POST" and not endpoint.api and expected == 302:
        from django.contrib.messages import get_messages

        levels = [m.level_tag for m in get_messages(response.wsgi_request)]
        assert "error" not in levels, [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("path", [
    "/assemblies/{future}/convene/", "/assemblies/{ready}/open/", "/assemblies/{session}/close/",
    "/assemblies/{session}/resolutions/{r_draft}/open/", "/assemblies/{voting}/resolutions/{r_open}/close/",
    "/assemblies/{revocable}/proxies/{own}/revoke/",
])
def test_state_changing_pages_refuse_get(world, path):
    client = client_for(world, "coordinator")
    before = snapshot()
    assert client.get(path.format(**world["ids"])).status_code == 405
    assert snapshot() == before


def test_a_stale_token_does_not_hide_the_public_figures(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/figures/").status_code == 200


