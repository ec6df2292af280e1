"""Celery tasks: thin wrappers that read the clock and call one service (CONTRACT.md §2).

Each takes optional ISO dates (for a re-run by hand: `update_statuses_task.delay("2026-03-02")`);
without them it reads the coop's clock. Every service is idempotent, so a task that hits a
transient database error (lost connection, deadlock, serialization failure) is simply retried.
"""
import datetime

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from coopmarket.dates import coop_today
from members.models import CoopParameters

from .services import shifts_close, shifts_generate, statuses_update

RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": 30, "retry_backoff_max": 600, "retry_jitter": True, "max_retries": 5}


def _day(value: str | None) -> datetime.date:
    return datetime.date.fromisoformat(value) if value else coop_today()


@shared_task(name="shifts.tasks.generate_shifts_task", **RETRY)
def generate_shifts_task(start: str | None = None, end: str | None = None) -> dict[str, int]:
    """Shifts from templates for [start, end]; by default from today to `generation_days_ahead` days ahead."""
    first = _day(start)
    last = datetime.date.fromisoformat(end) if end else first + datetime.timedelta(days=CoopParameters.current().generation_days_ahead)
    return shifts_generate(start=first, end=last)


@shared_task(name="shifts.tasks.close_shifts_task", **RETRY)
def close_shifts_task(today: str | None = None) -> dict[str, int]:
    """Unrecorded registrations of the shifts that ended before today become missed."""
    day = _day(today)
    return shifts_close(today=day, now=timezone.now() if day == coop_today() else None)


@shared_task(name="shifts.tasks.update_statuses_task", **RETRY)
def update_statuses_task(today: str | None = None) -> dict[str, int]:
    """Every change that only time causes, as of today."""
    return statuses_update(today=_day(today))
