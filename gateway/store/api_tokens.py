"""Personal API tokens in the store (the `api_tokens` table, see schema.py): `ApiTokens(store)` and its queries.
Every call but `owner_of` names the owner: an analyst lists and revokes only their own. `owner_of` is how a
request's token becomes its owner: by the token's SHA-256, never the token itself (gateway/api_tokens.py makes
tokens and digests).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from gateway.store import rows
from gateway.store.records import Unavailable
from gateway.store.schema import api_tokens

if TYPE_CHECKING:
    from gateway.store.store import Store

log = logging.getLogger(__name__)
TOUCH_EVERY = 60.0  # seconds: a token's "last used" is written at most this often (not on every call)
_LOOKUP = "\x00tokens"  # whose queued changes a lookup waits for (no analyst id is this; the owner is unknown yet)

T = api_tokens.c


@dataclass(frozen=True)
class ApiToken:
    """One live token as its owner sees it: never the token, only its first characters."""

    id: int
    name: str
    prefix: str
    created_at: float
    last_used_at: float | None


class ApiTokens:
    """Personal API tokens in the store's database (only their digests and prefixes are kept)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, owner: str, *, name: str, prefix: str, digest: str) -> ApiToken | Unavailable:
        return self.store._change(owner, lambda c: add(c, owner, name=rows.clean(name), prefix=prefix,
                                                       digest=digest, now=time.time()))

    def listed(self, owner: str) -> list[ApiToken] | Unavailable:
        """The owner's live tokens, newest first."""
        return self.store._read(owner, lambda c: listed(c, owner))

    def revoke(self, owner: str, token_id: int) -> bool | Unavailable:
        """True when the owner's token `token_id` is revoked now; False when they have no such live token."""
        return self.store._change(owner, lambda c: revoke(c, owner, token_id, time.time()))

    def owner_of(self, digest: str) -> str | None | Unavailable:
        """Whose live token has this digest (None: nobody's, or revoked); notes that it was used (at most every
        TOUCH_EVERY seconds, so a burst of calls does not write each time)."""
        found = self.store._read(_LOOKUP, lambda c: find(c, digest))
        if found is None or isinstance(found, Unavailable):
            return found
        now = time.time()
        if found.last_used_at is None or now - found.last_used_at >= TOUCH_EVERY:
            touched = self.store._change(_LOOKUP, lambda c: touch(c, found.owner, found.id, now))
            if isinstance(touched, Unavailable):  # the token is good; only its "last used" is not noted
                log.warning("store: the last use of an API token could not be noted: %s", touched)
        return found.owner


@dataclass(frozen=True)
class Found:
    """The live token a digest names: whose it is, and when it was last used."""

    id: int
    owner: str
    last_used_at: float | None


def add(connection: sa.Connection, owner: str, *, name: str, prefix: str, digest: str, now: float) -> ApiToken:
    pk: int = connection.execute(sa.insert(api_tokens).values(
        owner=owner, name=name, prefix=prefix, digest=digest, created_at=now).returning(T.pk)).scalar_one()
    return ApiToken(int(pk), name, prefix, now, None)


def listed(connection: sa.Connection, owner: str) -> list[ApiToken]:
    """The owner's live tokens, newest first."""
    query = sa.select(T.pk, T.name, T.prefix, T.created_at, T.last_used_at).where(
        T.owner == owner, T.revoked_at.is_(None)).order_by(T.created_at.desc(), T.pk.desc())
    return [ApiToken(int(r.pk), r.name, r.prefix, r.created_at, r.last_used_at) for r in connection.execute(query)]


def revoke(connection: sa.Connection, owner: str, token_id: int, now: float) -> bool:
    """Revoke the owner's live token `token_id`; False when they have no such token."""
    done = connection.execute(sa.update(api_tokens).where(
        T.pk == token_id, T.owner == owner, T.revoked_at.is_(None)).values(revoked_at=now))
    return done.rowcount == 1


def find(connection: sa.Connection, digest: str) -> Found | None:
    """The live token with this digest, None when there is none (never issued, or revoked)."""
    row = connection.execute(sa.select(T.pk, T.owner, T.last_used_at).where(
        T.digest == digest, T.revoked_at.is_(None))).first()
    return None if row is None else Found(int(row.pk), row.owner, row.last_used_at)


def touch(connection: sa.Connection, owner: str, token_id: int, now: float) -> bool:
    """Note that the owner's token was used now."""
    done = connection.execute(sa.update(api_tokens).where(T.pk == token_id, T.owner == owner).values(
        last_used_at=now))
    return done.rowcount == 1
