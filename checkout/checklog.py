"""The till's check log, written off the cashier's request (issue 16, docs/decisions.md).

A lookup is read-only but for its log row, and that row's INSERT and commit were the largest part
of a lookup's time. With `COOP_TILL_LOG_DEFERRED` on (the default outside tests), `record()` puts
the row in this process's buffer and returns; a daemon thread writes the buffer in one
`bulk_create` every `COOP_TILL_LOG_FLUSH_SECONDS` (1 s) or as soon as `COOP_TILL_LOG_BATCH` rows
wait, and an `atexit` hook writes what is left when the process stops cleanly (gunicorn's graceful
stop, a restart, Ctrl+C). What a crash of the process (kill -9, out of memory) can lose is the
last second of log rows, never an answer: the trade-off written in docs/decisions.md.

When the caller is inside a transaction (a test, a service that logs with other writes) the row is
written there and then, so that its transaction decides.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading

from django.conf import settings
from django.db import connection, transaction

from coopmarket.bulk import copy_insert

from .models import TillCheck

logger = logging.getLogger(__name__)

MAX_WAITING = 100_000  # rows kept while the database cannot be written (about 30 MB); older ones are dropped, logged


def deferred() -> bool:
    return bool(getattr(settings, "COOP_TILL_LOG_DEFERRED", False))


def _write(rows: list[TillCheck]) -> None:
    """Write `rows` in one statement. On PostgreSQL: COPY (a tenth of bulk_create's time, which
    held the worker's interpreter for 14 ms per 100 rows and showed in the till's p99), and the
    commit does not wait for the disk flush."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        copy_insert(TillCheck, rows)


class CheckLogBuffer:
    """Log rows waiting to be written, with the thread that writes them (one per process)."""

    def __init__(self):
        self._rows: list[TillCheck] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one flush at a time: the exit hook waits for the thread's
        self._wake = threading.Event()
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self.written = 0
        self.turns = 0  # of the writer thread (tests wait for one)

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, row: TillCheck) -> None:
        with self._lock:
            self._rows.append(row)
            waiting = len(self._rows)
            if waiting > MAX_WAITING:
                del self._rows[: waiting - MAX_WAITING]
                logger.error("till check log: %d rows could not be written and were dropped", waiting - MAX_WAITING)
        self._start()
        if waiting >= settings.COOP_TILL_LOG_BATCH:
            self._wake.set()

    def flush(self) -> int:
        """Write every waiting row now; returns how many were written. On a database error the rows
        go back to the buffer (in order) for the next flush, and the error is logged."""
        with self._flushing:
            return self._flush()

    def _flush(self) -> int:
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        try:
            _write(rows)
        except Exception:
            logger.exception("till check log: %d rows not written yet, retried at the next flush", len(rows))
            with self._lock:
                self._rows[:0] = rows
            connection.close()  # a broken connection is reopened at the next query
            return 0
        self.written += len(rows)
        return len(rows)

    def _start(self) -> None:
        # A forked worker (gunicorn --preload) inherits the buffer but not its thread: one per process.
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="till-check-log", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(settings.COOP_TILL_LOG_FLUSH_SECONDS)
            self._wake.clear()
            self._cycle()

    def _cycle(self) -> int:
        """One turn of the writer thread. While checks keep coming the thread keeps its own
        connection between flushes: opening one per flush started a PostgreSQL backend once or
        twice a second per worker, which showed in the till's p99. It is closed when broken or
        older than CONN_MAX_AGE, and after a turn with nothing to write (a quiet till holds none)."""
        written = self.flush()
        if written:
            connection.close_if_unusable_or_obsolete()
        else:
            connection.close()
        self.turns += 1
        return written


buffer = CheckLogBuffer()


@atexit.register
def _flush_at_exit() -> None:
    """A clean stop writes what waits (gunicorn's workers leave through sys.exit, which runs this)."""
    if len(buffer):
        buffer.flush()
        connection.close()


def record(**fields) -> None:
    """Log one till check: now when inside a transaction or when deferral is off, else deferred."""
    row = TillCheck(**fields)
    if connection.in_atomic_block:
        row.save(force_insert=True)  # the caller's transaction decides
    elif not deferred():
        _write([row])
    else:
        buffer.add(row)
