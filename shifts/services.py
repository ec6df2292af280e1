"""Shift-engine services. For now: the time-driven status update (membership part)."""
import datetime

from members import services as member_services


def statuses_update(*, today: datetime.date) -> dict[str, int]:
    """Apply every change that only time causes, as of `today`. Idempotent for a given date.

    Returns counts of what changed, by kind.
    """
    return {"memberships": member_services.memberships_refresh_all(today=today)}
