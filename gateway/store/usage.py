"""Reading the usage ledger (the `usage` table: one row per reply the app sent, see schema.py): what analysts spent,
in tokens and dollars, how fast models answered and how replies ended, per analyst, model and day. Read-only.

Costs are LiteLLM's own (`usage.cost`, `cost_source` "proxy") or estimated from catalogue prices ("catalogue");
both are summed, and the estimated part is also given on its own so a page can mark it. A reply whose cost nobody
knew counts as unpriced. Days are counted in the reader's time zone (`offset`: seconds east of UTC).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gateway.store.schema import usage

U = usage.c
DAY = 86_400
EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class UsageGroup:
    """The replies of one analyst, one model and one day, added up."""

    owner: str
    model: str
    day: dt.date
    replies: int
    failed: int  # outcome "failed"
    cost: float  # USD, known costs (proxy's and estimated)
    estimated_cost: float  # the part of `cost` estimated from catalogue prices
    unpriced: int  # replies whose cost nobody knew
    prompt_tokens: int
    completion_tokens: int
    ttft_sum: float  # seconds, over `ttft_count` replies that had a first token
    ttft_count: int
    total_sum: float  # seconds, over `total_count` replies
    total_count: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def _day(connection: sa.Connection, offset: float) -> Any:
    """The day number (days since 1970-01-01 in the reader's zone) of a row."""
    shifted = (U.at + offset) / DAY
    if connection.dialect.name == "postgresql":
        return sa.cast(sa.func.floor(shifted), sa.BigInteger)
    return sa.cast(shifted, sa.Integer)  # SQLite truncates toward zero: the floor for every time after 1970


def groups(connection: sa.Connection, *, since: float, until: float, owner: str | None = None,
           offset: float = 0.0) -> list[UsageGroup]:
    """Per (analyst, model, day) sums of the replies saved in [since, until); one analyst's when `owner` is given."""
    day = _day(connection, offset).label("day")
    priced = sa.case((U.cost_source == "catalogue", U.cost), else_=0.0)
    query = sa.select(
        U.owner, U.model, day, sa.func.count().label("replies"),
        sa.func.sum(sa.case((U.outcome == "failed", 1), else_=0)).label("failed"),
        sa.func.coalesce(sa.func.sum(U.cost), 0.0).label("cost"),
        sa.func.coalesce(sa.func.sum(priced), 0.0).label("estimated_cost"),
        sa.func.sum(sa.case((U.cost.is_(None), 1), else_=0)).label("unpriced"),
        sa.func.coalesce(sa.func.sum(U.prompt_tokens), 0).label("prompt_tokens"),
        sa.func.coalesce(sa.func.sum(U.completion_tokens), 0).label("completion_tokens"),
        sa.func.coalesce(sa.func.sum(U.ttft), 0.0).label("ttft_sum"), sa.func.count(U.ttft).label("ttft_count"),
        sa.func.coalesce(sa.func.sum(U.total), 0.0).label("total_sum"), sa.func.count(U.total).label("total_count"),
    ).where(U.at >= since, U.at < until)
    if owner is not None:
        query = query.where(U.owner == owner)
    query = query.group_by(U.owner, U.model, day).order_by(day, U.owner, U.model)
    return [_group(row) for row in connection.execute(query).mappings()]


def spent(connection: sa.Connection, owner: str, *, since: float, until: float) -> float:
    """What one analyst's replies saved in [since, until) cost (USD, known costs)."""
    return float(connection.execute(sa.select(sa.func.coalesce(sa.func.sum(U.cost), 0.0)).where(
        U.owner == owner, U.at >= since, U.at < until)).scalar_one())


def spending(connection: sa.Connection, owner: str, *, since: float, until: float) -> tuple[float, int]:
    """What one analyst's replies saved in [since, until) cost (USD, known costs), and the tokens (prompt and reply)
    of those whose cost nobody knew: a budget counts these at an assumed price (gateway/budget.py)."""
    unpriced = sa.case((U.cost.is_(None), sa.func.coalesce(U.prompt_tokens, 0) + sa.func.coalesce(U.completion_tokens,
                                                                                                    0)), else_=0)
    row = connection.execute(sa.select(sa.func.coalesce(sa.func.sum(U.cost), 0.0),
                                       sa.func.coalesce(sa.func.sum(unpriced), 0)).where(
        U.owner == owner, U.at >= since, U.at < until)).one()
    return float(row[0]), int(row[1])


def _group(row: Any) -> UsageGroup:
    def count(name: str) -> int:
        return int(row[name] or 0)

    def amount(name: str) -> float:
        return float(row[name] or 0.0)

    return UsageGroup(owner=row["owner"], model=row["model"], day=EPOCH + dt.timedelta(days=int(row["day"])),
                      replies=count("replies"), failed=count("failed"), cost=amount("cost"),
                      estimated_cost=amount("estimated_cost"), unpriced=count("unpriced"),
                      prompt_tokens=count("prompt_tokens"), completion_tokens=count("completion_tokens"),
                      ttft_sum=amount("ttft_sum"), ttft_count=count("ttft_count"), total_sum=amount("total_sum"),
                      total_count=count("total_count"))


def total_cost(found: Iterable[UsageGroup]) -> float:
    return sum(group.cost for group in found)
