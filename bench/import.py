"""Importing a whole coop (CONTRACT.md §7) at 5,000 and 100,000 members.

    .venv/bin/python bench/import.py [--sizes 5000 100000] [--profile]

Each size runs in its own process against its own throwaway database (a temporary SQLite file,
or, when BENCH_DATABASE_URL is set, e.g. postgres://postgres@127.0.0.1/postgres, a fresh database
`coopmarket_bench_<random>` created on that server and dropped at the end). The files are made by
`interchange.sample` (members in every state: slots on 84 templates, shares, some by instalments,
payments, associates with kept and made cards, leaves, exemptions, extensions, counters and
alert episodes, members who left) and written as CSV files to a temporary folder. Timed: the
import as `import_coop` runs it (read, check, write, statuses), the same files again (nothing to
do), and the export. Prints seconds, SQL statements, statements per batch of 1,000 members and the
time of each phase; one closing line sums it up against the targets: 5,000 members under 60 s,
100,000 under 10 minutes, time linear in members. Figures, not a test: exits 0 whatever they are.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from throwaway import ThrowawayDatabase  # noqa: E402  (bench/ is the script's folder)

TODAY = datetime.date(2026, 3, 4)
TARGETS = {5_000: 60.0, 100_000: 600.0}
RESULT_PREFIX = "BENCH-RESULT "
PHASES = (
    ("interchange.plan", "plan_import"),
    ("members.services", "members_import"),
    ("members.services", "subscriptions_import"),
    ("members.services", "memberships_settle"),
    ("members.services", "associates_import"),
    ("shifts.services", "standing_import"),
    ("shifts.services", "statuses_recompute_all"),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(label: str, call) -> dict:
    """Seconds, SQL statements (by shape) and the time spent in each phase."""
    import importlib

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    phases: dict[str, float] = {}
    originals = []
    for module_name, name in PHASES:
        module = importlib.import_module(module_name)
        original = getattr(module, name)
        originals.append((module, name, original))

        def wrapper(*args, _original=original, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                phases[_name] = phases.get(_name, 0.0) + time.perf_counter() - started
        setattr(module, name, wrapper)
    # The callers hold their own references: patch those too.
    import interchange.services as interchange_services

    originals.append((interchange_services, "plan_import", interchange_services.plan_import))
    interchange_services.plan_import = importlib.import_module("interchange.plan").plan_import
    try:
        with CaptureQueriesContext(connection) as ctx:
            started, cpu_started = time.perf_counter(), time.process_time()
            result = call()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        for module, name, original in originals:
            setattr(module, name, original)
    shapes: dict[str, int] = {}
    for query in ctx.captured_queries:
        shape = re.sub(r"\s+", " ", re.sub(r"[0-9]+", "N", query["sql"]))[:90]
        shapes[shape] = shapes.get(shape, 0) + 1
    log(f"  {label}: {seconds:.1f} s ({cpu:.1f} s CPU in Python), {len(ctx.captured_queries)} queries, {result}")
    return {"label": label, "seconds": seconds, "cpu": cpu, "queries": len(ctx.captured_queries), "result": result,
            "phases": {k: round(v, 2) for k, v in phases.items()}, "shapes": shapes}


def child(count: int, want_profile: bool) -> dict:
    """One size, in its own throwaway database."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "coopmarket.settings"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("COOP_TESTING", "1")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", message="No directory at")
    database = ThrowawayDatabase(os.environ.get("BENCH_DATABASE_URL"))
    os.environ["DATABASE_URL"] = database.url

    import django

    django.setup()
    from django.utils import translation

    translation.activate("en")
    try:
        from django.core.management import call_command
        from django.db import connection

        from interchange import export, sample
        from interchange.reader import read_path
        from interchange.services import BATCH_SIZE, coop_import

        log(f"[{count:,} members] migrating a throwaway {connection.vendor} database...")
        call_command("migrate", verbosity=0)
        folder = Path(tempfile.mkdtemp(prefix="coop-import-bench-"))
        started = time.perf_counter()
        files = sample.generate(count, today=TODAY, seed=count)
        export.write_folder(sample.as_tables(files), folder)
        generated = time.perf_counter() - started
        rows = {name: len(items) for name, items in files.items()}
        size = sum(f.stat().st_size for f in folder.iterdir())
        log(f"[{count:,} members] files made in {generated:.1f} s ({size / 1e6:.1f} MB): {rows}")

        def run():
            report = coop_import(source=read_path(folder), today=TODAY)
            if report.errors:
                raise SystemExit("the generated files are invalid: " + "; ".join(str(p) for p in report.errors[:5]))
            return {"summary": report.summary, "statuses": report.statuses, "warnings": len(report.warnings)}

        if want_profile:
            import cProfile
            import io
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
        runs = [measure("import (read, check, write, statuses)", run)]
        if want_profile:
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
            log(out.getvalue())
        runs.append(measure("the same files again (nothing to do)", run))
        target = Path(tempfile.mkdtemp(prefix="coop-export-bench-"))
        runs.append(measure("export_coop to a folder", lambda: export.write_folder(export.coop_export(today=TODAY), target) or "written"))
        return {"members": count, "vendor": connection.vendor, "rows": rows, "megabytes": round(size / 1e6, 1), "generated": generated,
                "batches": -(-count // BATCH_SIZE), "runs": runs}
    finally:
        database.drop()


def report(results: list[dict]) -> None:
    import django

    vendor = results[0]["vendor"]
    print(f"\nCoop import benchmark on {vendor}, Django {django.get_version()}, DEBUG off, batches of 1,000 members")
    for result in results:
        print(f"\n{result['members']:,} members ({result['megabytes']} MB of CSV): " + ", ".join(f"{k} {v:,}" for k, v in result["rows"].items()))
        head = f"{'':<40} {'s':>8} {'CPU s':>7} {'queries':>8} {'per batch':>10}"
        print(head)
        print("-" * len(head))
        for run in result["runs"]:
            print(f"{run['label']:<40} {run['seconds']:>8.1f} {run['cpu']:>7.1f} {run['queries']:>8} {run['queries'] / result['batches']:>10.1f}")
        print("Phases of the import (s): " + "; ".join(f"{k} {v:.1f}" for k, v in result["runs"][0]["phases"].items()))
        print(f"Result: {result['runs'][0]['result']['summary']}; statuses {result['runs'][0]['result']['statuses']}")
    parts, verdicts = [], []
    for result in results:
        seconds = result["runs"][0]["seconds"]
        target = TARGETS.get(result["members"])
        ok = target is None or seconds <= target
        verdicts.append(ok)
        parts.append(f"{result['members']:,} members {seconds:.1f} s" + (f" (target < {target:.0f} s: {'OK' if ok else 'MISSED'})" if target else ""))
    if len(results) >= 2:
        small, large = results[0], results[-1]
        ratio = large["runs"][0]["seconds"] / small["runs"][0]["seconds"]
        scale = large["members"] / small["members"]
        per_batch = [r["runs"][0]["queries"] / r["batches"] for r in (small, large)]
        linear = ratio <= scale * 1.5
        verdicts.append(linear)
        parts.append(f"time x{ratio:.1f} for x{scale:.0f} members ({'linear' if linear else 'NOT linear'}), "
                     f"queries per batch {per_batch[0]:.1f} -> {per_batch[1]:.1f}")
    print(f"\nSUMMARY import_coop on {vendor}: " + "; ".join(parts) + f" => {'all targets met' if all(verdicts) else 'targets missed'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 100_000], help="member counts (default 5000 100000)")
    parser.add_argument("--profile", action="store_true", help="cProfile the import at the largest size")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child(args.child, args.profile)
        print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)
        return 0
    results = []
    sizes = sorted(args.sizes)
    for count in sizes:
        command = [sys.executable, __file__, "--child", str(count)] + (["--profile"] if args.profile and count == sizes[-1] else [])
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
        if done.returncode or not lines:
            print(f"The {count:,}-member run failed (exit {done.returncode}).", file=sys.stderr)
            return 0
        results.append(json.loads(lines[-1][len(RESULT_PREFIX):]))
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
