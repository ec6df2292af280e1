"""Celery app. Without CELERY_BROKER_URL every task runs in-process (eager), so the embedded
default needs no broker; with a broker, run a worker and beat (see README)."""
import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coopmarket.settings")

app = Celery("coopmarket")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The daily jobs (CONTRACT.md §2). Static schedule: no django-celery-beat (it caps Django < 6.1).
app.conf.beat_schedule = {
    "generate-shifts": {"task": "shifts.tasks.generate_shifts_task", "schedule": crontab(hour=1, minute=0)},
    "close-shifts": {"task": "shifts.tasks.close_shifts_task", "schedule": crontab(hour=1, minute=15)},
    "update-statuses": {"task": "shifts.tasks.update_statuses_task", "schedule": crontab(hour=1, minute=30)},
}
