"""Repeated misses are slowed: a client (an analyst, or an address when nobody is signed in) that asked for links
that do not open gets a growing wait before each further answer, so tokens cannot be tried in bulk.

The first FREE misses within WINDOW seconds cost nothing (a mistyped or old link); then every lookup by that client,
hit or miss, waits `delay()` seconds, doubling per miss up to MAX_DELAY. Kept in this process (each replica counts
its own); forgotten WINDOW seconds after the last miss.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

FREE = 5
WINDOW = 600.0
BASE_DELAY = 0.25
MAX_DELAY = 8.0
MAX_CLIENTS = 10_000


class Misses:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._misses: dict[str, tuple[int, float]] = {}  # client → (misses, last miss)

    def delay(self, client: str) -> float:
        """Seconds this client waits before its next answer (0 for a client without repeated misses)."""
        with self._lock:
            count = self._count(client)
        if count < FREE:
            return 0.0
        return min(MAX_DELAY, BASE_DELAY * 2 ** (count - FREE))

    def missed(self, client: str) -> None:
        with self._lock:
            if len(self._misses) >= MAX_CLIENTS:
                self._misses.clear()
            self._misses[client] = (self._count(client) + 1, self._clock())

    def _count(self, client: str) -> int:
        found = self._misses.get(client)
        if found is None:
            return 0
        if self._clock() - found[1] > WINDOW:
            del self._misses[client]
            return 0
        return found[0]


MISSES = Misses()  # the process's count
