from django.core.management.base import BaseCommand
from django.utils import timezone

from assemblies.services import assemblies_freeze_due
from coopmarket.dates import parse_date_option


class Command(BaseCommand):
    help = (
        "Freeze the voter list of every assembly whose cut-off date is --today or earlier, from the members' stored "
        "membership and status, and e-mail the convening to members who became voters since it went. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="YYYY-MM-DD (default: today in COOP_TIME_ZONE)")

    def handle(self, *args, **options):
        today = parse_date_option(options["today"])
        frozen = assemblies_freeze_due(today=today, now=timezone.now())
        self.stdout.write(f"freeze_voter_lists as of {today.isoformat()}: {frozen} list(s) frozen")
