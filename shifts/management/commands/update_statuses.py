from django.core.management.base import BaseCommand

from coopmarket.dates import parse_date_option
from shifts.services import statuses_update


class Command(BaseCommand):
    help = (
        "Apply every change that only time causes (deadlines, extensions, leaves and exemptions starting and "
        "ending, the no-slot grace, overdue instalments, cycle charges) to every member, as of --today. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="YYYY-MM-DD (default: today in COOP_TIME_ZONE)")

    def handle(self, *args, **options):
        today = parse_date_option(options["today"])
        counts = statuses_update(today=today)
        summary = ", ".join(f"{name}: {n} changed" for name, n in counts.items())
        self.stdout.write(f"update_statuses as of {today.isoformat()}: {summary}")
