from django.core.management.base import BaseCommand
from django.utils import timezone

from coopmarket.dates import parse_date_option
from figures.services import figures_update


class Command(BaseCommand):
    help = "Compute and store the open figures (/figures/) as of --today. Idempotent: a re-run changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("--today", help="YYYY-MM-DD (default: today in COOP_TIME_ZONE)")

    def handle(self, *args, **options):
        today = parse_date_option(options["today"])
        _snapshot, changed = figures_update(as_of=today, now=timezone.now())
        self.stdout.write(f"update_figures as of {today.isoformat()}: {'stored' if changed else 'unchanged'}")
