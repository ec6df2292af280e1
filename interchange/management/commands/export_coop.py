"""python manage.py export_coop PATH (CONTRACT.md §7): a folder, or a .zip / .xlsx by its suffix."""
from django.core.management.base import BaseCommand, CommandError

from coopmarket.dates import parse_date_option
from interchange.export import coop_export, write_path


class Command(BaseCommand):
    help = "Write the whole coop as interchange files (every file, optional ones included): the coop's way out."

    def add_arguments(self, parser):
        parser.add_argument("path", help="A folder, or a file ending .zip or .xlsx.")
        parser.add_argument("--today", help="The date the standing is read as of (default: today in COOP_TIME_ZONE).")

    def handle(self, *args, path, today, **options):
        tables = coop_export(today=parse_date_option(today))
        try:
            written = write_path(tables, path)
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc}") from None
        counts = ", ".join(f"{name} {len(rows) - 1}" for name, rows in tables.items())
        self.stdout.write(f"Wrote {written}: {counts}.")
