import datetime

from django.core.management.base import BaseCommand
from django.utils import timezone

from inventory import demo


class Command(BaseCommand):
    help = "Demo supply data (suppliers, products, orders, weeks of sales, a count). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--today", type=datetime.date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")

    def handle(self, *args, today=None, **options):
        result = demo.seed(today=today or timezone.localdate())
        self.stdout.write(self.style.SUCCESS(
            f"{result['suppliers']} suppliers, {result['products']} products, {result['orders']} purchase orders."
        ))
