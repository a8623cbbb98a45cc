"""The store: what pages call to save and find work. No page sees SQL, a session or a database exception.

Writes (`save_round`, `save_conversation`, `save_view`, `record_probes`) take a snapshot on the caller's thread and
queue it (microseconds); a background thread writes it in one transaction. When the database is down, locked or
read-only the changes wait in memory and are written when it is back; `status()` says so in words a banner can show.
Reads (`load`, `history`, `probe_history`) first wait briefly for the same analyst's queued changes (so a page sees
what it just saved), then read in one transaction; when the database cannot answer they return `Unavailable`.
Changes an analyst asks for by name (`rename`, `pin`, `delete`, `restore`) are done at once and return True (done),
False (no such conversation of theirs) or `Unavailable`. Evaluation data (`Evaluations(store)`) and personal API
tokens (`ApiTokens(store)`) are read and written through the same doors (`_read`, `_change`); whether the database
answers is kept by `availability.Availability`.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from gateway.cache import Cache
from gateway.conversation import Conversation
from gateway.store import engine as engines
from gateway.store import migrate, queries, rows
from gateway.store import usage as ledger
from gateway.store.availability import Availability
from gateway.store.records import StoreStatus, Summary, Unavailable
from gateway.store.writer import WriteBehind, transient

if TYPE_CHECKING:
    from gateway.config import Settings
    from gateway.health import LatencySample

log = logging.getLogger(__name__)
T = TypeVar("T")

LOCAL_OWNER = "local"  # the one analyst when sign-in is off
READ_WAIT = 1.0  # seconds a read waits for the analyst's own queued changes
PROBE_RETENTION = 7 * 24 * 3600  # seconds of probe samples kept
DELETED_RETENTION = 7 * 24 * 3600  # seconds a deleted conversation can still be restored
HOUSEKEEPING_EVERY = 3600
MAX_QUEUED_PROBES = 10_000
TRACKED_CONVERSATIONS = 10_000  # conversations whose saved rounds this process remembers (to fill gaps)
_PROBES = "\x00probes"  # whose queued changes probe_history waits for (no analyst id can be this)


@dataclass(frozen=True)
class _Probes:
    samples: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class _Housekeeping:
    now: float


def _merge(older: Any, newer: Any) -> Any:
    if isinstance(older, rows.Snapshot):
        return older.then(newer)
    if isinstance(older, _Probes):
        return _Probes((older.samples + newer.samples)[-MAX_QUEUED_PROBES:])
    return newer



class Store:
    """Saved work in one database. Create with `Store.open(url)` (or `get_store(settings)`, one per process)."""

    def __init__(self, url: sa.URL, *, secrets: tuple[str | None, ...] = ()) -> None:
        self.url = url
        self.database = engines.describe(url)
        self._availability = Availability(self.database, tuple(s for s in (*secrets, url.password) if s))
        self._engine = engines.create_engine(url)
        self._read_engine, self._write_engine = engines.reader(self._engine), engines.writer(self._engine)
        self._ready = False
        self._ready_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._saved_through: Cache[tuple[str, str], int] = Cache(TRACKED_CONVERSATIONS)  # (owner, id) → round
        self._housekept = 0.0
        self._writer = WriteBehind(self._write, _merge, probe=self._probe, on_success=self._succeeded,
                                   on_failure=self._failed)

    @classmethod
    def open(cls, url: str | sa.URL = engines.DEFAULT_URL, *, secrets: tuple[str | None, ...] = ()) -> Store:
        """A store on `url`, migrated to the newest schema. Never raises for an unreachable database (the status
        says so and the writer keeps trying); raises ValueError for a URL that is not a supported database."""
        store = cls(engines.resolve_url(url), secrets=secrets)
        try:
            store._ensure_ready()
        except Exception as error:  # noqa: BLE001
            store._failed(error, transient(error))
            store._writer.wake()  # it checks the database until it answers
        else:
            store._housekeep_if_due()
        return store

    # --- status ------------------------------------------------------------------------------------------------

    def status(self) -> StoreStatus:
        return self._availability.status(self._writer.pending(), self._writer.lost)

    @property
    def ok(self) -> bool:
        return self.status().ok

    # --- saving ------------------------------------------------------------------------------------------------

    def save_round(self, conversation: Conversation, index: int, owner: str) -> None:
        """Save round `index` of `conversation` (its prompt, parameters and every run of every reply) and the
        conversation's header, and add its replies to the usage ledger (a round's end: once per reply).
        Idempotent: saving a round again (more runs, a regenerated reply) replaces it, found by its key even where
        another tab's round moved it (gateway/store/queries.py says where a new round goes).
        Rounds before it that this process has not saved yet are saved too. Returns at once; never raises."""
        try:
            if not 0 <= index < len(conversation.rounds):
                raise IndexError(f"round {index} of a conversation with {len(conversation.rounds)}")
            now = time.time()
            key = (owner, conversation.id)
            with self._state_lock:
                through = self._saved_through.get(key, -1)
                self._remember(key, max(through, index))
            positions = [*range(through + 1, index), index]
            snapshot = rows.Snapshot(rows.header(conversation, owner, now),
                                     {conversation.rounds[i].key: rows.round_rows(conversation.rounds[i], i, now)
                                      for i in positions},
                                     usage=tuple(u for i in positions
                                                 for u in rows.usage_rows(conversation, conversation.rounds[i], now)))
            self._writer.put(("conversation", owner, conversation.id), owner, snapshot)
        except Exception:  # noqa: BLE001 - a page must never fail because saving did
            log.exception("store: could not queue a round")
            self._writer.count_lost()

    def save_conversation(self, conversation: Conversation, owner: str) -> None:
        """Save the whole conversation: every round, its title, pin and view, and delete the rounds it let go of
        (cleared); rounds another tab added that it never had are kept. For an import, a "Continue in chat" handoff,
        or after clearing. Returns at once; never raises."""
        try:
            now = time.time()
            keys = {r.key for r in conversation.rounds}
            snapshot = rows.Snapshot(rows.header(conversation, owner, now),
                                     {r.key: rows.round_rows(r, i, now) for i, r in enumerate(conversation.rounds)},
                                     whole=True, drop=frozenset(conversation.removed - keys),
                                     view=rows.view(conversation))
            with self._state_lock:  # (not lowered after a Clear: another tab here may have saved more rounds)
                key = (owner, conversation.id)
                self._remember(key, max(self._saved_through.get(key, -1), len(conversation.rounds) - 1))
            self._writer.put(("conversation", owner, conversation.id), owner, snapshot)
        except Exception:  # noqa: BLE001
            log.exception("store: could not queue a conversation")
            self._writer.count_lost()

    def save_view(self, conversation: Conversation, owner: str) -> None:
        """Save what the analyst chose to look at (the diff's pair) with the conversation; not a change that moves
        it up the history (its time is left as it is). Returns at once; never raises."""
        try:
            snapshot = rows.Snapshot(rows.header(conversation, owner, conversation.created_at),
                                     view=rows.view(conversation))
            self._writer.put(("conversation", owner, conversation.id), owner, snapshot)
        except Exception:  # noqa: BLE001
            log.exception("store: could not queue a view")
            self._writer.count_lost()

    def record_probes(self, samples: Iterable[LatencySample]) -> None:
        """Keep health probe samples (for `PROBE_RETENTION`). Returns at once; never raises."""
        try:
            values = tuple({"at": s.at, "base_url": s.base_url, "probe": s.probe, "latency_ms": s.latency_ms,
                            "ok": s.ok} for s in samples)
            if values:
                self._writer.put(("probes",), _PROBES, _Probes(values))
            self._housekeep_if_due()
        except Exception:  # noqa: BLE001
            log.exception("store: could not queue probe samples")

    def housekeep(self, now: float | None = None) -> None:
        """Queue the clean-up: probe samples older than `PROBE_RETENTION`, conversations deleted more than
        `DELETED_RETENTION` ago. Done by itself at start-up and then hourly; `now` is for tests."""
        self._writer.put(("housekeeping",), None, _Housekeeping(time.time() if now is None else now))

    def settled(self, owner: str, timeout: float) -> bool:
        """Wait up to `timeout` s until nothing of `owner`'s is waiting to be written. False when something still is
        (the database is slow, or down and retried)."""
        return self._writer.wait(owner, timeout)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued change is written. False when some are still waiting after `timeout` s."""
        return self._writer.wait(None, timeout)

    # --- reading -----------------------------------------------------------------------------------------------

    def load(self, conversation_id: str, owner: str) -> Conversation | None | Unavailable:
        """The owner's conversation with that id, None when there is none (or it is someone else's, or deleted)."""
        found = self._read(owner, lambda c: queries.load(c, owner, conversation_id))
        if isinstance(found, Conversation):
            with self._state_lock:
                key = (owner, found.id)
                self._remember(key, max(self._saved_through.get(key, -1), len(found.rounds) - 1))
        return found

    def history(self, owner: str, *, kind: str | None = None, search: str | None = None, limit: int = 50,
                offset: int = 0) -> list[Summary] | Unavailable:
        """The owner's conversations, pinned first then newest first. `search`: only those whose title, a prompt
        or a reply contains every word of it (as the start of a word)."""
        return self._read(owner, lambda c: queries.history(c, owner, kind=kind, search=search, limit=limit,
                                                            offset=offset))

    def usage(self, owner: str | None, *, since: float, until: float,
              offset: float = 0.0) -> list[ledger.UsageGroup] | Unavailable:
        """The usage ledger added up per (analyst, model, day) over [since, until): one analyst's, or the whole
        team's when `owner` is None (for admins). See gateway/store/usage.py."""
        return self._read(owner, lambda c: ledger.groups(c, since=since, until=until, owner=owner, offset=offset))

    def spent(self, owner: str, *, since: float, until: float) -> float | Unavailable:
        """What one analyst's replies cost over [since, until) (USD), for budgets."""
        return self._read(owner, lambda c: ledger.spent(c, owner, since=since, until=until))

    def spending(self, owner: str, *, since: float, until: float) -> tuple[float, int] | Unavailable:
        """What one analyst's replies cost over [since, until) (USD), and the tokens of those without a price."""
        return self._read(owner, lambda c: ledger.spending(c, owner, since=since, until=until))

    def probe_history(self, base_url: str, since: float) -> list[LatencySample] | Unavailable:
        from gateway.health import LatencySample

        found = self._read(_PROBES, lambda c: queries.probes(c, base_url, since))
        if isinstance(found, Unavailable):
            return found
        return [LatencySample(r.at, r.base_url, r.probe, r.latency_ms, bool(r.ok)) for r in found]

    # --- changing ----------------------------------------------------------------------------------------------

    def rename(self, conversation_id: str, owner: str, title: str) -> bool | Unavailable:
        """Give a conversation a title ("" goes back to the first prompt)."""
        return self._change(owner, lambda c: queries.update(c, owner, conversation_id, title=rows.clean(title.strip()),
                                                             updated_at=time.time()))

    def pin(self, conversation_id: str, owner: str, pinned: bool = True) -> bool | Unavailable:
        return self._change(owner, lambda c: queries.update(c, owner, conversation_id, pinned=pinned))

    def delete(self, conversation_id: str, owner: str) -> bool | Unavailable:
        """Hide a conversation from history and URLs; `restore` brings it back for `DELETED_RETENTION`."""
        return self._change(owner, lambda c: queries.update(c, owner, conversation_id, deleted_at=time.time()))

    def restore(self, conversation_id: str, owner: str) -> bool | Unavailable:
        return self._change(owner, lambda c: queries.update(c, owner, conversation_id, deleted=True,
                                                             deleted_at=None))

    def close(self, timeout: float = 5.0) -> bool:
        """Write what is queued (up to `timeout` s), stop the writer and close the connections."""
        drained = self._writer.close(timeout)
        self._engine.dispose()
        return drained

    # --- inside ------------------------------------------------------------------------------------------------

    def _remember(self, key: tuple[str, str], through: int) -> None:
        self._saved_through.put(key, through)

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if not self._ready:
                migrate.upgrade(self._engine)
                self._ready = True

    def _read(self, owner: str | None, query: Callable[[sa.Connection], T]) -> T | Unavailable:
        if (paused := self._availability.read_paused()) is not None:
            return paused  # it failed a moment ago: do not make every rerun wait for it again
        if owner is not None and not self._availability.retrying():  # (while writes fail, waiting would not help)
            self._writer.wait(owner, READ_WAIT)
        try:
            self._ensure_ready()
            with self._read_engine.begin() as connection:
                found = query(connection)
        except Exception as error:  # noqa: BLE001
            unavailable = Unavailable(f"Saved work cannot be read: {self._availability.describe(error)}.")
            if transient(error):
                self._availability.read_failed(unavailable)
            else:
                log.error("store: a query failed", exc_info=error)
            return unavailable
        self._availability.read_succeeded()
        return found

    def _change(self, owner: str, change: Callable[[sa.Connection], T]) -> T | Unavailable:
        status = self.status()
        if not status.ok and self._availability.retrying():
            return Unavailable(status.message)  # writes fail at the moment; this one would too
        self._writer.wait(owner, READ_WAIT)
        try:
            self._ensure_ready()
            with self._write_engine.begin() as connection:
                return change(connection)
        except Exception as error:  # noqa: BLE001
            if transient(error):
                self._failed(error, True)
                self._writer.wake()
                return Unavailable(self.status().message)
            log.error("store: a change failed", exc_info=error)
            return Unavailable(f"The change could not be saved: {self._availability.describe(error)}.")

    def _write(self, change: Any) -> None:
        self._ensure_ready()
        with self._write_engine.begin() as connection:
            if isinstance(change, rows.Snapshot):
                queries.write(connection, change)
            elif isinstance(change, _Probes):
                queries.add_probes(connection, change.samples)
            elif isinstance(change, _Housekeeping):
                queries.prune_probes(connection, change.now - PROBE_RETENTION)
                queries.purge_deleted(connection, change.now - DELETED_RETENTION)

    def _probe(self) -> None:
        self._ensure_ready()
        with self._engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    def _housekeep_if_due(self) -> None:
        now = time.time()
        if now - self._housekept >= HOUSEKEEPING_EVERY:
            self._housekept = now
            self.housekeep(now)

    def _succeeded(self) -> None:
        self._availability.succeeded()

    def _failed(self, error: BaseException, retrying: bool) -> None:
        self._availability.failed(error, retrying)


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def get_store(settings: Settings) -> Store:
    """The process's store for `settings.database_url` (opened, and migrated, on first use)."""
    url = settings.database_url
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = Store.open(url, secrets=settings.secrets)
            atexit.register(store.close)
        return store
