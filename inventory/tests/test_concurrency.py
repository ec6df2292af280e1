"""Concurrent writes on the stock (PostgreSQL only: SQLite has no row locks).

pretix style, in pairs: one test proves the race happens without the row lock, the other that the
lock (SELECT ... FOR UPDATE on the order, on the product) prevents it. A short pause is widened
between the read the rule depends on and the write, so the race is not left to chance.
"""
from __future__ import annotations

import threading
import time
from decimal import Decimal as D

import pytest
from django.db import connections
from django.db.models import QuerySet

from coopmarket.errors import RuleViolation
from inventory import selectors, services
from inventory.models import Reception

from .factories import NOW, TODAY, move, product, supplier

WIDEN = 0.2  # seconds between reading what the order still expects (or the stock) and writing

pytestmark = [
    pytest.mark.postgres,
    # Only these apps are flushed after each test, and without re-running post_migrate: whatever the
    # tests before and after (serialized rollback or not), nothing collides.
    pytest.mark.django_db(transaction=True, available_apps=["inventory", "django.contrib.auth", "django.contrib.contenttypes"]),
]


def in_threads(target, count: int) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def work(index):
        try:
            barrier.wait(timeout=30)
            results[index] = target()
        except BaseException as exc:  # noqa: BLE001  (asserted on by the test)
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.fixture
def widened(monkeypatch):
    """Pause after reading the order's lines and a product's stock, inside the transaction."""
    read_lines, read_stock = selectors.order_lines_with_received, selectors.product_stock

    def slow_lines(order, **kwargs):
        lines = list(read_lines(order, **kwargs))
        time.sleep(WIDEN)
        return lines

    def slow_stock(product, **kwargs):
        stock = read_stock(product, **kwargs)
        time.sleep(WIDEN)
        return stock

    monkeypatch.setattr(selectors, "order_lines_with_received", slow_lines)
    monkeypatch.setattr(selectors, "product_stock", slow_stock)


@pytest.fixture
def sent_order():
    farm = supplier()
    item = product(supplier_obj=farm)
    order = services.purchase_order_create(supplier=farm, lines=[(item, D(10), None)])
    services.purchase_order_send(order=order, now=NOW, email=False)
    return order, order.lines.get(), item


def receive_everything(order, line):
    return lambda: services.reception_record(order=order, lines=[(line, D(10), None)], received_on=TODAY)


def test_without_the_lock_two_receptions_exceed_the_order(sent_order, widened, monkeypatch):
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, *args, **kwargs: self)
    order, line, item = sent_order
    results = in_threads(receive_everything(order, line), 2)
    assert not any(isinstance(r, BaseException) for r in results)
    assert selectors.product_stock(item) == D(20)  # the race: 20 received on an order of 10


def test_the_order_lock_keeps_receptions_within_the_order(sent_order, widened):
    order, line, item = sent_order
    results = in_threads(receive_everything(order, line), 2)
    # The second waits for the first, then finds the order received: the rule refuses it (not a
    # deadlock, not a database error).
    received = [r for r in results if isinstance(r, Reception)]
    refused = [r for r in results if isinstance(r, RuleViolation)]
    assert (len(received), len(refused)) == (1, 1), results
    assert (refused[0].code, refused[0].message) == ("not_allowed", "Only a sent order can be received.")
    assert selectors.product_stock(item) == D(10)
    order.refresh_from_db()
    assert order.status == "received"


def count_seven(item):
    return lambda: services.stock_move_record(product=item, kind="count", quantity=D(7), date=TODAY)


def test_without_the_lock_two_counts_move_the_difference_twice(widened, monkeypatch):
    item = product()
    move(item, "reception", 10)
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, *args, **kwargs: self)
    results = in_threads(count_seven(item), 2)
    assert not [r for r in results if isinstance(r, BaseException)], results
    # Both read 10 as expected and wrote 7 - 10 = -3: the ledger says 4 where both found 7.
    assert selectors.product_stock(item) == D(4)


def test_the_product_lock_makes_the_second_count_see_the_first(widened):
    item = product()
    move(item, "reception", 10)
    results = in_threads(count_seven(item), 2)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(r.quantity for r in results) == [D(-3), D(0)]
    assert selectors.product_stock(item) == D(7)
