"""The team prompt library in the store (the `prompt_library` table, see schema.py): `PromptLibrary(store)`.

Every call names the analyst asking. A reader gets their own prompts and the team's shared ones, never another
analyst's private one (`visible`). Reads do not wait for the analyst's queued conversation saves (the store's
`_read(None, …)`): library changes are written at once, and a page drawing the picker right after a reply must not
wait for that reply's save; only the owner updates or deletes (the owner is part of every such query, so no
page or API path can skip the rule). `copy` makes a private copy, owned by the reader, of a prompt they can see.

A list is kept for LIST_TTL seconds per reader (the picker reads it on every Compare and Chat page run: ~7 ms for
165 visible prompts on SQLite, bench/prompt_library.py); any change made through this process empties the cache at
once, so a change made on another replica shows there within LIST_TTL.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from gateway.cache import Cache
from gateway.prompt_library import Draft, SavedPrompt
from gateway.store import rows
from gateway.store.records import Unavailable
from gateway.store.schema import prompt_library

if TYPE_CHECKING:
    from gateway.store.store import Store

P = prompt_library.c
T = TypeVar("T")
MAX_LISTED = 2_000  # prompts one list returns (own and shared): a library, not an archive
LIST_TTL = 5.0  # seconds a reader's list is kept (changes through this process clear it at once)
_lists: Cache[tuple[str, str, str], tuple[SavedPrompt, ...]] = Cache(1_000, LIST_TTL, name="prompt_library_lists")


class PromptLibrary:
    """Saved prompts and system prompts, private or shared with the team."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def listed(self, reader: str, *, scope: str = "all") -> list[SavedPrompt] | Unavailable:
        """What `reader` may see: `all` (their own and the team's shared, theirs first), `mine` (their own,
        private and shared) or `team` (every shared one, theirs included). Sorted by name within each group."""
        key = (self.store.database, reader, scope)
        if (kept := _lists.get(key)) is not None:
            return list(kept)
        found = self.store._read(None, lambda c: listed(c, reader, scope))
        if not isinstance(found, Unavailable):
            _lists.put(key, tuple(found))
        return found

    def get(self, prompt_id: int, reader: str) -> SavedPrompt | None | Unavailable:
        """The prompt if `reader` may see it (theirs, or shared), else None (also when there is no such prompt)."""
        return self.store._read(None, lambda c: get(c, prompt_id, reader))

    def add(self, owner: str, draft: Draft) -> SavedPrompt | Unavailable:
        return _changed(self.store._change(owner, lambda c: add(c, owner, draft, time.time())))

    def update(self, prompt_id: int, owner: str, draft: Draft) -> SavedPrompt | None | Unavailable:
        """The prompt as changed; None when `owner` has no such prompt (someone else's is not theirs to change)."""
        return _changed(self.store._change(owner, lambda c: update(c, prompt_id, owner, draft, time.time())))

    def delete(self, prompt_id: int, owner: str) -> bool | Unavailable:
        """True when the owner's prompt is deleted; False when they have no such prompt."""
        return _changed(self.store._change(owner, lambda c: delete(c, prompt_id, owner)))

    def copy(self, prompt_id: int, reader: str) -> SavedPrompt | None | Unavailable:
        """A private copy of a prompt `reader` can see, now theirs to change; None when they cannot see it."""
        return _changed(self.store._change(reader, lambda c: copy(c, prompt_id, reader, time.time())))


def _changed(result: T) -> T:
    """A change's result, after forgetting every kept list (also when the database did not answer: it may have)."""
    _lists.clear()
    return result


def _record(row: Any) -> SavedPrompt:
    return SavedPrompt(int(row.pk), row.owner, row.name, row.text, row.kind, tuple(row.tags or ()), bool(row.shared),
                       float(row.created_at), float(row.updated_at))


def _visible(reader: str) -> sa.ColumnElement[bool]:
    return sa.or_(P.owner == reader, P.shared.is_(True))


def listed(connection: sa.Connection, reader: str, scope: str = "all") -> list[SavedPrompt]:
    where = {"mine": P.owner == reader, "team": P.shared.is_(True)}.get(scope, _visible(reader))
    query = sa.select(prompt_library).where(where).order_by(
        sa.case((P.owner == reader, 0), else_=1), sa.func.lower(P.name), P.pk).limit(MAX_LISTED)
    return [_record(r) for r in connection.execute(query)]


def get(connection: sa.Connection, prompt_id: int, reader: str) -> SavedPrompt | None:
    row = connection.execute(sa.select(prompt_library).where(P.pk == prompt_id, _visible(reader))).first()
    return None if row is None else _record(row)


def _values(draft: Draft) -> dict[str, Any]:
    return {"name": rows.clean(draft.name), "text": rows.clean(draft.text), "kind": draft.kind,
            "tags": [rows.clean(t) for t in draft.tags], "shared": draft.shared}


def add(connection: sa.Connection, owner: str, draft: Draft, now: float) -> SavedPrompt:
    pk: int = connection.execute(sa.insert(prompt_library).values(
        owner=owner, created_at=now, updated_at=now, **_values(draft)).returning(P.pk)).scalar_one()
    found = get(connection, int(pk), owner)
    assert found is not None
    return found


def update(connection: sa.Connection, prompt_id: int, owner: str, draft: Draft, now: float) -> SavedPrompt | None:
    done = connection.execute(sa.update(prompt_library).where(P.pk == prompt_id, P.owner == owner).values(
        updated_at=now, **_values(draft)))
    return get(connection, prompt_id, owner) if done.rowcount == 1 else None


def delete(connection: sa.Connection, prompt_id: int, owner: str) -> bool:
    done = connection.execute(sa.delete(prompt_library).where(P.pk == prompt_id, P.owner == owner))
    return done.rowcount == 1


def copy(connection: sa.Connection, prompt_id: int, reader: str, now: float) -> SavedPrompt | None:
    source = get(connection, prompt_id, reader)
    if source is None:
        return None
    return add(connection, reader, Draft(source.name, source.text, source.kind, source.tags, False), now)
