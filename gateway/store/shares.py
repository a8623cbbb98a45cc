"""Share links in the store (the `shares` table, see schema.py): `Shares(store)` and its queries.

Every change names the owner (an analyst changes only their own links); `find` is how a link's token becomes its row,
for whoever opens it (gateway/sharing/access.py decides what they see). `listed(None)` is every link (admins).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from gateway.store import rows
from gateway.store.records import Unavailable
from gateway.store.schema import shares

if TYPE_CHECKING:
    from gateway.store.store import Store

_LOOKUP = "\x00shares"  # whose queued changes a lookup waits for (none: the reader is not the owner)
S = shares.c
LIST_LIMIT = 500


@dataclass(frozen=True)
class ShareRow:
    """One link. `snapshot` is None in lists (they do not read it)."""

    token: str
    owner: str
    kind: str
    source_id: str
    title: str
    public: bool
    created_at: float
    updated_at: float
    expires_at: float | None
    revoked_at: float | None
    views: int
    last_viewed_at: float | None
    snapshot: dict[str, Any] | None = None


class Shares:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, owner: str, row: ShareRow) -> bool | Unavailable:
        return self.store._change(owner, lambda c: add(c, row))

    def find(self, token: str) -> ShareRow | None | Unavailable:
        return self.store._read(_LOOKUP, lambda c: find(c, token))

    def listed(self, owner: str | None, *, source_id: str | None = None) -> list[ShareRow] | Unavailable:
        """The owner's links (every analyst's when `owner` is None), newest first; `source_id`: of that work only."""
        return self.store._read(owner, lambda c: listed(c, owner, source_id))

    def exported(self, owner: str) -> list[ShareRow] | Unavailable:
        """Every link of the owner's, revoked ones included, with its snapshot (their JSON export)."""
        return self.store._read(owner, lambda c: exported(c, owner))

    def change(self, token: str, owner: str | None, **values: Any) -> bool | Unavailable:
        """Change the owner's link (any link when `owner` is None: an admin); False when there is no such link."""
        return self.store._change(owner or _LOOKUP, lambda c: change(c, token, owner, values))

    def viewed(self, token: str, at: float) -> bool | Unavailable:
        return self.store._change(_LOOKUP, lambda c: viewed(c, token, at))


_LIST_COLUMNS = (S.token, S.owner, S.kind, S.source_id, S.title, S.public, S.created_at, S.updated_at, S.expires_at,
                 S.revoked_at, S.views, S.last_viewed_at)


def _row(found: Any, snapshot: dict[str, Any] | None = None) -> ShareRow:
    return ShareRow(found.token, found.owner, found.kind, found.source_id, found.title, bool(found.public),
                    float(found.created_at), float(found.updated_at), found.expires_at, found.revoked_at,
                    int(found.views), found.last_viewed_at, snapshot)


def add(connection: sa.Connection, row: ShareRow) -> bool:
    connection.execute(sa.insert(shares).values(
        token=row.token, owner=row.owner, kind=row.kind, source_id=row.source_id, title=rows.clean(row.title),
        snapshot=rows.clean_json(row.snapshot), public=row.public, created_at=row.created_at, updated_at=row.updated_at,
        expires_at=row.expires_at, revoked_at=None, views=0))
    return True


def find(connection: sa.Connection, token: str) -> ShareRow | None:
    found = connection.execute(sa.select(*_LIST_COLUMNS, S.snapshot).where(S.token == token)).first()
    return None if found is None else _row(found, found.snapshot)


def listed(connection: sa.Connection, owner: str | None, source_id: str | None) -> list[ShareRow]:
    query = sa.select(*_LIST_COLUMNS).order_by(S.created_at.desc(), S.pk.desc()).limit(LIST_LIMIT)
    if owner is not None:
        query = query.where(S.owner == owner)
    if source_id is not None:
        query = query.where(S.source_id == source_id)
    return [_row(found) for found in connection.execute(query)]


def exported(connection: sa.Connection, owner: str) -> list[ShareRow]:
    query = sa.select(*_LIST_COLUMNS, S.snapshot).where(S.owner == owner).order_by(S.created_at, S.pk)
    return [_row(found, found.snapshot) for found in connection.execute(query)]


def change(connection: sa.Connection, token: str, owner: str | None, values: dict[str, Any]) -> bool:
    query = sa.update(shares).where(S.token == token)
    if owner is not None:
        query = query.where(S.owner == owner)
    if "title" in values:
        values = {**values, "title": rows.clean(values["title"])}
    if "snapshot" in values:
        values = {**values, "snapshot": rows.clean_json(values["snapshot"])}
    return connection.execute(query.values(**values)).rowcount == 1


def viewed(connection: sa.Connection, token: str, at: float) -> bool:
    done = connection.execute(sa.update(shares).where(S.token == token).values(views=S.views + 1,
                                                                                last_viewed_at=at))
    return done.rowcount == 1
