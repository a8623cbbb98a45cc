"""Every query of the store. Each function takes a connection inside a transaction the caller opened (one
transaction per write, so another process or tab sees a turn whole or not at all) and filters by owner: an id
belonging to someone else is handled exactly like an id that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.conversation import Conversation
from gateway.store import rows
from gateway.store.records import NEW_TITLE, Summary
from gateway.store.schema import SEARCH_CONFIG, conversations, probe_samples, replies, rounds, usage

C, R, P = conversations.c, rounds.c, replies.c
MAX_SEARCH_WORDS = 12
_WORD = re.compile(r"\w+")


def _insert(connection: sa.Connection, table: sa.Table) -> Any:
    """The dialect's INSERT (it has ON CONFLICT)."""
    return (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(table)


def _greatest(connection: sa.Connection, a: Any, b: Any) -> Any:
    return sa.func.greatest(a, b) if connection.dialect.name == "postgresql" else sa.func.max(a, b)


# --- Writing conversations ---------------------------------------------------------------------------------------

def write(connection: sa.Connection, snapshot: rows.Snapshot) -> None:
    """Upsert a conversation and the rounds of the snapshot (each round's replies replaced by the snapshot's).
    A `whole` snapshot also removes stored rounds it does not have, and sets the title and pin."""
    head = snapshot.header
    values = {"id": head.id, "owner": head.owner, "kind": head.kind, "title": rows.clean(head.title),
              "auto_title": rows.clean(head.auto_title), "pinned": head.pinned,
              "models": rows.clean_json(list(head.models)), "params": rows.clean_json(head.params),
              "created_at": head.created_at, "updated_at": head.updated_at}
    insert = _insert(connection, conversations).values(values)
    changes: dict[str, Any] = {"kind": insert.excluded.kind, "models": insert.excluded.models,
                               "params": insert.excluded.params,
                               "updated_at": _greatest(connection, C.updated_at, insert.excluded.updated_at)}
    if snapshot.whole or 0 in snapshot.rounds:
        changes["auto_title"] = insert.excluded.auto_title
    if snapshot.whole:
        changes.update(title=insert.excluded.title, pinned=insert.excluded.pinned)
    conversation_pk: int = connection.execute(
        insert.on_conflict_do_update(index_elements=[C.owner, C.id], set_=changes).returning(C.pk)).scalar_one()

    for position in sorted(snapshot.rounds):
        _write_round(connection, conversation_pk, snapshot.rounds[position])
    if snapshot.whole:
        connection.execute(sa.delete(rounds).where(R.conversation_pk == conversation_pk,
                                                   R.position.not_in(list(snapshot.rounds) or [-1])))
    if snapshot.usage:  # the ledger: a reply already there (same owner and key) is not counted again
        connection.execute(_insert(connection, usage).on_conflict_do_nothing(
            index_elements=[usage.c.owner, usage.c.reply_key]),
            [{**row, "owner": head.owner, "model": rows.clean(row["model"])} for row in snapshot.usage])
    connection.execute(sa.update(conversations).where(C.pk == conversation_pk).values(
        turns=sa.select(sa.func.count()).where(R.conversation_pk == conversation_pk).scalar_subquery(),
        cost=sa.select(sa.func.coalesce(sa.func.sum(P.cost), 0.0))
        .where(P.conversation_pk == conversation_pk).scalar_subquery()))


def _write_round(connection: sa.Connection, conversation_pk: int, round_: rows.RoundRows) -> None:
    insert = _insert(connection, rounds).values(
        conversation_pk=conversation_pk, position=round_.position, prompt=rows.clean(round_.prompt),
        params=rows.clean_json(round_.params), created_at=round_.created_at)
    round_pk: int = connection.execute(insert.on_conflict_do_update(
        index_elements=[R.conversation_pk, R.position],
        set_={"prompt": insert.excluded.prompt, "params": insert.excluded.params,
              "created_at": insert.excluded.created_at}).returning(R.pk)).scalar_one()

    kept = {(reply["model"], reply["run"]) for reply in round_.replies}
    stale = [pk for pk, model, run in connection.execute(
        sa.select(P.pk, P.model, P.run).where(P.round_pk == round_pk)) if (model, run) not in kept]
    if stale:
        connection.execute(sa.delete(replies).where(P.pk.in_(stale)))
    if not round_.replies:
        return
    values = [{**reply, "text": rows.clean(reply["text"]),
               **{k: rows.clean(reply[k]) if reply[k] is not None else None
                  for k in ("error_message", "error_hint", "error_kind", "finish_reason", "call_id", "cost_source")},
               "round_pk": round_pk, "conversation_pk": conversation_pk} for reply in round_.replies]
    insert = _insert(connection, replies)
    updated = [c.name for c in replies.columns if c.name not in ("pk", "round_pk", "conversation_pk", "model", "run",
                                                                  "created_at")]
    connection.execute(insert.on_conflict_do_update(
        index_elements=[P.round_pk, P.model, P.run], set_={name: insert.excluded[name] for name in updated}), values)


# --- Reading conversations ---------------------------------------------------------------------------------------

def load(connection: sa.Connection, owner: str, conversation_id: str) -> Conversation | None:
    header = connection.execute(sa.select(conversations).where(
        C.owner == owner, C.id == conversation_id, C.deleted_at.is_(None))).mappings().first()
    if header is None:
        return None
    round_rows = connection.execute(sa.select(R.pk, R.prompt, R.params, R.created_at).where(
        R.conversation_pk == header["pk"]).order_by(R.position)).mappings().all()
    reply_rows = connection.execute(sa.select(replies).where(P.conversation_pk == header["pk"]).order_by(
        P.round_pk, P.position, P.run)).mappings()
    return rows.build(header, round_rows, reply_rows)


def history(connection: sa.Connection, owner: str, *, kind: str | None = None, search: str | None = None,
            limit: int = 50, offset: int = 0) -> list[Summary]:
    """One owner's live conversations, pinned first then newest first; `search`: those whose title or any prompt or
    reply has every word of it (as a word prefix)."""
    query = sa.select(C.id, C.kind, C.title, C.auto_title, C.models, C.created_at, C.updated_at, C.cost, C.pinned,
                      C.turns).where(C.owner == owner, C.deleted_at.is_(None))
    if kind is not None:
        query = query.where(C.kind == kind)
    words = _WORD.findall((search or "").lower())[:MAX_SEARCH_WORDS]
    if words:
        query = query.where(C.pk.in_(_matching(connection, words)))
    query = query.order_by(C.pinned.desc(), C.updated_at.desc(), C.pk.desc()).limit(limit).offset(offset)
    return [Summary(id=row.id, kind=row.kind, title=row.title or row.auto_title or NEW_TITLE,
                    models=tuple(row.models), created_at=row.created_at, updated_at=row.updated_at,
                    cost=row.cost, pinned=bool(row.pinned), turns=row.turns) for row in connection.execute(query)]


def _matching(connection: sa.Connection, words: Sequence[str]) -> sa.CompoundSelect:
    """The pks of conversations (any owner: the caller filters) whose title, a prompt or a reply matches."""
    if connection.dialect.name == "postgresql":
        query = sa.func.to_tsquery(SEARCH_CONFIG, " & ".join(f"{w}:*" for w in words))
        search: sa.ColumnClause[Any] = sa.literal_column("search")
        return sa.union(
            sa.select(C.pk).where(search.op("@@")(query)),
            sa.select(R.conversation_pk).where(sa.literal_column("rounds.search").op("@@")(query)),
            sa.select(P.conversation_pk).where(sa.literal_column("replies.search").op("@@")(query)))
    match = " ".join(f'"{w}"*' for w in words)

    def hits(fts: str) -> sa.Select:
        table = sa.table(fts, sa.column("rowid"))
        return sa.select(table.c.rowid).where(sa.literal_column(fts).op("MATCH")(match))

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
