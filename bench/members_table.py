"""Members table and members API at scale: SQL queries and server time per request.

    .venv/bin/python bench/members_table.py [--members 10000] [--small 100] [--runs 5]

Runs against a throwaway database: a temporary SQLite file by default, or, when
BENCH_DATABASE_URL is set (e.g. postgres://user:pass@localhost/postgres), a fresh database
`coopmarket_bench_<random>` created on that server and dropped at the end (the database named in
the URL is only used to connect). Prints figures and targets; exits 0 whatever the figures.
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from throwaway import ThrowawayDatabase  # noqa: E402  (bench/ is the script's folder)

MAX_QUERIES = 10
MAX_MS = 300.0
CASES = (
    # (label, url, held to the targets)
    ("members table", "/members/", True),
    ("members table, search", "/members/?q=dupont", True),
    ("members table, CSV export (all rows)", "/members/?_export=csv", False),
    ("API search", "/api/v1/members/?search=dupont", True),
    ("API page_size=500", "/api/v1/members/?page_size=500", False),
)


def settle_database() -> None:
    """On PostgreSQL, VACUUM ANALYZE after the seed: what autovacuum would have done to a database
    that has lived with these rows (bulk updates of the seed leave a dead copy of every row they
    touch, which scans would otherwise read too, and the planner would have no statistics)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def seed(start: int, end: int, *, rng: random.Random) -> None:
    """Members start..end (inclusive) as fixture rows: bulk inserts, numbers from the real helpers."""
    import datetime

    from django.db import transaction
    from django.utils import timezone

    from coopmarket.management.commands.seed_demo import FIRST_NAMES, LAST_NAMES
    from members.barcodes import associate_barcode, member_barcode
    from members.models import Associate, Member, Payment, Sequence, ShareClass, ShareSubscription
    from members.text import search_key

    today = timezone.localdate()
    share_a, share_b = ShareClass.objects.get(code="A"), ShareClass.objects.get(code="B")
    statuses = ["up_to_date"] * 85 + ["alert"] * 6 + ["suspended"] * 4 + ["delay", "on_leave", "exempted", "unsubscribed", "blocked"]
    members, situations = [], []
    for number in range(start, end + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        situation = rng.choices(("paid", "instalments", "supporting", "none", "left"), weights=(80, 6, 4, 5, 5))[0]
        membership = {"paid": "active", "instalments": "unpaid", "supporting": "supporting", "none": "none", "left": "left"}[situation]
        joined_on = today - datetime.timedelta(days=rng.randint(0, 1500))
        members.append(Member(
            member_number=number, card_barcode=member_barcode(number), first_name=first, last_name=last,
            search_name=search_key(f"{first} {last}"), email=f"m{number}@bench.coopmarket.test",
            phone=f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            postal_code="75018", city="Paris", shift_type=rng.choice(("standard", "standard", "ftop")),
            low_income=rng.random() < 0.1, joined_on=joined_on, membership=membership,
            status=rng.choice(statuses) if membership in ("active", "unpaid") else "not_concerned",
            work_start_date=joined_on if membership == "active" else None,
            left_on=today if membership == "left" else None, calendar_token=secrets.token_urlsafe(32),
        ))
        situations.append(situation)
    with transaction.atomic():
        Member.objects.bulk_create(members, batch_size=1000)
        members = list(Member.objects.filter(member_number__gte=start, member_number__lte=end).order_by("member_number"))
        subscriptions, first_payments = [], []
        for member, situation in zip(members, situations, strict=True):
            if situation == "none":
                continue
            share_class, quantity = (share_b, rng.choice((1, 2, 5))) if situation == "supporting" else (share_a, 10)
            instalments = 5 if situation == "instalments" else 1
            amount = share_class.unit_price * quantity
            subscriptions.append(ShareSubscription(
                member=member, share_class=share_class, quantity=quantity, unit_price=share_class.unit_price,
                amount=amount, instalments=instalments, subscribed_on=member.joined_on,
                redemption_requested_on=member.left_on,
            ))
            first_payments.append(amount / instalments)
        ShareSubscription.objects.bulk_create(subscriptions, batch_size=1000)
        Payment.objects.bulk_create(
            [
                Payment(subscription=sub, amount=paid, method=rng.choice(("cash", "cheque", "transfer", "card")), paid_on=sub.subscribed_on)
                for sub, paid in zip(subscriptions, first_payments, strict=True)
            ],
            batch_size=1000,
        )
        last_associate = Sequence.objects.filter(name="associate").values_list("last_value", flat=True).first() or 0
        associates = []
        for member in members:
            if member.membership in ("active", "unpaid") and rng.random() < 0.15:
                last_associate += 1
                associates.append(Associate(
                    member=member, associate_number=last_associate, card_barcode=associate_barcode(last_associate),
                    first_name=rng.choice(FIRST_NAMES), last_name=member.last_name,
                ))
        Associate.objects.bulk_create(associates, batch_size=1000)
        Sequence.objects.update_or_create(name="member", defaults={"last_value": end})
        Sequence.objects.update_or_create(name="associate", defaults={"last_value": last_associate})


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

    @property
    def median_ms(self) -> float:
        return statistics.median(self.ms) if self.ms else float("nan")

    @property
    def max_queries(self) -> int | None:
        return max(self.queries) if self.queries else None

    def verdict(self) -> str:
        if self.error:
            return "ERROR"
        if self.status != 200:
            return f"HTTP {self.status}"
        notes = []
        if self.small_queries is not None and self.max_queries != self.small_queries:
            notes.append("queries grow with rows")
        if not self.held:
            return "; ".join(notes + ["informational"])
        if self.max_queries > MAX_QUERIES:
            notes.append(f"> {MAX_QUERIES} queries")
        if self.median_ms >= MAX_MS:
            notes.append(f">= {MAX_MS:.0f} ms")
        return "; ".join(notes) or "OK"


def measure(client, label: str, url: str, held: bool, runs: int) -> Measure:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    result = Measure(label, url, held)
    try:
        client.get(url)  # warm-up
        for _ in range(runs):
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - start
            result.ms.append(elapsed * 1000)
            result.queries.append(len(ctx.captured_queries))
            result.status = response.status_code
            result.size = len(response.content) if not response.streaming else sum(len(c) for c in response.streaming_content)
    except Exception as exc:  # noqa: BLE001  (figures, not a test: report and go on)
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def report(results: list[Measure], *, members: int, small: int, vendor: str) -> None:
    import django

    print(f"\nMembers table benchmark: {members:,} members on {vendor}, Django {django.get_version()}, DEBUG off")
    print(f"Targets: at most {MAX_QUERIES} queries and a median under {MAX_MS:.0f} ms (CSV export and page_size=500: informational)\n")
    head = f"{'request':<38} {'url':<34} {'status':>6} {f'q@{small}':>7} {f'q@{members}':>8} {'median ms':>10} {'min-max ms':>15} {'KiB':>7}  verdict"
    print(head)
    print("-" * len(head))
    for r in results:
        if r.error:
            print(f"{r.label:<38} {r.url:<34} {'-':>6} {'-':>7} {'-':>8} {'-':>10} {'-':>15} {'-':>7}  ERROR {r.error}")
            continue
        spread = f"{min(r.ms):.1f}-{max(r.ms):.1f}"
        print(
            f"{r.label:<38} {r.url:<34} {r.status:>6} {r.small_queries if r.small_queries is not None else '-':>7} "
            f"{r.max_queries:>8} {r.median_ms:>10.1f} {spread:>15} {r.size / 1024:>7.0f}  {r.verdict()}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000, help="members to seed (default 10000)")
    parser.add_argument("--small", type=int, default=100, help="members for the query-count comparison (default 100)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per request after one warm-up (default 5)")
    args = parser.parse_args()
    small = max(1, min(args.small, args.members))

    os.environ["DJANGO_SETTINGS_MODULE"] = "coopmarket.settings"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("COOP_TESTING", "1")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic here
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

        from coopmarket.roles import COORDINATORS

        print(f"Migrating a throwaway {connection.vendor} database...", flush=True)
        call_command("migrate", verbosity=0)
        user = get_user_model().objects.create_user("bench-coordinator", is_staff=True)
        user.groups.add(Group.objects.get(name=COORDINATORS))
        client = Client()
        client.force_login(user)
        rng = random.Random(10_000)

        seed(1, small, rng=rng)
        small_counts = {}
        for label, url, held in CASES:
            small_counts[url] = measure(client, label, url, held, runs=1).max_queries

        started = time.perf_counter()
        seed(small + 1, args.members, rng=rng)
        settle_database()
        print(f"Seeded {args.members:,} members in {time.perf_counter() - started:.1f} s; measuring...", flush=True)
        results = []
        for label, url, held in CASES:
            result = measure(client, label, url, held, runs=args.runs)
            result.small_queries = small_counts[url]
            results.append(result)
        report(results, members=args.members, small=small, vendor=connection.vendor)
        held = [r for r in results if r.held]
        met = all(r.verdict() == "OK" for r in held)
        print(f"\nSUMMARY members_table.py members={args.members} " + " ".join(
            f"{r.label.replace(' ', '_').replace(',', '')}={r.median_ms:.0f}ms/{r.max_queries}q" for r in held
        ) + f" (targets <{MAX_MS:.0f}ms, <={MAX_QUERIES} queries, flat) -> {'MET' if met else 'MISSED'}")
    finally:
        database.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
