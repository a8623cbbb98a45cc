"""Every query of evaluation: votes, prompt sets, evaluation runs and their cells, and the speed and cost of the
replies the team has saved (the ledger beside the leaderboard).

`Evaluations(store)` is what pages and the run worker call. Like the store it wraps, it never raises into a page:
reads return `Unavailable` when the database cannot answer, changes return True / False (not found) / `Unavailable`.
Every query of an analyst's own things filters by owner; an id of someone else's is treated like one that does not
exist. The leaderboard reads everyone's votes (the team's board) unless asked for one analyst's, and shows only
aggregates: nobody's comment or subject leaves this module for another analyst.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.evaluation.prompt_sets import PromptRow, PromptSet
from gateway.evaluation.runs import Cell, EvalRun, RunStatus
from gateway.evaluation.votes import Verdict, Vote
from gateway.params import ChatParams
from gateway.reply import Reply
from gateway.store import rows as store_rows
from gateway.store.records import Unavailable
from gateway.store.rows import METRIC_COLUMNS, reply_from
from gateway.store.schema import conversations, eval_cells, eval_runs, prompt_sets, replies, usage, votes
from gateway.store.store import Store

V, S, E, X = votes.c, prompt_sets.c, eval_runs.c, eval_cells.c
MODELS_SEPARATOR = "\n"  # between the model keys of votes.models_key (no catalogue key has a line break)
LEDGER_LIMIT = 50_000  # latest replies per leaderboard read whose numbers are summarised
JUDGED_LIMIT = 50_000  # latest votes on judged subjects read for agreement


@dataclass(frozen=True)
class VoteFilter:
    """Which votes the leaderboard counts."""

    since: float | None = None  # epoch seconds; None: all time
    tag: str | None = None
    blind_only: bool = False
    owner: str | None = None  # one analyst's votes; None: the team's
    source: str = "people"  # "people" (analysts' votes), "judge" (judge models' verdicts) or "both"


@dataclass(frozen=True)
class VoteStamp:
    """Changes whenever a vote is cast or changed: the leaderboard's cache key."""

    count: int
    last: float


def _insert(connection: sa.Connection) -> Any:
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


class Evaluations:
    """Evaluation data in the store's database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- votes -------------------------------------------------------------------------------------------------

    def vote(self, vote: Vote, owner: str) -> bool | Unavailable:
        """Cast or change the analyst's vote on its subject."""
        return self.store._change(owner, lambda c: _upsert_vote(c, vote, owner))

    def my_vote(self, subject: str, owner: str) -> Vote | None | Unavailable:
        return self.store._read(None, lambda c: _my_vote(c, subject, owner))

    def my_votes(self, prefix: str, owner: str) -> dict[str, Vote] | Unavailable:
        """The analyst's votes whose subject starts with `prefix` (e.g. every row of one run), by subject."""
        return self.store._read(None, lambda c: _my_votes(c, prefix, owner))

    def votes(self, which: VoteFilter) -> pd.DataFrame | Unavailable:
        """The votes the leaderboard counts, by kind: columns models (sorted tuple), verdict, winner, count."""
        return self.store._read(None, lambda c: _votes(c, which))

    def judge_votes(self, prefix: str, owner: str, judge: str) -> dict[str, Vote] | Unavailable:
        """The verdicts of one judge model, run by the analyst, on subjects starting with `prefix`, by subject."""
        return self.store._read(None, lambda c: _my_votes(c, prefix, owner, judge))

    def judge_votes_any(self, prefix: str, owner: str) -> list[Vote] | Unavailable:
        """Every judge model's verdicts, run by the analyst, on subjects starting with `prefix`."""
        return self.store._read(None, lambda c: _judge_votes_any(c, prefix, owner))

    def record_call(self, owner: str, kind: str, about: str, reply: Reply) -> bool | Unavailable:
        """A call that is no saved reply of a chat, comparison or run (a judge's): into the usage ledger, so /usage
        and the budget count it. `about`: the run (or conversation) it was made for."""
        return self.store._change(owner, lambda c: _record_call(c, owner, kind, about, reply))

    def judged(self, which: VoteFilter, limit: int = JUDGED_LIMIT) -> list[Vote] | Unavailable:
        """Every vote (people's and judges') on the subjects a judge has judged, within the filter's period, tag and
        owner: what judge–human agreement and position consistency are computed from (latest `limit`)."""
        return self.store._read(None, lambda c: _judged(c, which, limit))

    def vote_stamp(self) -> VoteStamp | Unavailable:
        def query(c: sa.Connection) -> VoteStamp:
            row = c.execute(sa.select(sa.func.count(), sa.func.max(V.updated_at))).one()
            return VoteStamp(int(row[0]), float(row[1] or 0))
        return self.store._read(None, query)

    def tags(self) -> list[str] | Unavailable:
        def query(c: sa.Connection) -> list[str]:
            found = c.execute(sa.select(V.tag).where(V.tag != "").distinct().order_by(V.tag)).all()
            return [str(row[0]) for row in found]
        return self.store._read(None, query)

    # --- the ledger: speed and cost of saved replies -----------------------------------------------------------

    def ledger(self, models: Sequence[str], owner: str | None = None, since: float | None = None,
               ) -> pd.DataFrame | Unavailable:
        """Per saved reply of these models that completed (latest `LEDGER_LIMIT`, comparisons, chats and evaluation
        cells alike): model, ttft, total, completion_tokens, answer_tokens (the completion less any reasoning),
        cost. `owner`: only that analyst's calls."""
        return self.store._read(None, lambda c: _ledger(c, list(models), owner, since))

    # --- prompt sets -------------------------------------------------------------------------------------------

    def save_set(self, prompt_set: PromptSet, owner: str) -> bool | Unavailable:
        """Save a set under its name (a set of the analyst's with that name is replaced)."""
        return self.store._change(owner, lambda c: _save_set(c, prompt_set, owner))

    def sets(self, owner: str) -> list[PromptSet] | Unavailable:
        return self.store._read(None, lambda c: [_set_from(r) for r in c.execute(
            sa.select(prompt_sets).where(S.owner == owner).order_by(S.updated_at.desc())).mappings()])

    def delete_set(self, set_id: str, owner: str) -> bool | Unavailable:
        return self.store._change(owner, lambda c: c.execute(
            sa.delete(prompt_sets).where(S.owner == owner, S.id == set_id)).rowcount > 0)

    # --- runs ----------------------------------------------------------------------------------------------------

    def create_run(self, run: EvalRun, owner: str) -> bool | Unavailable:
        return self.store._change(owner, lambda c: _create_run(c, run, owner))

    def runs(self, owner: str, limit: int = 50) -> list[EvalRun] | Unavailable:
        return self.store._read(None, lambda c: [_run_from(r) for r in c.execute(
            sa.select(eval_runs).where(E.owner == owner).order_by(E.created_at.desc()).limit(limit)).mappings()])

    def load_run(self, run_id: str, owner: str) -> EvalRun | None | Unavailable:
        def query(c: sa.Connection) -> EvalRun | None:
            row = c.execute(sa.select(eval_runs).where(E.owner == owner, E.id == run_id)).mappings().first()
            return _run_from(row) if row is not None else None
        return self.store._read(None, query)

    def cells(self, run_id: str, owner: str) -> list[Cell] | Unavailable:
        """The run's saved cells, row by row."""
        return self.store._read(None, lambda c: _cells(c, run_id, owner))

    def save_cell(self, run_id: str, owner: str, cell: Cell) -> bool | Unavailable:
        """Save a finished cell (once: a cell already saved is kept) and add its cost to the run's."""
        return self.store._change(owner, lambda c: _save_cell(c, run_id, owner, cell))

    def set_status(self, run_id: str, owner: str, status: RunStatus, *, heartbeat: float | None = None,
                   ) -> bool | Unavailable:
        values: dict[str, Any] = {"status": status.value, "updated_at": time.time(), "heartbeat_at": heartbeat}
        return self.store._change(owner, lambda c: c.execute(
            sa.update(eval_runs).where(E.owner == owner, E.id == run_id).values(**values)).rowcount > 0)

    def claim(self, run_id: str, owner: str, now: float, stale_before: float) -> bool | Unavailable:
        """Mark the run running by this worker, unless another worker's heartbeat is newer than `stale_before`
        (another replica runs it). True when claimed."""
        def change(c: sa.Connection) -> bool:
            fresh = sa.and_(E.status == RunStatus.RUNNING.value, E.heartbeat_at.is_not(None),
                            E.heartbeat_at >= stale_before)
            return c.execute(sa.update(eval_runs).where(E.owner == owner, E.id == run_id, sa.not_(fresh)).values(
                status=RunStatus.RUNNING.value, heartbeat_at=now, updated_at=now)).rowcount > 0
        return self.store._change(owner, change)

    def heartbeat(self, run_id: str, owner: str, now: float) -> bool | Unavailable:
        return self.store._change(owner, lambda c: c.execute(sa.update(eval_runs).where(
            E.owner == owner, E.id == run_id, E.status == RunStatus.RUNNING.value).values(heartbeat_at=now))
            .rowcount > 0)

    def delete_run(self, run_id: str, owner: str) -> bool | Unavailable:
        return self.store._change(owner, lambda c: c.execute(
            sa.delete(eval_runs).where(E.owner == owner, E.id == run_id)).rowcount > 0)


# --- Votes -------------------------------------------------------------------------------------------------------

def _upsert_vote(connection: sa.Connection, vote: Vote, owner: str) -> bool:
    now = time.time()
    insert = _insert(connection)(votes).values(
        owner=owner, subject=vote.subject, models=store_rows.clean_json(list(vote.models)),
        models_key=store_rows.clean(MODELS_SEPARATOR.join(sorted(vote.models))),
        verdict=vote.verdict.value, winner=vote.winner, tag=store_rows.clean(vote.tag),
        comment=store_rows.clean(vote.comment), blind=vote.blind, judge=vote.judge, flagged=vote.flagged,
        created_at=now, updated_at=now)
    connection.execute(insert.on_conflict_do_update(index_elements=[V.owner, V.subject, V.judge], set_={
        name: insert.excluded[name] for name in ("models", "models_key", "verdict", "winner", "tag", "comment",
                                                 "blind", "flagged", "updated_at")}))
    return True


def _vote_from(row: Any) -> Vote:
    return Vote(subject=row["subject"], models=tuple(row["models"]), verdict=Verdict(row["verdict"]),
                winner=row["winner"], tag=row["tag"], comment=row["comment"], blind=bool(row["blind"]),
                owner=row["owner"], judge=row["judge"], flagged=bool(row["flagged"]), at=float(row["updated_at"]),
                pk=int(row["pk"]))


def _my_vote(connection: sa.Connection, subject: str, owner: str) -> Vote | None:
    row = connection.execute(sa.select(votes).where(V.owner == owner, V.subject == subject, V.judge == "")
                             ).mappings().first()
    return _vote_from(row) if row is not None else None


def _my_votes(connection: sa.Connection, prefix: str, owner: str, judge: str = "") -> dict[str, Vote]:
    found = connection.execute(sa.select(votes).where(V.owner == owner, V.judge == judge, _starts(prefix))).mappings()
    return {row["subject"]: _vote_from(row) for row in found}


def _judge_votes_any(connection: sa.Connection, prefix: str, owner: str) -> list[Vote]:
    found = connection.execute(sa.select(votes).where(V.owner == owner, V.judge != "", _starts(prefix))).mappings()
    return [_vote_from(row) for row in found]


def _starts(prefix: str) -> Any:
    """votes.subject starts with `prefix` (LIKE, its wildcards escaped)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return V.subject.like(escaped + "%", escape="\\")


def _votes(connection: sa.Connection, which: VoteFilter) -> pd.DataFrame:
    """Votes counted by kind (the same models, verdict and winner) in the database: a few hundred rows for a
    leaderboard of a hundred thousand votes."""
    count = sa.func.count().label("count")
    query = sa.select(V.models_key, V.verdict, V.winner, count).group_by(V.models_key, V.verdict, V.winner)
    query = _filtered(query, which)
    found = connection.execute(query.order_by(V.models_key, V.verdict, V.winner)).all()
    return pd.DataFrame({"models": [tuple(r[0].split(MODELS_SEPARATOR)) for r in found],
                         "verdict": [r[1] for r in found], "winner": [r[2] for r in found],
                         "count": [int(r[3]) for r in found]})


def _filtered(query: Any, which: VoteFilter, *, source: bool = True) -> Any:
    if which.since is not None:
        query = query.where(V.updated_at >= which.since)
    if which.tag:
        query = query.where(V.tag == which.tag)
    if which.blind_only:
        query = query.where(V.blind.is_(True))
    if which.owner is not None:
        query = query.where(V.owner == which.owner)
    if source and which.source == "people":
        query = query.where(V.judge == "")
    elif source and which.source == "judge":
        query = query.where(V.judge != "")
    return query


def _judged(connection: sa.Connection, which: VoteFilter, limit: int) -> list[Vote]:
    judged = _filtered(sa.select(V.subject).where(V.judge != ""), which, source=False)
    query = _filtered(sa.select(votes).where(V.subject.in_(judged)), which, source=False)
    found = connection.execute(query.order_by(V.updated_at.desc()).limit(limit)).mappings()
    return [_vote_from(row) for row in found]


# --- The ledger --------------------------------------------------------------------------------------------------

def _ledger(connection: sa.Connection, models: list[str], owner: str | None, since: float | None) -> pd.DataFrame:
    columns = ["model", "ttft", "total", "completion_tokens", "answer_tokens", "cost"]
    if not models:
        return pd.DataFrame(columns=columns)
    P, C = replies.c, conversations.c
    # answer_tokens: what tokens/s counts (a reasoning model's thinking left out); replies saved before it: all
    saved = sa.select(P.model, P.ttft, P.total, P.completion_tokens,
                      sa.func.coalesce(P.answer_tokens, P.completion_tokens).label("answer_tokens"), P.cost,
                      P.created_at).join(
        conversations, C.pk == P.conversation_pk).where(P.model.in_(models), P.outcome == "complete")
    cells = sa.select(X.model, X.ttft, X.total, X.completion_tokens,
                      sa.func.coalesce(X.answer_tokens, X.completion_tokens).label("answer_tokens"), X.cost,
                      X.created_at).join(
        eval_runs, E.pk == X.run_pk).where(X.model.in_(models), X.outcome == "complete")
    if owner is not None:
        saved, cells = saved.where(C.owner == owner), cells.where(E.owner == owner)
    if since is not None:
        saved, cells = saved.where(P.created_at >= since), cells.where(X.created_at >= since)
    both = sa.union_all(saved, cells).subquery()
    query = sa.select(*[both.c[name] for name in columns]).order_by(both.c.created_at.desc()).limit(LEDGER_LIMIT)
    return pd.DataFrame(connection.execute(query).all(), columns=columns)


# --- Prompt sets -------------------------------------------------------------------------------------------------

def _save_set(connection: sa.Connection, prompt_set: PromptSet, owner: str) -> bool:
    now = time.time()
    values = {"rows": store_rows.clean_json([r.to_dict() for r in prompt_set.rows]),
              "row_count": len(prompt_set.rows), "updated_at": now}
    insert = _insert(connection)(prompt_sets).values(id=prompt_set.id, owner=owner,
                                                     name=store_rows.clean(prompt_set.name), created_at=now, **values)
    connection.execute(insert.on_conflict_do_update(index_elements=[S.owner, S.name],
                                                    set_={k: insert.excluded[k] for k in values}))
    return True


def _set_from(row: Any) -> PromptSet:
    return PromptSet(row["name"], tuple(PromptRow.from_dict(r) for r in row["rows"]), row["id"], row["owner"],
                     float(row["created_at"]))


# --- Runs --------------------------------------------------------------------------------------------------------

def _create_run(connection: sa.Connection, run: EvalRun, owner: str) -> bool:
    connection.execute(sa.insert(eval_runs).values(
        id=run.id, owner=owner, set_id=run.set_id, set_name=store_rows.clean(run.set_name),
        rows=store_rows.clean_json([r.to_dict() for r in run.rows]), models=list(run.models),
        params=run.params.to_dict(), status=run.status.value, quote=run.quote, cost=0.0,
        cells_total=run.cells_total, cells_done=0, heartbeat_at=run.heartbeat_at, created_at=run.created_at,
        updated_at=run.updated_at))
    return True


def _run_from(row: Any) -> EvalRun:
    return EvalRun(set_id=row["set_id"], set_name=row["set_name"],
                   rows=tuple(PromptRow.from_dict(r) for r in row["rows"]), models=tuple(row["models"]),
                   params=ChatParams.from_dict(row["params"]), status=RunStatus(row["status"]), quote=row["quote"],
                   cost=float(row["cost"]), cells_done=int(row["cells_done"]), heartbeat_at=row["heartbeat_at"],
                   id=row["id"], owner=row["owner"], created_at=float(row["created_at"]),
                   updated_at=float(row["updated_at"]))


def _run_pk(connection: sa.Connection, run_id: str, owner: str) -> int | None:
    return connection.execute(sa.select(E.pk).where(E.owner == owner, E.id == run_id)).scalar()


def _cells(connection: sa.Connection, run_id: str, owner: str) -> list[Cell]:
    run_pk = _run_pk(connection, run_id, owner)
    if run_pk is None:
        return []
    found = connection.execute(sa.select(eval_cells).where(X.run_pk == run_pk).order_by(X.row_index, X.pk))
    return [Cell(row["row_index"], reply_from({**row, "run": 1}),
                 None if row["passed"] is None else bool(row["passed"]), int(row["attempts"]))
            for row in found.mappings()]


def _save_cell(connection: sa.Connection, run_id: str, owner: str, cell: Cell) -> bool:
    run_pk = _run_pk(connection, run_id, owner)
    if run_pk is None:
        return False
    reply, error = cell.reply, cell.reply.error
    values = {"run_pk": run_pk, "row_index": cell.row, "model": reply.model, "outcome": reply.outcome.value,
              "text": store_rows.clean(reply.text), "thinking": store_rows.clean(reply.thinking),
              **{n: getattr(reply.metrics, n) for n in METRIC_COLUMNS},
              "error_message": store_rows.clean(error.message) if error else None,
              "error_hint": store_rows.clean(error.hint) if error else None,
              "error_kind": error.kind if error else None, "passed": cell.passed, "attempts": cell.attempts,
              "created_at": time.time()}
    added = connection.execute(_insert(connection)(eval_cells).values(**values).on_conflict_do_nothing(
        index_elements=[X.run_pk, X.row_index, X.model]).returning(X.pk)).first()
    if added is not None:
        connection.execute(sa.update(eval_runs).where(E.pk == run_pk).values(
            cells_done=E.cells_done + 1, cost=E.cost + (reply.metrics.cost or 0.0), updated_at=time.time()))
        if reply.metrics.total is not None:  # sent: the usage ledger counts it, for /usage and budgets
            connection.execute(_insert(connection)(usage).values(**_usage_row(run_id, owner, cell))
                               .on_conflict_do_nothing(index_elements=[usage.c.owner, usage.c.reply_key]))
    return True


def _record_call(connection: sa.Connection, owner: str, kind: str, about: str, reply: Reply) -> bool:
    metrics = reply.metrics
    if metrics.total is None:  # never sent
        return False
    identity = f"{kind}|{about}|{reply.model}|{metrics.call_id or uuid.uuid4().hex}"
    connection.execute(_insert(connection)(usage).values(
        owner=owner, at=time.time(), kind=kind, conversation_id=about, model=reply.model, run=1,
        outcome=reply.outcome.value, prompt_tokens=metrics.prompt_tokens, completion_tokens=metrics.completion_tokens,
        cost=metrics.cost, cost_source=metrics.cost_source, ttft=metrics.ttft, total=metrics.total,
        call_id=metrics.call_id, reply_key=hashlib.sha256(identity.encode("utf-8", "replace")).hexdigest(),
    ).on_conflict_do_nothing(index_elements=[usage.c.owner, usage.c.reply_key]))
    return True


def _usage_row(run_id: str, owner: str, cell: Cell) -> dict[str, Any]:
    """The ledger's row for a cell (gateway/store/usage.py), like a chat's or a comparison's reply: kind "evaluate",
    the run's id in place of a conversation's."""
    metrics = cell.reply.metrics
    identity = f"evaluate|{run_id}|{cell.row}|{cell.model}"
    return {"owner": owner, "at": time.time(), "kind": "evaluate", "conversation_id": run_id, "model": cell.model,
            "run": 1, "outcome": cell.reply.outcome.value, "prompt_tokens": metrics.prompt_tokens,
            "completion_tokens": metrics.completion_tokens, "cost": metrics.cost, "cost_source": metrics.cost_source,
            "ttft": metrics.ttft, "total": metrics.total, "call_id": metrics.call_id,
            "reply_key": hashlib.sha256(identity.encode("utf-8", "replace")).hexdigest()}
