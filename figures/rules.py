"""The publication rules of the open figures (DOMAIN.md §11), pure: no figure drawn from fewer
than `minimum` people is published as a number."""
from __future__ import annotations

import datetime
from decimal import Decimal

HIDDEN = "fewer_than_minimum"
NO_DATA = "no_data"


def publishable(people: int, minimum: int) -> bool:
    """A figure drawn from `people` people may be published."""
    return people >= minimum


def months_back(as_of: datetime.date, count: int) -> list[datetime.date]:
    """The first days of the `count` months ending with the month of `as_of`, oldest first."""
    year, month = as_of.year, as_of.month
    months = []
    for _ in range(count):
        months.append(datetime.date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def hours(seconds: int) -> Decimal:
    """Person-hours, to the quarter of an hour's precision written with two decimals."""
    return (Decimal(seconds) / 3600).quantize(Decimal("0.01"))


def month_key(month: datetime.date) -> str:
    return f"{month:%Y-%m}"
