"""Celery tasks: thin wrappers that read the clock and call one service (CONTRACT.md §2).

Each takes optional ISO dates (for a re-run by hand: `update_statuses_task.delay("2026-03-02")`);
without them it reads the coop's clock. Every service is idempotent, so a task that hits a
transient database error (lost connection, deadlock, serialization failure) is simply retried.

The notification tasks (`shifts.notifications`) also retry when the mail server fails (OSError,
which smtplib's errors are): a message is logged only once it is sent, and never sent twice.
"""
import datetime

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from coopmarket.dates import coop_today
from members.models import CoopParameters

from . import notifications
from .services import local_datetime, shifts_close, shifts_generate, statuses_update

RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": 30, "retry_backoff_max": 600, "retry_jitter": True, "max_retries": 5}
MAIL_RETRY = {**RETRY, "autoretry_for": (OperationalError, OSError)}


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


# --- notifications -----------------------------------------------------------------------------
# The clock of the notification tasks, read when the task runs (tests replace these two): a
# message about a shift that started, or a missed shift from weeks ago, is not sent any more.

def clock_now() -> datetime.datetime:
    return timezone.now()


def clock_today() -> datetime.date:
    return coop_today()


def _moment(value: str | None) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value) if value else clock_now()


def _today(value: str | None) -> datetime.date:
    return datetime.date.fromisoformat(value) if value else clock_today()


def _now_for(day: datetime.date) -> datetime.datetime:
    """The clock's time for today's run; the start of the day for a run as of another date."""
    return clock_now() if day == clock_today() else local_datetime(day, datetime.time.min)


@shared_task(name="shifts.tasks.notify_booking", **MAIL_RETRY)
def notify_booking(registration_id: int, now: str | None = None) -> bool:
    """Confirm a booking, unless it was cancelled or its shift started meanwhile."""
    return notifications.booking_confirm(registration_id=registration_id, now=_moment(now))


@shared_task(name="shifts.tasks.notify_exchange_taken", **MAIL_RETRY)
def notify_exchange_taken(given_id: int, taken_id: int, now: str | None = None) -> bool:
    return notifications.exchange_taken_notice(given_id=given_id, taken_id=taken_id, now=_moment(now))


@shared_task(name="shifts.tasks.notify_missed", **MAIL_RETRY)
def notify_missed(registration_id: int, today: str | None = None) -> bool:
    return notifications.missed_notice(registration_id=registration_id, today=_today(today))


@shared_task(name="shifts.tasks.send_shift_reminders", **MAIL_RETRY)
def send_shift_reminders(today: str | None = None) -> int:
    """Daily: reminders of the shifts in the next days (default 2), once per registration."""
    day = _today(today)
    return notifications.reminders_send(today=day, now=_now_for(day))


@shared_task(name="shifts.tasks.send_status_notices", **MAIL_RETRY)
def send_status_notices(today: str | None = None) -> int:
    """Daily, after update_statuses: alert and suspension notices not sent yet."""
    return notifications.status_notices_send(today=_today(today))


@shared_task(name="shifts.tasks.send_understaffed_calls", **MAIL_RETRY)
def send_understaffed_calls(today: str | None = None) -> int:
    """Daily: call FTOP members to the under-filled shifts of the next days (default 3)."""
    day = _today(today)
    return notifications.understaffed_calls_send(today=day, now=_now_for(day))
