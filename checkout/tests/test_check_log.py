"""The deferred check log (checkout/checklog.py, issue 16): a lookup's log row is written off the
request, in batches, and no logged check is lost on a clean stop of the process."""
from __future__ import annotations

import datetime
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from checkout import checklog
from checkout import services as till
from checkout.models import TillCheck
from coopmarket.tokens import token_issue
from members.tests.factories import active_member

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cashier():
    user = get_user_model().objects.create_user(username="till-device", password="x-pass-word-1")
    user.groups.add(Group.objects.get(name="cashiers"))
    return user


@pytest.fixture
def deferred(settings):
    settings.COOP_TILL_LOG_DEFERRED = True
    settings.COOP_TILL_LOG_FLUSH_SECONDS = 3600  # only a full batch or an explicit flush writes
    settings.COOP_TILL_LOG_BATCH = 1000
    checklog.buffer.flush()
    yield checklog.buffer
    checklog.buffer.flush()
    writer = checklog.buffer._thread
    if writer is not None and writer.is_alive():  # an idle turn: the writer thread lets its connection go
        turns = checklog.buffer.turns
        checklog.buffer._wake.set()
        for _ in range(200):
            if checklog.buffer.turns > turns:
                break
            time.sleep(0.01)


@pytest.mark.django_db
def test_inside_a_transaction_the_row_is_written_at_once_even_when_deferred(deferred, cashier):
    member = active_member(today=datetime.date(2026, 1, 5))
    till.till_check(code=member.card_barcode, user=cashier, now=timezone.now())
    assert len(deferred) == 0
    assert TillCheck.objects.filter(member=member).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_deferred_check_waits_in_the_buffer_until_the_flush(deferred, cashier):
    member = active_member(today=datetime.date(2026, 1, 5))
    answer = till.till_check(code=member.card_barcode, user=cashier, now=timezone.now())
    till.till_check(code="0000000000000", user=cashier, now=timezone.now())  # unknown: logged too
    assert answer["can_shop"] is True
    assert (len(deferred), TillCheck.objects.count()) == (2, 0)
    assert deferred.flush() == 2
    assert TillCheck.objects.filter(member=member, can_shop=True, user=cashier).count() == 1
    assert TillCheck.objects.filter(member__isnull=True, code="0000000000000").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_writer_keeps_its_connection_between_flushes(deferred, cashier):
    """A backend started per flush cost the till's p99: while checks keep coming, the writer's
    connection stays open (until CONN_MAX_AGE) and two flushes are written by the same PostgreSQL
    backend; a turn with nothing to write lets it go."""
    import threading

    from django.db import connection

    member = active_member(today=datetime.date(2026, 1, 5))
    backends = []

    def writer():
        for _ in range(2):
            with deferred._lock:  # not add(): the process's own writer thread stays asleep
                deferred._rows.append(TillCheck(user=cashier, code=member.card_barcode, member=member, checked_at=timezone.now()))
            assert deferred._cycle() == 1
            backends.append(connection.connection.info.backend_pid if connection.connection else None)
        assert deferred._cycle() == 0  # nothing to write: the connection is let go
        backends.append(connection.connection)

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join()
    assert backends[0] is not None and backends == [backends[0], backends[0], None]
    assert TillCheck.objects.filter(member=member).count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_full_batch_wakes_the_writer_thread(deferred, settings, cashier):
    settings.COOP_TILL_LOG_BATCH = 5
    member = active_member(today=datetime.date(2026, 1, 5))
    for _ in range(5):
        till.till_check(code=member.card_barcode, user=cashier, now=timezone.now())
    for _ in range(100):  # the thread writes them, not this test
        if TillCheck.objects.count() == 5:
            break
        time.sleep(0.05)
    assert TillCheck.objects.count() == 5
    assert len(deferred) == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failed_write_keeps_the_rows_for_the_next_flush(deferred, monkeypatch, cashier):
    member = active_member(today=datetime.date(2026, 1, 5))
    till.till_check(code=member.card_barcode, user=cashier, now=timezone.now())
    real_write = checklog._write

    def database_down(rows):
        raise OSError("database unreachable")

    monkeypatch.setattr(checklog, "_write", database_down)
    assert deferred.flush() == 0
    assert len(deferred) == 1
    monkeypatch.setattr(checklog, "_write", real_write)
    assert deferred.flush() == 1
    assert TillCheck.objects.count() == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_gunicorn_stopped_cleanly_writes_every_check_it_answered(cashier):
    """A real gunicorn (2 sync workers) answers 30 lookups with the log deferred and a flush period
    of an hour; SIGTERM (a graceful stop, as on a deploy) must leave all 30 rows in the log."""
    members = [active_member(today=datetime.date(2026, 1, 5), email=f"m{n}@example.org") for n in range(3)]
    token = token_issue(user=cashier, lifetime=datetime.timedelta(days=1))[1]
    connection.close()
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url(), COOP_TILL_LOG_DEFERRED="1", COOP_TILL_LOG_FLUSH_SECONDS="3600",
               COOP_TILL_LOG_BATCH="100000", DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="127.0.0.1",
               DJANGO_SECURE_SSL_REDIRECT="0", DJANGO_SECRET_KEY="test-only-gunicorn-key-" + "x" * 40)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "coopmarket.wsgi:application", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "--graceful-timeout", "20"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    answered = 0
    try:
        headers = {"Authorization": f"Token {token}", "Host": "127.0.0.1", "Accept": "application/json"}
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/api/v1/ping/", headers=headers)
                assert conn.getresponse().status == 200
                conn.close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()[-2000:]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        for n in range(30):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # new connections: both workers serve
            conn.request("GET", f"/api/v1/checkout/{members[n % 3].card_barcode}/", headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            assert response.status == 200
            answered += 1
        assert TillCheck.objects.count() < answered  # deferred: not all written yet (an hour's flush period)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert TillCheck.objects.count() == answered == 30
    assert TillCheck.objects.filter(user=cashier, can_shop=True).count() == 30
