"""The coop's clock: 'today' is the local date in COOP_TIME_ZONE (only views, commands, tasks call it)."""
import datetime
import zoneinfo

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone


def coop_today() -> datetime.date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(settings.COOP_TIME_ZONE))


def parse_date_option(value: str | None) -> datetime.date:
    """A command's --today / --start / --end: YYYY-MM-DD, defaulting to the coop's today."""
    if not value:
        return coop_today()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Expected a date YYYY-MM-DD, got {value!r}.") from None
