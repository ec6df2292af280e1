"""Membership standing (DOMAIN.md §1) as pure functions of subscriptions, payments and a date.

No database and no clock here: services feed values in, tests call these directly.
"""
from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

NONE = "none"
UNPAID = "unpaid"
ACTIVE = "active"
SUPPORTING = "supporting"
LEFT = "left"

CENT = Decimal("0.01")


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def instalment_schedule(
    total: Decimal, instalments: int, first_due: datetime.date
) -> list[tuple[datetime.date, Decimal]]:
    """Monthly instalments: equal amounts rounded down to the cent, the remainder on the first."""
    if instalments < 1:
        raise ValueError("at least one instalment")
    base = (total / instalments).quantize(CENT, rounding=ROUND_DOWN)
    amounts = [base] * instalments
    amounts[0] += total - base * instalments
    return [(add_months(first_due, i), amounts[i]) for i in range(instalments)]


@dataclass(frozen=True)
class SubscriptionFacts:
    """What the standing needs to know about one share subscription."""

    class_code: str
    grants_shopping: bool
    minimum: int  # the class minimum that applies to this member (low-income aware)
    quantity: int
    amount: Decimal
    instalments: int
    subscribed_on: datetime.date
    payments: tuple[tuple[datetime.date, Decimal], ...] = field(default=())  # (paid_on, signed amount)

    def paid_as_of(self, day: datetime.date) -> Decimal:
        return sum((amount for paid_on, amount in self.payments if paid_on <= day), Decimal("0"))

    def in_good_standing(self, day: datetime.date, overdue_days: int) -> bool:
        """Paid in full, or: first instalment paid and no instalment more than `overdue_days` late."""
        paid = self.paid_as_of(day)
        if paid >= self.amount:
            return True
        schedule = instalment_schedule(self.amount, self.instalments, self.subscribed_on)
        required = schedule[0][1]
        for due_on, amount in schedule[1:]:
            if (day - due_on).days > overdue_days:
                required += amount
        return paid >= required


def membership_status(
    subscriptions: list[SubscriptionFacts], *, left: bool, day: datetime.date, overdue_days: int = 30
) -> str:
    """`left`, `active`, `unpaid`, `supporting` or `none`, as of `day`.

    Active: for some shopping class, the shares of subscriptions in good standing reach the minimum.
    Unpaid: shopping shares are subscribed (to the minimum, or below it after a low-income flag was
    removed) but not paid as the rule requires. Supporting: only classes that grant no shopping.
    """
    if left:
        return LEFT
    current = [s for s in subscriptions if s.subscribed_on <= day]
    if not current:
        return NONE
    shopping = [s for s in current if s.grants_shopping]
    if not shopping:
        return SUPPORTING
    by_class: dict[str, list[SubscriptionFacts]] = {}
    for sub in shopping:
        by_class.setdefault(sub.class_code, []).append(sub)
    for subs in by_class.values():
        good = sum(s.quantity for s in subs if s.in_good_standing(day, overdue_days))
        if good >= subs[0].minimum:
            return ACTIVE
    return UNPAID


def first_active_date(
    subscriptions: list[SubscriptionFacts], *, overdue_days: int = 30
) -> datetime.date | None:
    """The date of the first payment that made the member active (their work start date)."""
    dates = sorted({paid_on for s in subscriptions for paid_on, _ in s.payments})
    for day in dates:
        if membership_status(subscriptions, left=False, day=day, overdue_days=overdue_days) == ACTIVE:
            return day
    return None


def change_points(subscriptions: list[SubscriptionFacts], *, overdue_days: int = 30) -> set[datetime.date]:
    """The dates on which the membership can change: subscriptions, payments, and the first day
    each instalment is more than `overdue_days` late. It is constant between two of them."""
    points: set[datetime.date] = set()
    late = datetime.timedelta(days=overdue_days + 1)
    for sub in subscriptions:
        points.add(sub.subscribed_on)
        points.update(paid_on for paid_on, _amount in sub.payments)
        points.update(due_on + late for due_on, _amount in instalment_schedule(sub.amount, sub.instalments, sub.subscribed_on)[1:])
    return points


def membership_since(
    subscriptions: list[SubscriptionFacts], *, day: datetime.date, overdue_days: int = 30, floor: datetime.date | None = None
) -> datetime.date:
    """The date from which the membership of `day` has held without a break (never before `floor`).

    A payment recorded today with an earlier date makes the member active from that date; an
    instalment found overdue by a late job run makes them unpaid from the day it became overdue."""
    value = membership_status(subscriptions, left=False, day=day, overdue_days=overdue_days)
    points = {p for p in change_points(subscriptions, overdue_days=overdue_days) if p <= day}
    if floor is not None:
        points = {p for p in points if p > floor} | {floor} if floor <= day else set()
    since = day
    for point in sorted(points, reverse=True):
        if membership_status(subscriptions, left=False, day=point, overdue_days=overdue_days) != value:
            break
        since = point
    return since
