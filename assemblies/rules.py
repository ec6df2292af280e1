"""The rules of general assemblies as pure functions (DOMAIN.md §10): who votes, the convening
delay, the default cut-off, the quorum and the majorities. Values and dates in, answers out: no
database, no clock."""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

ORDINARY = "ordinary"
EXTRAORDINARY = "extraordinary"
SIMPLE = "simple"
TWO_THIRDS = "two_thirds"

# Memberships that vote (DOMAIN.md §1, §10): household associates are not members and never vote.
VOTING_MEMBERSHIPS = frozenset({"active", "unpaid", "supporting"})
# Working statuses that take the vote away when "vote requires good standing" is on.
NOT_IN_GOOD_STANDING = frozenset({"suspended", "unsubscribed", "blocked"})


@dataclass(frozen=True)
class Rules:
    """The assembly parameters a rule needs (a copy of `AssemblyParameters`)."""

    cutoff_days: int = 15
    notice_days_first: int = 15
    notice_days_second: int = 10
    max_proxies: int = 2
    quorum_ordinary_first: Decimal = Decimal("0.20")
    quorum_ordinary_second: Decimal = Decimal("0")
    quorum_extraordinary_first: Decimal = Decimal("0.25")
    quorum_extraordinary_second: Decimal = Decimal("0.20")
    vote_requires_good_standing: bool = False


def is_voter(*, membership: str, status: str, blocked: bool, good_standing_required: bool) -> bool:
    """One member, one vote: membership `active`, `unpaid` or `supporting`; with the good-standing
    parameter on, not `suspended`, `unsubscribed` or `blocked` either."""
    if membership not in VOTING_MEMBERSHIPS:
        return False
    if good_standing_required and (blocked or status in NOT_IN_GOOD_STANDING):
        return False
    return True


def default_cutoff(starts_on: datetime.date, *, today: datetime.date, rules: Rules) -> datetime.date:
    """`cutoff_days` calendar days before the assembly, but never before today (an assembly set up
    late freezes its list from today on: the stored values of the past are gone)."""
    return max(today, starts_on - datetime.timedelta(days=rules.cutoff_days))


def notice_days(convocation: int, rules: Rules) -> int:
    return rules.notice_days_first if convocation == 1 else rules.notice_days_second


def last_convening_day(starts_on: datetime.date, convocation: int, rules: Rules) -> datetime.date:
    """The last day the convening e-mails may go: `notice_days` calendar days before the assembly."""
    return starts_on - datetime.timedelta(days=notice_days(convocation, rules))


def may_convene(*, starts_on: datetime.date, convocation: int, today: datetime.date, rules: Rules) -> bool:
    return today <= last_convening_day(starts_on, convocation, rules)


def quorum_required(kind: str, convocation: int, rules: Rules) -> Decimal:
    """The share of voters that must be present or represented: ordinary 1/5 then none,
    extraordinary 1/4 then 1/5 (parameters)."""
    if kind == EXTRAORDINARY:
        return rules.quorum_extraordinary_first if convocation == 1 else rules.quorum_extraordinary_second
    return rules.quorum_ordinary_first if convocation == 1 else rules.quorum_ordinary_second


def quorum_reached(*, voters: int, present: int, represented: int, required: Decimal) -> bool:
    """(present + represented) / voters >= required, in exact arithmetic. No quorum required: always
    reached. A required quorum with no voters at all is never reached."""
    fraction = Fraction(required)
    if fraction <= 0:
        return True
    if voters <= 0:
        return False
    return (present + represented) * fraction.denominator >= fraction.numerator * voters


def default_majority(kind: str) -> str:
    return TWO_THIRDS if kind == EXTRAORDINARY else SIMPLE


def adopted(majority: str, *, votes_for: int, votes_against: int) -> bool:
    """Abstentions and blank votes are not votes cast, so they never enter here.

    simple: for > against (a tie fails). two_thirds: 3 x for >= 2 x (for + against), so exactly
    two thirds passes; with no vote cast at all nothing is adopted."""
    if majority == TWO_THIRDS:
        return votes_for > 0 and 3 * votes_for >= 2 * (votes_for + votes_against)
    return votes_for > votes_against


def format_fraction(value: Decimal) -> str:
    """A quorum share as the API writes it: "0.20", "0.25", "0.00" (more digits only when needed)."""
    value = Decimal(value)
    two = value.quantize(Decimal("0.01"))
    return str(two) if two == value else str(value.normalize())
