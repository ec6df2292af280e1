"""The inventory API of CONTRACT.md §5: supply only, bad input is a 400 with nothing written."""
import datetime
from decimal import Decimal as D

import pytest
from rest_framework.test import APIClient

from inventory.models import Product, StockMove, Supplier

from .factories import TODAY, category, ean, move, product, supplier, user

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "cooperator", "cashier", "coordinator", "supply", "superuser"]
ALLOWED = {"supply", "superuser"}


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    monkeypatch.setattr("inventory.api.local_today", lambda: TODAY)


def client_for(role: str) -> APIClient:
    client = APIClient()
    if role == "anonymous":
        return client
    groups = {"cashier": ("cashiers",), "coordinator": ("coordinators",), "supply": ("supply",)}.get(role, ())
    # A cooperator is a signed-in user in no role group (inventory does not import members to
    # link one to a member: the answer is the same 403).
    account = user(f"{role}-user", *groups, superuser=role == "superuser")
    client.force_authenticate(account)
    return client


@pytest.fixture
def supply():
    return client_for("supply")


@pytest.fixture
def world():
    farm = supplier("Ferme des Trois Chênes", distance_km=35, email="farm@example.org")
    item = product(supplier_obj=farm, cost="2.50", vat="5.5", min_stock=D(5), name="Miel")
    move(item, "reception", 10)
    return {"supplier": farm, "product": item}


def endpoints(world):
    pid, sid = world["product"].pk, world["supplier"].pk
    return [
        ("get", "/api/v1/suppliers/", None, 200),
        ("post", "/api/v1/suppliers/", {"name": "Moulin", "city": "Crépy", "distance_km": 60}, 201),
        ("get", f"/api/v1/suppliers/{sid}/", None, 200),
        ("get", "/api/v1/products/", None, 200),
        ("post", "/api/v1/products/", {"name": "Farine", "barcode": ean(), "supplier": sid, "cost_price": "1.10",
                                       "vat_rate": "5.5", "unit": "piece"}, 201),
        ("get", f"/api/v1/products/{pid}/", None, 200),
        ("post", f"/api/v1/products/{pid}/stock-moves/", {"kind": "loss", "quantity": "1"}, 201),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_role_walk_over_every_inventory_endpoint(role, world):
    client = client_for(role)
    for method, path, body, ok in endpoints(world):
        moves, suppliers, products = StockMove.objects.count(), Supplier.objects.count(), Product.objects.count()
        response = getattr(client, method)(path, body, format="json")
        if role in ALLOWED:
            assert response.status_code == ok, (method, path, response.content)
        else:
            expected = (401,) if role == "anonymous" else (403,)
            assert response.status_code in expected, (role, method, path, response.status_code)
            assert "code" in response.json()
            assert (StockMove.objects.count(), Supplier.objects.count(), Product.objects.count()) == (moves, suppliers, products)


def test_suppliers_with_derived_local_flag(supply):
    created = supply.post("/api/v1/suppliers/", {"name": "Brasserie", "city": "Lille", "distance_km": 220, "organic": True}, format="json")
    assert created.status_code == 201
    assert (created.json()["is_local"], created.json()["organic"]) == (False, True)
    near = supply.post("/api/v1/suppliers/", {"name": "Maraîcher", "city": "Senlis", "distance_km": 150}, format="json").json()
    assert near["is_local"] is True
    listing = supply.get("/api/v1/suppliers/").json()
    assert listing["count"] == 2 and {"count", "next", "previous", "results"} <= set(listing)
    bad = supply.post("/api/v1/suppliers/", {"name": "X", "city": "Y", "distance_km": -1, "is_local": True}, format="json")
    assert bad.status_code == 400 and "distance_km" in bad.json()
    assert Supplier.objects.count() == 2


def test_product_create_returns_sale_price_and_stock(supply, world):
    dairy = category("Crèmerie", margin=D("30"))
    response = supply.post("/api/v1/products/", {
        "name": "Lait cru", "barcode": "4006381333931", "supplier": world["supplier"].pk, "category": dairy.pk,
        "unit": "l", "package_size": "6", "cost_price": "1.00", "vat_rate": 5.5, "min_stock": "12",
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["sale_price"], body["stock"], body["vat_rate"], body["local"]) == ("1.37", "0.000", "5.5", True)  # 1.3 x 1.055 = 1.3715
    detail = supply.get(f"/api/v1/products/{world['product'].pk}/").json()
    assert (detail["sale_price"], detail["stock"]) == ("3.17", "10.000")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"barcode": "4006381333932"}, "barcode"),  # wrong check digit
        ({"cost_price": "-1.00"}, "cost_price"),
        ({"supplier": 999999}, "supplier"),
        ({"vat_rate": "7"}, "vat_rate"),
        ({"vat_rate": "19.6"}, "vat_rate"),
        ({"barcode": "", "internal_code": ""}, "barcode"),
        ({"internal_code": "VRAC-1"}, "barcode"),  # both codes
        ({"package_size": "0"}, "package_size"),
        ({"unit": "box"}, "unit"),
    ],
)
def test_bad_product_input_is_a_400_and_nothing_is_written(supply, world, change, field):
    body = {"name": "Farine", "barcode": ean(), "supplier": world["supplier"].pk, "cost_price": "1.10", "vat_rate": "5.5"}
    body.update(change)
    before = Product.objects.count()
    response = supply.post("/api/v1/products/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Product.objects.count() == before


def test_stock_moves_entered_positive_return_the_new_stock(supply, world):
    pid = world["product"].pk
    url = f"/api/v1/products/{pid}/stock-moves/"
    sale = supply.post(url, {"kind": "sale", "quantity": "3"}, format="json")
    assert sale.status_code == 201
    assert (sale.json()["quantity"], sale.json()["stock"], sale.json()["unit_price"]) == ("-3.000", "7.000", "3.17")
    reception = supply.post(url, {"kind": "reception", "quantity": "12", "unit_price": "2.40", "date": "2026-03-15"}, format="json")
    assert (reception.json()["stock"], reception.json()["date"]) == ("19.000", "2026-03-15")
    count = supply.post(url, {"kind": "count", "quantity": "17"}, format="json")
    assert (count.status_code, count.json()["quantity"], count.json()["counted"], count.json()["stock"]) == (201, "-2.000", "17.000", "17.000")
    assert supply.get(f"/api/v1/products/{pid}/").json()["stock"] == "17.000"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "sale", "quantity": "-1"},
        {"kind": "sale", "quantity": "0"},
        {"kind": "theft", "quantity": "1"},
        {"kind": "loss", "quantity": "1", "unit_price": "-2"},
        {"kind": "sale", "quantity": "1", "date": (TODAY + datetime.timedelta(days=1)).isoformat()},
        {"kind": "sale"},
    ],
)
def test_bad_stock_moves_are_400_and_nothing_is_written(supply, world, body):
    before = StockMove.objects.count()
    response = supply.post(f"/api/v1/products/{world['product'].pk}/stock-moves/", body, format="json")
    assert response.status_code == 400, response.content
    assert StockMove.objects.count() == before


def test_unknown_product_is_404(supply):
    assert supply.get("/api/v1/products/999999/").status_code == 404
    assert supply.post("/api/v1/products/999999/stock-moves/", {"kind": "sale", "quantity": "1"}, format="json").status_code == 404
    assert not StockMove.objects.exists()


def test_product_list_filters_and_constant_queries(supply, world, django_assert_max_num_queries):
    far = supplier(distance_km=400)
    for n in range(6):
        item = product(supplier_obj=far if n % 2 else world["supplier"], min_stock=D(3))
        move(item, "reception", n + 1)
    listing = supply.get("/api/v1/products/?page_size=500").json()
    assert listing["count"] == 7
    assert {p["id"] for p in supply.get("/api/v1/products/?below_min=true").json()["results"]} == {
        p["id"] for p in listing["results"] if D(p["stock"]) < D(p["min_stock"])
    }
    assert all(p["local"] for p in supply.get("/api/v1/products/?local=true").json()["results"])
    assert supply.get(f"/api/v1/products/?supplier={far.pk}").json()["count"] == 3
    assert supply.get("/api/v1/products/?search=Miel").json()["count"] == 1
    with django_assert_max_num_queries(8):
        everything = supply.get("/api/v1/products/?page_size=500")
    assert everything.status_code == 200
    assert len(everything.json()["results"]) == everything.json()["count"] == listing["count"]
