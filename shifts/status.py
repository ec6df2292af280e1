"""The working status (DOMAIN.md §3-§5) as pure functions.

Counter events are resolved into points once, when they are written (`resolve`); the status as of
a date is then a pure function of those dated events, the leaves, exemptions, extension grants,
the blocked flag, the slot and the date (`compute`). No database, no clock.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import groupby

ONE_DAY = datetime.timedelta(days=1)

# Event kinds (the ledger's `kind`).
ATTENDED_REGULAR = "attended_regular"
MISSED_REGULAR = "missed_regular"
EXCUSED_REGULAR = "excused_regular"
ATTENDED_OTHER = "attended_other"
MISSED_OTHER = "missed_other"
EXCUSED_OTHER = "excused_other"
FTOP_ATTENDED = "ftop_attended"
FTOP_MISSED = "ftop_missed"
FTOP_EXCUSED = "ftop_excused"
CYCLE_CHARGE = "cycle_start"
CORRECTION = "correction"
TRANSFER = "transfer"
REENROL = "reenrol"
REVERSAL = "reversal"  # undoes one earlier row (an attendance that coordinators changed)

ATTENDED_KINDS = frozenset({ATTENDED_REGULAR, ATTENDED_OTHER, FTOP_ATTENDED})

# Statuses (DOMAIN.md §5).
UP_TO_DATE = "up_to_date"
ALERT = "alert"
DELAY = "delay"
SUSPENDED = "suspended"
ON_LEAVE = "on_leave"
EXEMPTED = "exempted"
UNSUBSCRIBED = "unsubscribed"
BLOCKED = "blocked"
NOT_CONCERNED = "not_concerned"

STANDARD = "standard"
FTOP = "ftop"


@dataclass(frozen=True)
class Rules:
    """The parameters the status needs (from CoopParameters)."""

    alert_days: int = 28
    extension_days: int = 28
    no_slot_grace_days: int = 28
    ftop_unsubscribe_below: int = -8


@dataclass(frozen=True)
class Event:
    """One resolved counter event: its date, kind and the points it moved on each counter."""

    date: datetime.date
    kind: str
    standard: int = 0
    ftop: int = 0
    seq: int = 0  # write order, to keep a stable order within a date
    voids: int | None = None  # for a reversal: the seq of the row it undoes

    @property
    def phase(self) -> int:
        """On one date, shift events (and everything else) come before the cycle charge."""
        return 1 if self.kind == CYCLE_CHARGE else 0


@dataclass(frozen=True)
class Period:
    """A leave or an exemption: both ends included; `end` None means open-ended."""

    start: datetime.date
    end: datetime.date | None = None

    def covers(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


def resolve(kind: str, *, shift_type: str, standard: int, ftop: int, points: int = 0, counter: str = STANDARD) -> list[tuple[str, int, int]]:
    """The ledger rows an event writes, given the counters just before it.

    Returns [(kind, standard points, ftop points)]: the event itself, then, for a standard member
    left with a debt and a credit, the automatic transfer from FTOP to standard (DOMAIN.md §3).
    """
    d_std = d_ftop = 0
    if kind == MISSED_REGULAR:
        d_std = -2
    elif kind == EXCUSED_REGULAR:
        d_std = -1
    elif kind == ATTENDED_OTHER:
        if standard < 0:
            d_std = 1
        else:
            d_ftop = 1
    elif kind == MISSED_OTHER:
        d_std = -1
    elif kind == FTOP_ATTENDED:
        d_ftop = 1
    elif kind == FTOP_MISSED:
        d_ftop = -1
    elif kind == CYCLE_CHARGE:
        d_ftop = -1 if ftop >= 1 else -2
    elif kind == CORRECTION:
        if counter == FTOP:
            d_ftop = points
        elif standard + points > 0:
            d_std, d_ftop = -standard, standard + points
        else:
            d_std = points
    elif kind in (ATTENDED_REGULAR, EXCUSED_OTHER, FTOP_EXCUSED, REENROL, REVERSAL):
        pass
    else:
        raise ValueError(f"unknown counter event kind {kind!r}")
    rows = [(kind, d_std, d_ftop)]
    new_std, new_ftop = standard + d_std, ftop + d_ftop
    if shift_type == STANDARD and new_std < 0 and new_ftop > 0:
        moved = min(-new_std, new_ftop)
        rows.append((TRANSFER, moved, -moved))
    return rows


def resolve_sequence(raw: Iterable[dict], *, shift_type: str) -> list[Event]:
    """Resolve events given by kind (as in status-vectors.json) in date order into ledger events."""
    ordered = sorted(
        enumerate(raw), key=lambda item: (item[1]["date"], 1 if item[1]["kind"] == CYCLE_CHARGE else 0, item[0])
    )
    std = ftop = 0
    events: list[Event] = []
    for _, item in ordered:
        for kind, d_std, d_ftop in resolve(
            item["kind"], shift_type=shift_type, standard=std, ftop=ftop,
            points=item.get("points", 0), counter=item.get("counter", STANDARD),
        ):
            std, ftop = std + d_std, ftop + d_ftop
            events.append(Event(item["date"], kind, d_std, d_ftop, seq=len(events)))
    return events


@dataclass
class ReplayState:
    standard: int = 0
    ftop: int = 0
    episode_start: datetime.date | None = None
    streak: int = 0
    unsubscribed: bool = False
    unsubscribed_on: datetime.date | None = None
    last_reenrol: datetime.date | None = None


def _ordered(events: Iterable[Event]) -> list[Event]:
    """Events in effect order, without reversed rows and their reversals (they cancel out)."""
    events = list(events)
    voided = {e.voids for e in events if e.voids is not None}
    kept = [e for e in events if e.voids is None and e.seq not in voided]
    return sorted(kept, key=lambda e: (e.date, e.phase, e.seq))


def replay(events: Iterable[Event], *, shift_type: str, day: datetime.date, rules: Rules = Rules()) -> ReplayState:
    """Counters, alert episode, miss streak and unsubscription after every event dated <= day.

    Each date is taken whole (its shift events, their automatic transfer, then the cycle charge)
    before the episode and the unsubscription rules are checked, so a miss paid at once by banked
    credit neither opens an episode nor counts as a miss leaving a debt.
    """
    state = ReplayState()
    for date, group in groupby(_ordered(events), key=lambda e: e.date):
        if date > day:
            break
        reenrolled = missed_regular = False
        ftop_baseline = state.ftop  # the FTOP counter at the start of the date (or at a re-enrolment)
        for event in group:
            state.standard += event.standard
            state.ftop += event.ftop
            if event.kind == REENROL:
                state.unsubscribed, state.unsubscribed_on, state.streak = False, None, 0
                state.last_reenrol = date
                reenrolled = True
                ftop_baseline = state.ftop
            elif event.kind == MISSED_REGULAR:
                state.streak += 1
                missed_regular = True
            elif event.kind in ATTENDED_KINDS:
                state.streak = 0
        applies = state.standard if shift_type == STANDARD else state.ftop
        if applies >= 0:
            state.episode_start = None
        elif state.episode_start is None or reenrolled:
            state.episode_start = date
        if not state.unsubscribed:
            streak_lost = shift_type == STANDARD and missed_regular and state.streak >= 2 and state.standard < 0
            # Crossing the threshold: going down to it or below on this date.
            ftop_lost = shift_type == FTOP and state.ftop <= rules.ftop_unsubscribe_below and state.ftop < ftop_baseline
            if streak_lost or ftop_lost:
                state.unsubscribed, state.unsubscribed_on = True, date
    return state


def alert_deadline(episode_start: datetime.date, periods: Sequence[Period], *, alert_days: int = 28) -> datetime.date | None:
    """The day after the `alert_days`-th day of the episode that no leave or exemption covers.

    None when an open-ended exemption stops the clock before the count is reached.
    """
    day, counted = episode_start, 0
    while True:
        covering = [p for p in periods if p.covers(day)]
        if not covering:
            counted += 1
            if counted == alert_days:
                return day + ONE_DAY
            day += ONE_DAY
        elif any(p.end is None for p in covering):
            return None
        else:
            day = max(p.end for p in covering) + ONE_DAY


def extension_windows(
    grants: Sequence[datetime.date], *, episode_start: datetime.date, deadline: datetime.date | None, extension_days: int = 28
) -> list[tuple[datetime.date, datetime.date]]:
    """(first day, last day) of each extension granted in the episode, chained from the deadline."""
    windows: list[tuple[datetime.date, datetime.date]] = []
    previous_end: datetime.date | None = None
    for granted in sorted(g for g in grants if g >= episode_start):
        start = max(d for d in (granted, deadline, previous_end) if d is not None)
        end = start + datetime.timedelta(days=extension_days - 1)
        windows.append((start, end))
        previous_end = end + ONE_DAY
    return windows


@dataclass(frozen=True)
class StatusResult:
    status: str
    standard: int
    ftop: int
    makeups_owed: int
    alert_deadline: datetime.date | None = None
    delay_until: datetime.date | None = None
    episode_start: datetime.date | None = None
    unsubscribed: bool = False
    extension_windows: tuple = field(default=())


def compute(
    *,
    day: datetime.date,
    shift_type: str,
    events: Iterable[Event],
    concerned: bool = True,
    blocked: bool = False,
    has_slot: bool = True,
    work_start: datetime.date | None = None,
    leaves: Sequence[Period] = (),
    exemptions: Sequence[Period] = (),
    extension_grants: Sequence[datetime.date] = (),
    rules: Rules = Rules(),
) -> StatusResult:
    """The working status as of `day`: the first matching row of DOMAIN.md §5's table."""
    state = replay(events, shift_type=shift_type, day=day, rules=rules)
    applies = state.standard if shift_type == STANDARD else state.ftop
    owed = max(0, -applies)
    deadline = None
    windows: list[tuple[datetime.date, datetime.date]] = []
    if applies < 0 and state.episode_start is not None:
        deadline = alert_deadline(state.episode_start, [*leaves, *exemptions], alert_days=rules.alert_days)
        grants = [g for g in extension_grants if g <= day]
        windows = extension_windows(grants, episode_start=state.episode_start, deadline=deadline, extension_days=rules.extension_days)

    def result(status: str, delay_until: datetime.date | None = None) -> StatusResult:
        return StatusResult(
            status, state.standard, state.ftop, owed, deadline, delay_until, state.episode_start,
            state.unsubscribed, tuple(windows),
        )

    if not concerned:
        return result(NOT_CONCERNED)
    if blocked:
        return result(BLOCKED)
    grace_from = max(d for d in (work_start, state.last_reenrol) if d is not None) if (work_start or state.last_reenrol) else None
    no_slot = (
        shift_type == STANDARD and not has_slot and grace_from is not None
        and (day - grace_from).days > rules.no_slot_grace_days
    )
    if state.unsubscribed or no_slot:
        return result(UNSUBSCRIBED)
    if any(p.covers(day) for p in leaves):
        return result(ON_LEAVE)
    if any(p.covers(day) for p in exemptions):
        return result(EXEMPTED)
    if applies < 0:
        for start, end in windows:
            if start <= day <= end:
                return result(DELAY, end)
        if deadline is None or day < deadline:
            return result(ALERT)
        return result(SUSPENDED)
    return result(UP_TO_DATE)


def owes_cycle_charge(
    cycle_start: datetime.date,
    *,
    active_since: datetime.date | None,
    ftop_since: datetime.date | None,
    leaves: Sequence[Period],
    exemptions: Sequence[Period],
    events: Iterable[Event],
    rules: Rules = Rules(),
    window_days: int = 28,
) -> bool:
    """An FTOP member owes the charge of a cycle start when, for all of the 28 days before it,
    they were active, FTOP, not on leave, not exempted and not unsubscribed (DOMAIN.md §3)."""
    first = cycle_start - datetime.timedelta(days=window_days)
    last = cycle_start - ONE_DAY
    if active_since is None or active_since > first or ftop_since is None or ftop_since > first:
        return False
    for period in (*leaves, *exemptions):
        if period.start <= last and (period.end is None or period.end >= first):
            return False
    # Unsubscribed at any point of the window, or by the cycle start day's own shift events.
    events = [e for e in events if not (e.date == cycle_start and e.kind == CYCLE_CHARGE)]
    if replay(events, shift_type=FTOP, day=first, rules=rules).unsubscribed:
        return False
    for event in events:
        if first < event.date <= cycle_start and replay(events, shift_type=FTOP, day=event.date, rules=rules).unsubscribed:
            return False
    return True
