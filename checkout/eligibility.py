"""May this person shop? (DOMAIN.md §6) A pure function of the stored standing; no database."""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Reason codes, in the order DOMAIN.md §6 gives them.
LEFT_COOP = "left_coop"
SHARES_MISSING = "shares_missing"
SHARES_UNPAID = "shares_unpaid"
BLOCKED = "blocked"
UNSUBSCRIBED = "unsubscribed"
ON_LEAVE = "on_leave"
SUSPENDED = "suspended"
REASONS = (LEFT_COOP, SHARES_MISSING, SHARES_UNPAID, BLOCKED, UNSUBSCRIBED, ON_LEAVE, SUSPENDED)

# Warning codes (allowed, with something to tell the member).
ALERT = "alert"
DELAY = "delay"

SHOPPING_STATUSES = frozenset({"up_to_date", "alert", "delay", "exempted", "not_concerned"})


@dataclass(frozen=True)
class Standing:
    """What the till knows about a card holder: the stored copy on the member."""

    membership: str
    status: str
    blocked: bool
    makeups_owed: int = 0
    alert_deadline: datetime.date | None = None
    delay_until: datetime.date | None = None
    # Every refusing row of the status table that holds (stored by the shift engine), not only
    # the first match: a member blocked and past their deadline is `blocked` and `suspended`.
    refusals: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    can_shop: bool
    status: str
    reasons: tuple[str, ...] = ()
    warnings: tuple[dict, ...] = field(default=())

    @property
    def colour(self) -> str:
        """green (allowed), orange (allowed with a warning), red (refused)."""
        if not self.can_shop:
            return "red"
        return "orange" if self.warnings else "green"


def decide(standing: Standing) -> Decision:
    """can_shop = membership active AND status allows shopping (or not concerned) AND not blocked."""
    reasons = []
    if standing.membership == "left":
        reasons.append(LEFT_COOP)
    if standing.membership in ("none", "supporting"):
        reasons.append(SHARES_MISSING)
    if standing.membership == "unpaid":
        reasons.append(SHARES_UNPAID)
    conditions = set(standing.refusals) | {standing.status}
    if standing.blocked:
        conditions.add(BLOCKED)
    reasons.extend(code for code in (BLOCKED, UNSUBSCRIBED, ON_LEAVE, SUSPENDED) if code in conditions)
    can_shop = standing.membership == "active" and standing.status in SHOPPING_STATUSES and not standing.blocked
    if can_shop:
        reasons = []
    elif not reasons:  # defensive: a refusal always says why
        reasons.append(BLOCKED if standing.blocked else SUSPENDED)
    warnings: list[dict] = []
    if can_shop and standing.status == "alert":
        warnings.append({"code": ALERT, "makeups_owed": standing.makeups_owed, "deadline": standing.alert_deadline})
    if can_shop and standing.status == "delay":
        warnings.append({"code": DELAY, "until": standing.delay_until})
    return Decision(can_shop, standing.status, tuple(reasons), tuple(warnings))


def _date(value: datetime.date | None) -> str:
    return formats.date_format(value, "j F") if value else "?"


REASON_TEXT = {
    LEFT_COOP: lambda: _("has left the coop"),
    SHARES_MISSING: lambda: _("holds no cooperator shares"),
    SHARES_UNPAID: lambda: _("has shares not paid up"),
    BLOCKED: lambda: _("is blocked by the coordinators"),
    UNSUBSCRIBED: lambda: _("is unsubscribed from the shifts"),
    ON_LEAVE: lambda: _("is on leave"),
    SUSPENDED: lambda: _("is suspended for missed shifts"),
}

WHAT_TO_DO = {
    LEFT_COOP: lambda: _("They may rejoin at the members office."),
    SHARES_MISSING: lambda: _("Send them to the members office to buy shares."),
    SHARES_UNPAID: lambda: _("Send them to the members office to pay their shares."),
    BLOCKED: lambda: _("Send them to the members office."),
    UNSUBSCRIBED: lambda: _("They must see the members office to re-enrol."),
    ON_LEAVE: lambda: _("Their leave must be ended at the members office before they shop."),
    SUSPENDED: lambda: _("They must book and work their make-up shifts, or ask for an extension."),
}


def message(decision: Decision, display_name: str) -> str:
    """One sentence the cashier reads aloud, in the active language."""
    if not decision.can_shop:
        why = ", ".join(REASON_TEXT[r]() for r in decision.reasons)
        todo = WHAT_TO_DO[decision.reasons[0]]()
        return _("%(name)s may not shop: %(why)s. %(todo)s") % {"name": display_name, "why": why, "todo": todo}
    for warning in decision.warnings:
        if warning["code"] == ALERT:
            n = warning["makeups_owed"]
            return ngettext(
                "%(name)s may shop, but owes %(n)d make-up before %(date)s.",
                "%(name)s may shop, but owes %(n)d make-ups before %(date)s.",
                n,
            ) % {"name": display_name, "n": n, "date": _date(warning["deadline"])}
        if warning["code"] == DELAY:
            return _("%(name)s may shop, on an extension until %(date)s: make-ups are still owed.") % {
                "name": display_name, "date": _date(warning["until"])}
    return _("%(name)s may shop.") % {"name": display_name}


def display_name(first_name: str, last_name: str) -> str:
    """First name and initial: enough for the cashier, no more."""
    initial = (last_name or "").strip()[:1]
    return f"{first_name} {initial}." if initial else first_name
