"""Files handed to one analyst once: an export built when its download button is clicked may be fetched by that
analyst, once, within `HANDOUT_SECONDS`; then its link answers nothing (api/media_guard.py asks here).

A handout is named by the SHA-256 of its bytes (what the link serves) and the analyst it is for. Two analysts whose
exports are byte for byte the same each get their own handout. Nothing here knows Streamlit or HTTP.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter

HANDOUT_SECONDS = 120.0  # a download not fetched within this is forgotten (the browser fetches it at once)
MAX_HANDOUTS = 10_000  # waiting at once in one process; the oldest are forgotten beyond it


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Handouts:
    """The handouts waiting to be fetched, in this process."""

    def __init__(self) -> None:
        self._waiting: dict[tuple[str, str], list[float]] = {}  # (digest, owner) -> when each was handed out
        self._lock = threading.Lock()

    def hand_out(self, data: bytes, owner: str, *, now: float | None = None) -> None:
        """`data` may be fetched once by `owner` from now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._forget_old(now)
            self._waiting.setdefault((digest(data), owner), []).append(now)

    def claim(self, data: bytes, requester: str, *, now: float | None = None) -> bool:
        """True (once per handout) when `data` was handed out to `requester` and not fetched or forgotten yet."""
        now = time.monotonic() if now is None else now
        key = (digest(data), requester)
        with self._lock:
            self._forget_old(now)
            times = self._waiting.get(key)
            if not times:
                return False
            times.pop(0)
            if not times:
                del self._waiting[key]
            return True

    def waiting(self) -> Counter[str]:
        """How many handouts wait, per analyst (tests, diagnostics)."""
        with self._lock:
            return Counter({owner: len(times) for (_, owner), times in self._waiting.items()})

    def _forget_old(self, now: float) -> None:
        for key in [k for k, times in self._waiting.items() if now - times[-1] >= HANDOUT_SECONDS]:
            del self._waiting[key]
        for times in self._waiting.values():
            times[:] = [t for t in times if now - t < HANDOUT_SECONDS]
        while sum(len(t) for t in self._waiting.values()) > MAX_HANDOUTS:
            oldest = min(self._waiting, key=lambda k: self._waiting[k][0])
            self._waiting[oldest].pop(0)
            if not self._waiting[oldest]:
                del self._waiting[oldest]


HANDOUTS = Handouts()  # the process's (the pages hand out, the media guard claims)
