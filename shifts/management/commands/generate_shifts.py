import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from coopmarket.dates import parse_date_option
from members.models import CoopParameters
from shifts.services import shifts_generate


class Command(BaseCommand):
    help = (
        "Generate shifts from the active templates for every day in [--start, --end] (inclusive), with the slot "
        "holders' regular registrations. Idempotent: a second run creates nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--start", help="YYYY-MM-DD (default: today in COOP_TIME_ZONE)")
        parser.add_argument("--end", help="YYYY-MM-DD (default: start + the coop's generation_days_ahead)")

    def handle(self, *args, **options):
        start = parse_date_option(options["start"])
        if options["end"]:
            end = parse_date_option(options["end"])
        else:
            end = start + datetime.timedelta(days=CoopParameters.current().generation_days_ahead)
        try:
            counts = shifts_generate(start=start, end=end)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        summary = ", ".join(f"{name}: {n} created" for name, n in counts.items())
        self.stdout.write(f"generate_shifts {start.isoformat()}..{end.isoformat()}: {summary}")
