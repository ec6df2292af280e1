"""The working status (DOMAIN.md §3-§5) as pure functions.

Counter events are resolved into points once, when they are written (`resolve`); the status as of
a date is then a pure function of those dated events, the leaves, exemptions, extension grants,
the blocked flag, the slot and the date (`compute`). No database, no clock.
"""
from __future__ import annotations

import datetime
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import NamedTuple

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
REVERSAL = "reversal"  # undoes one earlier row (a changed answer, a re-resolved charge or make-up)
OPENING = "opening"  # the counters a coop brings from its old system (CONTRACT.md §7)
UNSUBSCRIBED_MARK = "unsubscribed"  # an automatic unsubscription, kept until a re-enrolment

ATTENDED_KINDS = frozenset({ATTENDED_REGULAR, ATTENDED_OTHER, FTOP_ATTENDED})
# Rows whose points never depend on the counters before them.
FIXED_KINDS = frozenset({OPENING, REENROL, UNSUBSCRIBED_MARK})

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
# The rows of the table that refuse shopping, in table order (DOMAIN.md §6 lists every one that holds).
REFUSING = (BLOCKED, UNSUBSCRIBED, ON_LEAVE, SUSPENDED)

STANDARD = "standard"
FTOP = "ftop"


@dataclass(frozen=True)
class Rules:
    """The parameters the counters and the status need (from CoopParameters)."""

    alert_days: int = 28
    extension_days: int = 28
    no_slot_grace_days: int = 28
    ftop_unsubscribe_below: int = -8
    charge_window_days: int = 28
    # The counter table's point values (positive; the rule gives the direction).
    missed_regular: int = 2
    excused_regular: int = 1
    missed_one_off: int = 1
    attended_other: int = 1
    ftop_attended: int = 1
    ftop_missed: int = 1
    charge_with_credit: int = 1
    charge: int = 2


DEFAULT_RULES = Rules()


class Event(NamedTuple):
    """One resolved counter event: its date, kind and the points it moved on each counter.
    (A named tuple: the daily job builds millions of them.)"""

    date: datetime.date
    kind: str
    standard: int = 0
    ftop: int = 0
    seq: int = 0  # write order, to keep a stable order within a date
    voids: int | None = None  # for a reversal: the seq of the row it undoes
    order: int | None = None  # the seq of the first version of a re-resolved row (its place in the day)

    @property
    def phase(self) -> int:
        """On one date, shift events (and everything else) come before the cycle charge."""
        return 1 if self.kind == CYCLE_CHARGE else 0

    @property
    def position(self) -> tuple:
        return (self.date, self.phase, self.seq if self.order is None else self.order, self.seq)


@dataclass(frozen=True)
class Period:
    """A leave or an exemption: both ends included; `end` None means open-ended."""

    start: datetime.date
    end: datetime.date | None = None

    def covers(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


def resolve(kind: str, *, shift_type: str, standard: int, ftop: int, points: int = 0, counter: str = STANDARD,
            rules: Rules = DEFAULT_RULES) -> list[tuple[str, int, int]]:
    """The ledger rows an event writes, given the counters just before it.

    Returns [(kind, standard points, ftop points)]: the event itself, then, for a standard member
    left with a debt and a credit, the automatic transfer from FTOP to standard (DOMAIN.md §3).
    `points` and `counter` are what coordinators entered for a correction. Opening rows carry
    their own points (see `resolve_ledger`).
    """
    d_std = d_ftop = 0
    if kind == MISSED_REGULAR:
        d_std = -rules.missed_regular
    elif kind == EXCUSED_REGULAR:
        d_std = -rules.excused_regular
    elif kind == ATTENDED_OTHER:
        if standard < 0:
            d_std = min(rules.attended_other, -standard)
            d_ftop = rules.attended_other - d_std
        else:
            d_ftop = rules.attended_other
    elif kind == MISSED_OTHER:
        d_std = -rules.missed_one_off
    elif kind == FTOP_ATTENDED:
        d_ftop = rules.ftop_attended
    elif kind == FTOP_MISSED:
        d_ftop = -rules.ftop_missed
    elif kind == CYCLE_CHARGE:
        d_ftop = -rules.charge_with_credit if ftop >= 1 else -rules.charge
    elif kind == CORRECTION:
        if counter == FTOP:
            d_ftop = points
        elif standard + points > 0:
            d_std, d_ftop = -standard, standard + points
        else:
            d_std = points
    elif kind in (ATTENDED_REGULAR, EXCUSED_OTHER, FTOP_EXCUSED, REENROL, REVERSAL, UNSUBSCRIBED_MARK, OPENING):
        pass
    else:
        raise ValueError(f"unknown counter event kind {kind!r}")
    rows = [(kind, d_std, d_ftop)]
    new_std, new_ftop = standard + d_std, ftop + d_ftop
    if shift_type == STANDARD and new_std < 0 and new_ftop > 0:
        moved = min(-new_std, new_ftop)
        rows.append((TRANSFER, moved, -moved))
    return rows


def resolve_sequence(raw: Iterable[dict], *, shift_type: str, rules: Rules = DEFAULT_RULES) -> list[Event]:
    """Resolve events given by kind (as in status-vectors.json) in date order into ledger events."""
    ordered = sorted(
        enumerate(raw), key=lambda item: (item[1]["date"], 1 if item[1]["kind"] == CYCLE_CHARGE else 0, item[0])
    )
    std = ftop = 0
    events: list[Event] = []
    for _, item in ordered:
        for kind, d_std, d_ftop in resolve(
            item["kind"], shift_type=shift_type, standard=std, ftop=ftop,
            points=item.get("points", 0), counter=item.get("counter", STANDARD), rules=rules,
        ):
            std, ftop = std + d_std, ftop + d_ftop
            events.append(Event(item["date"], kind, d_std, d_ftop, seq=len(events)))
    return events


# --- re-resolution of a member's ledger (DOMAIN.md §3 "The charge on its own day", "Changed answers")

class LedgerRow(NamedTuple):
    """A stored ledger row as the re-resolution sees it. `seq` None: a row about to be written."""

    date: datetime.date
    kind: str
    standard: int = 0
    ftop: int = 0
    seq: int | None = None
    order: int | None = None
    voided: bool = False  # reversed, or itself a reversal
    cause: int | None = None  # a transfer: the row it follows
    points: int = 0  # a correction: as entered
    counter: str = STANDARD

    @property
    def phase(self) -> int:
        return 1 if self.kind == CYCLE_CHARGE else 0


NEW_ROW_ORDER = 10**15  # rows about to be written go after every stored row of their date and phase


@dataclass(frozen=True)
class Resolution:
    """What one source row should be: `changed` says its own points differ from the stored ones
    (or it is new); `transfer` is the automatic transfer that should follow it (0: none), and
    `stale_transfer` the stored one that no longer fits (to reverse), if any."""

    row: LedgerRow
    standard: int
    ftop: int
    changed: bool
    transfer: int = 0
    stale_transfer: LedgerRow | None = None


def resolve_ledger(rows: Sequence[LedgerRow], *, shift_type_on: Callable[[datetime.date], str],
                   rules: Rules = DEFAULT_RULES) -> list[Resolution]:
    """Re-resolve every live source row of one member in effect order (date, shift events before
    the charge, then write order), as the counter table gives them with the events in date
    order. Returns only what must be written: new rows, and stored rows (or their transfers)
    whose points are no longer what the table gives."""
    transfers = {r.cause: r for r in rows if r.kind == TRANSFER and not r.voided and r.cause is not None}
    sources = [r for r in rows if not r.voided and r.kind not in (TRANSFER, REVERSAL)]
    sources.sort(key=lambda r: (r.date, r.phase, r.order if r.order is not None else (r.seq if r.seq is not None else NEW_ROW_ORDER), r.seq or NEW_ROW_ORDER))
    std = ftop = 0
    plan: list[Resolution] = []
    for row in sources:
        if row.kind == OPENING:
            main = (row.standard, row.ftop)
            new_std, new_ftop = std + row.standard, ftop + row.ftop
            moved = min(-new_std, new_ftop) if shift_type_on(row.date) == STANDARD and new_std < 0 and new_ftop > 0 else 0
        else:
            resolved = resolve(row.kind, shift_type=shift_type_on(row.date), standard=std, ftop=ftop,
                               points=row.points, counter=row.counter, rules=rules)
            main = resolved[0][1:]
            moved = resolved[1][1] if len(resolved) > 1 else 0
        stored_transfer = transfers.get(row.seq) if row.seq is not None else None
        changed = row.seq is None or main != (row.standard, row.ftop)
        # A changed row is written anew with its own transfer: the old transfer goes with it.
        transfer_stale = stored_transfer is not None and (changed or stored_transfer.standard != moved)
        if changed or transfer_stale or (moved and stored_transfer is None):
            plan.append(Resolution(row, main[0], main[1], changed, moved, stored_transfer if transfer_stale else None))
        std, ftop = std + main[0] + moved, ftop + main[1] - moved
    return plan


def events_after(rows: Sequence[LedgerRow], resolutions: Sequence[Resolution]) -> list[Event]:
    """The live events of a ledger once `resolutions` are written (to judge what comes next)."""
    by_seq = {res.row.seq: res for res in resolutions if res.row.seq is not None}
    stale = {res.stale_transfer.seq for res in resolutions if res.stale_transfer is not None}
    events = []
    for row in rows:
        if row.voided or row.seq in stale or row.kind == REVERSAL:
            continue
        res = by_seq.get(row.seq)
        points = (res.standard, res.ftop) if res is not None and res.changed else (row.standard, row.ftop)
        events.append(Event(row.date, row.kind, *points, seq=row.seq or 0, order=row.order))
    fake = NEW_ROW_ORDER
    for res in resolutions:
        if res.row.seq is None:
            fake += 1
            events.append(Event(res.row.date, res.row.kind, res.standard, res.ftop, seq=fake))
        if res.transfer:
            fake += 1
            events.append(Event(res.row.date, TRANSFER, res.transfer, -res.transfer, seq=fake))
    return events


@dataclass(slots=True)
class ReplayState:
    standard: int = 0
    ftop: int = 0
    episode_start: datetime.date | None = None
    streak: int = 0
    unsubscribed: bool = False
    unsubscribed_on: datetime.date | None = None
    unsubscription_kept: bool = False  # a stored mark keeps it (a re-resolution never undoes it)
    last_reenrol: datetime.date | None = None

    def copy(self) -> ReplayState:
        return ReplayState(self.standard, self.ftop, self.episode_start, self.streak, self.unsubscribed,
                           self.unsubscribed_on, self.unsubscription_kept, self.last_reenrol)


def _ordered(events: Iterable[Event]) -> list[Event]:
    """Events in effect order, without reversed rows and their reversals (they cancel out)."""
    events = list(events)
    voided = {e.voids for e in events if e.voids is not None}
    kept = [e for e in events if e.voids is None and e.seq not in voided]
    return sorted(kept, key=lambda e: e.position)


def replay_timeline(events: Iterable[Event], *, shift_type: str, rules: Rules = DEFAULT_RULES) -> list[tuple[datetime.date, ReplayState]]:
    """The state after each date that has events: counters, alert episode, miss streak and
    unsubscription, in date order.

    Each date is taken whole (its shift events, their automatic transfer, then the cycle charge)
    before the episode and the streak rule are checked, so a miss paid at once by banked credit
    neither opens an episode nor counts as a miss leaving a debt. An FTOP member is unsubscribed
    by an event that takes the counter from above the threshold to it or below.
    """
    state = ReplayState()
    timeline: list[tuple[datetime.date, ReplayState]] = []
    for date, group in groupby(_ordered(events), key=lambda e: e.date):
        reenrolled = missed_regular = ftop_crossed = False
        for event in group:
            before = state.ftop
            state.standard += event.standard
            state.ftop += event.ftop
            if event.kind == REENROL:
                state.unsubscribed, state.unsubscribed_on, state.unsubscription_kept, state.streak = False, None, False, 0
                state.last_reenrol = date
                reenrolled, ftop_crossed = True, False
            elif event.kind == UNSUBSCRIBED_MARK:
                if not state.unsubscribed:
                    state.unsubscribed, state.unsubscribed_on = True, date
                state.unsubscription_kept = True
            elif event.kind == MISSED_REGULAR:
                state.streak += 1
                missed_regular = True
            elif event.kind in ATTENDED_KINDS:
                state.streak = 0
            # An opening balance (CONTRACT.md §7) is where the counter starts, not an event that
            # takes it across the threshold: the file's `unsubscribed` column says whether it did.
            if event.kind != OPENING and before > rules.ftop_unsubscribe_below >= state.ftop:
                ftop_crossed = True
        applies = state.standard if shift_type == STANDARD else state.ftop
        if applies >= 0:
            state.episode_start = None
        elif state.episode_start is None or reenrolled:
            state.episode_start = date
        if not state.unsubscribed:
            streak_lost = shift_type == STANDARD and missed_regular and state.streak >= 2 and state.standard < 0
            if streak_lost or (shift_type == FTOP and ftop_crossed):
                state.unsubscribed, state.unsubscribed_on = True, date
        timeline.append((date, state.copy()))
    return timeline


def state_on(timeline: Sequence[tuple[datetime.date, ReplayState]], day: datetime.date) -> ReplayState:
    """The state after every event dated on or before `day`."""
    index = bisect_right([d for d, _ in timeline], day)
    return timeline[index - 1][1] if index else ReplayState()


def replay(events: Iterable[Event], *, shift_type: str, day: datetime.date, rules: Rules = DEFAULT_RULES) -> ReplayState:
    """Counters, alert episode, miss streak and unsubscription after every event dated <= day."""
    return state_on(replay_timeline([e for e in events if e.date <= day], shift_type=shift_type, rules=rules), day)


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
    refusals: tuple[str, ...] = ()  # every refusing row of the table that holds (DOMAIN.md §6)
    unsubscribed_on: datetime.date | None = None
    unsubscription_kept: bool = False


def status_at(
    *,
    day: datetime.date,
    shift_type: str,
    timeline: Sequence[tuple[datetime.date, ReplayState]],
    concerned: bool = True,
    blocked: bool = False,
    has_slot: bool = True,
    work_start: datetime.date | None = None,
    leaves: Sequence[Period] = (),
    exemptions: Sequence[Period] = (),
    extension_grants: Sequence[datetime.date] = (),
    rules: Rules = DEFAULT_RULES,
) -> StatusResult:
    """The working status as of `day` from a replayed timeline: the first matching row of
    DOMAIN.md §5's table, with every refusing row that holds."""
    state = state_on(timeline, day)
    applies = state.standard if shift_type == STANDARD else state.ftop
    owed = max(0, -applies)
    deadline = None
    windows: list[tuple[datetime.date, datetime.date]] = []
    if applies < 0 and state.episode_start is not None:
        deadline = alert_deadline(state.episode_start, [*leaves, *exemptions], alert_days=rules.alert_days)
        grants = [g for g in extension_grants if g <= day]
        windows = extension_windows(grants, episode_start=state.episode_start, deadline=deadline, extension_days=rules.extension_days)

    grace_from = max(d for d in (work_start, state.last_reenrol) if d is not None) if (work_start or state.last_reenrol) else None
    no_slot = (
        shift_type == STANDARD and not has_slot and grace_from is not None
        and (day - grace_from).days > rules.no_slot_grace_days
    )
    delay_until = next((end for start, end in windows if start <= day <= end), None)
    exempted = any(p.covers(day) for p in exemptions)
    holds = {
        BLOCKED: blocked,
        UNSUBSCRIBED: state.unsubscribed or no_slot,
        ON_LEAVE: any(p.covers(day) for p in leaves),
        SUSPENDED: applies < 0 and not exempted and delay_until is None and deadline is not None and day >= deadline,
    }
    refusals = tuple(code for code in REFUSING if holds[code]) if concerned else ()

    def result(status: str, delay: datetime.date | None = None) -> StatusResult:
        return StatusResult(
            status, state.standard, state.ftop, owed, deadline, delay, state.episode_start,
            state.unsubscribed, tuple(windows), refusals, state.unsubscribed_on, state.unsubscription_kept,
        )

    if not concerned:
        return result(NOT_CONCERNED)
    for code in (BLOCKED, UNSUBSCRIBED, ON_LEAVE):
        if holds[code]:
            return result(code)
    if exempted:
        return result(EXEMPTED)
    if applies < 0:
        if delay_until is not None:
            return result(DELAY, delay_until)
        return result(SUSPENDED if holds[SUSPENDED] else ALERT)
    return result(UP_TO_DATE)


def compute(
    *,
    day: datetime.date,
    shift_type: str,
    events: Iterable[Event],
    rules: Rules = DEFAULT_RULES,
    **facts,
) -> StatusResult:
    """The working status as of `day` (see `status_at` for the facts it takes)."""
    timeline = replay_timeline([e for e in events if e.date <= day], shift_type=shift_type, rules=rules)
    return status_at(day=day, shift_type=shift_type, timeline=timeline, rules=rules, **facts)


def status_since(
    *,
    day: datetime.date,
    shift_type: str,
    events: Sequence[Event],
    floor: datetime.date,
    slot_ends: Sequence[datetime.date | None] = (),
    rules: Rules = DEFAULT_RULES,
    **facts,
) -> datetime.date:
    """The date from which the status of `day` has held without a break (never before `floor`):
    the date of the event, deadline, leave or extension boundary that caused it, not the date a
    job noticed it (DOMAIN.md §5). The status only changes on those dates, so only they are tried.
    """
    events = [e for e in events if e.date <= day]
    timeline = replay_timeline(events, shift_type=shift_type, rules=rules)

    def at(when: datetime.date) -> StatusResult:
        has_slot = any(end is None or end >= when for end in slot_ends)
        return status_at(day=when, shift_type=shift_type, timeline=timeline, has_slot=has_slot, rules=rules, **facts)

    current = at(day)
    points = {e.date for e in events} | {floor}
    for period in (*facts.get("leaves", ()), *facts.get("exemptions", ())):
        points.add(period.start)
        if period.end is not None:
            points.add(period.end + ONE_DAY)
    for start, end in current.extension_windows:
        points.update((start, end + ONE_DAY))
    if current.alert_deadline is not None:
        points.add(current.alert_deadline)
    points.update(end + ONE_DAY for end in slot_ends if end is not None)
    work_start = facts.get("work_start")
    for origin in (work_start, current.unsubscribed_on):
        if origin is not None:
            points.add(origin + datetime.timedelta(days=rules.no_slot_grace_days + 1))
    since = day
    for point in sorted((p for p in points if floor <= p <= day), reverse=True):
        if at(point).status != current.status:
            break
        since = point
    return since


def value_on(history: Sequence[tuple[datetime.date, str]], day: datetime.date) -> str | None:
    """The value a dated history (date, value), in write order, gives on `day`."""
    value = None
    for _index, (when, item) in sorted(enumerate(history), key=lambda pair: (pair[1][0], pair[0])):
        if when > day:
            break
        value = item
    return value


def held_throughout(history: Sequence[tuple[datetime.date, str]], value: str, first: datetime.date, last: datetime.date) -> bool:
    """Did a dated history give `value` on every day of [first, last]?"""
    if value_on(history, first) != value:
        return False
    return all(item == value for when, item in history if first < when <= last)


def owes_cycle_charge(
    cycle_start: datetime.date,
    *,
    membership_history: Sequence[tuple[datetime.date, str]],
    shift_type_history: Sequence[tuple[datetime.date, str]],
    leaves: Sequence[Period],
    exemptions: Sequence[Period],
    events: Iterable[Event],
    rules: Rules = DEFAULT_RULES,
    charged_through: datetime.date | None = None,
) -> bool:
    """An FTOP member owes the charge of a cycle start when, for all of the 28 days before it,
    they were active, FTOP, not on leave, not exempted and not unsubscribed (DOMAIN.md §3), judged
    on dated history, not on what they are when the job runs. Members imported with their opening
    counters count as charged up to `charged_through` (the import date)."""
    if charged_through is not None and cycle_start <= charged_through:
        return False
    first = cycle_start - datetime.timedelta(days=rules.charge_window_days)
    last = cycle_start - ONE_DAY
    if not held_throughout(membership_history, ACTIVE_MEMBERSHIP, first, last):
        return False
    if not held_throughout(shift_type_history, FTOP, first, last):
        return False
    for period in (*leaves, *exemptions):
        if period.start <= last and (period.end is None or period.end >= first):
            return False
    # Unsubscribed at any point of the window, or by the cycle start day's own shift events.
    events = [e for e in events if e.date <= cycle_start and not (e.date == cycle_start and e.kind == CYCLE_CHARGE)]
    timeline = replay_timeline(events, shift_type=FTOP, rules=rules)
    if state_on(timeline, first).unsubscribed:
        return False
    return not any(state.unsubscribed for date, state in timeline if first < date <= cycle_start)


ACTIVE_MEMBERSHIP = "active"
