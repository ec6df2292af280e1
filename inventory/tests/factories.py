"""Helpers for inventory tests. Every row goes through the services; nothing reads the clock."""
from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from inventory import codes, services
from inventory.models import Category, Product, Supplier

TODAY = datetime.date(2026, 3, 16)
NOW = datetime.datetime(2026, 3, 16, 10, 0, tzinfo=datetime.UTC)
_numbers = itertools.count(1)


def ean(n: int | None = None, prefix: str = "376") -> str:
    """A valid EAN-13 (French GS1 prefix by default) built from a running number."""
    body = f"{prefix}{(n if n is not None else next(_numbers)):09d}"
    return body + codes.ean13_check_digit(body)


def supplier(name: str | None = None, *, distance_km: int = 40, city: str = "Senlis", **fields) -> Supplier:
    return services.supplier_create(name=name or f"Ferme {next(_numbers)}", city=city, distance_km=distance_km, **fields)


def category(name: str | None = None, margin=None) -> Category:
    return services.category_create(name=name or f"Rayon {next(_numbers)}", margin=margin)


def product(*, supplier_obj: Supplier | None = None, cost="1.00", vat="5.5", barcode: str | None = None,
            internal_code: str | None = None, **fields) -> Product:
    if barcode is None and internal_code is None:
        barcode = ean()
    return services.product_create(
        name=fields.pop("name", f"Produit {next(_numbers)}"), supplier=supplier_obj or supplier(),
        cost_price=Decimal(cost), vat_rate=Decimal(vat), barcode=barcode, internal_code=internal_code, **fields,
    )


def move(product_obj: Product, kind: str, quantity, *, date: datetime.date = TODAY, unit_price=None):
    return services.stock_move_record(
        product=product_obj, kind=kind, quantity=str(quantity), date=date, unit_price=unit_price
    )


def user(username: str, *groups: str, superuser: bool = False):
    users = get_user_model().objects
    if superuser:
        return users.create_superuser(username=username, email=f"{username}@example.org", password="pass-word-123")
    account = users.create_user(username=username, email=f"{username}@example.org", password="pass-word-123")
    for name in groups:
        account.groups.add(Group.objects.get(name=name))
    return account
