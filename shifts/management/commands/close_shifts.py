from django.core.management.base import BaseCommand
from django.utils import timezone

from coopmarket.dates import coop_today, parse_date_option
from shifts.services import shifts_close


class Command(BaseCommand):
    help = (
        "Every registration of a shift that ended before --today with no attendance recorded becomes missed, "
        "with its counter effects. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="YYYY-MM-DD (default: today in COOP_TIME_ZONE)")

    def handle(self, *args, **options):
        today = parse_date_option(options["today"])
        # Run for the real today: stamp the real time; for another date, the start of that day.
        now = timezone.now() if today == coop_today() else None
        counts = shifts_close(today=today, now=now)
        summary = ", ".join(f"{name}: {n} changed" for name, n in counts.items())
        self.stdout.write(f"close_shifts as of {today.isoformat()}: {summary}")
