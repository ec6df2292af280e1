"""Every role over every members page and API endpoint (CONTRACT.md §4, §5, §6).

One test per (role, endpoint). Access kinds:
- office: coordinators and superusers; other signed-in users get 403.
- own: the office, plus the cooperator whose member it is (their own certificate, card, API detail).
- me: the cooperator's own pages; a signed-in user without a member gets 404.
- signed_in: any signed-in user.
- public: anyone, anonymous included.
- supply: the supply team and superusers (inventory pages).
- till_device: till device accounts (`cashiers`), coordinators and superusers (the offline card
  list; a cooperator not on a shift gets 403 like everyone else without the role).
- login_owner: only the cooperator whose login it is (their e-mail confirmation link); 403 for others.
- admin:<app>: staff only; superusers see everything, coordinators (staff) the apps their group has
  model permissions on (members, shifts), 403 elsewhere; non-staff users go to the admin's login.
Anonymous users are sent to the login page on pages and get 401/403 JSON from the API.
A refused request writes nothing.
"""
import datetime
import json
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from coopmarket.tokens import token_issue
from inventory import services as inventory_services
from inventory.models import Product, Reception
from members import services
from members.models import Associate, Member, MemberEvent, Payment, ShareClass, ShareSubscription, StripeCheckout

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
    Endpoint("GET", "/members/import/", "office", 200),
    Endpoint("GET", "/members/import/example.zip", "office", 200),
    Endpoint("GET", "/members/import/example.xlsx", "office", 200),
    Endpoint("GET", "/me/", "me", 200),
    Endpoint("GET", "/me/certificate.pdf", "me", 200),
    Endpoint("GET", "/me/card.pdf", "me", 200),
    Endpoint("GET", "/me/data.json", "me", 200),
    Endpoint("GET", "/me/email/confirm/{email_token}/", "login_owner", 200),
    # Online payments (Stripe keys unset here: the pages answer, the payment itself is refused).
    Endpoint("POST", "/members/{own}/pay-online/", "own", 302, {"share_class": "A", "quantity": "1"}),
    Endpoint("POST", "/members/{other}/pay-online/", "office", 302, {"share_class": "A", "quantity": "1"}),
    Endpoint("GET", "/members/online-payment/done/?session_id=cs_test_own", "own", 200),
    Endpoint("GET", "/members/online-payment/cancelled/?session_id=cs_test_own", "own", 200),
    Endpoint("GET", "/members/online-payment/done/?session_id=cs_test_other", "office", 200),
    Endpoint("POST", "/members/{other}/payments/{stripe_payment}/refund/", "office", 302),
    Endpoint("POST", "/stripe/webhook/", "public", 404, {"id": "evt_1"}),
    # Inventory pages the supply team acts on.
    Endpoint("GET", "/inventory/orders/{order}/receive/", "supply", 200),
    Endpoint("POST", "/inventory/orders/{order}/receive/", "supply", 200, {"received_on": "2026-03-02"}),
    Endpoint("POST", "/inventory/labels/printed/", "supply", 302, {"product": "{product}"}),
    # The admin, for every role.
    Endpoint("GET", "/admin/", "admin:index", 200),
    Endpoint("GET", "/admin/members/member/", "admin:members", 200),
    Endpoint("GET", "/admin/members/member/{other}/change/", "admin:members", 200),
    Endpoint("GET", "/admin/members/coopparameters/", "admin:members", 200),
    Endpoint("GET", "/admin/members/stripecheckout/", "admin:members", 200),
    Endpoint("GET", "/admin/shifts/counterevent/", "admin:shifts", 200),
    Endpoint("GET", "/admin/checkout/tillcheck/", "admin:checkout", 200),
    Endpoint("GET", "/admin/inventory/product/", "admin:inventory", 200),
    Endpoint("GET", "/admin/auth/user/", "admin:auth", 200),
    Endpoint("GET", "/admin/auth/user/{superuser_id}/change/", "admin:auth", 200),
    Endpoint("GET", "/admin/axes/accessattempt/", "admin:axes", 200),
    Endpoint("GET", "/admin/knox/authtoken/", "admin:knox", 200),
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
    Endpoint("POST", "/api/v1/members/{own}/shares/checkout/", "own", 409, {"share_class": "A", "quantity": 1}),
    Endpoint("POST", "/api/v1/members/{other}/shares/checkout/", "office", 409, {"share_class": "A", "quantity": 1}),
    Endpoint("GET", "/api/v1/checkout/cards/", "till_device", 200),
    # Revokes the token it is called with: with a session and no token, nothing to revoke.
    Endpoint("DELETE", "/api/v1/auth/token/", "public", 401),
    Endpoint("GET", "/api/schema/", "public", 200),
    Endpoint("GET", "/api/docs/", "public", 200),
]

ENDPOINTS = PAGES + API


def expected_status(endpoint: Endpoint, role: str):
    """The status a role must get, or 'login' (redirect to the login page), 'admin_login' (to the
    admin's) or 'api_denied' (401/403)."""
    if endpoint.access.startswith("admin:"):
        return expected_admin_status(endpoint, role)
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
    if endpoint.access == "supply":
        return endpoint.ok if role in ("supply", "superuser") else 403
    if endpoint.access == "till_device":
        return endpoint.ok if role in ("cashier", "coordinator", "superuser") else 403
    if endpoint.access == "login_owner":
        return endpoint.ok if role == "cooperator" else 403
    assert endpoint.access == "office"
    return endpoint.ok if role in OFFICE_ROLES else 403


# Apps on which the coordinators group has model permissions (coopmarket.roles.GROUP_PERMISSIONS).
COORDINATOR_ADMIN_APPS = {"index", "members", "shifts"}


def expected_admin_status(endpoint: Endpoint, role: str):
    app = endpoint.access.split(":", 1)[1]
    if role in ("anonymous", "cooperator", "cashier", "supply"):  # not staff
        return "admin_login"
    if role == "superuser":
        return endpoint.ok
    return endpoint.ok if app in COORDINATOR_ADMIN_APPS else 403


def make_user(username, *, groups=(), superuser=False, staff=False):
    users = get_user_model().objects
    if superuser:
        return users.create_superuser(username=username, email=f"{username}@example.org", password=PASSWORD)
    user = users.create_user(username=username, email=f"{username}@example.org", password=PASSWORD, is_staff=staff)
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
        "coordinator": make_user("coordinator", groups=["coordinators"], staff=True),
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

    # Online payments: a checkout of each member, and a Stripe ledger payment of `other`'s.
    share_a = ShareClass.objects.get(code="A")
    for session_id, member in (("cs_test_own", own), ("cs_test_other", other)):
        StripeCheckout.objects.create(session_id=session_id, member=member, share_class=share_a, quantity=1,
                                      unit_price=share_a.unit_price, amount_cents=1000)
    stripe_payment = Payment.objects.create(subscription=sub, amount="10.00", method=Payment.Method.STRIPE, paid_on=DAY)

    # Inventory: a sent order to receive, a product whose label to mark printed.
    farm = inventory_services.supplier_create(name="Ferme", city="Senlis", distance_km=30)
    carrots = inventory_services.product_create(name="Carottes", supplier=farm, cost_price=Decimal("1.20"),
                                                vat_rate=Decimal("5.5"), internal_code="CAR")
    order = inventory_services.purchase_order_create(supplier=farm, lines=[(carrots, Decimal(6), None)])
    inventory_services.purchase_order_send(order=order, now=timezone.now(), email=False)

    # The cooperator's login still has its old address: the link the office's change mailed them.
    email_token = services.login_email_token(
        user_id=users["cooperator"].pk, member_id=own.pk, old=users["cooperator"].email, new=own.email,
    )

    return {
        "users": users,
        "ids": {
            "own": own.pk, "other": other.pk, "fresh": fresh.pk, "leaver": leaver.pk, "sub": sub.pk,
            "associate": associate.pk, "redeemable": redeemable.pk,
            "share_class": share_a.pk, "stripe_payment": stripe_payment.pk, "order": order.pk,
            "product": carrots.pk, "email_token": email_token, "superuser_id": users["superuser"].pk,
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
    return method(path, data, format="multipart")  # a form post


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
        sorted(get_user_model().objects.values_list("pk", "username", "email")),
        Reception.objects.count(),
        sorted(Product.objects.values_list("pk", "label_needs_reprint")),
        sorted(StripeCheckout.objects.values_list("pk", "status")),
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
    elif expected == "admin_login":
        assert response.status_code == 302, response.content[:300]
        assert response["Location"].startswith("/admin/login/?next=")
    elif expected == "api_denied":
        # Token authentication comes first: anonymous calls get 401, signed-in ones 403.
        assert response.status_code == (401 if role == "anonymous" else 403), response.content[:300]
        assert "detail" in response.json()
    else:
        assert response.status_code == expected, response.content[:300]

    if expected in ("login", "admin_login", "api_denied", 403, 404) and endpoint.access != "public":
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
    assert client.get("/api/v1/members/").status_code == 401
    assert client.get("/members/").status_code == 302


def test_token_of_a_non_coordinator_is_refused_on_office_api(world):
    _row, token = token_issue(user=world["users"]["cashier"], lifetime=datetime.timedelta(days=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/v1/members/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
