"""The inventory's printed documents: purchase orders and shelf labels (WeasyPrint PDFs)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from coopmarket.pdf import render_pdf

from . import labels, pricing
from .models import Product, PurchaseOrder


def purchase_order_pdf(order: PurchaseOrder) -> bytes:
    lines = list(order.lines.select_related("product").order_by("product__name", "id"))
    total = sum((line.amount for line in lines), Decimal("0"))
    return render_pdf("inventory/pdf/purchase_order.html", {
        "order": order, "supplier": order.supplier, "lines": lines, "total": total, "coop_name": settings.COOP_NAME,
    })


@dataclass(frozen=True)
class Label:
    product: Product
    price: Decimal
    reference: tuple[Decimal, str] | None
    barcode: str  # data: URI of the barcode drawing


def shelf_labels(products) -> list[Label]:
    result = []
    for product in products:
        content = (product.content_quantity, product.content_unit) if product.content_quantity else None
        result.append(Label(
            product=product, price=product.sale_price,
            reference=pricing.reference_price(product.sale_price, product.unit, content),
            barcode=labels.barcode_data_uri(product.code),
        ))
    return result


def shelf_labels_pdf(products) -> bytes:
    return render_pdf("inventory/pdf/labels.html", {"labels": shelf_labels(products), "coop_name": settings.COOP_NAME})
