"""python manage.py import_coop PATH [--dry-run] [--today YYYY-MM-DD] (CONTRACT.md §7)."""
import sys

from django.core.management.base import BaseCommand, CommandError

from coopmarket.dates import parse_date_option
from interchange.reader import SourceError, read_path
from interchange.services import coop_import


class Command(BaseCommand):
    help = "Import a coop from the interchange files: a folder of CSV files, a .zip of them, or a .xlsx workbook."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="Check everything and report; write nothing.")
        parser.add_argument("--today", help="The import date (default: today in COOP_TIME_ZONE).")

    def handle(self, *args, path, dry_run, today, **options):
        day = parse_date_option(today)
        try:
            source = read_path(path)
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        report = coop_import(source=source, today=day, dry_run=dry_run)
        for problem in report.problems():
            stream = self.stderr if problem.level == "error" else self.stdout
            stream.write(f"{'' if problem.level == 'error' else 'warning: '}{problem}")
        counts = ", ".join(f"{name} {n}" for name, n in sorted(report.created.items())) or "nothing"
        changes = ", ".join(f"{name} {n}" for name, n in sorted(report.changed.items())) or "nothing"
        statuses = ", ".join(f"{name} {n}" for name, n in sorted(report.statuses.items()))
        if not report.ok:
            self.stderr.write(f"{len(report.errors)} error(s): nothing imported.")
            sys.exit(1)
        prefix = "Dry run (nothing written): would import" if dry_run else "Imported"
        self.stdout.write(f"{prefix}: {report.summary} (created: {counts}; changed: {changes}) in {report.seconds:.1f} s.")
        if statuses:
            self.stdout.write(f"Statuses of the members imported: {statuses}.")
