"""Whether the database answers, as the store knows it: the last write's failure (retrying or dropped), a short pause
after a failed read, and the words a banner shows. The store reports to it; it never touches the database itself.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from gateway.errors import redact
from gateway.store.records import StoreStatus, Unavailable

log = logging.getLogger("gateway.store.store")

READ_RETRY = 3.0  # seconds after a failed read during which reads fail at once instead of trying again


@dataclass
class _Failure:
    message: str
    retrying: bool
    since: float = field(default_factory=time.time)


class Availability:
    """The database's state for one store: thread-safe; `database` names it, `secrets` are kept out of messages."""

    def __init__(self, database: str, secrets: tuple[str, ...]) -> None:
        self.database = database
        self._secrets = secrets
        self._lock = threading.Lock()
        self._failure: _Failure | None = None  # of the last write
        self._read_failure: tuple[float, Unavailable] | None = None  # (monotonic time, what reads return meanwhile)

    def status(self, pending: int, lost: int) -> StoreStatus:
        """What a banner says, with `pending` changes waiting and `lost` dropped."""
        with self._lock:
            failure = self._failure
        if failure is None:
            return StoreStatus(ok=True, pending=pending, lost=lost, database=self.database)
        if failure.retrying:
            unsaved = (f" {pending} unsaved change{'s' if pending != 1 else ''} will be written when it is back."
                       if pending else "")
            message = f"Your work is not being saved: {failure.message}.{unsaved}"
        else:
            message = f"A change could not be saved: {failure.message}."
        return StoreStatus(ok=False, message=message, pending=pending, lost=lost, database=self.database,
                           since=failure.since)

    def retrying(self) -> bool:
        """Writes fail at the moment and are being retried."""
        with self._lock:
            return self._failure is not None and self._failure.retrying

    def succeeded(self) -> None:
        with self._lock:
            self._failure = None
            self._read_failure = None  # it answers again: reads need not wait out their pause

    def failed(self, error: BaseException, retrying: bool) -> None:
        message = self.describe(error)
        with self._lock:
            previous = self._failure
            since = previous.since if previous is not None and previous.retrying == retrying else time.time()
            self._failure = _Failure(message, retrying, since)
        log.warning("store: %s (%s)", message, "will retry" if retrying else "dropped")

    def read_paused(self) -> Unavailable | None:
        """What a read returns at once while a read failed a moment ago (None: try the database)."""
        with self._lock:
            failed = self._read_failure
        if failed is not None and time.monotonic() - failed[0] < READ_RETRY:
            return failed[1]
        return None

    def read_failed(self, unavailable: Unavailable) -> None:
        with self._lock:
            self._read_failure = (time.monotonic(), unavailable)

    def read_succeeded(self) -> None:
        with self._lock:
            self._read_failure = None

    def describe(self, error: BaseException) -> str:
        """The database's own words (first line, no SQL, no parameters), redacted."""
        cause = getattr(error, "orig", None) or error
        text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        return redact(f"{self.database}: {text.rstrip('.')}", self._secrets)
