"""Files handed to one analyst: an export built when its download button is clicked may be fetched by that
analyst's browser `FETCHES` times within `HANDOUT_SECONDS`; then its link answers nothing (api/media_guard.py asks
here). Streamlit's page fetches a download's link twice: once to check it answers, once to save it.

A handout is named by the SHA-256 of its bytes (what the link serves) and the analyst it is for. Two analysts whose
exports are byte for byte the same each get their own handout. Nothing here knows Streamlit or HTTP.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass

FETCHES = 2  # Streamlit 1.67's download button: fetch(url) to check it, then the download itself
HANDOUT_SECONDS = 120.0  # a handout not fetched within this is forgotten (the browser fetches it at once)
MAX_HANDOUTS = 10_000  # waiting at once in one process; the oldest are forgotten beyond it


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class _Handout:
    at: float
    fetches: int = FETCHES


class Handouts:
    """The handouts waiting to be fetched, in this process."""

    def __init__(self) -> None:
        self._waiting: dict[tuple[str, str], list[_Handout]] = {}  # (digest, owner) -> oldest first
        self._lock = threading.Lock()

    def hand_out(self, data: bytes, owner: str, *, now: float | None = None) -> None:
        """`data` may be fetched by `owner` from now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._forget_old(now)
            self._waiting.setdefault((digest(data), owner), []).append(_Handout(now))

    def claim(self, data: bytes, requester: str, *, now: float | None = None) -> bool:
        """True when `data` was handed out to `requester` and still has a fetch left (which this uses)."""
        now = time.monotonic() if now is None else now
        key = (digest(data), requester)
        with self._lock:
            self._forget_old(now)
            handouts = self._waiting.get(key)
            if not handouts:
                return False
            handouts[0].fetches -= 1
            if handouts[0].fetches <= 0:
                handouts.pop(0)
            if not handouts:
                del self._waiting[key]
            return True

    def waiting(self) -> Counter[str]:
        """How many handouts wait, per analyst (tests, diagnostics)."""
        with self._lock:
            return Counter({owner: len(handouts) for (_, owner), handouts in self._waiting.items()})

    def _forget_old(self, now: float) -> None:
        total = 0
        for key in list(self._waiting):
            kept = [h for h in self._waiting[key] if now - h.at < HANDOUT_SECONDS]
            if kept:
                self._waiting[key] = kept
                total += len(kept)
            else:
                del self._waiting[key]
        while total > MAX_HANDOUTS:
            oldest = min(self._waiting, key=lambda k: self._waiting[k][0].at)
            self._waiting[oldest].pop(0)
            if not self._waiting[oldest]:
                del self._waiting[oldest]
            total -= 1


HANDOUTS = Handouts()  # the process's (the pages hand out, the media guard claims)
