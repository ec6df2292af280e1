"""The daily shift jobs at scale: update_statuses for one day and generate_shifts for 90 days.

    .venv/bin/python bench/statuses.py [--members 10000] [--small 1000] [--profile]

Each size runs in its own process against its own throwaway database (a temporary SQLite file,
or, when BENCH_DATABASE_URL is set, e.g. postgres://postgres@127.0.0.1/postgres, a fresh database
`coopmarket_bench_<random>` created on that server and dropped at the end). The seed is a year of
history (2025-05-26 .. 2026-05-24) bulk-inserted: members with 10 A shares paid, 70% standard
with a regular slot on 168 templates covering the whole ABCD cycle, 30% FTOP; their regular
shifts attended, missed or excused, make-ups and extra shifts, FTOP bookings and cycle charges
(points resolved by `shifts.status.resolve`, as the services would), some leaves, exemptions,
extensions and corrections. A first update_statuses (2026-05-24) stores every status, then the
timed runs: update_statuses on 2026-05-25 (a cycle start: every FTOP member's cycle charge, on its
own day), on 2026-05-26, its re-run, and 2026-05-27 (an ordinary day); then
generate_shifts 2026-05-25 .. 2026-08-23 and its re-run.

Prints seconds and SQL queries (CaptureQueriesContext) at both sizes with the targets: the daily
update_statuses under 10 s at full size, query counts that do not grow with members (batched
statements aside: the bulk reads and writes go 1,000-5,000 rows a statement). --profile adds a
cProfile of the update_statuses that writes the next cycle charges and of the next 90 days' generation (full size
only). Figures, not a test: exits 0 whatever they are.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import re
import secrets
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from throwaway import ThrowawayDatabase  # noqa: E402  (bench/ is the script's folder)

TODAY = datetime.date(2026, 5, 25)  # a cycle start (Monday of week A with COOP_CYCLE_START 2026-01-05)
HISTORY_START = TODAY - datetime.timedelta(days=364)  # 2025-05-26, a cycle start too
ONE_DAY = datetime.timedelta(days=1)
DAYS_AHEAD = 90
UPDATE_TARGET_S = 10.0
TEMPLATE_CAPACITY = 46  # 168 templates x 46 seats: room for 7,000 slot holders and more
SHIFT_STARTS = ((6, 0), (8, 45), (11, 30), (14, 15), (17, 0), (19, 30))  # 2 h 45 each
RESULT_PREFIX = "BENCH-RESULT "
FIRST_NAMES = ("Camille", "Léa", "Hugo", "Chloé", "Lucas", "Inès", "Nathan", "Manon", "Yanis", "Sarah", "Louis", "Jade", "Amadou", "Mei", "Karim", "Zoé")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Nguyen", "Diallo", "Haddad", "Lefèvre", "Garcia", "Roux")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the seed ---------------------------------------------------------------------------------

def _overlaps(periods, first: datetime.date, last: datetime.date) -> bool:
    return any(p.start <= last and (p.end is None or p.end >= first) for p in periods)


def _covered(periods, day: datetime.date) -> bool:
    return any(p.covers(day) for p in periods)


class History:
    """One member's year, simulated in date order with the ledger's own point rules."""

    def __init__(self, member_id: int, shift_type: str):
        from shifts import status as st

        self.st = st
        self.member_id = member_id
        self.shift_type = shift_type
        self.std = self.ftop = 0
        self.events: list[dict] = []
        self.in_debt_on: list[datetime.date] = []

    def write(self, day: datetime.date, kind: str, *, shift_id=None, points=0, counter="standard", cycle_start=None, reason=""):
        for row_kind, d_std, d_ftop in self.st.resolve(kind, shift_type=self.shift_type, standard=self.std, ftop=self.ftop, points=points, counter=counter):
            self.std, self.ftop = self.std + d_std, self.ftop + d_ftop
            self.events.append(dict(
                member_id=self.member_id, date=day, kind=row_kind, standard_points=d_std, ftop_points=d_ftop,
                shift_id=shift_id if row_kind == kind else None, cycle_start=cycle_start if row_kind == kind else None,
                reason=reason if row_kind == kind else "",
            ))
        if (self.std if self.shift_type == "standard" else self.ftop) < 0:
            self.in_debt_on.append(day)


def seed(count: int, rng: random.Random) -> dict[str, int]:
    """`count` members and their year of history, bulk-inserted. Returns row counts."""
    from django.db import transaction

    from members.barcodes import member_barcode
    from members.models import Member, MemberStateChange, Payment, Sequence, ShareClass, ShareSubscription
    from members.text import search_key
    from shifts import cycle, services
    from shifts import status as st
    from shifts.models import (
        CounterEvent,
        CycleStartProcessed,
        Exemption,
        Extension,
        Leave,
        Registration,
        Shift,
        ShiftTemplate,
        SlotAssignment,
    )

    anchor = services.cycle_start_setting()
    share_a = ShareClass.objects.get(code="A")
    with transaction.atomic():
        templates = ShiftTemplate.objects.bulk_create([
            ShiftTemplate(
                name=f"{week}{weekday} {h:02d}:{m:02d}", week=week, weekday=weekday, start_time=datetime.time(h, m),
                end_time=(datetime.datetime.combine(TODAY, datetime.time(h, m)) + datetime.timedelta(minutes=165)).time(),
                capacity=TEMPLATE_CAPACITY,
            )
            for week in "ABCD" for weekday in range(7) for h, m in SHIFT_STARTS
        ])
        templates = list(ShiftTemplate.objects.order_by("week", "weekday", "start_time"))
        Shift.objects.bulk_create([
            Shift(template=t, name=t.name, date=day, week=t.week, capacity=t.capacity,
                  start=services.local_datetime(day, t.start_time), end=services.local_datetime(day, t.end_time),
                  closed_at=services.local_datetime(day + ONE_DAY, datetime.time(1)))
            for t in templates for day in cycle.dates_of_template(t.week, t.weekday, HISTORY_START, TODAY - ONE_DAY, anchor)
        ], batch_size=2000)
        shift_ids = {(t, d): pk for pk, t, d in Shift.objects.values_list("pk", "template_id", "date")}
        by_date: dict[datetime.date, list[tuple[int, int]]] = {}
        for (template_id, day), pk in shift_ids.items():
            by_date.setdefault(day, []).append((pk, template_id))

        members = []
        for number in range(1, count + 1):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if rng.random() < 0.8:
                joined = HISTORY_START - datetime.timedelta(days=rng.randint(0, 700))
            else:
                joined = HISTORY_START + datetime.timedelta(days=rng.randint(0, 350))
            members.append(Member(
                member_number=number, card_barcode=member_barcode(number), first_name=first, last_name=last,
                search_name=search_key(f"{first} {last}"), email=f"m{number}@bench.coopmarket.test",
                shift_type="standard" if rng.random() < 0.7 else "ftop", shift_type_since=joined,
                joined_on=joined, work_start_date=joined, membership="active", status="up_to_date",
                calendar_token=secrets.token_urlsafe(32),
            ))
        Member.objects.bulk_create(members, batch_size=2000)
        members = list(Member.objects.order_by("member_number"))
        subscriptions = ShareSubscription.objects.bulk_create([
            ShareSubscription(member=m, share_class=share_a, quantity=10, unit_price=share_a.unit_price,
                              amount=share_a.unit_price * 10, subscribed_on=m.joined_on)
            for m in members
        ], batch_size=2000)
        Payment.objects.bulk_create([
            Payment(subscription=s, amount=s.amount, method=rng.choice(("cash", "cheque", "transfer", "card")), paid_on=s.subscribed_on)
            for s in subscriptions
        ], batch_size=2000)
        MemberStateChange.objects.bulk_create([
            MemberStateChange(member=m, field=field, value=value, effective_date=m.joined_on)
            for m in members for field, value in (("membership", "active"), ("shift_type", m.shift_type))
        ], batch_size=5000)

        leaves, exemptions, slots, registrations, events, extensions = [], [], [], [], [], []
        slot_counter = 0
        for m in members:
            my_leaves, my_exemptions = [], []
            if rng.random() < 0.03:
                start = HISTORY_START + datetime.timedelta(days=rng.randint(0, 394))
                my_leaves.append(st.Period(start, start + datetime.timedelta(days=rng.randint(27, 89))))
            if rng.random() < 0.02:
                start = HISTORY_START + datetime.timedelta(days=rng.randint(0, 380))
                my_exemptions.append(st.Period(start, None if rng.random() < 0.3 else start + datetime.timedelta(days=rng.randint(30, 180))))
            leaves += [Leave(member=m, start=p.start, end=p.end, reason="bench") for p in my_leaves]
            exemptions += [Exemption(member=m, start=p.start, end=p.end, reason="bench") for p in my_exemptions]
            away = my_leaves + my_exemptions
            h = History(m.pk, m.shift_type)
            if m.shift_type == "standard":
                template = templates[slot_counter % len(templates)]
                slot_counter += 1
                ended = _simulate_standard(h, m, template, away, shift_ids, by_date, registrations, rng)
                slots.append(SlotAssignment(member=m, template=template, start_date=m.work_start_date,
                                            end_date=ended, end_reason="unsubscribed" if ended else ""))
            else:
                _simulate_ftop(h, m, away, by_date, registrations, rng, anchor)
            if rng.random() < 0.01:
                h.write(TODAY - datetime.timedelta(days=rng.randint(1, 300)), st.CORRECTION, points=rng.choice((-1, 1)),
                        counter=m.shift_type, reason="bench correction")
            if h.in_debt_on and rng.random() < 0.1:
                granted = rng.choice(h.in_debt_on)
                extensions.append(Extension(member=m, granted_on=granted, start=granted, end=granted + datetime.timedelta(days=27), reason="bench"))
            events += h.events
        Leave.objects.bulk_create(leaves, batch_size=2000)
        Exemption.objects.bulk_create(exemptions, batch_size=2000)
        SlotAssignment.objects.bulk_create(slots, batch_size=2000)
        Registration.objects.bulk_create(registrations, batch_size=5000)
        events.sort(key=lambda e: (e["date"], e["kind"] == st.CYCLE_CHARGE))
        CounterEvent.objects.bulk_create([CounterEvent(**e) for e in events], batch_size=5000)
        CycleStartProcessed.objects.bulk_create([
            CycleStartProcessed(cycle_start=day) for day in cycle.cycle_starts_between(HISTORY_START, TODAY - ONE_DAY, anchor)
        ])
        Extension.objects.bulk_create(extensions, batch_size=2000)
        Sequence.objects.update_or_create(name="member", defaults={"last_value": count})
    return {
        "members": count, "templates": len(templates), "past shifts": len(shift_ids), "registrations": len(registrations),
        "counter events": len(events), "leaves": len(leaves), "exemptions": len(exemptions), "extensions": len(extensions),
    }


def _simulate_standard(h: History, m, template, away, shift_ids, by_date, registrations, rng) -> datetime.date | None:
    """Regular shifts (attended 88%, missed 8%, excused 4%), make-ups after a debt, some extra
    shifts; unsubscribed (slot ended) on a second consecutive miss that leaves a debt."""
    from shifts import cycle, services
    from shifts import status as st
    from shifts.models import Registration

    first = max(m.work_start_date, HISTORY_START)
    plan: list[tuple[datetime.date, str]] = [
        (d, "regular") for d in cycle.dates_of_template(template.week, template.weekday, first, TODAY - ONE_DAY, services.cycle_start_setting())
        if not _covered(away, d)
    ]
    extra_day = first + datetime.timedelta(days=rng.randint(0, 120))
    while rng.random() < 0.3 and extra_day < TODAY:
        plan.append((extra_day, "extra"))
        extra_day += datetime.timedelta(days=rng.randint(30, 150))
    plan.sort()
    streak, done = 0, set()
    while plan:
        day, what = plan.pop(0)
        if what == "regular":
            shift_id = shift_ids[(template.pk, day)]
            outcome = rng.choices(("attended", "missed", "excused"), weights=(88, 8, 4))[0]
            kind = {"attended": st.ATTENDED_REGULAR, "missed": st.MISSED_REGULAR, "excused": st.EXCUSED_REGULAR}[outcome]
            registrations.append(Registration(
                shift_id=shift_id, member_id=m.pk, kind="regular", attendance=outcome,
                attendance_at=services.local_datetime(day, datetime.time(12)),
                cancelled_at=services.local_datetime(day - datetime.timedelta(days=3), datetime.time(9)) if outcome == "excused" else None,
                cancel_reason="cancelled" if outcome == "excused" else "",
            ))
            done.add(shift_id)
            h.write(day, kind, shift_id=shift_id)
            if outcome == "missed":
                streak += 1
                if streak >= 2 and h.std < 0:
                    return day  # unsubscribed: the slot ends, no more regular shifts
            elif outcome == "attended":
                streak = 0
            if h.std < 0 and rng.random() < 0.8:
                for _ in range(-h.std if rng.random() < 0.5 else 1):
                    makeup = day + datetime.timedelta(days=rng.randint(2, 40))
                    if makeup < TODAY and not _covered(away, makeup):
                        plan.append((makeup, "makeup"))
                plan.sort()
        else:
            choices = [(pk, t) for pk, t in by_date.get(day, ()) if t != template.pk and pk not in done]
            if not choices:
                continue
            shift_id, _template_id = rng.choice(choices)
            done.add(shift_id)
            registrations.append(Registration(shift_id=shift_id, member_id=m.pk, kind="one_off", attendance="attended",
                                              attendance_at=services.local_datetime(day, datetime.time(12))))
            h.write(day, st.ATTENDED_OTHER, shift_id=shift_id)
            streak = 0
    return None


def _simulate_ftop(h: History, m, away, by_date, registrations, rng, anchor) -> None:
    """Per cycle: the charge when owed (active and FTOP for the 28 days before, not away), then
    1 booking (2 when in debt, sometimes none); attended 93%, missed 7%. Unsubscribed at -8."""
    from shifts import cycle, services
    from shifts import status as st
    from shifts.models import Registration

    for start in cycle.cycle_starts_between(HISTORY_START, TODAY - ONE_DAY, anchor):
        window = (start - datetime.timedelta(days=28), start - ONE_DAY)
        if m.work_start_date <= window[0] and not _overlaps(away, *window):
            h.write(start, st.CYCLE_CHARGE, cycle_start=start)
        if h.ftop <= -8:
            return
        wanted = rng.choices((0, 1, 2, 3), weights=(5, 70, 20, 5))[0] + (1 if h.ftop < 0 and rng.random() < 0.6 else 0)
        days = [start + datetime.timedelta(days=n) for n in rng.sample(range(1, 28), k=min(wanted, 5))]
        for day in sorted(d for d in days if m.work_start_date <= d < TODAY and not _covered(away, d)):
            shift_id, _template_id = rng.choice(by_date[day])
            outcome = "attended" if rng.random() < 0.93 else "missed"
            registrations.append(Registration(shift_id=shift_id, member_id=m.pk, kind="one_off", attendance=outcome,
                                              attendance_at=services.local_datetime(day, datetime.time(12))))
            h.write(day, st.FTOP_ATTENDED if outcome == "attended" else st.FTOP_MISSED, shift_id=shift_id)
            if h.ftop <= -8:
                return


# --- measuring --------------------------------------------------------------------------------

def peak_mb() -> float:
    """This process's peak resident memory in MB. On Linux, VmHWM of /proc/self/status: it starts
    afresh with the program. (getrusage's ru_maxrss does not: it is kept across fork and exec, so
    the jobs process started by the seeding process reported the seed's 3 GB as its own.)"""
    import resource

    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes on macOS, kB elsewhere


def measure(label: str, call) -> dict:
    """Seconds, SQL statements, the service's counts, the time spent in each phase, and the
    process's peak memory so far (it only grows: the run that raises it is the one to look at)."""
    from django.db import connection

    from members import services as member_services
    from shifts import services

    phases: dict[str, float] = {}
    originals = {}

    def timed(module, name):
        original = getattr(module, name)
        originals[(module, name)] = original

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - started
        setattr(module, name, wrapper)

    for module, name in ((member_services, "memberships_refresh_all"), (services, "cycle_charges_write"), (services, "statuses_recompute_all")):
        timed(module, name)
    # Statements are counted by shape, their text cut short at once: CaptureQueriesContext keeps
    # every statement with its parameters written in (megabytes per bulk statement), which made
    # the jobs process look 3 GB big and slowed it down.
    shapes: dict[str, int] = {}

    def count(execute, sql, params, many, context):
        shape = re.sub(r"\s+", " ", re.sub(r"[0-9]+", "N", sql[:200]))[:90]
        shapes[shape] = shapes.get(shape, 0) + 1
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(count):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = call()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        for (module, name), original in originals.items():
            setattr(module, name, original)
    queries = sum(shapes.values())
    peak = peak_mb()  # the peak so far
    log(f"  {label}: {seconds:.2f} s ({cpu:.2f} s CPU in Python), {queries} queries, peak {peak:,.0f} MB, {result}")
    return {"label": label, "seconds": seconds, "cpu": cpu, "queries": queries, "result": result, "shapes": shapes,
            "phases": {k: round(v, 3) for k, v in phases.items()}, "peak_mb": peak}


def profile(label: str, call, limit: int = 25) -> None:
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(limit)
    log(f"\n--- cProfile: {label} (top {limit} by cumulative time) ---\n{out.getvalue()}")


def breakdown(day: datetime.date) -> None:
    """Where statuses_recompute_all spends its time, piece by piece, and what writing the stored
    statuses costs with bulk_update against plainer statements (each write rolled back)."""
    from django.db import transaction

    from members.models import Member
    from shifts import services
    from shifts import status as st

    def clock(label, call):
        started = time.perf_counter()
        value = call()
        log(f"  {label:<62} {time.perf_counter() - started:7.2f} s")
        return value

    log("\n--- breakdown of statuses_recompute_all and of the stored-status write ---")
    facts = clock("_bulk_facts() (every counter event, leave, exemption, grant, slot)", services._bulk_facts)
    members = clock("members with their work-shares flag", lambda: list(services._members_for_job()))
    r = services.rules()

    def compute_all():
        return [st.compute(day=day, shift_type=m.shift_type, events=facts.events(m.pk), has_slot=facts.has_slot(m.pk, day),
                           rules=r, **facts.of(m)) for m in members]
    clock(f"status.compute for {len(members):,} members", compute_all)
    ftop = [m for m in members if m.shift_type == "ftop"][:2000]
    for m in ftop:
        m.counter_ftop -= 1
    fields = [*services.STORED_FIELDS, "updated_at"]

    def rolled_back(call):
        with transaction.atomic():
            call()
            transaction.set_rollback(True)

    n = len(ftop)
    clock(f"bulk_update {n:,} rows x {len(fields)} fields, batch 1000", lambda: rolled_back(lambda: Member.objects.bulk_update(ftop, fields, batch_size=1000)))
    clock(f"bulk_update {n:,} rows, batch 100", lambda: rolled_back(lambda: Member.objects.bulk_update(ftop, fields, batch_size=100)))

    def one_update_per_row():
        for m in ftop:
            Member.objects.filter(pk=m.pk).update(**{f: getattr(m, f) for f in fields})
    clock(f"{n:,} single-row UPDATEs in one transaction", lambda: rolled_back(one_update_per_row))

    def grouped():
        groups: dict[tuple, list[int]] = {}
        for m in ftop:
            groups.setdefault(tuple(getattr(m, f) for f in services.STORED_FIELDS), []).append(m.pk)
        for values, ids in groups.items():
            Member.objects.filter(pk__in=ids).update(**dict(zip(services.STORED_FIELDS, values, strict=True)))
        log(f"    ({len(groups)} distinct value tuples)")
    clock("one UPDATE per distinct (status, counters, dates) tuple", lambda: rolled_back(grouped))
    now = datetime.datetime.now(tz=services.coop_zone())
    clock("services._write_stored (what the job does)", lambda: rolled_back(lambda: services._write_stored(ftop, now)))


def _django(url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "coopmarket.settings"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("COOP_TESTING", "1")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    os.environ["DATABASE_URL"] = url
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()


def child(count: int, want_profile: bool) -> dict:
    """One size, in its own throwaway database: seeded here, the jobs timed in a process of their
    own (so its peak memory is the jobs', not the seed's)."""
    database = ThrowawayDatabase(os.environ.get("BENCH_DATABASE_URL"))
    _django(database.url)
    try:
        from django.core.management import call_command
        from django.db import connection, connections

        log(f"[{count:,} members] migrating a throwaway {connection.vendor} database...")
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        rows = seed(count, random.Random(count))
        seeded = time.perf_counter() - started
        log(f"[{count:,} members] seeded in {seeded:.1f} s: {rows}")
        if connection.vendor == "postgresql":
            # What autovacuum would have done to a database that has lived with these rows: without
            # it, autovacuum starts on the freshly loaded tables during the timed runs.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        vendor = connection.vendor
        connections.close_all()
        command = [sys.executable, __file__, "--jobs", database.url, "--child", str(count)] + (["--profile"] if want_profile else [])
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
        if done.returncode or not lines:
            raise SystemExit(f"the jobs process failed (exit {done.returncode})")
        jobs = json.loads(lines[-1][len(RESULT_PREFIX):])
        return {"members": count, "vendor": vendor, "seed_seconds": seeded, "rows": rows, **jobs}
    finally:
        database.drop()


def jobs(url: str, want_profile: bool) -> dict:
    """The timed runs, in a process that did nothing else: its peak resident memory is the jobs'."""
    _django(url)
    from shifts import services

    runs = [measure(LABELS["first"], lambda: services.statuses_update(today=TODAY - ONE_DAY))]
    runs.append(measure(LABELS["cycle_day"], lambda: services.statuses_update(today=TODAY)))
    runs.append(measure(LABELS["charges"], lambda: services.statuses_update(today=TODAY + ONE_DAY)))
    runs.append(measure(LABELS["rerun"], lambda: services.statuses_update(today=TODAY + ONE_DAY)))
    runs.append(measure(LABELS["ordinary"], lambda: services.statuses_update(today=TODAY + 2 * ONE_DAY)))
    end = TODAY + datetime.timedelta(days=DAYS_AHEAD)
    runs.append(measure("generate_shifts 90 days", lambda: services.shifts_generate(start=TODAY, end=end)))
    runs.append(measure("generate_shifts re-run", lambda: services.shifts_generate(start=TODAY, end=end)))
    # The jobs' peak, read before --profile's breakdown, which loads every member's facts at once
    # (a diagnostic, not a job).
    peak = peak_mb()
    if want_profile:
        next_charges = TODAY + datetime.timedelta(days=28)  # the next cycle start
        profile("update_statuses with the next cycle charges", lambda: services.statuses_update(today=next_charges))
        profile("generate_shifts, the next 90 days", lambda: services.shifts_generate(start=end + ONE_DAY, end=end + datetime.timedelta(days=DAYS_AHEAD)))
        breakdown(next_charges)
        log(f"  peak memory with the profile and breakdown: {peak_mb():,.0f} MB")
    return {"runs": runs, "peak_mb": peak}


# --- the report -------------------------------------------------------------------------------

LABELS = {
    "first": "first run, every status stored (05-24)",
    "cycle_day": "update_statuses + every FTOP charge (05-25)",
    "charges": "update_statuses, day after the cycle start (05-26)",
    "rerun": "update_statuses re-run (05-26)",
    "ordinary": "update_statuses, ordinary day (05-27)",
}
GENERATE_TARGET_S = 30.0
MEMORY_TARGET_MB = 1024
HELD = {LABELS["cycle_day"]: UPDATE_TARGET_S, LABELS["charges"]: UPDATE_TARGET_S, LABELS["ordinary"]: UPDATE_TARGET_S,
        "generate_shifts 90 days": GENERATE_TARGET_S}


def report(small: dict, large: dict) -> None:
    import django

    n_small, n_large = small["members"], large["members"]
    print(f"\nShift jobs benchmark on {large['vendor']}, Django {django.get_version()}, DEBUG off")
    print(f"Seed at {n_large:,} members: " + ", ".join(f"{k} {v:,}" for k, v in large["rows"].items()))
    print(f"Targets: the daily update_statuses under {UPDATE_TARGET_S:.0f} s at {n_large:,} members; "
          "queries flat in the number of members (only batches of 1,000-5,000 rows add statements)\n")
    head = (f"{'job':<48} {f's@{n_small:,}':>9} {f's@{n_large:,}':>10} {'CPU s':>7} {f'q@{n_small:,}':>8} "
            f"{f'q@{n_large:,}':>9} {'q/1k members':>13}  verdict")
    print(head)
    print("-" * (len(head) + 20))
    for a, b in zip(small["runs"], large["runs"], strict=True):
        slope = (b["queries"] - a["queries"]) / ((n_large - n_small) / 1000)
        notes = []
        if slope > 10:
            notes.append("queries grow with members")
        target = HELD.get(b["label"])
        if target is not None and b["seconds"] >= target:
            notes.append(f">= {target:.0f} s")
        verdict = "; ".join(notes) or ("OK" if target is not None else "informational")
        print(f"{b['label']:<48} {a['seconds']:>9.2f} {b['seconds']:>10.2f} {b['cpu']:>7.2f} {a['queries']:>8} {b['queries']:>9} {slope:>13.1f}  {verdict}")
    grown = []
    for a, b in zip(small["runs"], large["runs"], strict=True):
        for shape in sorted(set(a["shapes"]) | set(b["shapes"])):
            if a["shapes"].get(shape, 0) != b["shapes"].get(shape, 0):
                grown.append(f"  {b['label'].split(' (')[0]}: {a['shapes'].get(shape, 0)} -> {b['shapes'].get(shape, 0)} x {shape}")
    print(f"(s = wall seconds; CPU s = this process's CPU at {n_large:,}, which on SQLite includes the database engine)")
    print("\nPhases at full size (s): " + "; ".join(
        f"{b['label'].split(' (')[0]}: " + ", ".join(f"{k} {v:.2f}" for k, v in b["phases"].items())
        for b in large["runs"] if b["phases"]
    ))
    print("Results at full size: " + "; ".join(f"{b['label'].split(' (')[0]}: {b['result']}" for b in large["runs"]))
    print("\nStatements whose count differs between the sizes (batches of rows, not rows):")
    print("\n".join(grown) or "  none")
    by_label = {b["label"]: b for b in large["runs"]}
    daily = max(by_label[LABELS[k]]["seconds"] for k in ("cycle_day", "charges", "ordinary"))
    flat = all((b["queries"] - a["queries"]) / ((n_large - n_small) / 1000) <= 10
               for a, b in zip(small["runs"], large["runs"], strict=True) if b["label"] != LABELS["first"])
    generate = by_label["generate_shifts 90 days"]["seconds"]
    print(f"\nPeak memory of the jobs process at {n_large:,} members: {large['peak_mb']:.0f} MB (target < {MEMORY_TARGET_MB} MB)")
    ok = daily < UPDATE_TARGET_S and generate < GENERATE_TARGET_S and large["peak_mb"] < MEMORY_TARGET_MB and flat
    print(f"SUMMARY statuses.py members={n_large} update_statuses_worst_day={daily:.2f}s (target <{UPDATE_TARGET_S:.0f}s) "
          f"cycle_start_day={by_label[LABELS['cycle_day']]['seconds']:.2f}s ordinary_day={by_label[LABELS['ordinary']]['seconds']:.2f}s "
          f"generate_shifts_90d={generate:.2f}s (target <{GENERATE_TARGET_S:.0f}s) peak_mb={large['peak_mb']:.0f} (target <{MEMORY_TARGET_MB}) "
          f"queries_flat={'yes' if flat else 'no'} -> {'MET' if ok else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000, help="members at full size (default 10000)")
    parser.add_argument("--small", type=int, default=1_000, help="members for the query-count comparison (default 1000)")
    parser.add_argument("--profile", action="store_true", help="cProfile the jobs at full size")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--jobs", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.jobs:
        print(RESULT_PREFIX + json.dumps(jobs(args.jobs, args.profile), default=str), flush=True)
        return 0
    if args.child:
        result = child(args.child, args.profile)
        print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)
        return 0
    results = []
    for count, want_profile in ((max(1, min(args.small, args.members)), False), (args.members, args.profile)):
        command = [sys.executable, __file__, "--child", str(count)] + (["--profile"] if want_profile else [])
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
        if done.returncode or not lines:
            print(f"The {count:,}-member run failed (exit {done.returncode}).", file=sys.stderr)
            return 0
        results.append(json.loads(lines[-1][len(RESULT_PREFIX):]))
    report(*results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
