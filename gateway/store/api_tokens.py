"""The queries of personal API tokens (the `api_tokens` table, see schema.py). Every call but `find` names the owner:
an analyst lists and revokes only their own. `find` is how a request's token becomes its owner: by the token's
SHA-256, never the token itself (gateway/api_tokens.py makes tokens and digests).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gateway.store.schema import api_tokens

T = api_tokens.c


@dataclass(frozen=True)
class ApiToken:
    """One live token as its owner sees it: never the token, only its first characters."""

    id: int
    name: str
    prefix: str
    created_at: float
    last_used_at: float | None


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
