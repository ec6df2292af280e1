from django.core.management.base import BaseCommand

from coopmarket.dates import parse_date_option
from shifts import tasks

JOBS = {
    "reminders": tasks.send_shift_reminders,
    "status": tasks.send_status_notices,
    "understaffed": tasks.send_understaffed_calls,
}


class Command(BaseCommand):
    help = (
        "Send the daily messages to members as of --today: shift reminders (default 2 days ahead), "
        "alert and suspension notices not sent yet, and calls to FTOP members for understaffed shifts. "
        "Idempotent: every message is logged and never sent twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="YYYY-MM-DD (default: today in COOP_TIME_ZONE)")
        parser.add_argument(
            "--only", choices=sorted(JOBS), action="append",
            help="Run only this job (repeatable); default: all three.",
        )

    def handle(self, *args, **options):
        today = parse_date_option(options["today"])
        counts = {name: JOBS[name].run(today.isoformat()) for name in (options["only"] or JOBS)}
        summary = ", ".join(f"{name}: {n} sent" for name, n in counts.items())
        self.stdout.write(f"send_reminders as of {today.isoformat()}: {summary}")
