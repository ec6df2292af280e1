"""The ABCD work cycle (DOMAIN.md §2). Pure functions of dates; the cycle start is an argument."""
import datetime

WEEKS = "ABCD"
CYCLE_WEEKS = 4
CYCLE_DAYS = CYCLE_WEEKS * 7


def monday_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def week_index(day: datetime.date, cycle_start: datetime.date) -> int:
    """0..3 for weeks A..D. Python's floor division and modulo are signed-correct, so dates
    before the cycle start work too."""
    return ((monday_of(day) - cycle_start).days // 7) % CYCLE_WEEKS


def week_letter(day: datetime.date, cycle_start: datetime.date) -> str:
    return WEEKS[week_index(day, cycle_start)]


def is_cycle_start(day: datetime.date, cycle_start: datetime.date) -> bool:
    """Every Monday of week A is a cycle start."""
    return day.weekday() == 0 and week_index(day, cycle_start) == 0


def cycle_start_on_or_before(day: datetime.date, cycle_start: datetime.date) -> datetime.date:
    """The cycle start of the cycle that contains `day`."""
    return monday_of(day) - datetime.timedelta(weeks=week_index(day, cycle_start))


def cycle_starts_between(first: datetime.date, last: datetime.date, cycle_start: datetime.date) -> list[datetime.date]:
    """Every cycle start d with first <= d <= last, in order."""
    day = cycle_start_on_or_before(first, cycle_start)
    if day < first:
        day += datetime.timedelta(days=CYCLE_DAYS)
    starts = []
    while day <= last:
        starts.append(day)
        day += datetime.timedelta(days=CYCLE_DAYS)
    return starts


def dates_of_template(week: str, weekday: int, first: datetime.date, last: datetime.date, cycle_start: datetime.date) -> list[datetime.date]:
    """Every date in [first, last] that falls on a template's week letter and weekday."""
    offset = WEEKS.index(week) * 7 + weekday
    day = cycle_start_on_or_before(first, cycle_start) + datetime.timedelta(days=offset)
    while day < first:
        day += datetime.timedelta(days=CYCLE_DAYS)
    dates = []
    while day <= last:
        dates.append(day)
        day += datetime.timedelta(days=CYCLE_DAYS)
    return dates
