"""Qualified seats (DOMAIN.md §9), a pure core: no database, no clock.

A shift (or a template, for regular slots) has `capacity` seats; its requirements say how many of
them need a qualification (in the template's order), the rest are open seats. A registration
takes one seat: a qualification's seat, or an open seat (`OPEN`, None).

- `Seats.free(seat)`: free seats of that kind. A requirement added after registrations were made
  takes only free seats: the registrations already there keep theirs, so a kind may hold more
  than its number (they stay) and nobody takes a seat beyond the capacity.
- `choose`: the seat a booking takes. A seat the member names, if they hold its qualification
  and it is free; otherwise the free qualified seat they qualify for (among several, the
  qualification with the fewest holders, then the template's order), before an open seat.
  A member without the qualification takes only open seats: when only seats they do not qualify
  for are free, the answer is `not_qualified`; with no free seat at all, `shift_full`.
- `regular_seat`: the seat of a slot holder's registration on one date.
- `empty_qualified`: the qualified seats still empty on a date (none taken by someone who holds
  the qualification that day): the "no leader" flag.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

OPEN = None


class _Auto:
    def __repr__(self):
        return "AUTO"


AUTO = _Auto()  # no seat named: the rule chooses

# Why a seat was chosen (the booking page says it in words).
NAMED, QUALIFIED, OPEN_SEAT, OVERRIDE, BEYOND = "named", "qualified", "open", "override", "beyond_capacity"
# Refusals (CONTRACT.md §5 codes; `no_such_seat` is bad input).
SHIFT_FULL, NOT_QUALIFIED, NO_SUCH_SEAT = "shift_full", "not_qualified", "no_such_seat"


@dataclass(frozen=True)
class Requirement:
    qualification: int
    seats: int


@dataclass(frozen=True)
class Seats:
    capacity: int
    requirements: tuple[Requirement, ...] = ()
    taken: Mapping[int | None, int] = field(default_factory=dict)

    @property
    def total_taken(self) -> int:
        return sum(self.taken.values())

    @property
    def room(self) -> int:
        return max(0, self.capacity - self.total_taken)

    @property
    def open_seats(self) -> int:
        return max(0, self.capacity - sum(r.seats for r in self.requirements))

    def required(self, seat: int | None) -> int:
        if seat is OPEN:
            return self.open_seats
        return next((r.seats for r in self.requirements if r.qualification == seat), 0)

    def has(self, seat: int | None) -> bool:
        return seat is OPEN or any(r.qualification == seat for r in self.requirements)

    def free(self, seat: int | None) -> int:
        return min(self.room, max(0, self.required(seat) - self.taken.get(seat, 0)))

    def free_by_seat(self) -> dict[int | None, int]:
        """{qualification id: free seats, ..., OPEN: free open seats}, in the template's order."""
        return {**{r.qualification: self.free(r.qualification) for r in self.requirements}, OPEN: self.free(OPEN)}

    def with_one_more(self, seat: int | None) -> Seats:
        return Seats(self.capacity, self.requirements, {**self.taken, seat: self.taken.get(seat, 0) + 1})

    def with_one_less(self, seat: int | None) -> Seats:
        return Seats(self.capacity, self.requirements, {**self.taken, seat: max(0, self.taken.get(seat, 0) - 1)})


@dataclass(frozen=True)
class Choice:
    seat: int | None = OPEN
    why: str = ""
    refusal: str = ""  # "" when a seat was found

    @property
    def ok(self) -> bool:
        return not self.refusal


def _ranked(seats: Seats, candidates, holders: Mapping[int, int]) -> list[int]:
    order = {r.qualification: index for index, r in enumerate(seats.requirements)}
    return sorted(candidates, key=lambda q: (holders.get(q, 0), order[q]))


def choose(
    seats: Seats, *, held: set[int], named=AUTO, holders: Mapping[int, int] | None = None,
    bound: bool = True, override: bool = False,
) -> Choice:
    """The seat a booking takes (see the module's docstring).

    `held`: the qualifications the member holds on the shift's date. `holders`: how many members
    hold each qualification. `bound=False` (coordinators on a shift that has started): with no
    seat left, an open seat beyond the capacity. `override`: coordinators confirmed a member
    without the qualification (the parameter allows it, with a reason)."""
    holders = holders or {}
    if named is not AUTO:
        if not seats.has(named):
            return Choice(named, refusal=NO_SUCH_SEAT)
        if named is not OPEN and named not in held and not override:
            return Choice(named, refusal=NOT_QUALIFIED)
        if seats.free(named) > 0:
            why = NAMED if named is OPEN or named in held else OVERRIDE
            return Choice(named, why)
        return Choice(OPEN, BEYOND) if not bound else Choice(named, refusal=SHIFT_FULL)
    mine = [r.qualification for r in seats.requirements if r.qualification in held and seats.free(r.qualification) > 0]
    if mine:
        return Choice(_ranked(seats, mine, holders)[0], QUALIFIED)
    if seats.free(OPEN) > 0:
        return Choice(OPEN, OPEN_SEAT)
    others = [r.qualification for r in seats.requirements if seats.free(r.qualification) > 0]
    if others and override:
        return Choice(_ranked(seats, others, holders)[0], OVERRIDE)
    if not bound:
        return Choice(OPEN, BEYOND)
    return Choice(OPEN, refusal=NOT_QUALIFIED if others else SHIFT_FULL)


def regular_seat(seats: Seats, *, slot_seat: int | None, held: set[int], holders: Mapping[int, int] | None = None) -> int | None | _Auto:
    """The seat of a slot holder's registration on one date: the slot's seat while they hold its
    qualification and it is free; otherwise the best seat they may take; and when none is free,
    still the slot's seat if it is free (a holder whose qualification expired keeps the slot: the
    shift is flagged). AUTO when there is no seat for them at all."""
    if seats.free(slot_seat) > 0 and (slot_seat is OPEN or slot_seat in held):
        return slot_seat
    choice = choose(seats, held=held, holders=holders)
    if choice.ok:
        return choice.seat
    if seats.free(slot_seat) > 0:
        return slot_seat
    return AUTO


def empty_qualified(requirements: tuple[Requirement, ...], filled: Mapping[int, int]) -> dict[int, int]:
    """{qualification id: seats still empty} where fewer members who hold the qualification that
    day sit on its seats (`filled`) than the requirement asks."""
    return {r.qualification: r.seats - filled.get(r.qualification, 0) for r in requirements if filled.get(r.qualification, 0) < r.seats}


# --- the text form of requirements (CONTRACT.md §7 `templates.csv`: `leader:1;cashier:2`) -------------

def requirements_text(pairs) -> str:
    """[(code, seats), ...] -> "leader:1;cashier:2" (in order, seats > 0)."""
    return ";".join(f"{code}:{seats}" for code, seats in pairs if seats)


def parse_requirements_text(text: str) -> list[tuple[str, int]]:
    """"leader:1;cashier:2" -> [("leader", 1), ("cashier", 2)]; empty text -> []. Raises ValueError
    with what is wrong (a code named twice, a seat count that is not a whole number from 1)."""
    pairs: list[tuple[str, int]] = []
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        code, sep, seats = part.partition(":")
        code, seats = code.strip(), seats.strip()
        if not sep or not code or not seats.isdigit() or int(seats) < 1:
            raise ValueError(_("“%(part)s”: write code:seats, e.g. leader:1") % {"part": part[:40]})
        if any(code == known for known, _n in pairs):
            raise ValueError(_("“%(code)s” is named twice") % {"code": code[:40]})
        pairs.append((code, int(seats)))
    return pairs
