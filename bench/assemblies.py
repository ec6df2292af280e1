"""A general assembly at the size of a big coop: SQL queries and time per step.

    .venv/bin/python bench/assemblies.py [--members 4000] [--present 1000] [--runs 5]

Same throwaway database as bench/members_table.py (a temporary SQLite file, or a fresh database
next to BENCH_DATABASE_URL, dropped at the end), and its member fixture rows (about 90 % of them
voters). Times the convening (e-mails to the locmem backend), freezing the voter list, proxies,
the desk (a sign-in by card through the API, the name search), the live assembly object, the
voter table, a vote from a phone, and the sign-in sheet and minutes PDFs; then the open figures.
Prints figures; exits 0 whatever they are. Targets: a desk sign-in and a phone vote under 100 ms
and at most 15 queries; the assembly object and the voter table with the same query count at
--members as with a handful.
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from members_table import ThrowawayDatabase, seed  # noqa: E402

ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "coopmarket.settings", "DJANGO_DEBUG": "0", "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}
DEFAULTS = {"DJANGO_SECRET_KEY": "bench-only-secret-key", "COOP_TESTING": "1", "DJANGO_LOG_LEVEL": "WARNING",
            "DJANGO_ALLOWED_HOSTS": "testserver,localhost"}


class Timer:
    """Times and query counts of repeated calls of one step."""

    def __init__(self, label: str):
        self.label, self.ms, self.queries, self.note = label, [], [], ""

    def run(self, call):
        from django.db import connection, reset_queries
        from django.test.utils import CaptureQueriesContext

        reset_queries()  # the log keeps 9,000 queries: count from an empty one
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            result = call()
            self.ms.append((time.perf_counter() - started) * 1000)
        self.queries.append(len(ctx.captured_queries))
        return result

    def key(self) -> str:
        return self.label.strip().split(" (")[0].replace(" ", "_").replace(",", "")

    def summary(self) -> str:
        return f"{statistics.median(self.ms):.0f}ms/{max(self.queries)}q"

    def line(self) -> str:
        median = statistics.median(self.ms)
        shown = f"{median:9.1f} ms" if median < 10_000 else f"{median / 1000:9.1f} s "
        return f"  {self.label:<44} {shown}  {max(self.queries):5d} queries  x{len(self.ms):<5d} {self.note}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=4000, help="members to seed (default 4000, La Louve's size)")
    parser.add_argument("--present", type=int, default=1000, help="voters signed in at the desk (default 1000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of the read steps (default 5)")
    args = parser.parse_args()
    os.environ.update(ENVIRONMENT)
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    warnings.filterwarnings("ignore", message="No directory at")
    database = ThrowawayDatabase(os.environ.get("BENCH_DATABASE_URL"))
    os.environ["DATABASE_URL"] = database.url

    import django

    django.setup()
    try:
        run(args)
    finally:
        database.drop()
    return 0


def run(args) -> None:
    import random
    import zoneinfo

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from assemblies import documents, selectors, services
    from figures.services import figures_compute
    from members.models import Member

    print(f"Migrating a throwaway {connection.vendor} database...", flush=True)
    call_command("migrate", verbosity=0)
    seed(1, args.members, rng=random.Random(4000))
    users = get_user_model().objects
    desk, bureau = Client(), Client()
    desk.force_login(users.create_user("bench-desk"))
    desk_user = users.get(username="bench-desk")
    desk_user.groups.add(Group.objects.get(name="cashiers"))
    coordinator = users.create_user("bench-coordinator")
    coordinator.groups.add(Group.objects.get(name="coordinators"))
    bureau.force_login(coordinator)

    paris = zoneinfo.ZoneInfo("Europe/Paris")
    today = timezone.localdate()
    starts = datetime.datetime.combine(today + datetime.timedelta(days=20), datetime.time(18, 30), tzinfo=paris)
    assembly = services.assembly_create(title="AG bench", kind="ordinary", convocation=1, starts_at=starts, place="Salle",
                                        agenda="1. Comptes", today=today)
    steps = []

    def step(label, call, times=1, note=""):
        timer = Timer(label)
        timer.note = note
        for _ in range(times):
            result = timer.run(call)
        steps.append(timer)
        print(timer.line(), flush=True)
        return result

    small = Timer("assembly object (API), list not frozen")
    small.run(lambda: bureau.get(f"/api/v1/assemblies/{assembly.pk}/"))
    step("convene (e-mails rendered and sent, locmem)", lambda: services.assembly_convene(
        assembly=assembly, today=today, now=timezone.now()))
    from assemblies.tasks import send_convening

    sent = step("  the convening task itself", lambda: send_convening(assembly.pk))
    steps[-1].note = f"{sent} e-mails"
    cutoff = assembly.cutoff + datetime.timedelta(days=5)
    frozen = step("freeze the voter list", lambda: services.voters_freeze(
        assembly=assembly, today=cutoff, now=timezone.now()))
    steps[-1].note = f"{frozen} voters"
    assembly.refresh_from_db()
    voters = list(selectors.voter_members(assembly).order_by("member_number"))
    pairs = [(voters[i], voters[i + 1]) for i in range(0, min(600, len(voters) - 1), 2)]
    proxies = iter(pairs)
    step("give a proxy (service)", lambda: _give(services, assembly, next(proxies), cutoff), times=len(pairs))

    evening = starts.astimezone(paris)
    from assemblies import api

    api.clock_now = lambda: evening
    present = [pair[0] for pair in pairs] + voters[len(pairs) * 2:]
    present = present[: args.present]
    codes = iter(m.card_barcode for m in present)
    step("desk sign-in by card (API)", lambda: desk.post(f"/api/v1/assemblies/{assembly.pk}/sign-in/",
                                                         {"code": next(codes)}, content_type="application/json"),
         times=len(present))
    step("desk name search (API)", lambda: desk.get(f"/api/v1/assemblies/{assembly.pk}/sign-in/?search=mar"), times=args.runs)
    step("assembly object with live quorum (API)", lambda: bureau.get(f"/api/v1/assemblies/{assembly.pk}/"), times=args.runs,
         note=f"{small.queries[0]} queries before the freeze")
    step("voter table page (100 rows)", lambda: bureau.get(f"/assemblies/{assembly.pk}/voters/"), times=args.runs)
    step("voter table CSV (every voter)", lambda: bureau.get(f"/assemblies/{assembly.pk}/voters/?_export=csv"), times=1)

    resolution = services.resolution_open(resolution=services.resolution_add(assembly=assembly, text="Motion"), now=evening)
    phones = {}
    for member in present:
        client = Client()
        client.force_login(_login_for(member))
        phones[member.pk] = client
    voting = iter(present)

    def vote():
        member = next(voting)
        ballots = [{"choice": random.choice(("for", "against", "abstain")), "for_member": member.pk}]
        ballots += [{"choice": "for", "for_member": p.giver_id} for p in selectors.proxies_carried_by(assembly, member)]
        return phones[member.pk].post(f"/api/v1/assemblies/{assembly.pk}/resolutions/{resolution.pk}/vote/", ballots,
                                      content_type="application/json")

    step("phone vote, own + proxies (API)", vote, times=len(present))
    closed = step("close the vote", lambda: services.resolution_close(resolution=resolution, now=evening))
    steps[-1].note = f"for {closed.votes_for}, against {closed.votes_against}, abstain {closed.votes_abstain}"
    assembly.refresh_from_db()
    sheet = step("sign-in sheet PDF (every voter)", lambda: documents.sign_in_sheet_pdf(assembly))
    steps[-1].note = f"{len(sheet) // 1024} KB"
    step("minutes PDF", lambda: documents.minutes_pdf(assembly))
    step("open figures, computed", lambda: figures_compute(as_of=today), times=args.runs)
    quorum = selectors.quorum_of(assembly)
    print(f"\n{connection.vendor}, {args.members:,} members, {quorum.voters:,} voters, {quorum.present:,} present, "
          f"{quorum.represented} represented, quorum {'reached' if quorum.reached else 'not reached'}; "
          f"{Member.objects.count():,} member rows.")
    print(f"SUMMARY assemblies.py members={args.members} voters={quorum.voters} "
          + " ".join(f"{t.key()}={t.summary()}" for t in steps) + " (informational: the issue sets no target)")


def _give(services, assembly, pair, today):
    from django.utils import timezone

    holder, giver = pair
    return services.proxy_give(assembly=assembly, giver=giver, holder=holder, today=today, now=timezone.now())


def _login_for(member):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(f"bench-member-{member.pk}")
    type(member).objects.filter(pk=member.pk).update(user=user)
    return user


if __name__ == "__main__":
    sys.exit(main())
