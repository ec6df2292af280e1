"""update_statuses recomputes only the members that time (or a charge) can have changed since its
last run (issue 16: 100,000 members). This checks, day by day over two cycles, that what it
stores is exactly what a full recomputation of every member gives, with members whose status
changes for every time-driven reason: deadlines, extensions starting and ending, leaves and
exemptions starting and ending, a slot ending, the no-slot grace, cycle charges."""
import datetime
import zoneinfo

import pytest

from members.models import Member
from members.tests.factories import active_member
from shifts import services
from shifts.models import CounterEvent, StatusChange

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
D = datetime.date
T = datetime.time
START = D(2026, 2, 20)
DAYS = 56


def stored():
    return {m.pk: tuple(getattr(m, f) for f in services.STORED_FIELDS) for m in Member.objects.all()}


def full_recompute(day):
    """What every member's stored fields would be after recomputing everyone (rolled back)."""
    from django.db import transaction

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            services.statuses_recompute_all(today=day, cause="check")
            expected = stored()
            raise Rollback
    except Rollback:
        return expected


@pytest.fixture
def coop():
    long_ago = D(2026, 1, 5)
    tpl = services.template_create(name="A-Mon", week="A", weekday=0, start_time=T(9), end_time=T(12), capacity=20)
    other = services.template_create(name="B-Thu", week="B", weekday=3, start_time=T(9), end_time=T(12), capacity=20)
    people = {name: active_member(today=long_ago, shift_type=kind, email=f"{name}@example.org")
              for name, kind in [("debt", "ftop"), ("extension", "ftop"), ("leave", "ftop"), ("exempt", "standard"),
                                 ("slot_ends", "standard"), ("no_slot", "standard"), ("charged", "ftop"), ("calm", "standard"),
                                 ("blocked_debt", "standard")]}
    people["newcomer"] = active_member(today=START, shift_type="standard", email="new@example.org")
    for name in ("exempt", "calm"):  # week A Mondays: no shift is generated, so nobody misses one
        services.slot_assign(template=tpl, member=people[name], start_date=long_ago, today=long_ago)
    services.slot_assign(template=other, member=people["slot_ends"], start_date=long_ago, today=long_ago)
    services.slot_assign(template=tpl, member=people["slot_ends"], start_date=D(2026, 3, 20), today=long_ago)
    services.correction_write(member=people["debt"], counter="ftop", points=-1, reason="x", today=START)
    services.correction_write(member=people["extension"], counter="ftop", points=-3, reason="x", today=D(2026, 1, 30))
    services.extension_grant(member=people["extension"], reason="illness", today=START)
    services.leave_create(member=people["leave"], start=D(2026, 3, 3), end=D(2026, 3, 31), reason="trip", today=START,
                          now=datetime.datetime.combine(START, T(9), tzinfo=PARIS))
    services.exemption_create(member=people["exempt"], start=D(2026, 2, 25), end=D(2026, 3, 10), reason="flu", today=START,
                              now=datetime.datetime.combine(START, T(9), tzinfo=PARIS))
    # Blocked with a debt: when the deadline passes, the status stays `blocked` but the till's
    # reasons gain `suspended`.
    services.slot_assign(template=other, member=people["blocked_debt"], start_date=long_ago, today=long_ago)
    services.correction_write(member=people["blocked_debt"], counter="standard", points=-1, reason="x", today=START)
    services.member_block(member=people["blocked_debt"], reason="rude", today=START)
    services.correction_write(member=people["charged"], counter="ftop", points=2, reason="banked", today=D(2026, 1, 10))
    return people


def test_the_daily_job_stores_what_a_full_recomputation_gives_every_day(coop):
    services.statuses_update(today=START)  # the first run recomputes everyone
    seen = set()
    for offset in range(1, DAYS):
        day = START + datetime.timedelta(days=offset)
        services.statuses_update(today=day)
        assert stored() == full_recompute(day), day
        seen |= set(StatusChange.objects.values_list("to_status", flat=True))

    # The walk went through every kind of time-driven change.
    assert {"suspended", "delay", "on_leave", "exempted", "unsubscribed", "alert"} <= seen
    assert Member.objects.get(email="blocked_debt@example.org").refusals == "blocked,suspended"


def test_a_rerun_for_the_same_day_recomputes_nobody(coop, django_assert_max_num_queries):
    services.statuses_update(today=START)
    services.statuses_update(today=START + datetime.timedelta(days=3))
    with django_assert_max_num_queries(30):
        result = services.statuses_update(today=START + datetime.timedelta(days=3))
    assert result == {"memberships": 0, "cycle_charges": 0, "statuses": 0}


def test_an_earlier_date_or_a_new_engine_recomputes_everyone(coop):
    from shifts.models import JobRun

    services.statuses_update(today=START + datetime.timedelta(days=20))
    Member.objects.update(refusals="stale")  # what an older version of the computation left
    JobRun.objects.filter(name=services.STATUS_ENGINE).delete()

    services.statuses_update(today=START + datetime.timedelta(days=21))

    assert not Member.objects.filter(refusals="stale").exists()


def charges_written(trust_stored: bool, day):
    """The charges `_charges_write` would write as of `day` (rolled back afterwards)."""
    from django.db import transaction

    from shifts.models import CounterEvent

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            services._charges_write(today=day, trust_stored=trust_stored)
            written = set(CounterEvent.objects.filter(kind="cycle_start", date=day).values_list("member_id", "ftop_points"))
            raise Rollback
    except Rollback:
        return written


def test_charging_from_the_stored_counters_gives_what_reading_the_ledgers_gives(coop):
    services.statuses_update(today=START)
    for offset in range(1, 10):  # up to the day before the cycle start of 03-02
        services.statuses_update(today=START + datetime.timedelta(days=offset))
    cycle_start = D(2026, 3, 2)

    from_stored, from_ledgers = charges_written(True, cycle_start), charges_written(False, cycle_start)

    assert from_stored == from_ledgers
    assert len(from_stored) >= 3  # debt (-1 -> -2), charged (+2 -> -1), blocked standard members owe none
    assert {points for _m, points in from_stored} == {-1, -2}


@pytest.mark.parametrize("trust_stored", [True, False])
def test_a_charge_run_cut_short_is_finished_by_the_rerun_without_charging_twice(coop, monkeypatch, trust_stored):
    """Charges are written one chunk of members per transaction (no long transaction over the
    member table, issue 16): when a run stops after some chunks, the rerun charges the others only."""
    from shifts.models import CounterEvent, CycleStartProcessed

    services.statuses_update(today=START)
    for offset in range(1, 10):
        services.statuses_update(today=START + datetime.timedelta(days=offset))
    cycle_start = D(2026, 3, 2)
    expected = charges_written(trust_stored, cycle_start)
    monkeypatch.setattr(services, "CHUNK", 2)
    real = services._charge_from_stored if trust_stored else services._charge_from_ledgers
    calls = []

    def stops_on_the_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the job was stopped")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_charge_from_stored" if trust_stored else "_charge_from_ledgers", stops_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        services._charges_write(today=cycle_start, trust_stored=trust_stored)
    first_part = set(CounterEvent.objects.filter(kind="cycle_start", date=cycle_start).values_list("member_id", "ftop_points"))
    assert first_part < expected  # one chunk committed, the run stopped before the rest
    assert not CycleStartProcessed.objects.filter(cycle_start=cycle_start).exists()
    monkeypatch.setattr(services, "_charge_from_stored" if trust_stored else "_charge_from_ledgers", real)

    count, _to_recompute, _charged = services._charges_write(today=cycle_start, trust_stored=trust_stored)

    written = list(CounterEvent.objects.filter(kind="cycle_start", date=cycle_start).values_list("member_id", "ftop_points"))
    assert set(written) == expected and len(written) == len(expected)  # nobody charged twice
    assert count == len(expected) - len(first_part)


def test_a_charge_that_leaves_the_status_as_it_was_is_settled_without_replaying_the_ledger(monkeypatch):
    """On a cycle start, an FTOP member whose charge is alone on the newest date of their ledger,
    who is not unsubscribed and whose status the charge leaves unchanged (in debt or not: the
    stored `debt_since` carries the alert episode) has their stored standing moved forward with
    the charge, without their ledger being read (issue 16: the cycle-start day at 100,000
    members); every other member is recomputed from the ledger. Either way, what is stored is
    what a full recomputation gives."""
    long_ago, eve, cycle_start = D(2026, 1, 5), D(2026, 3, 1), D(2026, 3, 2)
    people = {name: active_member(today=long_ago, shift_type="ftop", email=f"{name}@example.org")
              for name in ("banked", "blocked", "on_leave", "granted", "busy_today", "into_debt", "in_debt", "crossing")}
    # Each is charged once on 02-02 by the first run (on the eve), then on 03-02.
    for name, points in (("banked", 3), ("blocked", 2), ("on_leave", 3), ("granted", 1), ("busy_today", 2), ("into_debt", 1),
                         ("in_debt", -1), ("crossing", -5)):
        services.correction_write(member=people[name], counter="ftop", points=points, reason="x", today=D(2026, 1, 10))
    services.member_block(member=people["blocked"], reason="rude", today=D(2026, 2, 1))
    services.leave_create(member=people["on_leave"], start=D(2026, 2, 20), end=D(2026, 3, 20), reason="trip", today=D(2026, 2, 10),
                          now=datetime.datetime.combine(D(2026, 2, 10), T(9), tzinfo=PARIS))
    services.correction_write(member=people["granted"], counter="ftop", points=-2, reason="x", today=D(2026, 1, 20))
    services.extension_grant(member=people["granted"], reason="illness", today=D(2026, 1, 21))
    services.correction_write(member=people["granted"], counter="ftop", points=3, reason="made up", today=D(2026, 2, 1))
    services.statuses_update(today=eve)
    services.correction_write(member=people["busy_today"], counter="ftop", points=1, reason="x", today=cycle_start)
    replayed: set[int] = set()
    real = services._bulk_facts

    def recording(member_ids=None, *, ledger=True):
        if ledger:
            replayed.update(member_ids or ())
        return real(member_ids, ledger=ledger)

    monkeypatch.setattr(services, "_bulk_facts", recording)

    result = services.statuses_update(today=cycle_start)

    ids = {name: m.pk for name, m in people.items()}
    charged = set(CounterEvent.objects.filter(kind="cycle_start", date=cycle_start).values_list("member_id", flat=True))
    assert {ids[n] for n in ("banked", "blocked", "granted", "busy_today", "into_debt", "in_debt", "crossing")} <= charged
    assert result["cycle_charges"] == len(charged)
    settled = charged - replayed
    # In debt since 01-10 and suspended before and after: `debt_since` carries the alert episode over.
    assert {ids[n] for n in ("banked", "blocked", "granted", "in_debt")} <= settled
    # A shift event on the cycle start, a charge that opens an alert, one that crosses the
    # unsubscription threshold: the full replay.
    assert {ids[n] for n in ("busy_today", "into_debt", "crossing")} <= replayed
    assert stored() == full_recompute(cycle_start)
    banked = Member.objects.get(pk=ids["banked"])
    assert (banked.status, banked.counter_ftop) == ("up_to_date", 1)
    assert Member.objects.get(pk=ids["into_debt"]).status == "alert"
    assert Member.objects.get(pk=ids["crossing"]).status == "unsubscribed"
    in_debt = Member.objects.get(pk=ids["in_debt"])
    assert (in_debt.status, in_debt.debt_since) == ("suspended", D(2026, 1, 10))
    assert Member.objects.get(pk=ids["blocked"]).status == "blocked"


@pytest.mark.parametrize("trust_stored", [True, False])
def test_after_a_run_cut_short_the_rerun_stores_the_standing_of_the_members_charged_before_the_cut(coop, monkeypatch, trust_stored):
    """The members charged in the chunks that committed before a run stopped are recomputed by
    the rerun, although it does not charge them again: their stored counters include the charge."""
    services.statuses_update(today=START)
    for offset in range(1, 10):
        services.statuses_update(today=START + datetime.timedelta(days=offset))
    cycle_start = D(2026, 3, 2)
    monkeypatch.setattr(services, "CHUNK", 2)
    monkeypatch.setattr(services, "_settle", lambda *args, **kwargs: False)  # every charged member awaits recomputation
    real = services.statuses_recompute_all

    def stopped(**kwargs):
        raise RuntimeError("the job was stopped")

    monkeypatch.setattr(services, "statuses_recompute_all", stopped)
    with pytest.raises(RuntimeError):
        services.statuses_update(today=cycle_start)  # every charge written, no status recomputed
    monkeypatch.setattr(services, "statuses_recompute_all", real)
    if not trust_stored:
        from shifts.models import JobRun

        JobRun.objects.filter(name=services.STATUS_ENGINE).delete()  # the rerun reads every ledger

    services.statuses_update(today=cycle_start)

    assert stored() == full_recompute(cycle_start)
