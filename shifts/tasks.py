"""Celery tasks: thin wrappers that read the clock and call one service."""
import datetime

from celery import shared_task

from coopmarket.dates import coop_today

from .services import statuses_update


@shared_task(name="shifts.tasks.update_statuses_task")
def update_statuses_task(today: str | None = None) -> dict[str, int]:
    day = datetime.date.fromisoformat(today) if today else coop_today()
    return statuses_update(today=day)
