"""The ABCD work cycle (DOMAIN.md §2), pure date maths, with hand-computed cases.

CYCLE_START is 2026-01-05 (a Monday, day 1 of week A). Cycle starts around it:
2025-11-10, 2025-12-08, 2026-01-05, 2026-02-02, 2026-03-02, 2026-03-30, 2026-04-27.
"""
import datetime

import pytest

from shifts import cycle

D = datetime.date
START = D(2026, 1, 5)


@pytest.mark.parametrize(
    ("day", "letter"),
    [
        (D(2026, 1, 5), "A"),  # the cycle start itself
        (D(2026, 1, 11), "A"),  # Sunday of week A
        (D(2026, 1, 12), "B"),
        (D(2026, 1, 18), "B"),
        (D(2026, 1, 19), "C"),
        (D(2026, 1, 26), "D"),
        (D(2026, 2, 1), "D"),  # last day of the first cycle
        (D(2026, 2, 2), "A"),  # second cycle
        (D(2026, 3, 4), "A"),
        (D(2026, 3, 18), "C"),
        (D(2026, 12, 28), "D"),  # 357 days = 51 weeks after the start, 51 mod 4 = 3
        (D(2026, 12, 31), "D"),
        (D(2027, 1, 3), "D"),
        (D(2027, 1, 4), "A"),  # 52 weeks: a cycle start
    ],
)
def test_week_letter_after_the_cycle_start(day, letter):
    assert cycle.week_letter(day, START) == letter


@pytest.mark.parametrize(
    ("day", "letter"),
    [
        (D(2026, 1, 4), "D"),  # the Sunday before the cycle start: Monday 2025-12-29, -1 week -> index 3
        (D(2025, 12, 29), "D"),
        (D(2025, 12, 31), "D"),
        (D(2025, 12, 22), "C"),  # -2 weeks
        (D(2025, 12, 15), "B"),  # -3 weeks
        (D(2025, 12, 8), "A"),  # -4 weeks: a cycle start
        (D(2025, 12, 14), "A"),
        (D(2025, 12, 7), "D"),  # -5 weeks
        (D(2025, 1, 6), "A"),  # -52 weeks
        (D(2024, 12, 30), "D"),  # -53 weeks: -53 mod 4 = 3 (a truncating modulo would give -1)
        (D(2024, 12, 23), "C"),  # -54 weeks
        (D(2024, 12, 16), "B"),  # -55 weeks
    ],
)
def test_week_letter_before_the_cycle_start_uses_a_signed_correct_modulo(day, letter):
    assert cycle.week_letter(day, START) == letter


def test_week_letter_is_constant_within_a_week_and_repeats_every_28_days():
    day = D(2024, 6, 3)  # a Monday, well before the start
    while day < D(2027, 6, 1):
        letter = cycle.week_letter(day, START)
        assert letter in "ABCD"
        week = [cycle.week_letter(day + datetime.timedelta(days=i), START) for i in range(7)]
        assert week == [letter] * 7
        assert cycle.week_letter(day + datetime.timedelta(days=28), START) == letter
        following = cycle.week_letter(day + datetime.timedelta(days=7), START)
        assert "ABCD".index(following) == ("ABCD".index(letter) + 1) % 4
        day += datetime.timedelta(days=7)


def test_cycle_start_is_an_argument_not_a_constant():
    other_start = D(2026, 1, 12)
    assert cycle.week_letter(D(2026, 1, 12), other_start) == "A"
    assert cycle.week_letter(D(2026, 1, 5), other_start) == "D"
    assert cycle.is_cycle_start(D(2026, 1, 12), other_start)
    assert not cycle.is_cycle_start(D(2026, 1, 5), other_start)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 1, 5), True),
        (D(2026, 2, 2), True),
        (D(2026, 3, 2), True),
        (D(2025, 12, 8), True),
        (D(2025, 11, 10), True),
        (D(2026, 1, 6), False),  # Tuesday of week A
        (D(2026, 1, 11), False),  # Sunday of week A
        (D(2026, 1, 12), False),  # Monday of week B
        (D(2026, 1, 26), False),  # Monday of week D
        (D(2025, 12, 29), False),  # Monday of week D before the start
        (D(2025, 12, 15), False),
    ],
)
def test_a_cycle_start_is_every_monday_of_week_a(day, expected):
    assert cycle.is_cycle_start(day, START) is expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 1, 5), D(2026, 1, 5)),
        (D(2026, 2, 1), D(2026, 1, 5)),
        (D(2026, 2, 2), D(2026, 2, 2)),
        (D(2026, 3, 29), D(2026, 3, 2)),
        (D(2026, 1, 4), D(2025, 12, 8)),
        (D(2025, 12, 7), D(2025, 11, 10)),
    ],
)
def test_cycle_start_on_or_before(day, expected):
    assert cycle.cycle_start_on_or_before(day, START) == expected


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (D(2026, 1, 1), D(2026, 3, 31), [D(2026, 1, 5), D(2026, 2, 2), D(2026, 3, 2), D(2026, 3, 30)]),
        (D(2026, 2, 2), D(2026, 3, 2), [D(2026, 2, 2), D(2026, 3, 2)]),  # both ends included
        (D(2026, 2, 3), D(2026, 3, 1), []),
        (D(2026, 3, 2), D(2026, 3, 2), [D(2026, 3, 2)]),
        (D(2026, 3, 3), D(2026, 3, 2), []),  # empty range
        (D(2025, 11, 1), D(2025, 12, 31), [D(2025, 11, 10), D(2025, 12, 8)]),  # before the start
        (D(2025, 12, 9), D(2026, 1, 5), [D(2026, 1, 5)]),  # across the start
    ],
)
def test_cycle_starts_between(first, last, expected):
    assert cycle.cycle_starts_between(first, last, START) == expected


@pytest.mark.parametrize(
    ("week", "weekday", "first", "last", "expected"),
    [
        ("C", 2, D(2026, 1, 1), D(2026, 3, 31), [D(2026, 1, 21), D(2026, 2, 18), D(2026, 3, 18)]),
        ("A", 0, D(2026, 1, 5), D(2026, 1, 5), [D(2026, 1, 5)]),
        ("A", 0, D(2026, 1, 6), D(2026, 2, 2), [D(2026, 2, 2)]),
        ("A", 2, D(2026, 3, 4), D(2026, 4, 1), [D(2026, 3, 4), D(2026, 4, 1)]),  # both ends included
        ("A", 2, D(2026, 3, 5), D(2026, 3, 31), []),
        ("D", 6, D(2025, 12, 1), D(2026, 1, 10), [D(2025, 12, 7), D(2026, 1, 4)]),  # before the start
        ("B", 4, D(2025, 12, 1), D(2025, 12, 31), [D(2025, 12, 19)]),
        ("B", 4, D(2026, 1, 17), D(2026, 1, 15), []),
    ],
)
def test_dates_of_template_hand_computed(week, weekday, first, last, expected):
    assert cycle.dates_of_template(week, weekday, first, last, START) == expected


@pytest.mark.parametrize("week", list("ABCD"))
@pytest.mark.parametrize("weekday", range(7))
def test_dates_of_template_match_a_brute_force_scan(week, weekday):
    first, last = D(2025, 10, 3), D(2026, 6, 17)
    brute = []
    day = first
    while day <= last:
        if day.weekday() == weekday and cycle.week_letter(day, START) == week:
            brute.append(day)
        day += datetime.timedelta(days=1)
    got = cycle.dates_of_template(week, weekday, first, last, START)
    assert got == brute
    assert len(got) >= 9
