"""Inventory at scale: the stock list and the reorder suggestions over 20,000 products and
1,000,000 stock moves. SQL queries and server time per request.

    .venv/bin/python bench/inventory.py [--products 20000] [--moves 1000000] [--small 200] [--runs 5]

Runs against a throwaway database: a temporary SQLite file by default, or, when
BENCH_DATABASE_URL is set (e.g. postgres://postgres@127.0.0.1:5432/postgres), a fresh database
`coopmarket_bench_<random>` created on that server and dropped at the end (the database named in
the URL is only used to connect). Fixture rows are bulk-inserted (stock moves with the signs the
ledger's check constraint demands). Prints figures and targets; exits 0 whatever the figures.
"""
from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from throwaway import ThrowawayDatabase  # noqa: E402  (bench/ is the script's folder)

MAX_MS = 500.0
TODAY = datetime.date(2026, 3, 16)
CASES = (
    # (label, url, held to the target)
    ("stock list", "/inventory/products/", True),
    ("stock list, below minimum", "/inventory/products/?below_min=true", True),
    ("stock list, supplier + local", "/inventory/products/?supplier={supplier}&local=true", True),
    ("stock list, search", "/inventory/products/?q=confiture", True),
    ("stock list, sorted by stock", "/inventory/products/?sort=stock", False),
    ("products API, page of 50", "/api/v1/products/", True),
    ("products API, below minimum", "/api/v1/products/?below_min=true", True),
    ("reorder suggestions page", "/inventory/reorder/", True),
    ("reorder suggestions, one supplier", "/inventory/reorder/?supplier={supplier}", True),
    ("stock list CSV export (all rows)", "/inventory/products/?_export=csv", False),
)
WORDS = ("confiture", "farine", "yaourt", "jus", "lentilles", "miel", "savon", "pâtes", "riz", "huile", "thé", "café",
         "compote", "biscuits", "chocolat", "fromage", "lait", "tomates", "pommes", "carottes")


def seed(products: int, moves: int, *, rng: random.Random, offset: int = 0) -> None:
    """`products` products (50 per supplier, 40 categories) and about `moves` stock moves over the
    last year: receptions every few weeks, sales on most days; about 4 % of the products end under
    their minimum stock."""
    from django.db import connection, transaction

    from inventory import codes, pricing
    from inventory.models import Category, Product, StockMove, Supplier

    per_product = max(moves // max(products, 1), 4)
    receptions_per_product = max(per_product // 5, 1)
    sales_per_product = per_product - receptions_per_product
    with transaction.atomic():
        categories = list(Category.objects.all()) or Category.objects.bulk_create(
            [Category(name=f"Rayon {n}", margin=Decimal(15 + n % 4 * 5) if n % 5 == 0 else None) for n in range(40)]
        )
        first_supplier = Supplier.objects.count()
        suppliers = Supplier.objects.bulk_create([
            Supplier(name=f"Producteur {first_supplier + n}", city="Ville", distance_km=rng.choice((8, 25, 40, 60, 90, 140, 180, 260, 450, 800)),
                     organic=rng.random() < 0.4, email=f"p{first_supplier + n}@bench.example")
            for n in range((products + 49) // 50)
        ])
        rows = []
        for n in range(products):
            number = offset + n + 1
            unit = "kg" if n % 7 == 0 else "piece"
            cost = Decimal(rng.randint(30, 2500)) / 100
            vat = rng.choice((Decimal("5.5"), Decimal("5.5"), Decimal("10"), Decimal("20")))
            category = rng.choice(categories)
            body = f"200{number:09d}"
            rows.append(Product(
                name=f"{rng.choice(WORDS).capitalize()} {number}", supplier=suppliers[n // 50], category=category, unit=unit,
                barcode=None if unit == "kg" else body + codes.ean13_check_digit(body),
                internal_code=f"VRAC-{number}" if unit == "kg" else None,
                package_size=Decimal(rng.choice((1, 6, 12, 24))) if unit == "piece" else Decimal(5),
                cost_price=cost, vat_rate=vat, sale_price=pricing.sale_price(cost, Decimal(20), vat),
                min_stock=Decimal(rng.choice((2, 5, 10, 20))), label_needs_reprint=False,
            ))
        created = Product.objects.bulk_create(rows, batch_size=2000)
    start = TODAY - datetime.timedelta(days=364)
    batch: list = []

    def flush():
        StockMove.objects.bulk_create(batch, batch_size=5000)
        batch.clear()

    with transaction.atomic():
        for product in created:
            loose = product.unit == "kg"
            sales = []
            for _ in range(sales_per_product):
                quantity = Decimal(rng.randint(100, 3000)) / 1000 if loose else Decimal(rng.randint(1, 4))
                sales.append((start + datetime.timedelta(days=rng.randint(0, 364)), quantity))
            sold = sum(q for _d, q in sales)
            below = rng.random() < 0.04
            target = (product.min_stock * Decimal("0.4") if below else product.min_stock * Decimal(rng.choice(("1.2", "2", "3"))))
            received_total = sold + target
            each = (received_total / receptions_per_product).quantize(Decimal("0.001"))
            for r in range(receptions_per_product):
                quantity = each if r < receptions_per_product - 1 else received_total - each * (receptions_per_product - 1)
                if quantity <= 0:
                    continue
                batch.append(StockMove(product=product, kind="reception", quantity=quantity, unit_price=product.cost_price,
                                       date=start + datetime.timedelta(days=r * 364 // receptions_per_product),
                                       supplier_id=product.supplier_id))
            for date, quantity in sales:
                batch.append(StockMove(product=product, kind="sale", quantity=-quantity, unit_price=product.sale_price, date=date))
            if len(batch) >= 50_000:
                flush()
        flush()
    # What autovacuum does on a live server: statistics, and the visibility map index-only scans need.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


@dataclass
class Measure:
    label: str
    url: str
    held: bool
    status: int | None = None
    queries: list[int] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    size: int = 0
    error: str = ""
    small_queries: int | None = None
    note: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.ms) if self.ms else float("nan")

    @property
    def max_queries(self) -> int | None:
        return max(self.queries) if self.queries else None

    def verdict(self) -> str:
        if self.error:
            return "ERROR"
        if self.status not in (None, 200):
            return f"HTTP {self.status}"
        notes = []
        if self.small_queries is not None and self.max_queries != self.small_queries:
            notes.append("queries grow with rows")
        if not self.held:
            return "; ".join(notes + ["informational"])
        if self.median_ms >= MAX_MS:
            notes.append(f">= {MAX_MS:.0f} ms")
        return "; ".join(notes) or "OK"


def measure(label: str, url: str, held: bool, runs: int, call) -> Measure:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    result = Measure(label, url, held)
    try:
        call()  # warm-up
        for _ in range(runs):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                outcome = call()
                elapsed = time.perf_counter() - started
            result.ms.append(elapsed * 1000)
            result.queries.append(len(ctx.captured_queries))
            if hasattr(outcome, "status_code"):
                result.status = outcome.status_code
                result.size = len(outcome.content) if not outcome.streaming else sum(len(c) for c in outcome.streaming_content)
            else:
                result.note = f"{len(outcome)} suggestions"
    except Exception as exc:  # noqa: BLE001  (figures, not a test: report and go on)
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def run_cases(client, supplier_id: int, runs: int) -> list[Measure]:
    """Every case; `{supplier}` is a supplier with products to reorder when there is one."""
    from inventory import selectors

    suggestions = selectors.reorder_suggestions(today=TODAY)
    if suggestions:
        supplier_id = suggestions[0].product.supplier_id
    results = []
    for label, url, held in CASES:
        path = url.format(supplier=supplier_id)
        results.append(measure(label, path, held, runs, lambda path=path: client.get(path)))
    results.append(measure("reorder suggestions (selector)", "selectors.reorder_suggestions", True, runs,
                           lambda: selectors.reorder_suggestions(today=TODAY)))
    return results


def report(results: list[Measure], *, products: int, moves: int, small: int, vendor: str, seeded_s: float) -> None:
    import django

    print(f"\nInventory benchmark: {products:,} products, {moves:,} stock moves on {vendor}, Django {django.get_version()}, DEBUG off"
          f" (seeded in {seeded_s:.0f} s)")
    print(f"Target: a median under {MAX_MS:.0f} ms with the same number of queries as at {small} products\n")
    head = f"{'request':<36} {'status':>6} {f'q@{small}':>7} {'q@full':>7} {'median ms':>10} {'min-max ms':>15} {'KiB':>7}  verdict"
    print(head)
    print("-" * len(head))
    for r in results:
        if r.error:
            print(f"{r.label:<36} {'-':>6} {'-':>7} {'-':>7} {'-':>10} {'-':>15} {'-':>7}  ERROR {r.error}")
            continue
        spread = f"{min(r.ms):.1f}-{max(r.ms):.1f}"
        size = f"{r.size / 1024:.0f}" if r.size else "-"
        print(f"{r.label:<36} {r.status or '-':>6} {r.small_queries if r.small_queries is not None else '-':>7} "
              f"{r.max_queries:>7} {r.median_ms:>10.1f} {spread:>15} {size:>7}  {r.verdict()}{' (' + r.note + ')' if r.note else ''}")
    held = [r for r in results if r.held and not r.error]
    met = all(r.verdict() == "OK" for r in held)
    print(f"\nSUMMARY inventory.py products={products} moves={moves} worst_median={max(r.median_ms for r in held):.0f}ms "
          f"(target <{MAX_MS:.0f}ms, queries flat) -> {'MET' if met else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--moves", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=200, help="products for the query-count comparison (default 200)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    small = max(1, min(args.small, args.products))

    os.environ["DJANGO_SETTINGS_MODULE"] = "coopmarket.settings"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("COOP_TESTING", "1")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", message="No directory at")
    database = ThrowawayDatabase(os.environ.get("BENCH_DATABASE_URL"))
    os.environ["DATABASE_URL"] = database.url

    import django

    django.setup()
    try:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.utils import timezone

        from coopmarket.roles import SUPPLY
        from inventory.models import StockMove, Supplier

        timezone.localdate = lambda *a, **k: TODAY  # the pages read "today": pin it to the seeded data's
        print(f"Migrating a throwaway {connection.vendor} database...", flush=True)
        call_command("migrate", verbosity=0)
        user = get_user_model().objects.create_user("bench-supply")
        user.groups.add(Group.objects.get(name=SUPPLY))
        client = Client()
        client.force_login(user)
        rng = random.Random(20_000)

        small_moves = args.moves * small // args.products
        seed(small, small_moves, rng=rng)
        supplier_id = Supplier.objects.order_by("pk").values_list("pk", flat=True).first()
        small_counts = {r.label: r.max_queries for r in run_cases(client, supplier_id, runs=1)}

        started = time.perf_counter()
        seed(args.products - small, args.moves - small_moves, rng=rng, offset=small)
        seeded = time.perf_counter() - started
        total_moves = StockMove.objects.count()
        print(f"Seeded {args.products:,} products and {total_moves:,} moves in {seeded:.1f} s; measuring...", flush=True)
        results = run_cases(client, supplier_id, runs=args.runs)
        for r in results:
            r.small_queries = small_counts.get(r.label)
        report(results, products=args.products, moves=total_moves, small=small, vendor=connection.vendor, seeded_s=seeded)
    finally:
        database.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
