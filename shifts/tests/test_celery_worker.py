"""The notification wiring with a REAL Celery worker and broker, once: the project's Celery app,
pointed at the Redis of `REDIS_URL` (what `.ci/run` configures), runs an in-process worker thread
(Celery's own testing worker, no Docker); a booking confirmation task goes through the broker,
the worker sends the e-mail and logs it.

Proof that the worker, not this thread, ran it: the message waits in its Redis list until the
worker starts (nothing sent, nothing logged before), and the task ran in the worker's thread,
delivered by the broker (`is_eager` false, from the test's queue). The queue
has a name of its own for each run and its keys are deleted afterwards: nothing else in that
Redis database is read, flushed or left behind.

`pytest.mark.redis`: fails under CI (skips locally) when Redis does not answer at `REDIS_URL`.
`transaction=True`: the worker thread has its own database connection and must see committed rows;
`serialized_rollback=True`: the migrated rows (share classes, role groups) come back for the next
transactional tests, as in test_concurrency.py.
"""
from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis
from celery.signals import task_postrun, task_prerun
from django.db import connections

from coopmarket.tests.components import redis_url
from shifts import notifications, services
from shifts.models import NotificationLog

from .conftest import NOW, generate, shift_of, working_member

pytestmark = pytest.mark.redis


@pytest.fixture
def queue():
    """A queue name of this run only; its Redis keys are deleted afterwards."""
    name = f"coopmarket-test-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(redis_url())
    yield client, name
    for key in client.scan_iter(match=f"*{name}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def worker_app(monkeypatch):
    """The project app, non-eager, on the configured Redis; restored afterwards."""
    from coopmarket.celery import app

    monkeypatch.setenv("CELERY_SKIP_CHECKS", "1")  # the worker's Django fixup would run every system check
    keys = ("broker_url", "task_always_eager", "result_backend", "broker_connection_retry_on_startup",
            "worker_enable_remote_control", "task_create_missing_queues")
    saved = {key: app.conf.get(key) for key in keys}
    forget_connections(app)  # pools made earlier (an eager task that failed) point at the default broker
    app.conf.update(broker_url=redis_url(), task_always_eager=False, result_backend=None,
                    broker_connection_retry_on_startup=False,
                    worker_enable_remote_control=False,  # no pidbox queues left in the database
                    task_create_missing_queues=True)
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
def test_a_real_worker_sends_and_logs_a_booking_confirmation(worker_app, queue, wednesday, mailoutbox, monkeypatch):
    from celery.contrib.testing.worker import start_worker

    from shifts import tasks

    broker, queue_name = queue
    generate()
    shift = shift_of(wednesday, NOW.date().replace(day=4))
    bob = working_member("Bob", shift_type="ftop")
    with notifications.muted():  # the hook would queue it too: this test sends it by hand
        registration = services.shift_book(shift=shift, member=bob, now=NOW)
    monkeypatch.setattr("shifts.tasks.clock_now", lambda: NOW)  # the worker thread reads it too

    ran = []

    def seen_by_the_worker(task=None, **kwargs):
        if task.name == tasks.notify_booking.name:
            ran.append({"eager": task.request.is_eager, "queue": (task.request.delivery_info or {}).get("routing_key"),
                        "thread": threading.get_ident()})

    def close_worker_connections(**kwargs):
        connections.close_all()  # the worker thread's own connection (PostgreSQL drops the test DB later)

    tasks.notify_booking.apply_async(args=[registration.pk], queue=queue_name)
    # The message waits in Redis; nothing ran in this thread.
    assert broker.llen(queue_name) == 1
    assert (mailoutbox, NotificationLog.objects.count()) == ([], 0)

    task_prerun.connect(seen_by_the_worker, weak=False)
    task_postrun.connect(close_worker_connections, weak=False)
    try:
        with start_worker(worker_app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10,
                          loglevel="WARNING", queues=[queue_name]):
            # Wait on the outbox, not the database: SQLite's shared cache would lock the table the
            # worker is writing. Leaving the block stops the worker once its task has finished.
            deadline = time.monotonic() + 30
            while not mailoutbox and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        task_prerun.disconnect(seen_by_the_worker)
        task_postrun.disconnect(close_worker_connections)

    [run] = ran
    assert (run["eager"], run["queue"]) == (False, queue_name)  # delivered by the broker from the test's queue
    assert run["thread"] != threading.get_ident()  # in the worker's thread
    assert broker.llen(queue_name) == 0  # consumed from the broker
    assert list(NotificationLog.objects.filter(member=bob).values_list("kind", "key")) == [("booking", f"registration-{registration.pk}")]
    [message] = mailoutbox
    assert message.to == ["bob@example.org"] and message.subject.startswith("Shift booked:")
