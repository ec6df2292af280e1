"""Celery tasks: thin wrappers that read the clock and call one service (retried on a lost
database connection, and on a mail server error for the e-mails: each message is logged once)."""
import datetime

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from coopmarket.dates import coop_today

from . import notifications, services

RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": 30, "retry_backoff_max": 600, "retry_jitter": True, "max_retries": 5}
MAIL_RETRY = {**RETRY, "autoretry_for": (OperationalError, OSError)}


@shared_task(name="assemblies.tasks.freeze_voter_lists", **RETRY)
def freeze_voter_lists(today: str | None = None) -> int:
    """Daily: freeze the voter lists whose cut-off date has come (and e-mail new voters)."""
    day = datetime.date.fromisoformat(today) if today else coop_today()
    return services.assemblies_freeze_due(today=day, now=timezone.now())


@shared_task(name="assemblies.tasks.send_convening", **MAIL_RETRY)
def send_convening(assembly_id: int) -> int:
    return notifications.convening_send(assembly_id=assembly_id)


@shared_task(name="assemblies.tasks.notify_proxy", **MAIL_RETRY)
def notify_proxy(proxy_id: int, change: str) -> bool:
    return notifications.proxy_notice(proxy_id=proxy_id, change=change)
