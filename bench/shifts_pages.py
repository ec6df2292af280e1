"""The coordination team's shift pages at scale: SQL queries and server time per request.

    .venv/bin/python bench/shifts_pages.py [--members 10000] [--small 100] [--runs 5]

Same throwaway database as bench/members_table.py (a temporary SQLite file, or a fresh database
next to BENCH_DATABASE_URL, dropped at the end). Seeds members (about 15 % owing make-ups, with
counters, deadlines and regular slots), 60 ABCD templates with their shifts around today, and an
attended registration per member. Measures the cycle calendar, the dashboard, the debt table (also
filtered and as CSV), a shift page and a timeline, with the query count at --small members and at
--members (it must not grow). Prints figures; exits 0 whatever they are.
"""
from __future__ import annotations

import argparse
import datetime
import os
import random
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from members_table import ThrowawayDatabase, measure, seed, settle_database  # noqa: E402

MAX_QUERIES = 12
DEBT_MAX_QUERIES = 10  # issue 16: the members and debt tables at <= 10 queries
MAX_MS = 300.0


def seed_shifts(*, today: datetime.date, rng: random.Random) -> None:
    """60 templates (weeks A-D, Tuesday to Saturday, three a day) and their shifts for the cycles
    around today."""
    from shifts import services

    for week in "ABCD":
        for weekday in range(1, 6):
            for start, end, name in ((8, 11, "Reception"), (13, 16, "Shelving"), (16, 19, "Cashier")):
                services.template_create(name=name, week=week, weekday=weekday, start_time=datetime.time(start),
                                         end_time=datetime.time(end), capacity=8)
    services.shifts_generate(start=today - datetime.timedelta(days=35), end=today + datetime.timedelta(days=35))


def seed_debt(first: int, last: int, *, today: datetime.date, rng: random.Random) -> None:
    """Members first..last: regular slots for standard members, one attended shift each, and
    counters, deadlines and delays for those in alert, delay or suspended (bulk writes)."""
    from django.db import transaction

    from members.models import Member
    from shifts.models import Registration, Shift, ShiftTemplate, SlotAssignment

    templates = list(ShiftTemplate.objects.all())
    past = list(Shift.objects.filter(date__lt=today, date__gte=today - datetime.timedelta(days=28)))
    members = list(Member.objects.filter(member_number__gte=first, member_number__lte=last, membership__in=("active", "unpaid")))
    slots, registrations = [], []
    for member in members:
        if member.shift_type == "standard":
            slots.append(SlotAssignment(member=member, template=rng.choice(templates), start_date=member.joined_on))
        registrations.append(Registration(shift=rng.choice(past), member=member, kind="one_off", attendance="attended"))
        if member.status in ("alert", "delay", "suspended"):
            owed = rng.randint(1, 4)
            if member.shift_type == "ftop":
                member.counter_ftop = -owed
            else:
                member.counter_standard = -owed
            member.alert_deadline = today + datetime.timedelta(days=rng.randint(-20, 27))
            member.delay_until = today + datetime.timedelta(days=rng.randint(0, 27)) if member.status == "delay" else None
    with transaction.atomic():
        SlotAssignment.objects.bulk_create(slots, batch_size=1000)
        Registration.objects.bulk_create(registrations, batch_size=1000, ignore_conflicts=True)
        Member.objects.bulk_update(members, ["counter_standard", "counter_ftop", "alert_deadline", "delay_until"], batch_size=1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=500, help="members for the query-count comparison (enough to fill a page)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    small = max(1, min(args.small, args.members))

    os.environ["DJANGO_SETTINGS_MODULE"] = "coopmarket.settings"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("COOP_TESTING", "1")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    warnings.filterwarnings("ignore", message="No directory at")
    database = ThrowawayDatabase(os.environ.get("BENCH_DATABASE_URL"))
    os.environ["DATABASE_URL"] = database.url

    import django

    django.setup()
    try:
        import django as dj
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from coopmarket.dates import coop_today
        from coopmarket.roles import COORDINATORS
        from members.models import Member
        from shifts.models import Shift

        print(f"Migrating a throwaway {connection.vendor} database...", flush=True)
        call_command("migrate", verbosity=0)
        user = get_user_model().objects.create_user("bench-coordinator", is_staff=True)
        user.groups.add(Group.objects.get(name=COORDINATORS))
        client = Client()
        client.force_login(user)
        rng = random.Random(5)
        today = coop_today()
        seed_shifts(today=today, rng=rng)

        def cases():
            busiest = Shift.objects.filter(date__lt=today).order_by("-id").first()
            owing = Member.objects.filter(status="suspended").order_by("member_number").first()
            return [
                ("cycle calendar", "/shifts/", True),
                ("dashboard", "/shifts/dashboard/", True),
                ("debt table", "/shifts/debt/", True),
                ("debt table, status and week", "/shifts/debt/?status=alert&week=B", True),
                ("debt table, sorted by days left", "/shifts/debt/?sort=days_left", True),
                ("debt CSV export (all rows)", "/shifts/debt/?_export=csv", False),
                ("a past shift", f"/shifts/{busiest.pk}/", True),
                ("a suspended member's timeline", f"/shifts/members/{owing.pk}/timeline/" if owing else "/shifts/", True),
            ]

        seed(1, small, rng=rng)
        seed_debt(1, small, today=today, rng=rng)
        small_counts = {label: measure(client, label, url, held, runs=1).max_queries for label, url, held in cases()}
        started = time.perf_counter()
        seed(small + 1, args.members, rng=rng)
        seed_debt(small + 1, args.members, today=today, rng=rng)
        settle_database()
        owing = Member.objects.filter(status__in=("alert", "delay", "suspended")).count()
        print(f"Seeded {args.members:,} members ({owing:,} owing make-ups) in {time.perf_counter() - started:.1f} s; measuring...",
              flush=True)
        results = []
        for label, url, held in cases():
            result = measure(client, label, url, held, runs=args.runs)
            result.small_queries = small_counts[label]
            results.append(result)

        print(f"\nShift pages benchmark: {args.members:,} members on {connection.vendor}, Django {dj.get_version()}, DEBUG off")
        print(f"Targets: queries flat in members, at most {MAX_QUERIES}, median under {MAX_MS:.0f} ms (CSV: informational)\n")
        head = f"{'request':<34} {'status':>6} {f'q@{small}':>7} {f'q@{args.members}':>8} {'median ms':>10} {'KiB':>7}  verdict"
        print(head)
        print("-" * len(head))
        for r in results:
            if r.error:
                print(f"{r.label:<34} ERROR {r.error}")
                continue
            notes = []
            if r.small_queries != r.max_queries:
                notes.append("queries grow with rows")
            if r.held and r.max_queries > MAX_QUERIES:
                notes.append(f"> {MAX_QUERIES} queries")
            if r.held and r.median_ms >= MAX_MS:
                notes.append(f">= {MAX_MS:.0f} ms")
            verdict = "; ".join(notes) or ("OK" if r.held else "informational")
            r.summary_ok = not notes or not r.held
            print(f"{r.label:<34} {r.status:>6} {r.small_queries:>7} {r.max_queries:>8} {r.median_ms:>10.1f} {r.size / 1024:>7.0f}  {verdict}")
        debt = [r for r in results if r.label.startswith("debt table") and r.held and not r.error]
        met = all(getattr(r, "summary_ok", False) and r.max_queries <= DEBT_MAX_QUERIES for r in debt)
        print(f"\nSUMMARY shifts_pages.py members={args.members} " + " ".join(
            f"{r.label.replace(' ', '_').replace(',', '')}={r.median_ms:.0f}ms/{r.max_queries}q" for r in debt
        ) + f" (debt table targets <{MAX_MS:.0f}ms, <={DEBT_MAX_QUERIES} queries, flat; other pages above are informational) "
            f"-> {'MET' if met else 'MISSED'}")
    finally:
        database.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
