"""Celery app. Without CELERY_BROKER_URL every task runs in-process (eager), so the embedded
default needs no broker; with a broker, run a worker and beat (see README)."""
import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coopmarket.settings")

app = Celery("coopmarket")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The daily jobs (CONTRACT.md §2), in the coop's time zone. Static schedule: no
# django-celery-beat (it caps Django below 6.1). The shift engine adds generate and close.
app.conf.beat_schedule = {
    "update-statuses": {"task": "shifts.tasks.update_statuses_task", "schedule": crontab(hour=1, minute=30)},
}
