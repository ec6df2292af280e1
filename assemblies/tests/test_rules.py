"""The pure rules of DOMAIN.md §10: who votes, convening delays, cut-off, quorum and majorities."""
import datetime
import itertools
from decimal import Decimal

import pytest

from assemblies import rules as r

DEFAULT = r.Rules()
GOOD_STANDING = r.Rules(vote_requires_good_standing=True)
MEMBERSHIPS = ("none", "unpaid", "active", "supporting", "left")
STATUSES = ("up_to_date", "alert", "delay", "suspended", "on_leave", "exempted", "unsubscribed", "blocked", "not_concerned")


@pytest.mark.parametrize("membership", MEMBERSHIPS)
def test_one_member_one_vote_whatever_the_status_by_default(membership):
    for status in STATUSES:
        assert r.is_voter(membership=membership, status=status, blocked=False, good_standing_required=False) == (
            membership in ("active", "unpaid", "supporting"))


@pytest.mark.parametrize("status", STATUSES)
def test_good_standing_parameter_removes_suspended_unsubscribed_and_blocked(status):
    expected = status not in ("suspended", "unsubscribed", "blocked")
    assert r.is_voter(membership="active", status=status, blocked=False, good_standing_required=True) is expected
    # Off, every status votes.
    assert r.is_voter(membership="active", status=status, blocked=False, good_standing_required=False) is True


def test_a_blocked_reason_counts_as_blocked_with_good_standing_required():
    assert r.is_voter(membership="active", status="up_to_date", blocked=True, good_standing_required=True) is False
    assert r.is_voter(membership="active", status="up_to_date", blocked=True, good_standing_required=False) is True


def test_members_who_left_or_hold_no_share_never_vote():
    for membership, good in itertools.product(("none", "left"), (False, True)):
        assert not r.is_voter(membership=membership, status="up_to_date", blocked=False, good_standing_required=good)


def test_default_cutoff_is_15_calendar_days_before_but_never_before_today():
    starts = datetime.date(2026, 3, 28)
    assert r.default_cutoff(starts, today=datetime.date(2026, 3, 2), rules=DEFAULT) == datetime.date(2026, 3, 13)
    assert r.default_cutoff(starts, today=datetime.date(2026, 3, 20), rules=DEFAULT) == datetime.date(2026, 3, 20)
    assert r.default_cutoff(starts, today=datetime.date(2026, 3, 2), rules=r.Rules(cutoff_days=30)) == datetime.date(2026, 3, 2)


@pytest.mark.parametrize(("convocation", "today", "allowed"), [
    (1, datetime.date(2026, 3, 13), True),   # exactly 15 days before
    (1, datetime.date(2026, 3, 14), False),  # 14 days before: too late
    (1, datetime.date(2026, 1, 1), True),
    (2, datetime.date(2026, 3, 18), True),   # exactly 10 days before a second convocation
    (2, datetime.date(2026, 3, 19), False),
])
def test_convening_at_least_15_days_before_a_first_and_10_before_a_second_convocation(convocation, today, allowed):
    starts = datetime.date(2026, 3, 28)
    assert r.may_convene(starts_on=starts, convocation=convocation, today=today, rules=DEFAULT) is allowed


def test_convening_delays_are_parameters():
    rules = r.Rules(notice_days_first=21, notice_days_second=6)
    starts = datetime.date(2026, 3, 28)
    assert r.last_convening_day(starts, 1, rules) == datetime.date(2026, 3, 7)
    assert r.last_convening_day(starts, 2, rules) == datetime.date(2026, 3, 22)


def test_required_quorum_by_kind_and_convocation():
    assert r.quorum_required("ordinary", 1, DEFAULT) == Decimal("0.20")
    assert r.quorum_required("ordinary", 2, DEFAULT) == Decimal("0")
    assert r.quorum_required("extraordinary", 1, DEFAULT) == Decimal("0.25")
    assert r.quorum_required("extraordinary", 2, DEFAULT) == Decimal("0.20")
    custom = r.Rules(quorum_ordinary_first=Decimal("0.5"))
    assert r.quorum_required("ordinary", 1, custom) == Decimal("0.5")


@pytest.mark.parametrize(("present", "represented", "reached"), [
    (20, 0, True),    # exactly one fifth of 100
    (19, 0, False),   # one short
    (15, 5, True),    # proxies count
    (15, 4, False),
    (0, 0, False),
])
def test_ordinary_first_convocation_quorum_is_one_fifth_present_or_represented(present, represented, reached):
    assert r.quorum_reached(voters=100, present=present, represented=represented, required=Decimal("0.20")) is reached


@pytest.mark.parametrize(("counted", "reached"), [(25, True), (24, False)])
def test_extraordinary_first_convocation_quorum_is_one_quarter(counted, reached):
    assert r.quorum_reached(voters=100, present=counted, represented=0, required=Decimal("0.25")) is reached


def test_quorum_is_exact_with_voter_counts_that_do_not_divide():
    # 1/5 of 101 is 20.2: 20 is not enough, 21 is.
    assert not r.quorum_reached(voters=101, present=20, represented=0, required=Decimal("0.20"))
    assert r.quorum_reached(voters=101, present=21, represented=0, required=Decimal("0.20"))
    # 1/4 of 7 is 1.75.
    assert not r.quorum_reached(voters=7, present=1, represented=0, required=Decimal("0.25"))
    assert r.quorum_reached(voters=7, present=1, represented=1, required=Decimal("0.25"))


def test_no_quorum_on_an_ordinary_second_convocation():
    assert r.quorum_reached(voters=500, present=0, represented=0, required=Decimal("0"))
    assert r.quorum_reached(voters=500, present=1, represented=0, required=Decimal("0"))


def test_a_required_quorum_with_no_voter_is_not_reached():
    assert not r.quorum_reached(voters=0, present=0, represented=0, required=Decimal("0.20"))


@pytest.mark.parametrize(("votes_for", "votes_against", "adopted"), [
    (51, 49, True),
    (50, 50, False),  # a tie fails
    (1, 0, True),
    (0, 0, False),
    (0, 1, False),
])
def test_simple_majority_passes_when_for_exceeds_against(votes_for, votes_against, adopted):
    assert r.adopted("simple", votes_for=votes_for, votes_against=votes_against) is adopted


@pytest.mark.parametrize(("votes_for", "votes_against", "adopted"), [
    (2, 1, True),     # exactly two thirds passes
    (20, 10, True),   # exactly two thirds
    (66, 34, False),  # 66 % is under two thirds
    (67, 33, True),
    (199, 100, False),  # just under
    (1, 1, False),    # a tie fails
    (1, 0, True),
    (0, 0, False),    # no vote cast: nothing adopted
])
def test_two_thirds_majority_passes_at_exactly_two_thirds_of_votes_cast(votes_for, votes_against, adopted):
    assert r.adopted("two_thirds", votes_for=votes_for, votes_against=votes_against) is adopted


def test_default_majority_follows_the_kind():
    assert r.default_majority("ordinary") == "simple"
    assert r.default_majority("extraordinary") == "two_thirds"


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("0.2"), "0.20"), (Decimal("0.2000"), "0.20"), (Decimal("0"), "0.00"), (Decimal("0.25"), "0.25"),
    (Decimal("0.3333"), "0.3333"), (Decimal("1"), "1.00"),
])
def test_quorum_fraction_is_written_with_two_decimals(value, text):
    assert r.format_fraction(value) == text
