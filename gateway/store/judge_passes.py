"""Judge passes and scores (the `judge_passes` and `judge_scores` tables, see schema.py).

Passes: which judge model, mode and prompt each judge pass used, saved with what it judged — an evaluation run
(`eval:<run id>`) or a comparison's round (`compare:<conversation id>:<round key>`). The prompt is the analyst's own
edit of the template, so the verdicts can be read against the words that produced them, and the next pass on the same
run starts from them (`last`). Scores: a rubric or reference judge's 0–1 score of each reply of a run, with its reason
(`save_score`, `scores`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from gateway.store import rows as store_rows
from gateway.store.evaluation import _insert
from gateway.store.records import Unavailable
from gateway.store.schema import judge_passes, judge_scores

if TYPE_CHECKING:
    from gateway.store.store import Store

J, K = judge_passes.c, judge_scores.c


@dataclass(frozen=True)
class JudgePass:
    about: str  # "eval:<run id>" | "compare:<conversation id>:<round key>"
    judge: str  # the judge model's key
    mode: str  # gateway.evaluation.judge.Mode's value
    template: str  # the judge's prompt as sent
    models: tuple[str, ...]  # the models judged
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class JudgeScore:
    row: int
    model: str
    judge: str
    mode: str  # "rubric" | "reference"
    score: float  # 0–1
    reason: str = ""


def run_about(run_id: str) -> str:
    return f"eval:{run_id}"


class JudgePasses:
    """Judge passes in the store's database, each analyst's own."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def save(self, found: JudgePass, owner: str) -> bool | Unavailable:
        return self.store._change(owner, lambda c: _save(c, found, owner))

    def last(self, about: str, owner: str, mode: str | None = None) -> JudgePass | None | Unavailable:
        """The analyst's latest pass on `about` (of `mode`, when given), None when there is none."""
        return self.store._read(None, lambda c: _last(c, about, owner, mode))

    def save_score(self, run_id: str, found: JudgeScore, owner: str) -> bool | Unavailable:
        """Keep a score (replacing this judge's earlier one of the same reply, in the same mode)."""
        return self.store._change(owner, lambda c: _save_score(c, run_id, found, owner))

    def scores(self, run_id: str, owner: str) -> list[JudgeScore] | Unavailable:
        """Every score of the run's replies the analyst's passes gave, by row then model."""
        return self.store._read(None, lambda c: _scores(c, run_id, owner))


def _save(connection: sa.Connection, found: JudgePass, owner: str) -> bool:
    connection.execute(sa.insert(judge_passes).values(
        owner=owner, about=found.about, judge=found.judge, mode=found.mode,
        template=store_rows.clean(found.template), models=store_rows.clean_json(list(found.models)),
        created_at=found.at))
    return True


def _last(connection: sa.Connection, about: str, owner: str, mode: str | None) -> JudgePass | None:
    query = sa.select(judge_passes).where(J.owner == owner, J.about == about)
    if mode is not None:
        query = query.where(J.mode == mode)
    row: Any = connection.execute(query.order_by(J.created_at.desc(), J.pk.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    return JudgePass(row["about"], row["judge"], row["mode"], row["template"], tuple(row["models"]),
                     float(row["created_at"]))


def _save_score(connection: sa.Connection, run_id: str, found: JudgeScore, owner: str) -> bool:
    insert = _insert(connection)(judge_scores).values(
        owner=owner, run_id=run_id, row=found.row, model=found.model, judge=found.judge, mode=found.mode,
        score=found.score, reason=store_rows.clean(found.reason), created_at=time.time())
    connection.execute(insert.on_conflict_do_update(
        index_elements=[K.owner, K.run_id, K.row, K.model, K.judge, K.mode],
        set_={name: insert.excluded[name] for name in ("score", "reason", "created_at")}))
    return True


def _scores(connection: sa.Connection, run_id: str, owner: str) -> list[JudgeScore]:
    found = connection.execute(sa.select(judge_scores).where(K.owner == owner, K.run_id == run_id)
                               .order_by(K.row, K.model, K.judge, K.mode)).mappings()
    return [JudgeScore(int(r["row"]), r["model"], r["judge"], r["mode"], float(r["score"]), r["reason"])
            for r in found]
