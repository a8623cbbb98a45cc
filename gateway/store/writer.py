"""The write-behind queue: pages hand changes over in microseconds, one background thread writes them.

Changes are kept per key (one conversation, or the probe samples): a newer change of a key that is still waiting
is merged into the waiting one (`merge(older, newer)`), so the queue holds at most one entry per conversation however
long the database is away. The thread writes the oldest entry; when the database fails it keeps the entry, says so
(`on_failure`), waits (0.25 s, doubling up to `MAX_BACKOFF`) and tries again; a change the database refuses for
good (not a connection or lock problem) is dropped and counted. While nothing waits and the database is down, the
thread still checks it (`probe`) so the status clears when it is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

log = logging.getLogger(__name__)

MAX_PENDING = 5_000  # entries (conversations with unsaved changes); beyond, the oldest is dropped and counted
FIRST_BACKOFF = 0.25
MAX_BACKOFF = 5.0


@dataclass
class Entry:
    key: Hashable
    owner: str | None  # whose work it is (reads of an owner wait for the owner's entries); None: a clean-up
    change: Any


def transient(error: BaseException) -> bool:
    """A failure worth retrying: the database is down, unreachable, locked or read-only, not the data's fault."""
    if isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError,
                          sa.exc.DisconnectionError)):
        return True
    return isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated


class WriteBehind:
    """A queue of changes and the thread that writes them with `write(change)`."""

    def __init__(self, write: Callable[[Any], None], merge: Callable[[Any, Any], Any], *,
                 probe: Callable[[], None], on_success: Callable[[], None],
                 on_failure: Callable[[BaseException, bool], None], name: str = "store-writer") -> None:
        self._write, self._merge, self._probe = write, merge, probe
        self._on_success, self._on_failure = on_success, on_failure
        self._pending: OrderedDict[Hashable, Entry] = OrderedDict()
        self._in_flight: Entry | None = None
        self._cond = threading.Condition()
        self._closed = False
        self._down = False
        self.lost = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # --- the page's side ---------------------------------------------------------------------------------------

    def put(self, key: Hashable, owner: str | None, change: Any) -> None:
        """Queue a change (merged into a waiting change of the same key). Never blocks on the database."""
        with self._cond:
            waiting = self._pending.get(key)
            if waiting is not None:
                waiting.change = self._merge(waiting.change, change)
            else:
                if len(self._pending) >= MAX_PENDING:
                    dropped_key, _ = self._pending.popitem(last=False)
                    self.lost += 1
                    log.warning("store: too many unsaved changes, dropped the oldest (%s)", dropped_key)
                self._pending[key] = Entry(key, owner, change)
            self._cond.notify_all()

    def wake(self) -> None:
        """The database failed outside the thread: check it (and retry) until it answers."""
        with self._cond:
            self._down = True
            self._cond.notify_all()

    def count_lost(self) -> None:
        with self._cond:
            self.lost += 1

    def pending(self) -> int:
        """Changes waiting or being written (those without an owner, such as clean-ups, are not counted)."""
        with self._cond:
            return sum(entry.owner is not None for entry in self._entries())

    def wait(self, owner: str | None = None, timeout: float = 5.0) -> bool:
        """Wait until nothing of `owner`'s (of anyone's, when None) is waiting or being written. False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._has(owner):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def _entries(self) -> list[Entry]:
        return list(self._pending.values()) + ([self._in_flight] if self._in_flight else [])

    def _has(self, owner: str | None) -> bool:
        return any(owner is None or entry.owner == owner for entry in self._entries())

    def close(self, timeout: float = 5.0) -> bool:
        """Write what is waiting (up to `timeout` seconds), then stop the thread. False when changes were left."""
        drained = self.wait(None, timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=1.0)
        return drained

    # --- the thread --------------------------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = FIRST_BACKOFF
        while True:
            with self._cond:
                while not self._pending and not self._closed and not self._down:
                    self._cond.wait()
                if self._closed:
                    return
                entry = self._pending.popitem(last=False)[1] if self._pending else None
                self._in_flight = entry
            try:
                if entry is None:
                    self._probe()
                else:
                    self._write(entry.change)
            except Exception as error:  # noqa: BLE001 - the thread must survive anything the database does
                retry = transient(error)
                with self._cond:
                    self._in_flight = None
                    if entry is not None:
                        if retry:
                            self._requeue(entry)
                        else:
                            self.lost += 1
                    self._down = retry
                    self._cond.notify_all()
                if not retry:
                    log.error("store: a change could not be saved and was dropped", exc_info=error)
                self._on_failure(error, retry)
                if retry:
                    with self._cond:
                        self._cond.wait_for(lambda: self._closed, timeout=backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            with self._cond:
                self._in_flight = None
                self._down = False
                self._cond.notify_all()
            backoff = FIRST_BACKOFF
            self._on_success()

    def _requeue(self, entry: Entry) -> None:
        """Put a change that failed back at the front, merged with anything newer of the same key."""
        newer = self._pending.pop(entry.key, None)
        if newer is not None:
            entry.change = self._merge(entry.change, newer.change)
        self._pending[entry.key] = entry
        self._pending.move_to_end(entry.key, last=False)
