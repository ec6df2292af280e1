"""Every role over every members page and API endpoint (CONTRACT.md §4, §5, §6).

One test per (role, endpoint). Access kinds:
- office: coordinators and superusers; other signed-in users get 403.
- own: the office, plus the cooperator whose member it is (their own certificate, card, API detail).
- me: the cooperator's own pages; a signed-in user without a member gets 404.
- signed_in: any signed-in user.
- public: anyone, anonymous included.
Anonymous users are sent to the login page on pages and get 401/403 JSON from the API.
A refused request writes nothing.
"""
import datetime
import json
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from coopmarket.tokens import token_issue
from members import services
from members.models import Associate, Member, MemberEvent, Payment, ShareClass, ShareSubscription

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 2)
PASSWORD = "pass-word-123"
ROLES = ["anonymous", "cooperator", "cashier", "supply", "coordinator", "superuser"]
OFFICE_ROLES = {"coordinator", "superuser"}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # formatted with the world's ids: {own}, {other}, {fresh}, {associate}, {sub}, {redeemable}, {share_class}
    access: str
    ok: int
    data: dict = field(default_factory=dict)

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


NEW_MEMBER = {"first_name": "Nina", "last_name": "New", "email": "nina.new@example.org", "shift_type": "standard"}

PAGES = [
    Endpoint("GET", "/", "signed_in", 200),
    Endpoint("GET", "/members/", "office", 200),
    Endpoint("GET", "/members/?_export=csv", "office", 200),
    Endpoint("GET", "/members/new/", "office", 200),
    Endpoint("POST", "/members/new/", "office", 302, NEW_MEMBER),
    Endpoint("GET", "/members/{other}/", "office", 200),
    Endpoint("GET", "/members/{own}/", "office", 200),  # cooperators see themselves on /me/, not the office page
    Endpoint("GET", "/members/{other}/edit/", "office", 200),
    Endpoint("POST", "/members/{other}/edit/", "office", 302,
             {"first_name": "Olga", "last_name": "Other", "email": "olga@example.org", "shift_type": "standard",
              "city": "Lyon"}),
    Endpoint("GET", "/members/{fresh}/shares/new/", "office", 200),
    Endpoint("POST", "/members/{fresh}/shares/new/", "office", 302,
             {"share_class": "{share_class}", "quantity": "10", "instalments": "1", "payment_method": "cash"}),
    Endpoint("GET", "/members/{other}/payments/new/", "office", 200),
    Endpoint("POST", "/members/{other}/payments/new/", "office", 302,
             {"subscription": "{sub}", "amount": "20.00", "payment_method": "cash"}),
    Endpoint("GET", "/members/{fresh}/associates/new/", "office", 200),
    Endpoint("POST", "/members/{fresh}/associates/new/", "office", 302, {"first_name": "Ada", "last_name": "Fresh"}),
    Endpoint("POST", "/members/{other}/associates/{associate}/remove/", "office", 302),
    Endpoint("GET", "/members/{other}/leave/", "office", 200),
    Endpoint("POST", "/members/{other}/leave/", "office", 302, {"reason": "Moving away"}),
    Endpoint("POST", "/members/{leaver}/anonymise/", "office", 302),
    Endpoint("POST", "/members/{other}/invite/", "office", 302),
    Endpoint("GET", "/members/{other}/certificate.pdf", "office", 200),
    Endpoint("GET", "/members/{other}/card.pdf", "office", 200),
    Endpoint("GET", "/members/{own}/certificate.pdf", "own", 200),
    Endpoint("GET", "/members/{own}/card.pdf", "own", 200),
    Endpoint("GET", "/members/redemptions/", "office", 200),
    Endpoint("GET", "/members/redemptions/?_export=csv", "office", 200),
    Endpoint("POST", "/members/redemptions/{redeemable}/redeem/", "office", 302, {"method": "transfer"}),
    Endpoint("GET", "/me/", "me", 200),
    Endpoint("GET", "/me/certificate.pdf", "me", 200),
    Endpoint("GET", "/me/card.pdf", "me", 200),
    Endpoint("GET", "/me/data.json", "me", 200),
]

API = [
    Endpoint("GET", "/api/v1/", "signed_in", 200),
    Endpoint("POST", "/api/v1/auth/token/", "public", 200, {"username": "coordinator", "password": PASSWORD}),
    Endpoint("GET", "/api/v1/members/", "office", 200),
    Endpoint("GET", "/api/v1/members/?search=olga&status=not_concerned&membership=active", "office", 200),
    Endpoint("POST", "/api/v1/members/", "office", 201, NEW_MEMBER),
    Endpoint("GET", "/api/v1/members/me/", "me", 200),
    Endpoint("GET", "/api/v1/members/{other}/", "office", 200),
    Endpoint("GET", "/api/v1/members/{own}/", "own", 200),
    Endpoint("PATCH", "/api/v1/members/{other}/", "office", 200, {"city": "Lyon"}),
    Endpoint("PATCH", "/api/v1/members/{own}/", "office", 200, {"city": "Lyon"}),
    Endpoint("POST", "/api/v1/members/{fresh}/shares/", "office", 201,
             {"share_class": "A", "quantity": 10, "payment_method": "cash"}),
    Endpoint("POST", "/api/v1/members/{own}/shares/", "office", 201,
             {"share_class": "B", "quantity": 1, "payment_method": "cash"}),
    Endpoint("POST", "/api/v1/members/{other}/payments/", "office", 201,
             {"subscription": "{sub}", "amount": "20.00", "payment_method": "cash"}),
    Endpoint("POST", "/api/v1/members/{fresh}/associates/", "office", 201, {"first_name": "Ada", "last_name": "Fresh"}),
    Endpoint("DELETE", "/api/v1/members/{other}/associates/{associate}/", "office", 204),
    Endpoint("POST", "/api/v1/members/{other}/leave-coop/", "office", 200, {"reason": "Moving away"}),
    Endpoint("POST", "/api/v1/members/{own}/leave-coop/", "office", 200, {"reason": "Moving away"}),
    Endpoint("GET", "/api/v1/share-classes/", "signed_in", 200),
    Endpoint("GET", "/api/v1/share-classes/{share_class}/", "signed_in", 200),
    Endpoint("GET", "/api/schema/", "public", 200),
    Endpoint("GET", "/api/docs/", "public", 200),
]

ENDPOINTS = PAGES + API


def expected_status(endpoint: Endpoint, role: str):
    """The status a role must get, or 'login' (redirect to the login page) or 'api_denied' (401/403)."""
    if endpoint.access == "public":
        return endpoint.ok
    if role == "anonymous":
        return "api_denied" if endpoint.api else "login"
    if endpoint.access == "signed_in":
        return endpoint.ok
    if endpoint.access == "me":
        return endpoint.ok if role == "cooperator" else 404
    if endpoint.access == "own":
        return endpoint.ok if role in OFFICE_ROLES | {"cooperator"} else 403
    assert endpoint.access == "office"
    return endpoint.ok if role in OFFICE_ROLES else 403


def make_user(username, *, groups=(), superuser=False):
    users = get_user_model().objects
    if superuser:
        return users.create_superuser(username=username, email=f"{username}@example.org", password=PASSWORD)
    user = users.create_user(username=username, email=f"{username}@example.org", password=PASSWORD)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def make_member(first_name, last_name, **kw):
    return services.member_create(
        first_name=first_name, last_name=last_name, email=f"{first_name}@example.org".lower(), joined_on=DAY, **kw
    )


def subscribe(member, quantity=10, *, code="A", instalments=1):
    return services.share_subscribe(
        member=member, share_class=ShareClass.objects.get(code=code), quantity=quantity,
        payment_method="cash", today=DAY, instalments=instalments,
    )


@pytest.fixture
def world():
    """Users of every role, the cooperator's own member and other members to act on."""
    users = {
        "cooperator": make_user("cooperator"),
        "cashier": make_user("cashier", groups=["cashiers"]),
        "supply": make_user("supply", groups=["supply"]),
        "coordinator": make_user("coordinator", groups=["coordinators"]),
        "superuser": make_user("root", superuser=True),
    }
    own = make_member("Cora", "Cooperator")
    own.user = users["cooperator"]
    own.save()
    subscribe(own)

    other = make_member("Olga", "Other")
    sub = subscribe(other, instalments=5)  # 100.00 subscribed, 20.00 paid
    associate = services.associate_add(member=other, first_name="Otto", last_name="Other")

    fresh = make_member("Fred", "Fresh")  # no shares, no associate yet

    leaver = make_member("Liam", "Leaver")
    redeemable = subscribe(leaver)
    services.member_leave(member=leaver, reason="Moved", today=DAY)

    return {
        "users": users,
        "ids": {
            "own": own.pk, "other": other.pk, "fresh": fresh.pk, "leaver": leaver.pk, "sub": sub.pk,
            "associate": associate.pk, "redeemable": redeemable.pk,
            "share_class": ShareClass.objects.get(code="A").pk,
        },
    }


def client_for(world, role) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.force_login(world["users"][role])
    return client


def fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    return value


def send(client, endpoint: Endpoint, ids):
    path = fill(endpoint.path, ids)
    data = fill(endpoint.data, ids)
    method = getattr(client, endpoint.method.lower())
    if endpoint.method == "GET":
        return method(path)
    if endpoint.api:
        return method(path, data, format="json")
    return method(path, data)  # a form post


def snapshot():
    """What any write would change."""
    return (
        Member.objects.count(),
        sorted(Member.objects.values_list("pk", "membership", "email", "city", "user_id", "first_name")),
        MemberEvent.objects.count(),
        ShareSubscription.objects.count(),
        ShareSubscription.objects.filter(redeemed_on__isnull=False).count(),
        Payment.objects.count(),
        Associate.objects.count(),
        Associate.objects.filter(removed_on__isnull=False).count(),
        get_user_model().objects.count(),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.id for e in ENDPOINTS])
def test_role_over_endpoint(world, role, endpoint):
    client = client_for(world, role)
    expected = expected_status(endpoint, role)
    before = snapshot()
    response = send(client, endpoint, world["ids"])

    if expected == "login":
        assert response.status_code == 302, response.content[:300]
        assert response["Location"].startswith("/accounts/login/?next=")
    elif expected == "api_denied":
        assert response.status_code in (401, 403), response.content[:300]
        assert "detail" in response.json()
    else:
        assert response.status_code == expected, response.content[:300]

    if expected in ("login", "api_denied", 403, 404) and endpoint.access != "public":
        assert snapshot() == before, "a refused request wrote something"
        if endpoint.api:
            body = response.json()
            assert "detail" in body and "code" in body
    elif expected == 200:
        path = endpoint.path
        if ".pdf" in path:
            assert response["Content-Type"] == "application/pdf"
            assert response.content.startswith(b"%PDF")
        elif "_export=csv" in path:
            assert response["Content-Type"].startswith("text/csv")
        elif endpoint.api and path != "/api/schema/" and path != "/api/docs/":
            assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "path", [
        "/members/{leaver}/anonymise/",
        "/members/{other}/invite/",
        "/members/{other}/associates/{associate}/remove/",
        "/members/redemptions/{redeemable}/redeem/",
    ],
)
def test_state_changing_pages_refuse_get(world, path):
    client = client_for(world, "coordinator")
    before = snapshot()
    response = client.get(path.format(**world["ids"]))
    assert response.status_code == 405
    assert snapshot() == before


def test_me_data_is_the_cooperators_own_data(world):
    response = client_for(world, "cooperator").get("/me/data.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    own = Member.objects.get(pk=world["ids"]["own"])
    other = Member.objects.get(pk=world["ids"]["other"])
    assert data["member"]["member_number"] == own.display_number
    assert data["member"]["email"] == own.email
    assert data["member"]["card_barcode"] == own.card_barcode
    assert [s["share_class"] for s in data["subscriptions"]] == ["A"]
    text = response.content.decode()
    assert other.email not in text
    assert other.card_barcode not in text
    assert "Olga" not in text and "Otto" not in text


@pytest.mark.parametrize("path", ["/me/", "/me/certificate.pdf", "/me/card.pdf", "/me/data.json"])
def test_user_without_member_gets_404_on_me_pages(world, path):
    response = client_for(world, "cashier").get(path)
    assert response.status_code == 404


def test_cooperator_cannot_reach_another_members_documents(world):
    client = client_for(world, "cooperator")
    other = world["ids"]["other"]
    assert client.get(f"/members/{other}/certificate.pdf").status_code == 403
    assert client.get(f"/members/{other}/card.pdf").status_code == 403
    assert client.get(f"/api/v1/members/{other}/").status_code == 403


def test_me_pages_show_the_cooperators_own_member(world):
    client = client_for(world, "cooperator")
    own = Member.objects.get(pk=world["ids"]["own"])
    page = client.get("/me/")
    assert page.status_code == 200
    assert own.display_number in page.content.decode()
    assert "Olga" not in page.content.decode()
    assert client.get("/api/v1/members/me/").json()["id"] == own.pk


def test_a_deactivated_coordinator_loses_access(world):
    user = world["users"]["coordinator"]
    client = client_for(world, "coordinator")
    user.is_active = False
    user.save()
    assert client.get("/api/v1/members/").status_code in (401, 403)
    assert client.get("/members/").status_code == 302


def test_token_of_a_non_coordinator_is_refused_on_office_api(world):
    _row, token = token_issue(user=world["users"]["cashier"], lifetime=datetime.timedelta(days=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/v1/members/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
