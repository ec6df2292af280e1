"""The notification wiring with a REAL Celery worker and broker, once: the project's Celery app,
pointed at Redis (database 15), runs an in-process worker thread (Celery's own testing worker, no
Docker); a booking confirmation task goes through the broker, the worker sends the e-mail and logs
it. Skipped when Redis is not reachable on 127.0.0.1:6379.

`transaction=True`: the worker thread has its own database connection and must see committed rows;
`serialized_rollback=True`: the migrated rows (share classes, role groups) come back for the next
transactional tests, as in test_concurrency.py.
"""
from __future__ import annotations

import time

import pytest
from celery.signals import task_postrun
from django.db import connections

from shifts import notifications, services
from shifts.models import NotificationLog

from .conftest import NOW, generate, shift_of, working_member

BROKER = "redis://127.0.0.1:6379/15"


def redis_reachable() -> bool:
    try:
        import redis

        client = redis.Redis.from_url(BROKER, socket_connect_timeout=0.5, socket_timeout=0.5)
        client.ping()
        client.flushdb()  # no message left over from an earlier run
        return True
    except Exception:
        return False


@pytest.fixture
def worker_app(monkeypatch):
    """The project app, non-eager, on the Redis broker; restored afterwards."""
    if not redis_reachable():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    from coopmarket.celery import app

    monkeypatch.setenv("CELERY_SKIP_CHECKS", "1")  # the worker's Django fixup would run every system check
    keys = ("broker_url", "task_always_eager", "result_backend", "broker_connection_retry_on_startup")
    saved = {key: app.conf.get(key) for key in keys}
    forget_connections(app)  # pools made earlier (an eager task that failed) point at the default broker
    app.conf.update(broker_url=BROKER, task_always_eager=False, result_backend=None,
                    broker_connection_retry_on_startup=False)
    try:
        yield app
    finally:
        forget_connections(app)
        app.conf.update(saved)


def forget_connections(app) -> None:
    """Drop the app's cached connection and producer pools, so the next use builds them from the
    current broker URL."""
    for pool in (app.amqp._producer_pool, app._pool):
        if pool is not None:
            pool.force_close_all()
    app.amqp._producer_pool = None
    app._pool = None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keep the migrated share classes and groups
def test_a_real_worker_sends_and_logs_a_booking_confirmation(worker_app, wednesday, mailoutbox, monkeypatch):
    from celery.contrib.testing.worker import start_worker

    from shifts import tasks

    generate()
    shift = shift_of(wednesday, NOW.date().replace(day=4))
    bob = working_member("Bob", shift_type="ftop")
    with notifications.muted():  # the hook would queue it too: this test sends it by hand
        registration = services.shift_book(shift=shift, member=bob, now=NOW)
    monkeypatch.setattr("shifts.tasks.clock_now", lambda: NOW)  # the worker thread reads it too

    def close_worker_connections(**kwargs):
        connections.close_all()  # the worker thread's own connection (PostgreSQL drops the test DB later)

    task_postrun.connect(close_worker_connections, weak=False)
    try:
        with start_worker(worker_app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10,
                          loglevel="WARNING"):
            result = tasks.notify_booking.apply_async(args=[registration.pk])
            assert result.id  # it went through the broker, not run in this thread
            # Wait on the outbox, not the database: SQLite's shared cache would lock the table the
            # worker is writing. Leaving the block stops the worker once its task has finished.
            deadline = time.monotonic() + 30
            while not mailoutbox and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        task_postrun.disconnect(close_worker_connections)

    assert list(NotificationLog.objects.filter(member=bob).values_list("kind", "key")) == [("booking", f"registration-{registration.pk}")]
    [message] = mailoutbox
    assert message.to == ["bob@example.org"] and message.subject.startswith("Shift booked:")
