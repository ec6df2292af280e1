"""List what Stripe and the capital ledger disagree on, for the treasurer (issue 7).

    python manage.py stripe_reconcile [--since YYYY-MM-DD]

Reads every Checkout Session created since the date (the coop's local midnight) from Stripe's
Checkout Sessions list API and compares them with the ledger's Stripe payments.
"""
import datetime
import zoneinfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from coopmarket.errors import RuleViolation
from members import stripe_payments
from members.stripe_payments import from_cents


class Command(BaseCommand):
    help = "List sessions Stripe reports paid that the ledger lacks, and ledger Stripe payments Stripe does not know."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="Only sessions created on or after this date (YYYY-MM-DD). Default: all.")

    def handle(self, *args, since=None, **options):
        start = None
        if since:
            try:
                day = datetime.date.fromisoformat(since)
            except ValueError:
                raise CommandError(f"Expected a date YYYY-MM-DD, got {since!r}.") from None
            start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zoneinfo.ZoneInfo(settings.COOP_TIME_ZONE))
        try:
            report = stripe_payments.reconciliation_fetch(since=start)
        except RuleViolation as exc:
            raise CommandError(exc.message) from None
        except stripe_payments.StripeFailure as exc:
            raise CommandError(exc.message) from None
        out = self.stdout
        out.write(f"Stripe reconciliation{f' since {since}' if since else ''}: {report.matched} paid session(s) match the ledger.")
        if report.missing_in_ledger:
            out.write(f"Paid at Stripe, missing from the ledger ({len(report.missing_in_ledger)}):")
            for s in report.missing_in_ledger:
                amount = from_cents(s.amount_total) if s.amount_total is not None else "?"
                member = f" member id {s.member_id}" if s.member_id else ""
                out.write(f"  {s.session_id}  {s.created:%Y-%m-%d}  {amount} EUR  {s.payment_intent or '-'}{member}")
        if report.unknown_to_stripe:
            out.write(f"In the ledger, not reported paid by Stripe ({len(report.unknown_to_stripe)}):")
            for row in report.unknown_to_stripe:
                out.write(
                    f"  payment {row.payment_id}  {row.paid_on:%Y-%m-%d}  {from_cents(row.amount_cents)} EUR"
                    f"  member {row.member_number}  {row.stripe_reference or '-'}"
                )
        if report.amount_differences:
            out.write(f"Amounts that differ ({len(report.amount_differences)}):")
            for s, row in report.amount_differences:
                out.write(
                    f"  {s.session_id}  Stripe {from_cents(s.amount_total or 0)} EUR"
                    f"  ledger payment {row.payment_id} {from_cents(row.amount_cents)} EUR"
                )
        if report.clean:
            out.write(self.style.SUCCESS("Everything matches."))
