"""Celery app. Without CELERY_BROKER_URL every task runs in-process (eager), so the embedded
default needs no broker; with a broker, run a worker and beat (see README)."""
import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coopmarket.settings")

app = Celery("coopmarket")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The daily jobs (CONTRACT.md §2), at night in the coop's time zone (CELERY_TIMEZONE =
# COOP_TIME_ZONE): generate shifts (generation_days_ahead, 90 by default), then close the shifts
# that ended before today, then update the statuses (which then sees the misses close wrote).
# Each job is idempotent and expires before the next day's run. Static schedule: no
# django-celery-beat (it caps Django below 6.1).
DAILY_EXPIRES = 20 * 3600
app.conf.beat_schedule = {
    "generate-shifts": {
        "task": "shifts.tasks.generate_shifts_task", "schedule": crontab(hour=0, minute=30), "options": {"expires": DAILY_EXPIRES},
    },
    "close-shifts": {
        "task": "shifts.tasks.close_shifts_task", "schedule": crontab(hour=1, minute=0), "options": {"expires": DAILY_EXPIRES},
    },
    "update-statuses": {
        "task": "shifts.tasks.update_statuses_task", "schedule": crontab(hour=1, minute=30), "options": {"expires": DAILY_EXPIRES},
    },
    # Messages to members (shifts.notifications), each idempotent: alert and suspension notices
    # after the status update, then shift reminders and calls for understaffed shifts by day.
    "status-notices": {
        "task": "shifts.tasks.send_status_notices", "schedule": crontab(hour=2, minute=0), "options": {"expires": DAILY_EXPIRES},
    },
    "shift-reminders": {
        "task": "shifts.tasks.send_shift_reminders", "schedule": crontab(hour=9, minute=0), "options": {"expires": DAILY_EXPIRES},
    },
    "understaffed-calls": {
        "task": "shifts.tasks.send_understaffed_calls", "schedule": crontab(hour=10, minute=0), "options": {"expires": DAILY_EXPIRES},
    },
    # Assemblies: freeze the voter lists whose cut-off day has come, after update_statuses (the
    # stored statuses are then those of the day), and e-mail members who became voters since the
    # convening. Then the open figures as of today.
    "freeze-voter-lists": {
        "task": "assemblies.tasks.freeze_voter_lists", "schedule": crontab(hour=2, minute=30), "options": {"expires": DAILY_EXPIRES},
    },
    "open-figures": {
        "task": "figures.tasks.update_figures", "schedule": crontab(hour=3, minute=0), "options": {"expires": DAILY_EXPIRES},
    },
}
