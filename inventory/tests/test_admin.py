"""The inventory admin: writes go through the services, ledgers are read-only."""
from decimal import Decimal as D

import pytest
from django.test import Client

from inventory.models import InventoryParameters, Product, StockMove

from .factories import move, product, supplier, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(user("root", superuser=True))
    return client


def test_every_inventory_admin_page_opens(admin_client):
    item = product()
    move(item, "reception", 3)
    for name in ("inventoryparameters", "supplier", "category", "product", "stockmove", "purchaseorder", "reception",
                 "stockcount", "salesimport"):
        assert admin_client.get(f"/admin/inventory/{name}/").status_code == 200, name
    assert admin_client.get(f"/admin/inventory/product/{item.pk}/change/").status_code == 200


def test_ledgers_are_read_only_in_the_admin(admin_client):
    row = move(product(), "reception", 3)
    assert admin_client.get("/admin/inventory/stockmove/add/").status_code == 403
    assert admin_client.post(f"/admin/inventory/stockmove/{row.pk}/change/", {"quantity": "30"}).status_code == 403
    assert admin_client.post(f"/admin/inventory/stockmove/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.quantity == D(3)


def test_admin_product_goes_through_the_service(admin_client):
    maker = supplier()
    data = {"name": "Confiture", "barcode": "4006381333932", "internal_code": "", "supplier": maker.pk, "category": "",
            "unit": "piece", "package_size": "1", "content_quantity": "", "content_unit": "", "cost_price": "2.00",
            "vat_rate": "5.5", "min_stock": "0", "active": "on"}
    bad = admin_client.post("/admin/inventory/product/add/", data)
    assert bad.status_code == 200 and b"check digit" in bad.content
    assert not Product.objects.exists()
    data["barcode"] = "4006381333931"
    assert admin_client.post("/admin/inventory/product/add/", data).status_code == 302
    created = Product.objects.get()
    assert created.sale_price == D("2.53")


def test_admin_margin_change_reprices(admin_client):
    item = product(cost="1.00", vat="20")
    params = InventoryParameters.current()
    response = admin_client.post(f"/admin/inventory/inventoryparameters/{params.pk}/change/", {
        "local_distance_km": "150", "default_margin": "50", "reorder_sales_days": "28", "reorder_cover_days": "28",
        "distance_bands": "50,150,300",
    })
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.sale_price == D("1.80") and item.label_needs_reprint
    assert StockMove.objects.count() == 0
