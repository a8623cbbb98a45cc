"""Judge passes (the `judge_passes` table, see schema.py): which judge model, mode and prompt each judge pass used,
saved with what it judged — an evaluation run (`eval:<run id>`) or a comparison's round
(`compare:<conversation id>:<round key>`). The prompt is the analyst's own edit of the template, so the verdicts can
be read against the words that produced them, and the next pass on the same run starts from them (`last`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from gateway.store import rows as store_rows
from gateway.store.records import Unavailable
from gateway.store.schema import judge_passes

if TYPE_CHECKING:
    from gateway.store.store import Store

J = judge_passes.c


@dataclass(frozen=True)
class JudgePass:
    about: str  # "eval:<run id>" | "compare:<conversation id>:<round key>"
    judge: str  # the judge model's key
    mode: str  # gateway.evaluation.judge.Mode's value
    template: str  # the judge's prompt as sent
    models: tuple[str, ...]  # the models judged
    at: float = field(default_factory=time.time)


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
