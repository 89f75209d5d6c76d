"""Write behind: a large import's inserts run on a second database connection while
the import matches its next batch.

An import alternates between Python (matching a batch of records against the catalog)
and the database (COPYing the batch's rows, updating indexes, checking foreign keys at
commit). On PostgreSQL the database's share runs in the server's own process, so a
thread that waits for it leaves this one free to match the next batch: the two overlap
instead of taking turns. One batch is in flight at a time; the import learns whether
it was committed before it reports that batch's items or writes anything on its own
connection (see `papers.services._import_batches`).

While a writer runs, Python's thread switch interval is 1 ms instead of 5: the writer
needs the interpreter back after each of its waits on the database (a batch's COPY is
many of them) and would otherwise wait up to 5 ms each time for the matching thread to
let go, which made its batches take twice as long as the database's share of them.
"""

import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import DatabaseError, connection, transaction


class EarlierBatchRefused(Exception):
    """The database refused the batch in flight (it was rolled back as a whole)."""


class WriteBehind:
    """Runs one write at a time, each in its own transaction, on a thread (and database
    connection) of its own. Close it when done: its connection is closed with it."""

    def __init__(self):
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
        self._future: Future | None = None
        _switch_often(True)

    def submit(self, write, *args) -> None:
        if self._future is not None:
            raise RuntimeError("a write is already in flight: wait for it first")
        self._future = self._executor.submit(_in_transaction, write, *args)

    def drain(self) -> None:
        """Wait for the write in flight, if any; raise EarlierBatchRefused when the
        database refused it. The outcome stays for `wait` to take."""
        if self._future is None:
            return
        error = self._future.exception()
        if isinstance(error, DatabaseError):
            raise EarlierBatchRefused(str(error)) from error
        if error is not None:
            raise error  # not the database's refusal: a bug, for the caller to see

    def wait(self) -> bool:
        """Wait for the write in flight and take its outcome: whether it was committed
        (True when there was none)."""
        try:
            self.drain()
        except EarlierBatchRefused:
            return False
        finally:
            self._future = None
        return True

    def close(self) -> None:
        """Wait for the write in flight (its outcome is dropped), then close the
        thread's connection and end the thread."""
        try:
            if self._future is not None:
                self._future.exception()
                self._future = None
            self._executor.submit(_close_connection).result()
        finally:
            self._executor.shutdown()
            _switch_often(False)


_SWITCH_INTERVAL = 0.001  # seconds
_switch_lock = threading.Lock()
_writers = 0  # how many writers are open (in any thread)
_interval_before = 0.0


def _switch_often(start: bool) -> None:
    """Lower the thread switch interval while any writer is open; restore it after the
    last one closes."""
    global _writers, _interval_before
    with _switch_lock:
        if start:
            if _writers == 0:
                _interval_before = sys.getswitchinterval()
                sys.setswitchinterval(min(_interval_before, _SWITCH_INTERVAL))
            _writers += 1
        else:
            _writers -= 1
            if _writers == 0:
                sys.setswitchinterval(_interval_before)


def _close_connection() -> None:
    connection.close()  # (this thread's: `connection` is looked up in the thread)


def _in_transaction(write, *args) -> None:
    with transaction.atomic():
        write(*args)
