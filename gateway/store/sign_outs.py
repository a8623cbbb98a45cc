"""When each analyst last signed out (the `sign_outs` table, see schema.py): `SignOuts(store)` and its queries.

Signing out clears the browser's identity cookies, but a copy of them (a shared machine, a proxy log) would still
open the app: `record` keeps the time, and `last` is what `gateway.analyst.session_end` compares a cookie's issue
time with. `last` is asked on every page run of a signed-in analyst, so this process remembers each answer for
`REMEMBER` seconds (a sign-out here is seen at once; one on another replica within that time). When the database does
not answer, the last answer known is used (none known: not signed out), and the session's own lifetime still ends it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

import sqlalchemy as sa

from gateway.store.records import Unavailable
from gateway.store.schema import sign_outs

if TYPE_CHECKING:
    from gateway.store.store import Store

log = logging.getLogger(__name__)
REMEMBER = 5.0  # seconds an answer of `last` is reused by this process

S = sign_outs.c


class SignOuts:
    """Per-analyst sign-out times in the store's database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, owner: str, at: float) -> bool | Unavailable:
        """Note that `owner` signed out at `at` (epoch seconds; an earlier time than the one kept changes nothing).
        True when it is kept."""
        done = self.store._change(owner, lambda c: record(c, owner, at))
        if not isinstance(done, Unavailable):
            _remember(self.store, owner, last_of(done, at))
            return True
        return done

    def last(self, owner: str) -> float | None:
        """When `owner` last signed out (epoch seconds), None when never. Never raises and never waits for the
        analyst's queued saves."""
        key = (id(self.store), owner)
        with _lock:
            known = _known.get(key)
        now = time.monotonic()
        if known is not None and now - known[1] < REMEMBER:
            return known[0]
        found = self.store._read(None, lambda c: find(c, owner))
        if isinstance(found, Unavailable):
            log.warning("sign-out times cannot be read now (%s): using the last one known", found)
            return known[0] if known is not None else None
        _remember(self.store, owner, found)
        return found


_known: dict[tuple[int, str], tuple[float | None, float]] = {}  # (store, owner) -> (last sign-out, when asked)
_lock = threading.Lock()
MAX_KNOWN = 10_000


def _remember(store: Store, owner: str, signed_out_at: float | None) -> None:
    with _lock:
        if len(_known) >= MAX_KNOWN:
            _known.clear()  # (thousands of analysts in one process: forgetting costs one read each)
        _known[(id(store), owner)] = (signed_out_at, time.monotonic())


def forget() -> None:
    """Forget every remembered answer (tests)."""
    with _lock:
        _known.clear()


def last_of(kept: float | None, at: float) -> float:
    return at if kept is None else max(kept, at)


def record(connection: sa.Connection, owner: str, at: float) -> float | None:
    """Keep the later of `at` and the time already kept; returns the time that was kept before (None: none)."""
    before = find(connection, owner)
    if before is None:
        try:
            with connection.begin_nested():  # another replica may insert the same analyst's first sign-out at once
                connection.execute(sa.insert(sign_outs).values(owner=owner, signed_out_at=at))
            return None
        except sa.exc.IntegrityError:
            before = find(connection, owner)
    connection.execute(sa.update(sign_outs).where(S.owner == owner, S.signed_out_at < at).values(signed_out_at=at))
    return before


def find(connection: sa.Connection, owner: str) -> float | None:
    found = connection.execute(sa.select(S.signed_out_at).where(S.owner == owner)).scalar_one_or_none()
    return None if found is None else float(found)
