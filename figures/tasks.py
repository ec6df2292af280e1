"""Daily: the open figures as of today, stored (idempotent)."""
import datetime

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from coopmarket.dates import coop_today

from . import services


@shared_task(name="figures.tasks.update_figures", autoretry_for=(OperationalError,), retry_backoff=30, max_retries=5)
def update_figures(today: str | None = None) -> bool:
    day = datetime.date.fromisoformat(today) if today else coop_today()
    _snapshot, changed = services.figures_update(as_of=day, now=timezone.now())
    return changed
