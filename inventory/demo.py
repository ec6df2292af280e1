"""Demo supply data: local farms and a wholesaler, products, orders received, weeks of till sales,
a stock count. Everything goes through the services; idempotent (a second run adds nothing).

Called by `manage.py seed_inventory` and meant for the project's `seed_demo`.
"""
from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.db import transaction

from . import codes, services
from .models import Category, Product, PurchaseOrder, StockCount, Supplier

SUPPLIERS = [
    # name, city, km, organic, e-mail
    ("Ferme du Bois Joli", "Senlis", 45, True, "commandes@boisjoli.example"),
    ("Les Jardins de Cérès", "Pontoise", 38, True, "ceres@jardins.example"),
    ("Fromagerie de la Brie", "Meaux", 55, False, "contact@fromagerie-brie.example"),
    ("Moulin de Vexin", "Magny-en-Vexin", 70, True, ""),
    ("Rucher des Coteaux", "Épernay", 140, True, "miel@rucher.example"),
    ("Brasserie du Nord", "Lille", 225, False, "pro@brasserie-nord.example"),
    ("Épicerie Centrale (grossiste)", "Rungis", 12, False, "ventes@grossiste.example"),
    ("Huilerie de Provence", "Salon-de-Provence", 720, True, "export@huilerie.example"),
]
CATEGORIES = [("Fruits et légumes", Decimal("25")), ("Crèmerie", None), ("Épicerie", None), ("Boissons", Decimal("15")),
              ("Vrac", Decimal("18"))]
PRODUCTS = [
    # supplier index, category index, name, unit, cost, vat, package, min stock, loose code or None, content (kg/l)
    (0, 0, "Pommes Reinette", "kg", "1.90", "5.5", "10", "15", "POM-REI", None),
    (0, 0, "Carottes", "kg", "1.10", "5.5", "10", "20", "CAR-01", None),
    (0, 0, "Pommes de terre", "kg", "0.95", "5.5", "25", "30", "PDT-01", None),
    (1, 0, "Salade batavia", "piece", "0.85", "5.5", "12", "12", None, None),
    (1, 0, "Poireaux", "kg", "2.10", "5.5", "5", "8", "POI-01", None),
    (1, 0, "Courge butternut", "kg", "1.60", "5.5", "10", "10", "BUT-01", None),
    (2, 1, "Brie de Meaux", "kg", "14.50", "5.5", "3", "2", "BRIE-M", None),
    (2, 1, "Yaourt nature", "piece", "0.48", "5.5", "12", "24", None, ("0.125", "kg")),
    (2, 1, "Lait cru entier", "l", "1.05", "5.5", "6", "18", None, None),
    (2, 1, "Beurre doux", "piece", "2.30", "5.5", "10", "10", None, ("0.250", "kg")),
    (3, 2, "Farine T80", "piece", "1.45", "5.5", "10", "10", None, ("1", "kg")),
    (3, 4, "Lentilles vertes", "kg", "2.60", "5.5", "5", "5", "VRAC-LEN", None),
    (3, 4, "Flocons d'avoine", "kg", "2.05", "5.5", "5", "4", "VRAC-AVO", None),
    (4, 2, "Miel de fleurs", "piece", "6.20", "5.5", "12", "6", None, ("0.500", "kg")),
    (5, 3, "Bière blonde", "piece", "1.35", "20", "24", "24", None, ("0.33", "l")),
    (5, 3, "Limonade artisanale", "piece", "1.10", "5.5", "12", "12", None, ("0.75", "l")),
    (6, 2, "Pâtes complètes", "piece", "1.15", "5.5", "20", "20", None, ("0.5", "kg")),
    (6, 2, "Café moulu", "piece", "3.40", "5.5", "12", "8", None, ("0.25", "kg")),
    (6, 2, "Sucre de canne", "piece", "1.70", "5.5", "10", "8", None, ("1", "kg")),
    (6, 3, "Jus de pomme", "piece", "1.80", "5.5", "6", "12", None, ("1", "l")),
    (7, 2, "Huile d'olive", "piece", "8.90", "5.5", "6", "6", None, ("0.75", "l")),
]


def _barcode(index: int) -> str:
    body = f"376{index + 1:09d}"
    return body + codes.ean13_check_digit(body)


@transaction.atomic
def seed(*, today: datetime.date, by=None, weeks: int = 8) -> dict:
    """Create the demo supply world as of `today`. Returns counts of what exists afterwards."""
    rng = random.Random(2026)
    suppliers = []
    for name, city, km, organic, email in SUPPLIERS:
        found = Supplier.objects.filter(name__iexact=name).first()
        suppliers.append(found or services.supplier_create(
            name=name, city=city, distance_km=km, organic=organic, email=email, contact="", by=by,
        ))
    categories = []
    for name, margin in CATEGORIES:
        found = Category.objects.filter(name__iexact=name).first()
        categories.append(found or services.category_create(name=name, margin=margin, by=by))
    products = []
    for index, (s, c, name, unit, cost, vat, package, minimum, loose, content) in enumerate(PRODUCTS):
        code = {"internal_code": loose} if loose else {"barcode": _barcode(index)}
        found = Product.objects.filter(**code).first()
        products.append(found or services.product_create(
            name=name, supplier=suppliers[s], category=categories[c], unit=unit, cost_price=Decimal(cost),
            vat_rate=Decimal(vat), package_size=Decimal(package), min_stock=Decimal(minimum),
            content_quantity=Decimal(content[0]) if content else None, content_unit=content[1] if content else "",
            by=by, **code,
        ))
    start = today - datetime.timedelta(weeks=weeks)
    if not PurchaseOrder.objects.exists():
        for week in range(weeks):
            monday = start + datetime.timedelta(weeks=week)
            for supplier in suppliers:
                items = [p for p in products if p.supplier_id == supplier.pk]
                if not items:
                    continue
                lines = [(p, p.package_size * rng.randint(2, 4), None) for p in items]
                order = services.purchase_order_create(supplier=supplier, lines=lines, by=by)
                services.purchase_order_send(order=order, now=datetime.datetime.combine(monday, datetime.time(9), datetime.UTC),
                                             email=False, by=by)
                received = []
                for line in order.lines.all():
                    short = rng.random() < 0.1
                    quantity = line.quantity - (line.product.package_size if short and line.quantity > line.product.package_size else 0)
                    price = line.unit_price if rng.random() > 0.1 else (line.unit_price * Decimal("1.05")).quantize(Decimal("0.01"))
                    received.append((line, quantity, price))
                services.reception_record(order=order, lines=received, received_on=monday + datetime.timedelta(days=2),
                                          closes_order=True, by=by)
        for week in range(weeks + 1):  # one till export per week, one row per product and day
            rows = ["date,barcode,quantity,unit_price"]
            for day in range(7):
                date = start + datetime.timedelta(weeks=week, days=day)
                if date.weekday() == 0 or date >= today:  # closed on Mondays
                    continue
                for product in products:
                    # about 2.2 packages a week (3.5 for every fifth product: those run short)
                    daily = product.package_size * (Decimal("3.5") if product.pk % 5 == 0 else Decimal("2.2")) / 6
                    sold = (daily * Decimal(rng.uniform(0.3, 1.7))).quantize(Decimal("0.001") if product.unit != "piece" else Decimal(1))
                    if sold > 0:
                        rows.append(f"{date.isoformat()},{product.code},{sold},{product.sale_price}")
            if len(rows) > 1:
                services.sales_import(content="\n".join(rows).encode(), filename=f"caisse-semaine-{week + 1}.csv", today=today, by=by)
        loss = products[3]
        services.stock_move_record(product=loss, kind="loss", quantity=Decimal(2), date=today - datetime.timedelta(days=3),
                                   reference="Abîmées", by=by)
    if not StockCount.objects.exists():
        count = services.stock_count_create(category=categories[1], counted_on=today - datetime.timedelta(days=1), by=by)
        from . import selectors

        stocks = dict(selectors.products_with_stock().filter(category=categories[1]).values_list("pk", "stock"))
        counted = {line.pk: max(stocks[line.product_id] - rng.randint(0, 2), Decimal(0)) for line in count.lines.all()}
        services.stock_count_save(count=count, counted=counted, by=by)
        services.stock_count_apply(count=count, now=datetime.datetime.combine(today, datetime.time(20), datetime.UTC), by=by)
    return {"suppliers": Supplier.objects.count(), "products": Product.objects.count(), "orders": PurchaseOrder.objects.count()}
