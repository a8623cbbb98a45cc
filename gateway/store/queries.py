"""Every query of the store. Each function takes a connection inside a transaction the caller opened (one
transaction per write, so another process or tab sees a turn whole or not at all) and filters by owner: an id
belonging to someone else is handled exactly like an id that does not exist.

One conversation saved from several places at once (two tabs, two replicas): every write of a conversation first
upserts its row, which holds that row's lock until the commit (PostgreSQL; SQLite writes one at a time anyway), so
the writes of one conversation take turns, each seeing the rounds the others committed. Then:

- A round is saved by its key (Round.key). A round already stored under its key is updated where it is, whatever
  its place (more runs, a regenerated reply, a stop, an edited prompt), even when another tab's round moved it down.
- A round new to the store goes at the place it has in the saving tab's record when that place is free. When it is
  taken, the round another tab saved there is not overwritten: among the stored rounds from that place on, the new
  round goes before the first one sent after it (by created time, then key), and the rounds from there on move one
  place down; after the last one when none was sent after it. So however the writes interleave, rounds sent at the
  same time from two tabs end up in the order they were sent, the same in every process.
- A whole save (`whole`: an import, "Continue in chat", an evaluation row opened as a comparison, a chat cleared)
  writes every round of the record, sets the title and the pin, and deletes the rounds the record let go of
  (`drop`: Conversation.removed, the rounds Clear took away). Rounds the record never had, such as one another tab
  saved meanwhile, are kept: a Clear in one tab does not delete a turn the analyst has not seen.
- The view (the compare page's diff selection) is written only by the saves that carry it (`view` not None).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.attachments import Attachment
from gateway.conversation import Conversation
from gateway.store import rows
from gateway.store.records import NEW_TITLE, Summary
from gateway.store.schema import SEARCH_CONFIG, attachments, conversations, probe_samples, replies, rounds, usage

C, R, P, A = conversations.c, rounds.c, replies.c, attachments.c
MAX_SEARCH_WORDS = 12
MAX_LIMIT = 1_000  # history entries in one call
_WORD = re.compile(r"\w+")


def _dialect(connection: sa.Connection) -> str:
    return "postgresql" if connection.dialect.name == "postgresql" else "sqlite"


# Statements are built once per database kind with bound parameters: building SQLAlchemy constructs (an upsert's
# `excluded` alias above all) cost more than running them.

@functools.cache
def _conversation_upsert(dialect: str, auto_title: bool, whole: bool, view: bool) -> Any:
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(conversations).values(
        {name: sa.bindparam(name) for name in ("id", "owner", "kind", "title", "auto_title", "pinned", "models",
                                               "params", "created_at", "updated_at", "view")})
    greatest = sa.func.greatest if dialect == "postgresql" else sa.func.max
    changes: dict[str, Any] = {"kind": insert.excluded.kind, "models": insert.excluded.models,
                               "params": insert.excluded.params,
                               "updated_at": greatest(C.updated_at, insert.excluded.updated_at)}
    if auto_title or whole:
        changes["auto_title"] = insert.excluded.auto_title
    if whole:
        changes.update(title=insert.excluded.title, pinned=insert.excluded.pinned)
    if view:
        changes["view"] = insert.excluded.view
    return insert.on_conflict_do_update(index_elements=[C.owner, C.id], set_=changes).returning(C.pk)


_ROUND_VALUES = ("prompt", "params", "created_at", "blind")
# The stored round with this key, and the rounds at or after this place (in place order).
_ROUNDS_FROM = sa.select(R.pk, R.key, R.position, R.created_at).where(
    R.conversation_pk == sa.bindparam("conversation_pk"),
    sa.or_(R.key == sa.bindparam("key"), R.position >= sa.bindparam("position"))).order_by(R.position)
_UPDATE_ROUND = sa.update(rounds).where(R.pk == sa.bindparam("round_pk")).values(
    {name: sa.bindparam(name) for name in _ROUND_VALUES})
_INSERT_ROUND = sa.insert(rounds).values(
    {name: sa.bindparam(name) for name in ("conversation_pk", "key", "position", *_ROUND_VALUES)}).returning(R.pk)
# Rounds from a place on, one place down, in two steps (to negative places, then back shifted by one): a unique
# constraint is checked row by row, and moving them in one statement could collide with a row not yet moved.
_MOVE_OUT = sa.update(rounds).where(R.conversation_pk == sa.bindparam("of"),
                                    R.position >= sa.bindparam("start")).values(position=-R.position - 2)
_MOVE_BACK = sa.update(rounds).where(R.conversation_pk == sa.bindparam("of"), R.position < 0).values(
    position=-R.position - 1)


@functools.cache
def _reply_upsert(dialect: str) -> Any:
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(replies)
    kept = ("pk", "round_pk", "conversation_pk", "model", "run", "created_at")  # created_at: when first saved
    return insert.on_conflict_do_update(index_elements=[P.round_pk, P.model, P.run],
                                        set_={c.name: insert.excluded[c.name] for c in replies.columns
                                              if c.name not in kept})


@functools.cache
def _usage_insert(dialect: str) -> Any:
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(usage)
    return insert.on_conflict_do_nothing(index_elements=[usage.c.owner, usage.c.reply_key])


_REPLY_KEYS = sa.select(P.pk, P.model, P.run).where(P.round_pk == sa.bindparam("round_pk"))
_DELETE_REPLIES = sa.delete(replies).where(P.pk.in_(sa.bindparam("pks", expanding=True)))
_DELETE_ROUNDS = sa.delete(rounds).where(R.conversation_pk == sa.bindparam("conversation_pk"),
                                         R.key.in_(sa.bindparam("keys", expanding=True)))
_TOTALS = sa.update(conversations).where(C.pk == sa.bindparam("conversation_pk")).values(
    turns=sa.select(sa.func.count()).where(R.conversation_pk == sa.bindparam("conversation_pk")).scalar_subquery(),
    cost=sa.select(sa.func.coalesce(sa.func.sum(P.cost), 0.0))
    .where(P.conversation_pk == sa.bindparam("conversation_pk")).scalar_subquery())
_TEXT_COLUMNS = ("text", "error_message", "error_hint", "error_kind", "finish_reason", "call_id", "cost_source")


# --- Writing conversations ---------------------------------------------------------------------------------------

def write(connection: sa.Connection, snapshot: rows.Snapshot) -> None:
    """Upsert a conversation and the rounds of the snapshot (each round's replies replaced by the snapshot's), by the
    rules in the module docstring."""
    dialect = _dialect(connection)
    head = snapshot.header
    values = {"id": head.id, "owner": head.owner, "kind": head.kind, "title": rows.clean(head.title),
              "auto_title": rows.clean(head.auto_title), "pinned": head.pinned,
              "models": rows.clean_json(list(head.models)), "params": rows.clean_json(head.params),
              "created_at": head.created_at, "updated_at": head.updated_at,
              "view": None if snapshot.view is None else rows.clean_json(snapshot.view)}
    first = any(round_.position == 0 for round_ in snapshot.rounds.values())
    upsert = _conversation_upsert(dialect, first, snapshot.whole, snapshot.view is not None)
    conversation_pk: int = connection.execute(upsert, values).scalar_one()  # (locks the row: see the docstring)
    if snapshot.drop:
        connection.execute(_DELETE_ROUNDS, {"conversation_pk": conversation_pk, "keys": sorted(snapshot.drop)})
    for round_ in sorted(snapshot.rounds.values(), key=lambda r: r.position):
        _write_round(connection, dialect, conversation_pk, round_)
    if snapshot.usage:  # the ledger: a reply already there (same owner and key) is not counted again
        connection.execute(_usage_insert(dialect), [{**row, "owner": head.owner, "model": rows.clean(row["model"])}
                                                    for row in snapshot.usage])
    connection.execute(_TOTALS, {"conversation_pk": conversation_pk})


def place(position: int, created_at: float, key: str,
          stored: Iterable[tuple[int, float, str]]) -> tuple[int, bool]:
    """Where a round new to the store goes (see the module docstring): its place, and whether the stored rounds from
    that place on move one down. `position` is its place in the saving tab's record; `stored`, the (position,
    created_at, key) of the stored rounds at or after it, in place order."""
    at = position
    for stored_position, stored_created_at, stored_key in stored:
        if (stored_created_at, stored_key) > (created_at, key):
            return at, at == stored_position
        at = stored_position + 1
    return at, False


def _round_pk(connection: sa.Connection, conversation_pk: int, round_: rows.RoundRows) -> int:
    """The round's row, updated where it is when stored under its key, else inserted at its place."""
    values = {"prompt": rows.clean(round_.prompt), "params": rows.clean_json(round_.params),
              "created_at": round_.created_at, "blind": round_.blind}
    found = connection.execute(_ROUNDS_FROM, {"conversation_pk": conversation_pk, "key": round_.key,
                                              "position": round_.position}).all()
    same = next((row.pk for row in found if row.key == round_.key), None)
    if same is not None:
        connection.execute(_UPDATE_ROUND, {**values, "round_pk": same})
        return same
    position, move = place(round_.position, round_.created_at, round_.key,
                           ((row.position, row.created_at, row.key) for row in found))
    if move:
        connection.execute(_MOVE_OUT, {"of": conversation_pk, "start": position})
        connection.execute(_MOVE_BACK, {"of": conversation_pk})
    return connection.execute(_INSERT_ROUND, {**values, "conversation_pk": conversation_pk, "key": round_.key,
                                              "position": position}).scalar_one()


def _write_round(connection: sa.Connection, dialect: str, conversation_pk: int, round_: rows.RoundRows) -> None:
    round_pk = _round_pk(connection, conversation_pk, round_)
    kept = {(reply["model"], reply["run"]) for reply in round_.replies}
    stale = [pk for pk, model, run in connection.execute(_REPLY_KEYS, {"round_pk": round_pk})
             if (model, run) not in kept]
    if stale:
        connection.execute(_DELETE_REPLIES, {"pks": stale})
    _write_attachments(connection, conversation_pk, round_pk, round_.attachments)
    if round_.replies:
        connection.execute(_reply_upsert(dialect), [
            {**reply, **{k: rows.clean(reply[k]) for k in _TEXT_COLUMNS if reply[k] is not None},
             "round_pk": round_pk, "conversation_pk": conversation_pk} for reply in round_.replies])


_ATTACHMENT_KEYS = sa.select(A.position, A.name, A.size, A.kind).where(A.round_pk == sa.bindparam("round_pk")).order_by(
    A.position)
_DELETE_ATTACHMENTS = sa.delete(attachments).where(A.round_pk == sa.bindparam("round_pk"))


def _write_attachments(connection: sa.Connection, conversation_pk: int, round_pk: int,
                       files: tuple[Attachment, ...]) -> None:
    """A round's files: written once (a round is saved again with every reply; its files are left as they are
    unless they changed)."""
    stored = [tuple(row) for row in connection.execute(_ATTACHMENT_KEYS, {"round_pk": round_pk})]
    if stored == [(i, rows.clean(a.name), a.size, a.kind) for i, a in enumerate(files)]:
        return
    if stored:
        connection.execute(_DELETE_ATTACHMENTS, {"round_pk": round_pk})
    if files:
        connection.execute(sa.insert(attachments), [
            {**rows.attachment_values(a, i), "round_pk": round_pk, "conversation_pk": conversation_pk}
            for i, a in enumerate(files)])


# --- Reading conversations ---------------------------------------------------------------------------------------

_LOAD_HEADER = sa.select(conversations).where(C.owner == sa.bindparam("owner"), C.id == sa.bindparam("id"),
                                              C.deleted_at.is_(None))
_LOAD_ROUNDS = sa.select(R.pk, R.key, R.prompt, R.params, R.created_at, R.blind).where(
    R.conversation_pk == sa.bindparam("conversation_pk")).order_by(R.position)
_LOAD_ATTACHMENTS = sa.select(attachments).where(A.conversation_pk == sa.bindparam("conversation_pk")).order_by(
    A.round_pk, A.position)
_LOAD_REPLIES = sa.select(replies).where(P.conversation_pk == sa.bindparam("conversation_pk")).order_by(
    P.round_pk, P.position, P.run)


def load(connection: sa.Connection, owner: str, conversation_id: str) -> Conversation | None:
    header = connection.execute(_LOAD_HEADER, {"owner": owner, "id": conversation_id}).mappings().first()
    if header is None:
        return None
    key = {"conversation_pk": header["pk"]}
    return rows.build(header, connection.execute(_LOAD_ROUNDS, key).mappings().all(),
                      connection.execute(_LOAD_REPLIES, key).mappings(),
                      connection.execute(_LOAD_ATTACHMENTS, key).mappings())


@functools.cache
def _history(dialect: str, kind: bool, search: bool) -> sa.Select:
    query = sa.select(C.id, C.kind, C.title, C.auto_title, C.models, C.created_at, C.updated_at, C.cost, C.pinned,
                      C.turns).where(C.owner == sa.bindparam("owner"), C.deleted_at.is_(None))
    if kind:
        query = query.where(C.kind == sa.bindparam("kind"))
    if search:
        query = query.where(C.pk.in_(_matching(dialect)))
    return query.order_by(C.pinned.desc(), C.updated_at.desc(), C.pk.desc()).limit(
        sa.bindparam("limit", type_=sa.Integer)).offset(sa.bindparam("offset", type_=sa.Integer))


def history(connection: sa.Connection, owner: str, *, kind: str | None = None, search: str | None = None,
            limit: int = 50, offset: int = 0) -> list[Summary]:
    """One owner's live conversations, pinned first then newest first; `search`: those whose title or any prompt or
    reply has every word of it (as a word prefix)."""
    dialect = _dialect(connection)
    words = _WORD.findall((search or "").lower())[:MAX_SEARCH_WORDS]
    params: dict[str, Any] = {"owner": owner, "kind": kind, "limit": max(0, min(limit, MAX_LIMIT)),
                              "offset": max(0, offset)}
    if words:
        params["match"] = (" & ".join(f"{w}:*" for w in words) if dialect == "postgresql"
                           else " ".join(f'"{w}"*' for w in words))
    query = _history(dialect, kind is not None, bool(words))
    return [Summary(id=str(row.id), kind=row.kind, title=row.title or row.auto_title or NEW_TITLE,
                    models=tuple(row.models), created_at=float(row.created_at), updated_at=float(row.updated_at),
                    cost=float(row.cost), pinned=bool(row.pinned), turns=int(row.turns))
            for row in connection.execute(query, params)]


def _matching(dialect: str) -> sa.CompoundSelect:
    """The pks of conversations (any owner: the caller filters) whose title, a prompt or a reply matches the
    bound parameter `match`."""
    if dialect == "postgresql":
        query = sa.func.to_tsquery(SEARCH_CONFIG, sa.bindparam("match"))
        return sa.union(
            sa.select(C.pk).where(sa.literal_column("conversations.search").op("@@")(query)),
            sa.select(R.conversation_pk).where(sa.literal_column("rounds.search").op("@@")(query)),
            sa.select(P.conversation_pk).where(sa.literal_column("replies.search").op("@@")(query)))

    def hits(fts: str) -> sa.Select:
        table = sa.table(fts, sa.column("rowid"))
        return sa.select(table.c.rowid).where(sa.literal_column(fts).op("MATCH")(sa.bindparam("match")))

    return sa.union(
        hits("conversations_fts"),
        sa.select(R.conversation_pk).where(R.pk.in_(hits("rounds_fts"))),
        sa.select(P.conversation_pk).where(P.pk.in_(hits("replies_fts"))))


# --- Changing a conversation -------------------------------------------------------------------------------------

def update(connection: sa.Connection, owner: str, conversation_id: str, *, deleted: bool | None = False,
           **values: Any) -> bool:
    """Set columns of one of the owner's conversations (`deleted`: which ones may match: False live ones, True
    deleted ones, None either). False when there is no such conversation."""
    query = sa.update(conversations).where(C.owner == owner, C.id == conversation_id)
    if deleted is not None:
        query = query.where(C.deleted_at.is_not(None) if deleted else C.deleted_at.is_(None))
    return connection.execute(query.values(**values)).rowcount > 0


def purge_deleted(connection: sa.Connection, before: float) -> int:
    """Remove conversations deleted before `before` for good (their rounds and replies go with them)."""
    return connection.execute(sa.delete(conversations).where(C.deleted_at < before)).rowcount


# --- Probe samples -----------------------------------------------------------------------------------------------

def add_probes(connection: sa.Connection, samples: Iterable[dict[str, Any]]) -> None:
    values = list(samples)
    if values:
        connection.execute(sa.insert(probe_samples), values)


def probes(connection: sa.Connection, base_url: str, since: float) -> list[sa.Row]:
    s = probe_samples.c
    return list(connection.execute(sa.select(s.at, s.base_url, s.probe, s.latency_ms, s.ok).where(
        s.base_url == base_url, s.at >= since).order_by(s.at, s.pk)))


def prune_probes(connection: sa.Connection, before: float) -> int:
    return connection.execute(sa.delete(probe_samples).where(probe_samples.c.at < before)).rowcount
