"""The working status and the counters (DOMAIN.md §3-§5) as pure functions: one test per rule,
beyond the shared vectors of test_status_vectors.py. No database, no clock."""
import datetime
import itertools

import pytest

from shifts import status as st

D = datetime.date
DAY = datetime.timedelta(days=1)
LONG_AGO = D(2025, 1, 1)


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def resolved(raw, shift_type=st.STANDARD):
    """[(date, kind) or (date, kind, extra dict)] -> resolved ledger events, as the services write them."""
    items = []
    for entry in raw:
        date, kind, *extra = entry
        items.append({"date": date, "kind": kind, **(extra[0] if extra else {})})
    return st.resolve_sequence(items, shift_type=shift_type)


def status_of(raw, day, shift_type=st.STANDARD, **kw):
    kw.setdefault("work_start", LONG_AGO)
    return st.compute(day=day, shift_type=shift_type, events=resolved(raw, shift_type), **kw)


def correction(points, counter=st.STANDARD):
    return {"points": points, "counter": counter}


# --- §3: what each event does to the counters (resolve) ----------------------------------------

S, F = st.STANDARD, st.FTOP


@pytest.mark.parametrize(
    ("kind", "shift_type", "standard", "ftop", "expected"),
    [
        pytest.param(st.ATTENDED_REGULAR, S, 0, 0, [(st.ATTENDED_REGULAR, 0, 0)], id="attends-own-regular-shift-0"),
        pytest.param(st.MISSED_REGULAR, S, 0, 0, [(st.MISSED_REGULAR, -2, 0)], id="misses-own-regular-shift-minus-2"),
        pytest.param(st.MISSED_REGULAR, S, -3, 0, [(st.MISSED_REGULAR, -2, 0)], id="miss-with-a-debt-minus-2"),
        pytest.param(st.EXCUSED_REGULAR, S, 0, 0, [(st.EXCUSED_REGULAR, -1, 0)], id="excused-own-regular-minus-1"),
        pytest.param(st.ATTENDED_OTHER, S, -2, 0, [(st.ATTENDED_OTHER, 1, 0)], id="make-up-with-debt-plus-1-standard"),
        pytest.param(st.ATTENDED_OTHER, S, -1, 0, [(st.ATTENDED_OTHER, 1, 0)], id="last-make-up-brings-standard-to-0"),
        pytest.param(st.ATTENDED_OTHER, S, 0, 0, [(st.ATTENDED_OTHER, 0, 1)], id="extra-shift-at-0-banked-on-ftop"),
        pytest.param(st.ATTENDED_OTHER, S, 0, 4, [(st.ATTENDED_OTHER, 0, 1)], id="extra-shift-banks-more"),
        pytest.param(st.MISSED_OTHER, S, 0, 0, [(st.MISSED_OTHER, -1, 0)], id="missed-one-off-minus-1"),
        pytest.param(st.EXCUSED_OTHER, S, -1, 0, [(st.EXCUSED_OTHER, 0, 0)], id="one-off-excused-standard-0"),
        pytest.param(st.FTOP_ATTENDED, F, 0, 0, [(st.FTOP_ATTENDED, 0, 1)], id="ftop-attends-plus-1"),
        pytest.param(st.FTOP_ATTENDED, F, 0, -3, [(st.FTOP_ATTENDED, 0, 1)], id="ftop-attends-in-debt-plus-1"),
        pytest.param(st.FTOP_MISSED, F, 0, 0, [(st.FTOP_MISSED, 0, -1)], id="ftop-misses-minus-1"),
        pytest.param(st.FTOP_EXCUSED, F, 0, 0, [(st.FTOP_EXCUSED, 0, 0)], id="ftop-one-off-excused-0"),
        pytest.param(st.CYCLE_CHARGE, F, 0, 1, [(st.CYCLE_CHARGE, 0, -1)], id="charge-at-1-is-minus-1"),
        pytest.param(st.CYCLE_CHARGE, F, 0, 3, [(st.CYCLE_CHARGE, 0, -1)], id="charge-at-3-is-minus-1"),
        pytest.param(st.CYCLE_CHARGE, F, 0, 0, [(st.CYCLE_CHARGE, 0, -2)], id="charge-at-0-is-minus-2"),
        pytest.param(st.CYCLE_CHARGE, F, 0, -1, [(st.CYCLE_CHARGE, 0, -2)], id="charge-in-debt-is-minus-2"),
        pytest.param(st.REENROL, S, -4, 0, [(st.REENROL, 0, 0)], id="reenrolment-keeps-the-counters"),
        pytest.param(st.REVERSAL, S, -2, 0, [(st.REVERSAL, 0, 0)], id="reversal-itself-resolves-to-nothing"),
    ],
)
def test_resolve_event_effects(kind, shift_type, standard, ftop, expected):
    assert st.resolve(kind, shift_type=shift_type, standard=standard, ftop=ftop) == expected


@pytest.mark.parametrize(
    ("standard", "ftop", "points", "counter", "expected"),
    [
        pytest.param(-2, 0, 1, S, [(st.CORRECTION, 1, 0)], id="plus-1-on-a-debt"),
        pytest.param(-2, 0, 2, S, [(st.CORRECTION, 2, 0)], id="exactly-back-to-0"),
        pytest.param(-3, 0, 5, S, [(st.CORRECTION, 3, 2)], id="overflow-above-0-goes-to-ftop"),
        pytest.param(0, 1, 2, S, [(st.CORRECTION, 0, 2)], id="at-0-everything-goes-to-ftop"),
        pytest.param(0, 0, -2, S, [(st.CORRECTION, -2, 0)], id="negative-standard"),
        pytest.param(0, 3, -2, S, [(st.CORRECTION, -2, 0), (st.TRANSFER, 2, -2)], id="negative-then-credit-pays"),
        pytest.param(0, 0, -3, F, [(st.CORRECTION, 0, -3)], id="ftop-counter-as-entered"),
        pytest.param(-2, 0, 3, F, [(st.CORRECTION, 0, 3), (st.TRANSFER, 2, -2)], id="ftop-credit-pays-standard-debt"),
    ],
)
def test_correction_as_entered_and_never_lifts_standard_above_zero(standard, ftop, points, counter, expected):
    assert st.resolve(st.CORRECTION, shift_type=S, standard=standard, ftop=ftop, points=points, counter=counter) == expected


@pytest.mark.parametrize(
    ("kind", "standard", "ftop", "expected"),
    [
        pytest.param(st.MISSED_REGULAR, 0, 3, [(st.MISSED_REGULAR, -2, 0), (st.TRANSFER, 2, -2)], id="credit-3-debt-2-moves-2"),
        pytest.param(st.MISSED_REGULAR, 0, 1, [(st.MISSED_REGULAR, -2, 0), (st.TRANSFER, 1, -1)], id="credit-1-debt-2-moves-1"),
        pytest.param(st.EXCUSED_REGULAR, 0, 5, [(st.EXCUSED_REGULAR, -1, 0), (st.TRANSFER, 1, -1)], id="excused-paid-by-credit"),
        pytest.param(st.MISSED_OTHER, -1, 2, [(st.MISSED_OTHER, -1, 0), (st.TRANSFER, 2, -2)], id="old-debt-and-new-both-paid"),
        pytest.param(st.MISSED_REGULAR, 0, 0, [(st.MISSED_REGULAR, -2, 0)], id="no-credit-no-transfer"),
    ],
)
def test_automatic_transfer_moves_min_of_debt_and_credit(kind, standard, ftop, expected):
    assert st.resolve(kind, shift_type=S, standard=standard, ftop=ftop) == expected


def test_no_automatic_transfer_for_an_ftop_member():
    # The transfer is a standard member's rule; an FTOP member's old standard debt stays put.
    assert st.resolve(st.FTOP_ATTENDED, shift_type=F, standard=-2, ftop=1) == [(st.FTOP_ATTENDED, 0, 1)]


def test_unknown_event_kind_is_refused():
    with pytest.raises(ValueError, match="unknown"):
        st.resolve("holiday", shift_type=S, standard=0, ftop=0)


def test_resolve_sequence_puts_shift_events_before_the_cycle_charge_on_one_date():
    cycle_start = D(2026, 3, 2)
    # Listed charge first: it must still be computed after the attendance of the same day.
    events = resolved([(cycle_start, st.CYCLE_CHARGE), (cycle_start, st.FTOP_ATTENDED)], shift_type=F)
    assert [(e.kind, e.ftop) for e in events] == [(st.FTOP_ATTENDED, 1), (st.CYCLE_CHARGE, -1)]
    assert st.compute(day=cycle_start, shift_type=F, events=events).ftop == 0


def test_cycle_charge_follows_earlier_dates_before_later_shift_events():
    start = D(2026, 3, 2)
    events = resolved([(start + DAY, st.FTOP_ATTENDED), (start, st.CYCLE_CHARGE)], shift_type=F)
    assert [(e.date, e.kind, e.ftop) for e in events] == [
        (start, st.CYCLE_CHARGE, -2), (start + DAY, st.FTOP_ATTENDED, 1),
    ]


def test_ledger_order_on_one_date_puts_the_charge_last_whatever_its_seq():
    start = D(2026, 3, 2)
    events = [st.Event(start, st.CYCLE_CHARGE, 0, -1, seq=1), st.Event(start, st.FTOP_ATTENDED, 0, 1, seq=2)]
    assert [e.kind for e in st._ordered(events)] == [st.FTOP_ATTENDED, st.CYCLE_CHARGE]


# --- makeups_owed and the counter that applies --------------------------------------------------

@pytest.mark.parametrize(
    ("shift_type", "raw", "owed", "status"),
    [
        pytest.param(S, [(D(2026, 3, 4), st.MISSED_REGULAR)], 2, st.ALERT, id="standard-debt"),
        pytest.param(S, [(D(2026, 3, 4), st.ATTENDED_OTHER)], 0, st.UP_TO_DATE, id="standard-credit-owes-nothing"),
        pytest.param(F, [(D(2026, 3, 2), st.CYCLE_CHARGE), (D(2026, 3, 3), st.FTOP_MISSED)], 3, st.ALERT, id="ftop-debt"),
        # An FTOP member's leftover standard debt does not apply to them.
        pytest.param(F, [(D(2026, 3, 4), st.MISSED_REGULAR)], 0, st.UP_TO_DATE, id="ftop-ignores-standard"),
        # A standard member's FTOP counter (credit) is not what applies.
        pytest.param(S, [(D(2026, 3, 4), st.CORRECTION, correction(-2, F))], 0, st.UP_TO_DATE, id="standard-ignores-ftop"),
    ],
)
def test_makeups_owed_is_minus_the_counter_that_applies(shift_type, raw, owed, status):
    result = status_of(raw, D(2026, 3, 10), shift_type=shift_type)
    assert (result.makeups_owed, result.status) == (owed, status)


# --- §5: the status table, first matching row wins ---------------------------------------------

AS_OF = D(2026, 6, 15)
CONDITIONS = ("blocked", "unsubscribed", "leave", "exemption")
DEBTS = {
    None: dict(raw=[], grants=[]),
    # Miss 5 days ago: deadline AS_OF+23.
    "alert": dict(raw=[(AS_OF - days(5), st.MISSED_REGULAR)], grants=[]),
    # Miss 40 days ago: deadline AS_OF-12, passed.
    "suspended": dict(raw=[(AS_OF - days(40), st.MISSED_REGULAR)], grants=[]),
    # The same, with an extension granted 15 days ago: delay from AS_OF-12 to AS_OF+15.
    "delay": dict(raw=[(AS_OF - days(40), st.MISSED_REGULAR)], grants=[AS_OF - days(15)]),
}
ROW_STATUS = {"blocked": st.BLOCKED, "unsubscribed": st.UNSUBSCRIBED, "leave": st.ON_LEAVE, "exemption": st.EXEMPTED}


def _scenario(conditions, debt):
    return status_of(
        DEBTS[debt]["raw"],
        AS_OF,
        blocked="blocked" in conditions,
        # A standard member without any slot long after their work start: row 2.
        has_slot="unsubscribed" not in conditions,
        leaves=[st.Period(AS_OF - days(2), AS_OF + days(30))] if "leave" in conditions else [],
        exemptions=[st.Period(AS_OF - days(1), None)] if "exemption" in conditions else [],
        extension_grants=DEBTS[debt]["grants"],
    )


SCENARIOS = [
    (conditions, debt)
    for n in range(len(CONDITIONS) + 1)
    for conditions in itertools.combinations(CONDITIONS, n)
    for debt in DEBTS
]


@pytest.mark.parametrize(
    ("conditions", "debt"), SCENARIOS, ids=["+".join(c) + f"/{d}" if c else f"only/{d}" for c, d in SCENARIOS]
)
def test_first_matching_row_of_the_status_table_wins(conditions, debt):
    expected = next((ROW_STATUS[c] for c in CONDITIONS if c in conditions), debt or st.UP_TO_DATE)
    assert _scenario(conditions, debt).status == expected


@pytest.mark.parametrize(
    ("higher", "lower"),
    [
        ("blocked", "unsubscribed"),
        ("unsubscribed", "leave"),
        ("leave", "exemption"),
    ],
)
def test_each_row_beats_the_next_one(higher, lower):
    assert _scenario((lower,), "suspended").status == ROW_STATUS[lower]
    assert _scenario((higher, lower), "suspended").status == ROW_STATUS[higher]


@pytest.mark.parametrize("debt", ["delay", "alert", "suspended"])
def test_exempted_beats_every_debt_status(debt):
    assert _scenario((), debt).status == debt
    assert _scenario(("exemption",), debt).status == st.EXEMPTED


def test_delay_and_suspended_from_the_same_debt_differ_only_by_the_extension():
    assert _scenario((), "suspended").status == st.SUSPENDED
    delayed = _scenario((), "delay")
    assert (delayed.status, delayed.delay_until) == (st.DELAY, AS_OF + days(15))


def test_not_concerned_beats_everything_and_still_shows_the_counters():
    result = status_of(
        [(D(2026, 3, 4), st.MISSED_REGULAR)], D(2026, 5, 1), concerned=False, blocked=True, has_slot=False,
        leaves=[st.Period(D(2026, 4, 20), D(2026, 5, 20))],
    )
    assert (result.status, result.standard, result.makeups_owed) == (st.NOT_CONCERNED, -2, 2)


def test_unsubscribed_by_the_streak_beats_leave_and_debt():
    raw = [(D(2026, 3, 4), st.MISSED_REGULAR), (D(2026, 4, 1), st.MISSED_REGULAR)]
    result = status_of(raw, D(2026, 4, 10), leaves=[st.Period(D(2026, 4, 5), D(2026, 5, 5))])
    assert (result.status, result.unsubscribed) == (st.UNSUBSCRIBED, True)


# --- events after the date do not count ---------------------------------------------------------

def test_events_after_the_date_are_not_counted():
    raw = [(D(2026, 3, 4), st.ATTENDED_OTHER), (D(2026, 3, 18), st.MISSED_REGULAR)]
    before = status_of(raw, D(2026, 3, 17))
    assert (before.status, before.standard, before.ftop) == (st.UP_TO_DATE, 0, 1)
    on_the_day = status_of(raw, D(2026, 3, 18))
    assert (on_the_day.status, on_the_day.standard, on_the_day.ftop) == (st.ALERT, -1, 0)


# --- the alert episode and its deadline ---------------------------------------------------------

@pytest.mark.parametrize(
    ("periods", "deadline"),
    [
        pytest.param([], D(2026, 3, 30), id="no-pause-day-after-the-28th-day"),
        pytest.param([st.Period(D(2026, 1, 1), D(2026, 3, 1))], D(2026, 3, 30), id="period-before-the-episode"),
        pytest.param([st.Period(D(2026, 3, 30), D(2026, 5, 1))], D(2026, 3, 30), id="period-from-the-deadline-on"),
        # 8 days (03-02..03-09), leave 03-10..04-06, 20 more days 04-07..04-26.
        pytest.param([st.Period(D(2026, 3, 10), D(2026, 4, 6))], D(2026, 4, 27), id="leave-pauses"),
        # The 28th day (03-29) is covered: the count resumes on 03-30 for the last day.
        pytest.param([st.Period(D(2026, 3, 29), D(2026, 4, 5))], D(2026, 4, 7), id="28th-day-covered"),
        pytest.param([st.Period(D(2026, 3, 2), D(2026, 3, 29))], D(2026, 4, 27), id="covers-the-first-day"),
        # Leave 03-10..04-06 then an exemption 04-01..04-10: resume 04-11, 20 days -> 04-30.
        pytest.param(
            [st.Period(D(2026, 3, 10), D(2026, 4, 6)), st.Period(D(2026, 4, 1), D(2026, 4, 10))],
            D(2026, 5, 1), id="overlapping-leave-and-exemption",
        ),
        pytest.param(
            [st.Period(D(2026, 3, 5), D(2026, 3, 6)), st.Period(D(2026, 3, 10), D(2026, 3, 10))],
            D(2026, 4, 2), id="two-short-pauses-3-days",
        ),
        pytest.param([st.Period(D(2026, 3, 10), None)], None, id="open-ended-exemption-stops-the-clock"),
        pytest.param([st.Period(D(2026, 4, 1), None)], D(2026, 3, 30), id="open-ended-after-the-deadline"),
    ],
)
def test_alert_deadline_skips_leave_and_exemption_days(periods, deadline):
    assert st.alert_deadline(D(2026, 3, 2), periods) == deadline


def test_alert_deadline_uses_the_alert_days_parameter():
    assert st.alert_deadline(D(2026, 3, 2), [], alert_days=7) == D(2026, 3, 9)
    rules = st.Rules(alert_days=7)
    result = status_of([(D(2026, 3, 2), st.MISSED_REGULAR)], D(2026, 3, 9), rules=rules)
    assert (result.status, result.alert_deadline) == (st.SUSPENDED, D(2026, 3, 9))


def test_alert_until_the_day_before_the_paused_deadline_then_suspended():
    raw = [(D(2026, 3, 2), st.MISSED_REGULAR)]
    leaves = [st.Period(D(2026, 3, 10), D(2026, 4, 6))]
    assert status_of(raw, D(2026, 3, 10), leaves=leaves).status == st.ON_LEAVE
    on_eve = status_of(raw, D(2026, 4, 26), leaves=leaves)
    assert (on_eve.status, on_eve.alert_deadline) == (st.ALERT, D(2026, 4, 27))
    assert status_of(raw, D(2026, 4, 27), leaves=leaves).status == st.SUSPENDED


def test_exemption_days_pause_the_deadline_in_compute_too():
    raw = [(D(2026, 3, 2), st.MISSED_REGULAR)]
    exemptions = [st.Period(D(2026, 3, 10), D(2026, 3, 19))]  # 10 days
    assert status_of(raw, D(2026, 4, 8), exemptions=exemptions).status == st.ALERT
    assert status_of(raw, D(2026, 4, 9), exemptions=exemptions).status == st.SUSPENDED


def test_a_further_debt_during_the_episode_keeps_its_deadline():
    raw = [(D(2026, 3, 4), st.MISSED_REGULAR), (D(2026, 3, 20), st.MISSED_OTHER)]
    result = status_of(raw, D(2026, 3, 25))
    assert (result.standard, result.episode_start, result.alert_deadline) == (-3, D(2026, 3, 4), D(2026, 4, 1))


def test_a_partial_make_up_does_not_end_the_episode():
    raw = [(D(2026, 3, 4), st.MISSED_REGULAR), (D(2026, 3, 10), st.ATTENDED_OTHER)]
    result = status_of(raw, D(2026, 3, 31))
    assert (result.status, result.standard, result.alert_deadline) == (st.ALERT, -1, D(2026, 4, 1))
    assert status_of(raw, D(2026, 4, 1)).status == st.SUSPENDED


def test_back_to_zero_ends_the_episode_and_a_new_debt_opens_a_new_one():
    raw = [
        (D(2026, 3, 4), st.MISSED_REGULAR), (D(2026, 3, 10), st.ATTENDED_OTHER), (D(2026, 3, 12), st.ATTENDED_OTHER),
        (D(2026, 4, 1), st.MISSED_REGULAR),
    ]
    cleared = status_of(raw, D(2026, 3, 12))
    assert (cleared.status, cleared.alert_deadline, cleared.episode_start) == (st.UP_TO_DATE, None, None)
    again = status_of(raw, D(2026, 4, 1))
    assert (again.status, again.episode_start, again.alert_deadline) == (st.ALERT, D(2026, 4, 1), D(2026, 4, 29))


def test_a_miss_paid_at_once_by_banked_credit_opens_no_episode():
    raw = [(D(2026, 3, 2), st.ATTENDED_OTHER), (D(2026, 3, 3), st.ATTENDED_OTHER), (D(2026, 3, 4), st.MISSED_REGULAR)]
    result = status_of(raw, D(2026, 3, 4))
    assert (result.status, result.standard, result.ftop, result.episode_start) == (st.UP_TO_DATE, 0, 0, None)


# --- extensions ----------------------------------------------------------------------------------

EPISODE = D(2026, 3, 2)  # a miss on 03-02: deadline 03-30
MISS = [(EPISODE, st.MISSED_REGULAR)]


@pytest.mark.parametrize(
    ("grants", "windows"),
    [
        pytest.param([D(2026, 3, 10)], [(D(2026, 3, 30), D(2026, 4, 26))], id="during-alert-starts-at-deadline"),
        pytest.param([D(2026, 3, 30)], [(D(2026, 3, 30), D(2026, 4, 26))], id="on-the-deadline"),
        pytest.param([D(2026, 4, 10)], [(D(2026, 4, 10), D(2026, 5, 7))], id="after-deadline-starts-at-grant"),
        pytest.param(
            [D(2026, 3, 10), D(2026, 4, 20)], [(D(2026, 3, 30), D(2026, 4, 26)), (D(2026, 4, 27), D(2026, 5, 24))],
            id="second-chained-after-the-first",
        ),
        pytest.param(
            [D(2026, 4, 20), D(2026, 3, 10)], [(D(2026, 3, 30), D(2026, 4, 26)), (D(2026, 4, 27), D(2026, 5, 24))],
            id="order-of-grants-does-not-matter",
        ),
        pytest.param(
            [D(2026, 3, 10), D(2026, 3, 11)], [(D(2026, 3, 30), D(2026, 4, 26)), (D(2026, 4, 27), D(2026, 5, 24))],
            id="both-granted-during-alert",
        ),
        pytest.param(
            [D(2026, 3, 10), D(2026, 5, 10)], [(D(2026, 3, 30), D(2026, 4, 26)), (D(2026, 5, 10), D(2026, 6, 6))],
            id="second-after-a-gap-starts-at-grant",
        ),
        pytest.param([D(2026, 2, 1)], [], id="grant-of-a-previous-episode-ignored"),
    ],
)
def test_extension_windows_chain_from_the_deadline(grants, windows):
    assert st.extension_windows(grants, episode_start=EPISODE, deadline=D(2026, 3, 30)) == windows


def test_extension_without_deadline_starts_at_its_grant():
    assert st.extension_windows([D(2026, 4, 1)], episode_start=EPISODE, deadline=None, extension_days=10) == [
        (D(2026, 4, 1), D(2026, 4, 10))
    ]


@pytest.mark.parametrize(
    ("day", "status", "delay_until"),
    [
        (D(2026, 3, 10), st.ALERT, None),  # granted today, the delay starts at the deadline
        (D(2026, 3, 29), st.ALERT, None),
        (D(2026, 3, 30), st.DELAY, D(2026, 4, 26)),
        (D(2026, 4, 26), st.DELAY, D(2026, 4, 26)),  # start + 27 days is covered
        (D(2026, 4, 27), st.SUSPENDED, None),
    ],
)
def test_extension_gives_28_days_of_delay(day, status, delay_until):
    result = status_of(MISS, day, extension_grants=[D(2026, 3, 10)])
    assert (result.status, result.delay_until) == (status, delay_until)


def test_two_extensions_give_56_days_of_delay_after_the_deadline():
    grants = [D(2026, 3, 10), D(2026, 4, 20)]
    assert status_of(MISS, D(2026, 5, 24), extension_grants=grants).status == st.DELAY
    assert status_of(MISS, D(2026, 5, 25), extension_grants=grants).status == st.SUSPENDED


def test_extension_granted_while_suspended_delays_from_the_grant():
    assert status_of(MISS, D(2026, 4, 9), extension_grants=[D(2026, 4, 10)]).status == st.SUSPENDED
    result = status_of(MISS, D(2026, 4, 10), extension_grants=[D(2026, 4, 10)])
    assert (result.status, result.delay_until) == (st.DELAY, D(2026, 5, 7))


def test_extension_of_a_previous_episode_does_not_cover_a_new_one():
    raw = [
        (D(2026, 1, 5), st.MISSED_REGULAR), (D(2026, 1, 20), st.ATTENDED_OTHER), (D(2026, 1, 21), st.ATTENDED_OTHER),
        (D(2026, 3, 2), st.MISSED_REGULAR),
    ]
    # Granted on 2026-02-25 the window would have been 02-25..03-24 and cover 03-10; but it belongs
    # to no episode (the counter was 0), and one granted 01-10 belongs to the closed first episode.
    result = status_of(raw, D(2026, 3, 31), extension_grants=[D(2026, 1, 10)])
    assert (result.status, result.episode_start) == (st.SUSPENDED, D(2026, 3, 2))


def test_extension_uses_the_extension_days_parameter():
    result = status_of(MISS, D(2026, 4, 6), extension_grants=[D(2026, 3, 10)], rules=st.Rules(extension_days=7))
    assert result.status == st.SUSPENDED
    assert status_of(MISS, D(2026, 4, 5), extension_grants=[D(2026, 3, 10)], rules=st.Rules(extension_days=7)).status == st.DELAY


def test_back_to_zero_clears_the_delay():
    raw = [*MISS, (D(2026, 4, 1), st.ATTENDED_OTHER), (D(2026, 4, 2), st.ATTENDED_OTHER)]
    result = status_of(raw, D(2026, 4, 5), extension_grants=[D(2026, 3, 10)])
    assert (result.status, result.delay_until, result.alert_deadline) == (st.UP_TO_DATE, None, None)


# --- automatic unsubscription: the standard streak -----------------------------------------------

R1, R2, R3 = D(2026, 3, 4), D(2026, 4, 1), D(2026, 4, 29)  # three regular shifts of one slot (week A, Wednesday)


@pytest.mark.parametrize(
    ("raw", "unsubscribed_on"),
    [
        pytest.param([(R1, st.MISSED_REGULAR), (R2, st.MISSED_REGULAR)], R2, id="two-consecutive-misses"),
        pytest.param([(R1, st.MISSED_REGULAR), (R2, st.ATTENDED_REGULAR), (R3, st.MISSED_REGULAR)], None, id="attended-regular-breaks"),
        pytest.param(
            [(R1, st.MISSED_REGULAR), (D(2026, 3, 20), st.ATTENDED_OTHER), (R2, st.MISSED_REGULAR)], None,
            id="make-up-breaks",
        ),
        pytest.param(
            [(R1, st.MISSED_REGULAR), (D(2026, 3, 20), st.FTOP_ATTENDED), (R2, st.MISSED_REGULAR)], None,
            id="any-attended-kind-breaks",
        ),
        pytest.param(
            [(R1, st.MISSED_REGULAR), (R2, st.EXCUSED_REGULAR), (R3, st.MISSED_REGULAR)], R3, id="excused-does-not-break",
        ),
        pytest.param([(R1, st.EXCUSED_REGULAR), (R2, st.EXCUSED_REGULAR)], None, id="excused-does-not-count"),
        pytest.param([(R1, st.EXCUSED_REGULAR), (R2, st.MISSED_REGULAR)], None, id="excused-then-one-miss"),
        pytest.param([(R1, st.MISSED_REGULAR), (D(2026, 3, 20), st.MISSED_OTHER)], None, id="missed-one-off-does-not-count"),
        pytest.param(
            [(R1, st.MISSED_REGULAR), (D(2026, 3, 20), st.MISSED_OTHER), (R2, st.MISSED_REGULAR)], R2,
            id="missed-one-off-does-not-break",
        ),
        pytest.param(
            [(R1, st.MISSED_REGULAR), (D(2026, 3, 20), st.CORRECTION, correction(2)), (R2, st.MISSED_REGULAR)], R2,
            id="a-correction-does-not-break",
        ),
        # Banked credit 3: first miss fully paid (0, credit 1), second leaves -1: slot lost.
        pytest.param(
            [(D(2026, 2, d), st.ATTENDED_OTHER) for d in (10, 11, 12)] + [(R1, st.MISSED_REGULAR), (R2, st.MISSED_REGULAR)],
            R2, id="credit-3-leaves-a-debt-at-the-second-miss",
        ),
        pytest.param(
            [(D(2026, 2, d), st.ATTENDED_OTHER) for d in (10, 11, 12, 13)] + [(R1, st.MISSED_REGULAR), (R2, st.MISSED_REGULAR)],
            None, id="credit-4-pays-both-misses",
        ),
        pytest.param(
            [(R1, st.MISSED_REGULAR), (R2, st.MISSED_REGULAR), (D(2026, 4, 10), st.REENROL), (R3, st.MISSED_REGULAR)],
            None, id="reenrolment-resets-the-streak",
        ),
    ],
)
def test_second_consecutive_regular_miss_with_a_debt_unsubscribes(raw, unsubscribed_on):
    final = status_of(raw, D(2026, 5, 10))
    assert final.unsubscribed is (unsubscribed_on is not None)
    if unsubscribed_on is not None:
        assert status_of(raw, unsubscribed_on - DAY).status != st.UNSUBSCRIBED
        assert status_of(raw, unsubscribed_on).status == st.UNSUBSCRIBED


def test_unsubscription_stays_after_the_debt_is_paid_until_reenrolment():
    raw = [(R1, st.MISSED_REGULAR), (R2, st.MISSED_REGULAR), (D(2026, 4, 10), st.CORRECTION, correction(4))]
    result = status_of(raw, D(2026, 4, 20))
    assert (result.status, result.standard) == (st.UNSUBSCRIBED, 0)


# --- automatic unsubscription: FTOP at -8 --------------------------------------------------------

@pytest.mark.parametrize(
    ("points", "unsubscribed"), [(-7, False), (-8, True), (-9, True)],
)
def test_ftop_member_is_unsubscribed_at_minus_8(points, unsubscribed):
    raw = [(D(2026, 3, 2), st.CORRECTION, correction(points, F))]
    result = status_of(raw, D(2026, 3, 3), shift_type=F)
    assert result.unsubscribed is unsubscribed
    assert result.status == (st.UNSUBSCRIBED if unsubscribed else st.ALERT)


def test_ftop_member_crosses_minus_8_by_a_miss_and_stays_unsubscribed_after_working():
    raw = [(D(2026, 3, 2), st.CORRECTION, correction(-7, F)), (D(2026, 3, 5), st.FTOP_MISSED)]
    raw += [(D(2026, 3, d), st.FTOP_ATTENDED) for d in (10, 11, 12)]
    assert status_of(raw, D(2026, 3, 4), shift_type=F).status == st.ALERT
    assert status_of(raw, D(2026, 3, 5), shift_type=F).status == st.UNSUBSCRIBED
    later = status_of(raw, D(2026, 3, 20), shift_type=F)
    assert (later.status, later.ftop) == (st.UNSUBSCRIBED, -5)


def test_ftop_unsubscription_threshold_is_a_parameter():
    raw = [(D(2026, 3, 2), st.CORRECTION, correction(-5, F))]
    assert status_of(raw, D(2026, 3, 3), shift_type=F).status == st.ALERT
    assert status_of(raw, D(2026, 3, 3), shift_type=F, rules=st.Rules(ftop_unsubscribe_below=-5)).status == st.UNSUBSCRIBED


def test_the_minus_8_rule_is_for_ftop_members_only():
    raw = [(D(2026, 3, 2), st.CORRECTION, correction(-8))]
    result = status_of(raw, D(2026, 3, 3))
    assert (result.status, result.unsubscribed, result.standard) == (st.ALERT, False, -8)


def test_reenrolled_ftop_member_at_minus_8_is_not_unsubscribed_again_until_it_crosses_again():
    raw = [(D(2026, 3, 2), st.CORRECTION, correction(-8, F)), (D(2026, 3, 10), st.REENROL)]
    result = status_of(raw, D(2026, 3, 10), shift_type=F)
    assert (result.status, result.unsubscribed, result.alert_deadline) == (st.ALERT, False, D(2026, 4, 7))


# --- re-enrolment ---------------------------------------------------------------------------------

def test_reenrolment_keeps_the_debt_and_starts_a_new_episode_on_its_date():
    raw = [(R1, st.MISSED_REGULAR), (R2, st.MISSED_REGULAR), (D(2026, 5, 10), st.REENROL)]
    before = status_of(raw, D(2026, 5, 9))
    assert (before.status, before.episode_start) == (st.UNSUBSCRIBED, R1)
    result = status_of(raw, D(2026, 5, 10))
    assert (result.status, result.standard, result.unsubscribed) == (st.ALERT, -4, False)
    assert (result.episode_start, result.alert_deadline) == (D(2026, 5, 10), D(2026, 6, 7))
    assert status_of(raw, D(2026, 6, 7)).status == st.SUSPENDED


def test_reenrolment_without_a_debt_starts_no_episode():
    raw = [(R1, st.MISSED_REGULAR), (R2, st.MISSED_REGULAR), (D(2026, 5, 1), st.CORRECTION, correction(4)),
           (D(2026, 5, 10), st.REENROL)]
    result = status_of(raw, D(2026, 5, 10))
    assert (result.status, result.episode_start, result.alert_deadline) == (st.UP_TO_DATE, None, None)


def test_reenrolled_ftop_member_above_minus_8_gets_a_new_episode():
    raw = [(D(2026, 3, 2), st.CORRECTION, correction(-8, F)), (D(2026, 3, 5), st.CORRECTION, correction(3, F)),
           (D(2026, 3, 10), st.REENROL)]
    assert status_of(raw, D(2026, 3, 9), shift_type=F).status == st.UNSUBSCRIBED
    result = status_of(raw, D(2026, 3, 10), shift_type=F)
    assert (result.status, result.ftop, result.alert_deadline) == (st.ALERT, -5, D(2026, 4, 7))


# --- a standard member without a slot: 28 days of grace ------------------------------------------

WORK_START = D(2026, 3, 2)


@pytest.mark.parametrize(
    ("day", "status"),
    [(WORK_START, st.UP_TO_DATE), (WORK_START + days(28), st.UP_TO_DATE), (WORK_START + days(29), st.UNSUBSCRIBED)],
)
def test_standard_member_without_slot_has_28_days_after_work_start(day, status):
    assert status_of([], day, has_slot=False, work_start=WORK_START).status == status


def test_no_slot_grace_is_a_parameter():
    rules = st.Rules(no_slot_grace_days=10)
    assert status_of([], WORK_START + days(10), has_slot=False, work_start=WORK_START, rules=rules).status == st.UP_TO_DATE
    assert status_of([], WORK_START + days(11), has_slot=False, work_start=WORK_START, rules=rules).status == st.UNSUBSCRIBED


@pytest.mark.parametrize(
    ("shift_type", "work_start", "has_slot"),
    [(F, WORK_START, False), (S, None, False), (S, WORK_START, True)],
    ids=["ftop-needs-no-slot", "no-work-start-yet", "holds-a-slot"],
)
def test_no_slot_rule_applies_only_to_standard_members_without_slot_after_work_start(shift_type, work_start, has_slot):
    result = status_of([], D(2027, 1, 1), shift_type=shift_type, has_slot=has_slot, work_start=work_start)
    assert result.status == st.UP_TO_DATE


def test_reenrolment_restarts_the_no_slot_grace():
    raw = [(D(2026, 6, 1), st.REENROL)]
    assert status_of(raw, D(2026, 5, 31), has_slot=False, work_start=WORK_START).status == st.UNSUBSCRIBED
    assert status_of(raw, D(2026, 6, 29), has_slot=False, work_start=WORK_START).status == st.UP_TO_DATE
    assert status_of(raw, D(2026, 6, 30), has_slot=False, work_start=WORK_START).status == st.UNSUBSCRIBED


# --- who owes the cycle charge ---------------------------------------------------------------------

def since(day, value):
    """A dated history holding `value` from `day` (empty when `day` is None)."""
    return [(day, value)] if day is not None else []


CHARGE = D(2026, 3, 2)  # window: 2026-02-02 .. 2026-03-01
WINDOW_FIRST = D(2026, 2, 2)


@pytest.mark.parametrize(
    ("kw", "owes"),
    [
        pytest.param({}, True, id="ftop-active-all-28-days"),
        pytest.param({"active_since": WINDOW_FIRST + DAY}, False, id="newcomer-gets-a-free-cycle"),
        pytest.param({"active_since": None}, False, id="never-active"),
        pytest.param({"ftop_since": WINDOW_FIRST + DAY}, False, id="switched-to-ftop-gets-a-free-cycle"),
        pytest.param({"ftop_since": None}, False, id="never-ftop"),
        pytest.param({"leaves": [st.Period(D(2026, 1, 5), WINDOW_FIRST)]}, False, id="back-from-leave-on-window-day-1"),
        pytest.param({"leaves": [st.Period(D(2026, 1, 5), WINDOW_FIRST - DAY)]}, True, id="leave-ended-before-the-window"),
        pytest.param({"leaves": [st.Period(D(2026, 3, 1), D(2026, 3, 31))]}, False, id="leave-from-the-last-window-day"),
        pytest.param({"leaves": [st.Period(CHARGE, D(2026, 3, 31))]}, True, id="leave-from-the-cycle-start"),
        pytest.param({"exemptions": [st.Period(D(2026, 2, 15), D(2026, 2, 20))]}, False, id="exempted-in-the-window"),
        pytest.param({"exemptions": [st.Period(LONG_AGO, None)]}, False, id="open-ended-exemption"),
        pytest.param({"exemptions": [st.Period(LONG_AGO, D(2026, 1, 31))]}, True, id="exemption-ended-before"),
        pytest.param(
            {"raw": [(D(2026, 2, 10), st.CORRECTION, correction(-8, F))]}, False, id="unsubscribed-in-the-window",
        ),
        pytest.param(
            {"raw": [(D(2026, 1, 10), st.CORRECTION, correction(-8, F))]}, False, id="unsubscribed-before-the-window",
        ),
        pytest.param(
            {"raw": [(D(2026, 1, 10), st.CORRECTION, correction(-8, F)), (D(2026, 1, 15), st.CORRECTION, correction(8, F)),
                     (D(2026, 1, 20), st.REENROL)]},
            True, id="reenrolled-before-the-window",
        ),
        pytest.param(
            {"raw": [(D(2026, 1, 10), st.CORRECTION, correction(-8, F)), (D(2026, 2, 5), st.CORRECTION, correction(8, F)),
                     (D(2026, 2, 10), st.REENROL)]},
            False, id="reenrolled-inside-the-window",
        ),
        pytest.param({"raw": [(D(2026, 2, 10), st.CORRECTION, correction(-7, F))]}, True, id="in-debt-but-subscribed"),
        pytest.param({"raw": [(D(2026, 3, 5), st.CORRECTION, correction(-8, F))]}, True, id="unsubscribed-after-the-charge"),
    ],
)
def test_owes_cycle_charge(kw, owes):
    kw = dict(kw)
    events = resolved(kw.pop("raw", []), shift_type=F)
    membership = since(kw.pop("active_since", WINDOW_FIRST), "active")
    shift_type = since(kw.pop("ftop_since", WINDOW_FIRST), F)
    args = {"membership_history": membership, "shift_type_history": shift_type, "leaves": [], "exemptions": [], **kw}
    assert st.owes_cycle_charge(CHARGE, events=events, **args) is owes


def test_member_unsubscribed_on_the_cycle_start_day_owes_no_charge():
    events = resolved([(D(2026, 2, 10), st.CORRECTION, correction(-7, F)), (CHARGE, st.FTOP_MISSED)], shift_type=F)
    assert not st.owes_cycle_charge(CHARGE, membership_history=since(LONG_AGO, "active"), shift_type_history=since(LONG_AGO, F),
                                    leaves=[], exemptions=[], events=events)


@pytest.mark.parametrize(
    ("history", "owes"),
    [
        pytest.param([(LONG_AGO, "active"), (CHARGE + DAY, "unpaid")], True, id="unpaid-the-day-after-keeps-the-charge"),
        pytest.param([(LONG_AGO, "active"), (CHARGE, "unpaid")], True, id="unpaid-on-the-cycle-start-day"),
        pytest.param([(LONG_AGO, "active"), (D(2026, 2, 20), "unpaid"), (D(2026, 2, 25), "active")], False,
                     id="unpaid-for-days-in-the-window"),
        pytest.param([(LONG_AGO, "unpaid"), (WINDOW_FIRST, "active")], True, id="active-from-the-first-window-day"),
        pytest.param([(LONG_AGO, "active"), (CHARGE - DAY, "left")], False, id="left-on-the-last-window-day"),
    ],
)
def test_owing_the_charge_is_judged_on_the_dated_membership_history(history, owes):
    assert st.owes_cycle_charge(CHARGE, membership_history=history, shift_type_history=since(LONG_AGO, F),
                                leaves=[], exemptions=[], events=[]) is owes


def test_owing_the_charge_is_judged_on_the_dated_shift_type_history():
    switched_back = [(LONG_AGO, F), (D(2026, 2, 10), S), (D(2026, 2, 12), F)]
    assert not st.owes_cycle_charge(CHARGE, membership_history=since(LONG_AGO, "active"), shift_type_history=switched_back,
                                    leaves=[], exemptions=[], events=[])
    switched_after = [(LONG_AGO, F), (CHARGE + DAY, S)]
    assert st.owes_cycle_charge(CHARGE, membership_history=since(LONG_AGO, "active"), shift_type_history=switched_after,
                                leaves=[], exemptions=[], events=[])


def test_imported_members_count_as_charged_up_to_the_import_date():
    args = {"membership_history": since(LONG_AGO, "active"), "shift_type_history": since(LONG_AGO, F),
            "leaves": [], "exemptions": [], "events": []}
    assert not st.owes_cycle_charge(CHARGE, charged_through=CHARGE, **args)
    assert st.owes_cycle_charge(CHARGE, charged_through=CHARGE - DAY, **args)


def test_charge_window_is_a_parameter():
    history = [(D(2026, 2, 20), "active")]
    args = {"shift_type_history": since(LONG_AGO, F), "leaves": [], "exemptions": [], "events": []}
    assert not st.owes_cycle_charge(CHARGE, membership_history=history, **args)
    assert st.owes_cycle_charge(CHARGE, membership_history=history, rules=st.Rules(charge_window_days=10), **args)


# --- reversals: an attendance changed by coordinators ---------------------------------------------

def test_reversed_rows_and_their_reversals_are_ignored_so_a_miss_changed_to_attended_breaks_the_streak():
    events = [
        st.Event(R1, st.MISSED_REGULAR, -2, seq=1),
        st.Event(R2, st.MISSED_REGULAR, -2, seq=2),
        st.Event(R2, st.REVERSAL, 2, seq=3, voids=2),
        st.Event(R2, st.ATTENDED_REGULAR, 0, seq=4),
        st.Event(R3, st.MISSED_REGULAR, -2, seq=5),
    ]
    result = st.compute(day=D(2026, 5, 1), shift_type=S, events=events, work_start=LONG_AGO)
    assert (result.status, result.standard, result.unsubscribed) == (st.SUSPENDED, -4, False)


def test_an_attended_row_changed_to_missed_no_longer_breaks_the_streak():
    events = [
        st.Event(R1, st.MISSED_REGULAR, -2, seq=1),
        st.Event(R2, st.ATTENDED_REGULAR, 0, seq=2),
        st.Event(R2, st.REVERSAL, 0, seq=3, voids=2),
        st.Event(R2, st.MISSED_REGULAR, -2, seq=4),
    ]
    result = st.compute(day=R2, shift_type=S, events=events, work_start=LONG_AGO)
    assert (result.status, result.standard, result.unsubscribed) == (st.UNSUBSCRIBED, -4, True)


def test_reversed_miss_with_its_transfer_leaves_the_counters_as_before():
    events = [
        st.Event(D(2026, 2, 10), st.ATTENDED_OTHER, 0, 1, seq=1),
        st.Event(D(2026, 2, 11), st.ATTENDED_OTHER, 0, 1, seq=2),
        st.Event(R1, st.MISSED_REGULAR, -2, 0, seq=3),
        st.Event(R1, st.TRANSFER, 2, -2, seq=4),
        st.Event(R1, st.REVERSAL, 2, 0, seq=5, voids=3),
        st.Event(R1, st.REVERSAL, -2, 2, seq=6, voids=4),
        st.Event(R1, st.ATTENDED_REGULAR, 0, 0, seq=7),
    ]
    result = st.compute(day=R1, shift_type=S, events=events, work_start=LONG_AGO)
    assert (result.status, result.standard, result.ftop) == (st.UP_TO_DATE, 0, 2)
    assert [e.seq for e in st._ordered(events)] == [1, 2, 7]


# --- re-resolution of a ledger (DOMAIN.md §3 "The charge on its own day", "Changed answers") ------

def ledger_row(seq, date, kind, std=0, ftop=0, **kw):
    return st.LedgerRow(date, kind, std, ftop, seq=seq, order=seq, **kw)


def always(shift_type):
    return lambda day: shift_type


def test_a_late_attendance_before_a_charge_re_resolves_the_charge():
    charge = ledger_row(1, CHARGE, st.CYCLE_CHARGE, 0, -2)
    late = st.LedgerRow(CHARGE, st.FTOP_ATTENDED)  # the same day, written after the charge

    plan = st.resolve_ledger([charge, late], shift_type_on=always(F))

    by_row = {res.row.seq: res for res in plan}
    assert (by_row[None].standard, by_row[None].ftop, by_row[None].changed) == (0, 1, True)
    assert (by_row[1].ftop, by_row[1].changed) == (-1, True)  # from 1: -1


def test_nothing_to_re_resolve_when_the_new_event_comes_last():
    rows = [ledger_row(1, D(2026, 2, 2), st.CYCLE_CHARGE, 0, -2)]
    plan = st.resolve_ledger([*rows, st.LedgerRow(D(2026, 2, 3), st.FTOP_ATTENDED)], shift_type_on=always(F))
    assert [res.row.seq for res in plan] == [None]


def test_a_changed_answer_moves_later_make_ups_to_the_banked_counter():
    rows = [
        ledger_row(1, R1, st.MISSED_REGULAR, -2, 0, voided=True),  # reversed: changed to attended
        ledger_row(2, D(2026, 4, 3), st.ATTENDED_OTHER, 1, 0),
        ledger_row(3, D(2026, 4, 5), st.ATTENDED_OTHER, 1, 0),
        ledger_row(4, R1, st.REVERSAL, 2, 0, voided=True),
    ]
    plan = st.resolve_ledger([*rows, st.LedgerRow(R1, st.ATTENDED_REGULAR)], shift_type_on=always(S))
    resolved = {res.row.seq: (res.standard, res.ftop) for res in plan if res.changed}
    assert resolved == {None: (0, 0), 2: (0, 1), 3: (0, 1)}


def test_a_transfer_follows_its_row_and_is_replaced_when_the_row_changes():
    credit = ledger_row(1, D(2026, 2, 1), st.CORRECTION, 0, 2, points=2, counter=F)
    miss = ledger_row(2, D(2026, 2, 5), st.MISSED_REGULAR, -2, 0)
    transfer = ledger_row(3, D(2026, 2, 5), st.TRANSFER, 2, -2, cause=2)
    assert st.resolve_ledger([credit, miss, transfer], shift_type_on=always(S)) == []  # all as the table gives

    debit = st.LedgerRow(D(2026, 2, 3), st.CORRECTION, points=-1, counter=F)
    plan = st.resolve_ledger([credit, miss, transfer, debit], shift_type_on=always(S))
    changed = {res.row.seq: res for res in plan}
    assert changed[2].changed is False and changed[2].transfer == 1 and changed[2].stale_transfer.seq == 3


def test_the_shift_type_of_each_date_decides_the_transfer():
    credit = ledger_row(1, D(2026, 2, 1), st.CORRECTION, 0, 2, points=2, counter=F)
    miss = st.LedgerRow(D(2026, 2, 5), st.MISSED_OTHER)
    was_ftop = st.resolve_ledger([credit, miss], shift_type_on=lambda day: F if day < D(2026, 2, 10) else S)
    assert [res.transfer for res in was_ftop] == [0]


def test_events_after_gives_the_live_events_once_written():
    rows = [ledger_row(1, CHARGE, st.CYCLE_CHARGE, 0, -2)]
    plan = st.resolve_ledger([*rows, st.LedgerRow(CHARGE, st.FTOP_ATTENDED)], shift_type_on=always(F))
    events = st.events_after(rows, plan)
    assert sorted((e.kind, e.ftop) for e in events) == [(st.CYCLE_CHARGE, -1), (st.FTOP_ATTENDED, 1)]


# --- every refusing row that holds (DOMAIN.md §6) -------------------------------------------------

def test_refusals_list_blocked_and_suspended_together():
    raw = [(D(2026, 1, 5), st.CORRECTION, correction(-2, F))]
    result = status_of(raw, D(2026, 3, 1), shift_type=F, blocked=True)
    assert (result.status, result.refusals) == (st.BLOCKED, (st.BLOCKED, st.SUSPENDED))


def test_refusals_are_empty_when_not_concerned_or_allowed():
    raw = [(D(2026, 1, 5), st.CORRECTION, correction(-2, F))]
    assert status_of(raw, D(2026, 1, 10), shift_type=F).refusals == ()  # alert: may shop
    assert status_of(raw, D(2026, 3, 1), shift_type=F, concerned=False).refusals == ()


def test_an_exemption_or_an_extension_lifts_the_suspension_reason():
    raw = [(D(2026, 1, 5), st.CORRECTION, correction(-2, F))]
    exempted = status_of(raw, D(2026, 3, 1), shift_type=F, blocked=True, exemptions=[st.Period(D(2026, 2, 25), None)])
    assert exempted.refusals == (st.BLOCKED,)


def test_on_leave_after_the_deadline_lists_both():
    raw = [(D(2026, 1, 5), st.CORRECTION, correction(-2, F))]
    result = status_of(raw, D(2026, 3, 10), shift_type=F, leaves=[st.Period(D(2026, 3, 1), D(2026, 4, 15))])
    assert (result.status, result.refusals) == (st.ON_LEAVE, (st.ON_LEAVE, st.SUSPENDED))


# --- the date a status change took effect ----------------------------------------------------------

def test_status_since_finds_the_deadline_not_the_day_the_job_ran():
    events = resolved([(D(2026, 1, 5), st.CORRECTION, correction(-2, F))], F)
    since = st.status_since(day=D(2026, 3, 10), shift_type=F, events=events, floor=D(2026, 1, 1), work_start=LONG_AGO)
    assert since == D(2026, 2, 2)  # the 28-day alert from 01-05 ends: suspended from 02-02


def test_status_since_finds_the_event_date_for_a_late_entry():
    events = resolved([(D(2026, 2, 2), st.MISSED_REGULAR)], S)
    since = st.status_since(day=D(2026, 2, 9), shift_type=S, events=events, floor=D(2026, 1, 1), work_start=LONG_AGO,
                            slot_ends=[None])
    assert since == D(2026, 2, 2)


def test_status_since_never_goes_before_the_floor():
    events = resolved([(D(2026, 2, 2), st.MISSED_REGULAR)], S)
    since = st.status_since(day=D(2026, 2, 9), shift_type=S, events=events, floor=D(2026, 2, 5), work_start=LONG_AGO,
                            slot_ends=[None])
    assert since == D(2026, 2, 5)


def test_a_kept_unsubscription_is_not_undone_by_later_points():
    events = [
        st.Event(D(2026, 1, 10), st.CORRECTION, 0, -8, seq=1),
        st.Event(D(2026, 1, 10), st.UNSUBSCRIBED_MARK, seq=2),
        st.Event(D(2026, 1, 5), st.FTOP_ATTENDED, 0, 1, seq=3),  # entered late: the counter never reached -8
    ]
    result = st.compute(day=D(2026, 1, 20), shift_type=F, events=events, work_start=LONG_AGO)
    assert (result.ftop, result.status) == (-7, st.UNSUBSCRIBED)
    assert st.compute(day=D(2026, 1, 20), shift_type=F, events=events[::2], work_start=LONG_AGO).status == st.ALERT


# --- opening balances (CONTRACT.md §7) ----------------------------------------------------------

def test_an_opening_balance_below_the_ftop_threshold_does_not_unsubscribe():
    """The imported counter is where the ledger starts; the file's `unsubscribed` column decides."""
    opened = [st.Event(D(2026, 3, 1), st.OPENING, 0, -9, seq=1)]
    result = st.compute(day=D(2026, 3, 2), shift_type=F, events=opened, work_start=LONG_AGO)
    assert not result.unsubscribed
    assert result.status == st.ALERT and result.ftop == -9


def test_an_event_after_an_opening_balance_below_the_threshold_does_not_cross_it_again():
    events = [st.Event(D(2026, 3, 1), st.OPENING, 0, -9, seq=1), st.Event(D(2026, 3, 3), st.FTOP_MISSED, 0, -1, seq=2)]
    assert not st.compute(day=D(2026, 3, 4), shift_type=F, events=events, work_start=LONG_AGO).unsubscribed


def test_an_event_crossing_the_threshold_after_an_opening_balance_unsubscribes():
    events = [st.Event(D(2026, 3, 1), st.OPENING, 0, -7, seq=1), st.Event(D(2026, 3, 3), st.FTOP_MISSED, 0, -1, seq=2)]
    assert st.compute(day=D(2026, 3, 4), shift_type=F, events=events, work_start=LONG_AGO).unsubscribed


def test_an_opening_balance_in_debt_starts_the_alert_episode_on_its_date():
    events = [st.Event(D(2026, 2, 1), st.OPENING, -2, 0, seq=1), st.Event(D(2026, 3, 1), st.OPENING, 0, 0, seq=2)]
    result = st.compute(day=D(2026, 3, 2), shift_type=S, events=events, work_start=LONG_AGO)
    assert result.episode_start == D(2026, 2, 1)
    assert result.alert_deadline == D(2026, 3, 1) and result.status == st.SUSPENDED
