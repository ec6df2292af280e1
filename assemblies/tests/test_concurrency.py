"""Races on PostgreSQL: proxies given at once to one holder never exceed the limit (the assembly
row is locked first), and a vote sent twice at once counts once (the voted marks' unique key).
Each thread has its own connection. PostgreSQL only: SQLite has no row locks."""
from __future__ import annotations

import threading

import pytest
from django.db import connections

from assemblies import services
from assemblies.models import BallotBox, Proxy, VotedMark
from coopmarket.errors import RuleViolation

from .conftest import EVENING, convene, new_assembly, sign_in, voter

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migrated_rows"),
]


def all_at_once(calls) -> list:
    """Run each call in its own thread, released together; exceptions are returned, not raised."""
    gate = threading.Barrier(len(calls))
    outcome: list = [None] * len(calls)

    def run(index, call):
        try:
            gate.wait(timeout=30)
            outcome[index] = call()
        except BaseException as exc:  # noqa: BLE001 (asserted on by the test)
            outcome[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome


def test_concurrent_proxies_to_one_holder_stop_at_the_limit():
    holder, *givers = [voter(f"P{i}", "Race") for i in range(7)]
    assembly = convene(new_assembly())
    outcome = all_at_once([
        (lambda g=g: services.proxy_give(assembly=assembly, giver=g, holder=holder, today=EVENING.date(), now=EVENING))
        for g in givers
    ])
    refused = [r for r in outcome if isinstance(r, RuleViolation)]
    assert len(refused) == 4 and {r.code for r in refused} == {"proxy_limit"}
    assert Proxy.objects.filter(holder=holder, revoked_at__isnull=True).count() == 2


def test_a_vote_sent_twice_at_once_counts_once():
    member = voter("Double", "Click")
    assembly = new_assembly()
    sign_in(assembly, member)
    resolution = services.resolution_open(resolution=services.resolution_add(assembly=assembly, text="Motion"), now=EVENING)
    ballot = [{"choice": "for", "for_member": member.pk}]
    outcome = all_at_once([lambda: services.votes_cast(resolution=resolution, voter=member, ballots=ballot)] * 4)
    assert sum(1 for r in outcome if r == [member.pk]) == 1
    assert {r.code for r in outcome if isinstance(r, RuleViolation)} == {"already_voted"}
    assert VotedMark.objects.count() == 1 and BallotBox.objects.get().votes_for == 1
