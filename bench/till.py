"""Till lookups under load: throughput and latency of GET /api/v1/checkout/{code}/ against a trivial
token-authenticated endpoint (GET /api/v1/ping/) of the same app, served by gunicorn, in one run.

    .venv/bin/python bench/till.py [--members 10000] [--clients 16] [--seconds 10] [--workers 2]
                                   [--threads 1] [--async-commit]

Needs PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) is only
used to connect; the script creates `coopmarket_till_bench_<random>`, migrates, seeds it (10,000
members in every membership and status, ~15 % with a household associate), makes a
cashier with an API token, starts gunicorn (DEBUG off) on a free port, runs the clients (threads
with keep-alive `http.client` connections, each phase bounded in time and count), then stops
gunicorn and drops the database. Prints figures and the targets; exits 0 whatever they are.

Then, while the clients keep scanning, the nightly job: `manage.py update_statuses` as of the
latest cycle start, in its own process (its first run: the cycle charges and a recomputation of
every member); the till's p99 during the job is compared with its idle p99, and every failed or
non-200 answer is counted. Last, the offline card list: its size whole and gzipped, and the
server's time (in-process, medians) for a whole download, a 304 revalidation and a refresh with
`?since=` after 1 % of the cards changed.

Targets (issue 16): eligibility throughput >= 80 % of the trivial endpoint's and its p99 <= 1.3 x
the trivial endpoint's p99; during the job, p99 <= 2 x the idle p99 and no failure; the card list
at 10,000 members <= 2 MB, <= 250 KB gzipped, < 300 ms.

Experiments (to find where the time goes): `--threads N` runs gunicorn's gthread workers;
`--async-commit` sets `synchronous_commit = off` on the throwaway database, so that the check-log
INSERT no longer waits for the WAL flush (the lookup's main cost on a slow disk).
"""
from __future__ import annotations

import argparse
import datetime
import http.client
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
MIN_THROUGHPUT_RATIO = 0.80
MAX_P99_RATIO = 1.3
MAX_JOB_P99_RATIO = 2.0
MAX_LIST_BYTES = 2_000_000
MAX_LIST_GZIP_BYTES = 250_000
MAX_LIST_MS = 300.0
MAX_REQUESTS_PER_PHASE = 200_000


class ThrowawayPostgres:
    """A PostgreSQL database that exists only for this run."""

    def __init__(self, server_url: str):
        parts = urllib.parse.urlsplit(server_url)
        if not parts.scheme.startswith("postgres"):
            raise SystemExit("BENCH_DATABASE_URL must be a postgres:// URL.")
        self.server_url = server_url
        self.name = f"coopmarket_till_bench_{secrets.token_hex(4)}"
        self._admin(f'CREATE DATABASE "{self.name}"')
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name))

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(statement)

    def drop(self) -> None:
        from django.db import connections

        connections.close_all()
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


FIRST_NAMES = ("Léa", "Hugo", "Chloé", "Louis", "Inès", "Jules", "Zoé", "Adam", "Manon", "Nathan", "Camille", "Élodie",
               "Théo", "Sarah", "Lucas", "Jade", "Mohamed", "Fatou", "Ana", "Karim")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
              "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Diallo", "Nguyen", "Benali", "Fontaine", "Roux")


def seed(count: int, *, rng: random.Random) -> None:
    """`count` members as fixture rows (the till reads only their stored standing), ~15 % with an
    associate. Numbers and card barcodes come from the real helpers."""
    import datetime

    from django.db import transaction
    from django.utils import timezone

    from members.barcodes import associate_barcode, member_barcode
    from members.models import Associate, Member, Sequence
    from members.text import search_key

    today = timezone.localdate()
    statuses = ["up_to_date"] * 85 + ["alert"] * 6 + ["suspended"] * 4 + ["delay", "on_leave", "exempted", "unsubscribed", "blocked"]
    members = []
    for number in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        membership = rng.choices(("active", "unpaid", "supporting", "none", "left"), weights=(80, 6, 4, 5, 5))[0]
        status = rng.choice(statuses) if membership in ("active", "unpaid") else "not_concerned"
        members.append(Member(
            member_number=number, card_barcode=member_barcode(number), first_name=first, last_name=last,
            search_name=search_key(f"{first} {last}"), email=f"m{number}@bench.coopmarket.test",
            joined_on=today - datetime.timedelta(days=rng.randint(0, 1500)), membership=membership, status=status,
            counter_standard=-rng.randint(1, 3) if status in ("alert", "delay", "suspended") else 0,
            alert_deadline=today + datetime.timedelta(days=rng.randint(1, 28)) if status == "alert" else None,
            delay_until=today + datetime.timedelta(days=rng.randint(1, 28)) if status == "delay" else None,
            blocked_reason="bench" if status == "blocked" else "", calendar_token=secrets.token_urlsafe(32),
        ))
    with transaction.atomic():
        Member.objects.bulk_create(members, batch_size=1000)
        associates = []
        for member in Member.objects.filter(membership__in=("active", "unpaid")).only("id", "last_name"):
            if rng.random() < 0.15:
                number = len(associates) + 1
                associates.append(Associate(member=member, associate_number=number, card_barcode=associate_barcode(number),
                                            first_name=rng.choice(FIRST_NAMES), last_name=member.last_name))
        Associate.objects.bulk_create(associates, batch_size=1000)
        Sequence.objects.update_or_create(name="member", defaults={"last_value": count})
        Sequence.objects.update_or_create(name="associate", defaults={"last_value": len(associates)})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, *, port: int, workers: int, threads: int, env: dict[str, str]):
        self.port = port
        self.log = open(os.devnull, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "coopmarket.wsgi:application", "--workers", str(workers),
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--keep-alive", "5"]
            + (["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []),
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.PIPE, text=True,
        )

    def wait_ready(self, headers: dict[str, str], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited: {self.process.stderr.read()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/v1/ping/", headers=headers)
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status == 200:
                    return
                raise SystemExit(f"GET /api/v1/ping/ answered {response.status}")
            except OSError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not answer in time")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@dataclass
class Phase:
    label: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    def merge(self, other: Phase) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.elapsed += other.elapsed
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n


def run_phase(label: str, *, port: int, paths, headers: dict[str, str], clients: int, seconds: float, until=None) -> Phase:
    """`clients` threads, each with its own keep-alive connection, for `seconds` (or a request cap),
    or until `until()` is true when it is given."""
    phase = Phase(label)
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)
    stop_at = [0.0]
    per_client_cap = MAX_REQUESTS_PER_PHASE // clients

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies, statuses, errors = [], {}, 0
        start_gate.wait()
        while time.perf_counter() < stop_at[0] and len(latencies) < per_client_cap and not (until and until()):
            path = paths(rng)
            began = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                latencies.append(time.perf_counter() - began)
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if response.status != 200:
                    errors += 1
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
        conn.close()
        with lock:
            phase.latencies += latencies
            phase.errors += errors
            for status, n in statuses.items():
                phase.statuses[status] = phase.statuses.get(status, 0) + n

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start_gate.wait()
    for thread in threads:
        thread.join()
    phase.elapsed = time.perf_counter() - began
    return phase


def queries_per_request(token: str, paths: dict[str, object], runs: int = 200) -> dict[str, dict]:
    """The SQL each request makes and where its time goes, in-process (same settings, same
    database): per request kind, the queries of one request, the median time of each kind of query
    and the median time of the whole request over `runs` requests."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    rng = random.Random(1)
    found = {}
    for label, paths_of in paths.items():
        client.get(paths_of(rng))
        timings: dict[str, list[float]] = {}
        one_request: list[str] = []

        def timed(execute, sql, params, many, context, timings=timings, one_request=one_request):
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timings.setdefault(short_sql(sql), []).append((time.perf_counter() - began) * 1000)
                one_request.append(short_sql(sql))

        totals = []
        with connection.execute_wrapper(timed):
            for run in range(runs):
                if run == 1:
                    del one_request[:]
                began = time.perf_counter()
                client.get(paths_of(rng))
                totals.append((time.perf_counter() - began) * 1000)
                if run == 1:
                    queries = list(one_request)
        found[label] = {
            "queries": queries,
            "query_ms": {kind: statistics.median(values) for kind, values in timings.items()},
            "request_ms": statistics.median(totals),
        }
    return found


def job_phase(*, port: int, paths, headers: dict[str, str], clients: int, env: dict[str, str]) -> tuple[Phase, float, str]:
    """The clients scan while `update_statuses` runs in its own process (as Celery beat would start
    it); the phase lasts as long as the job. Returns the phase, the job's time and its output."""
    from django.conf import settings

    from shifts import cycle

    day = cycle.cycle_start_on_or_before(datetime.date.today(), settings.COOP_CYCLE_START)
    job = {}

    def run_job():
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "manage.py", "update_statuses", "--today", day.isoformat()], cwd=ROOT,
                              env=env, capture_output=True, text=True)
        job["seconds"] = time.perf_counter() - began
        job["output"] = (done.stdout.strip() or done.stderr.strip()[-500:]) + ("" if done.returncode == 0 else f" (exit {done.returncode})")

    runner = threading.Thread(target=run_job)
    runner.start()
    phase = run_phase("during update_statuses", port=port, paths=paths, headers=headers, clients=clients, seconds=600,
                      until=lambda: not runner.is_alive())
    runner.join()
    return phase, job["seconds"], job["output"]


def card_list_figures(token: str, runs: int = 10) -> dict:
    """Sizes and in-process server times of GET /api/v1/checkout/cards/: whole (plain and gzipped),
    a 304 revalidation, and `?since=` after 1 % of the members changed standing."""
    import gzip as gz

    from django.test import Client

    from members.models import Member

    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")

    def timed(**kwargs):
        times, response = [], None
        for _ in range(runs):
            began = time.perf_counter()
            response = client.get("/api/v1/checkout/cards/", **kwargs)
            times.append((time.perf_counter() - began) * 1000)
        return statistics.median(times), response

    plain_ms, plain = timed()
    gzip_ms, zipped = timed(HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip" and gz.decompress(zipped.content) == plain.content
    import json

    held = json.loads(plain.content)
    etag = plain["ETag"]
    not_modified_ms, not_modified = timed(HTTP_IF_NONE_MATCH=etag, HTTP_ACCEPT_ENCODING="gzip")
    ids = list(Member.objects.filter(membership="active", blocked_reason="").order_by("?").values_list("pk", flat=True)[: max(1, Member.objects.count() // 100)])
    Member.objects.filter(pk__in=ids).update(blocked_reason="bench: changed since")
    since_ms, since = timed(data={"since": held["generated_at"]}, HTTP_IF_NONE_MATCH=etag, HTTP_ACCEPT_ENCODING="gzip")
    delta = json.loads(gz.decompress(since.content))
    Member.objects.filter(pk__in=ids).update(blocked_reason="")
    return {
        "cards": len(held["cards"]), "bytes": len(plain.content), "gzip_bytes": len(zipped.content),
        "plain_ms": plain_ms, "gzip_ms": gzip_ms, "not_modified_ms": not_modified_ms, "not_modified_status": not_modified.status_code,
        "since_ms": since_ms, "since_cards": len(delta["cards"]), "since_bytes": len(since.content), "changed": len(ids),
    }


def short_sql(sql: str) -> str:
    sql = " ".join(sql.split())
    verb = sql.split(" ", 1)[0]
    table = ""
    for keyword in (" FROM ", "INSERT INTO "):
        if keyword in sql:
            table = sql.split(keyword, 1)[1].split(" ", 1)[0].strip('"')
            break
    return f"{verb} {table}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0, help="per measured phase (two phases per endpoint)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="> 1: gthread workers with this many threads")
    parser.add_argument("--async-commit", action="store_true", help="synchronous_commit = off on the bench database")
    args = parser.parse_args()

    secret = "bench-" + secrets.token_urlsafe(32)
    os.environ["DJANGO_SETTINGS_MODULE"] = "coopmarket.settings"
    os.environ["DJANGO_SECRET_KEY"] = secret
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    os.environ.pop("COOP_TESTING", None)
    warnings.filterwarnings("ignore", message="No directory at")
    database = ThrowawayPostgres(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_SERVER)
    os.environ["DATABASE_URL"] = database.url

    import django

    django.setup()
    server = None
    summary = "SUMMARY till.py did not finish"
    try:
        import datetime as dt

        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.core.management import call_command

        from coopmarket.roles import CASHIERS
        from coopmarket.tokens import token_issue
        from members.models import Associate, Member

        print(f"Migrating {database.name} and seeding {args.members:,} members...", flush=True)
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seed(args.members, rng=random.Random(10_000))
        from django.db import connection

        with connection.cursor() as cursor:  # what autovacuum would have done; else it runs during the phases
            cursor.execute("VACUUM ANALYZE")
        print(f"Seeded in {time.perf_counter() - started:.1f} s", flush=True)
        cashier = get_user_model().objects.create_user("bench-till")
        cashier.groups.add(Group.objects.get(name=CASHIERS))
        token = token_issue(user=cashier, lifetime=dt.timedelta(days=1))[1]
        codes = list(Member.objects.values_list("card_barcode", flat=True))
        codes += list(Associate.objects.values_list("card_barcode", flat=True))
        from django.db import connections

        connections.close_all()

        headers = {"Authorization": f"Token {token}", "Accept": "application/json", "Host": "127.0.0.1"}
        port = free_port()
        env = dict(os.environ)
        if args.async_commit:
            database._admin(f'ALTER DATABASE "{database.name}" SET synchronous_commit = off')
        server = Gunicorn(port=port, workers=args.workers, threads=args.threads, env=env)
        server.wait_ready(headers)

        ping = lambda rng: "/api/v1/ping/"  # noqa: E731
        lookup = lambda rng: f"/api/v1/checkout/{rng.choice(codes)}/"  # noqa: E731
        kind = f"gthread x {args.threads}" if args.threads > 1 else "sync"
        print(f"gunicorn: {args.workers} workers ({kind}) on 127.0.0.1:{port}; {args.clients} client threads; "
              f"{len(codes):,} cards. Warming up...", flush=True)
        for paths in (ping, lookup):
            run_phase("warm-up", port=port, paths=paths, headers=headers, clients=args.clients, seconds=2)

        results = {"ping": Phase("GET /api/v1/ping/"), "eligibility": Phase("GET /api/v1/checkout/{code}/")}
        for _round in range(2):  # alternate, so that drift hits both alike
            for key, paths in (("ping", ping), ("eligibility", lookup)):
                results[key].merge(run_phase(key, port=port, paths=paths, headers=headers,
                                             clients=args.clients, seconds=args.seconds))

        sql = queries_per_request(token, {"ping": ping, "eligibility": lookup})
        cards = card_list_figures(token)
        print("The nightly job while the clients scan...", flush=True)
        during, job_seconds, job_output = job_phase(port=port, paths=lookup, headers=headers, clients=args.clients, env=env)
        summary = report(results, sql, args, during=during, job_seconds=job_seconds, job_output=job_output, cards=cards)
    finally:
        if server is not None:
            server.stop()
        database.drop()
        print(f"Stopped gunicorn, dropped {database.name}.")
    print(f"\n{summary}")
    return 0


def report(results: dict[str, Phase], sql: dict[str, list[str]], args, *, during: Phase, job_seconds: float,
           job_output: str, cards: dict) -> str:
    import django

    ping, elig = results["ping"], results["eligibility"]
    print(f"\nTill benchmark: {args.members:,} members on PostgreSQL, Django {django.get_version()}, DEBUG off, "
          f"{args.clients} clients, 2 x {args.seconds:.0f} s per endpoint, gunicorn {args.workers} workers"
          + (f" x {args.threads} threads" if args.threads > 1 else "")
          + (", synchronous_commit off" if args.async_commit else "")
          + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    head = f"{'endpoint':<32} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  statuses"
    print(head)
    print("-" * len(head))
    for phase in (ping, elig, during):
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(phase.statuses.items()))
        print(f"{phase.label:<32} {phase.count:>9} {phase.rps:>8.0f} {phase.percentile(50):>8.1f} "
              f"{phase.percentile(99):>8.1f} {phase.errors:>7}  {statuses}")
    throughput = elig.rps / ping.rps if ping.rps else float("nan")
    p99 = elig.percentile(99) / ping.percentile(99) if ping.latencies else float("nan")
    p50 = elig.percentile(50) / ping.percentile(50) if ping.latencies else float("nan")
    print(f"\nthroughput ratio eligibility/ping: {throughput:.2f} (target >= {MIN_THROUGHPUT_RATIO:.2f}) "
          f"{'OK' if throughput >= MIN_THROUGHPUT_RATIO else 'MISSED'}")
    print(f"p99 ratio eligibility/ping:        {p99:.2f} (target <= {MAX_P99_RATIO:.2f}) "
          f"{'OK' if p99 <= MAX_P99_RATIO else 'MISSED'}")
    print(f"p50 ratio eligibility/ping:        {p50:.2f} (informational)")
    job_p99 = during.percentile(99) / elig.percentile(99) if during.latencies else float("nan")
    job_ok = job_p99 <= MAX_JOB_P99_RATIO and during.errors == 0 and during.count > 0
    print(f"\nNightly job: {job_output} in {job_seconds:.1f} s; {during.count} lookups meanwhile, {during.errors} failed")
    print(f"p99 during the job / idle p99:     {job_p99:.2f} (target <= {MAX_JOB_P99_RATIO:.2f}, no failure) "
          f"{'OK' if job_ok else 'MISSED'}")
    list_ok = cards["bytes"] <= MAX_LIST_BYTES and cards["gzip_bytes"] <= MAX_LIST_GZIP_BYTES and cards["gzip_ms"] < MAX_LIST_MS
    print(f"\nOffline card list, {cards['cards']:,} cards: {cards['bytes'] / 1e6:.2f} MB (target <= {MAX_LIST_BYTES / 1e6:.0f} MB), "
          f"{cards['gzip_bytes'] / 1e3:.0f} KB gzipped (target <= {MAX_LIST_GZIP_BYTES / 1e3:.0f} KB), "
          f"{cards['gzip_ms']:.0f} ms server time gzipped, {cards['plain_ms']:.0f} ms plain (target < {MAX_LIST_MS:.0f} ms) "
          f"{'OK' if list_ok else 'MISSED'}")
    print(f"  unchanged (If-None-Match): {cards['not_modified_status']} in {cards['not_modified_ms']:.0f} ms; "
          f"?since= after {cards['changed']} members changed: {cards['since_cards']} cards, {cards['since_bytes'] / 1e3:.1f} KB gzipped, "
          f"{cards['since_ms']:.0f} ms")
    print("\nWhere the time goes (in-process, one request at a time, same database; medians of 200 requests):")
    for label, found in sql.items():
        queries = ", ".join(f"{kind} {found['query_ms'].get(kind, float('nan')):.2f} ms" for kind in found["queries"])
        print(f"  {label:<12} {found['request_ms']:6.2f} ms per request; {len(found['queries'])} queries: {queries}")
    if throughput < MIN_THROUGHPUT_RATIO or p99 > MAX_P99_RATIO:
        print("\nThe eligibility request does the ping's work (token, user and roles in one query) plus the card "
              "lookup and the answer; its check-log row is written off the request (checkout/checklog.py).")

    verdict = "all targets met" if (throughput >= MIN_THROUGHPUT_RATIO and p99 <= MAX_P99_RATIO and job_ok and list_ok) else "targets missed"
    return (f"SUMMARY till.py members={args.members} clients={args.clients} throughput_ratio={throughput:.2f} (>={MIN_THROUGHPUT_RATIO}) "
          f"p99_ratio={p99:.2f} (<={MAX_P99_RATIO}) job_p99_ratio={job_p99:.2f} (<={MAX_JOB_P99_RATIO}) job_failures={during.errors} "
          f"list={cards['bytes'] / 1e6:.2f}MB (<=2) list_gzip={cards['gzip_bytes'] / 1e3:.0f}KB (<=250) list_ms={cards['gzip_ms']:.0f} (<300) "
          f"=> {verdict}")


if __name__ == "__main__":
    sys.exit(main())
