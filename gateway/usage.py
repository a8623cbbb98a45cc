"""The usage page's numbers: periods in the analyst's time zone, and the ledger's groups (gateway/store/usage.py) as
tables per model, per day and per analyst. Columns are named here once (`Col`); ui/usage.py draws them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from gateway.safe_csv import frame_csv
from gateway.store.usage import UsageGroup


class Col:
    """The columns of the usage tables (and the CSV download)."""

    DAY = "Day"
    ANALYST = "Analyst"
    MODEL = "Model"
    REPLIES = "Replies"
    FAILED = "Failed"
    COST = "Cost ($)"
    ESTIMATED = "Of which estimated ($)"
    UNPRICED = "Replies without a price"
    PROMPT_TOKENS = "Prompt tokens"
    COMPLETION_TOKENS = "Completion tokens"
    TOKENS = "Tokens"
    TTFT = "Mean TTFT (s)"
    TOTAL = "Mean total (s)"
    COST_PER_REPLY = "Cost per reply ($)"


_SUMS = {Col.REPLIES: "replies", Col.FAILED: "failed", Col.COST: "cost", Col.ESTIMATED: "estimated_cost",
         Col.UNPRICED: "unpriced", Col.PROMPT_TOKENS: "prompt_tokens", Col.COMPLETION_TOKENS: "completion_tokens",
         "ttft_sum": "ttft_sum", "ttft_count": "ttft_count", "total_sum": "total_sum", "total_count": "total_count"}
TABLE_COLUMNS = (Col.REPLIES, Col.FAILED, Col.TOKENS, Col.COST, Col.ESTIMATED, Col.COST_PER_REPLY, Col.TTFT,
                 Col.TOTAL, Col.UNPRICED)


@dataclass(frozen=True)
class Period:
    """[since, until) in epoch seconds, how it reads, and its first day in the analyst's zone."""

    label: str
    since: float
    until: float
    first_day: dt.date


def zone(name: str | None) -> dt.tzinfo:
    """The analyst's time zone by its IANA name (the browser's), else UTC."""
    try:
        return ZoneInfo(name) if name else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


PERIOD_KEYS = ("day", "week", "month", "7d", "30d", "90d")  # the keys of `periods`, in order (the page, the API)


def periods(now: float, tz: dt.tzinfo) -> dict[str, Period]:
    """Today, this week (from Monday), this month, and the last 7, 30 and 90 days, in the zone `tz`."""
    local = dt.datetime.fromtimestamp(now, tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    until = now + 1  # everything saved up to now
    return {key: Period(label, start.timestamp(), until, start.date()) for key, label, start in (
        ("day", "Today", midnight),
        ("week", "This week", midnight - dt.timedelta(days=midnight.weekday())),
        ("month", "This month", midnight.replace(day=1)),
        ("7d", "Last 7 days", midnight - dt.timedelta(days=6)),
        ("30d", "Last 30 days", midnight - dt.timedelta(days=29)),
        ("90d", "Last 90 days", midnight - dt.timedelta(days=89)),
    )}


def offset(tz: dt.tzinfo, now: float) -> float:
    """Seconds east of UTC of `tz` at `now` (what the ledger's day numbers need)."""
    delta = dt.datetime.fromtimestamp(now, tz).utcoffset()
    return delta.total_seconds() if delta else 0.0


def frame(groups: Iterable[UsageGroup]) -> pd.DataFrame:
    """One row per (analyst, model, day) with the ledger's sums under the page's column names (built column by
    column: a list of row dicts took 0.4 s for 18,000 groups)."""
    found = list(groups)
    columns: dict[str, list[object]] = {Col.DAY: [g.day for g in found], Col.ANALYST: [g.owner for g in found],
                                        Col.MODEL: [g.model for g in found]}
    columns.update({col: [getattr(g, name) for g in found] for col, name in _SUMS.items()})
    table = pd.DataFrame(columns)
    table[Col.TOKENS] = table[Col.PROMPT_TOKENS] + table[Col.COMPLETION_TOKENS]
    return table


def within(found: pd.DataFrame, period: Period) -> pd.DataFrame:
    """The rows of `period` (from its first day on: every period ends now)."""
    return found[found[Col.DAY] >= period.first_day]


def summary(found: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Sums per `by` (e.g. [Col.MODEL]), with mean times and cost per reply; sorted by cost, highest first."""
    numbers = [*_SUMS, Col.TOKENS]
    grouped = found.groupby(list(by), as_index=False)[numbers].sum() if not found.empty else \
        pd.DataFrame(columns=[*by, *numbers])
    return _derived(grouped).sort_values(Col.COST, ascending=False, kind="stable").reset_index(drop=True)


def _derived(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    table[Col.TTFT] = (table["ttft_sum"] / table["ttft_count"].where(table["ttft_count"] > 0)).astype(float)
    table[Col.TOTAL] = (table["total_sum"] / table["total_count"].where(table["total_count"] > 0)).astype(float)
    table[Col.COST_PER_REPLY] = (table[Col.COST] / table[Col.REPLIES].where(table[Col.REPLIES] > 0)).astype(float)
    return table.drop(columns=["ttft_sum", "ttft_count", "total_sum", "total_count"])


def table(found: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """`summary` with just the columns a page shows (and the CSV has)."""
    return summary(found, by)[[*by, *TABLE_COLUMNS, *((Col.PROMPT_TOKENS, Col.COMPLETION_TOKENS))]]


def slowest(found: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The models with the highest mean time to first token."""
    models = summary(found, [Col.MODEL]).dropna(subset=[Col.TTFT])
    return models.sort_values(Col.TTFT, ascending=False).head(n)[[Col.MODEL, Col.TTFT, Col.TOTAL, Col.REPLIES]]


def most_expensive(found: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The models that cost the most in all (with their cost per reply)."""
    models = summary(found, [Col.MODEL])
    return models[models[Col.COST] > 0].head(n)[[Col.MODEL, Col.COST, Col.COST_PER_REPLY, Col.REPLIES]]


@dataclass(frozen=True)
class Totals:
    cost: float
    estimated: float
    tokens: int
    replies: int
    failed: int
    unpriced: int


def totals(found: pd.DataFrame) -> Totals:
    return Totals(cost=float(found[Col.COST].sum()), estimated=float(found[Col.ESTIMATED].sum()),
                  tokens=int(found[Col.TOKENS].sum()), replies=int(found[Col.REPLIES].sum()),
                  failed=int(found[Col.FAILED].sum()), unpriced=int(found[Col.UNPRICED].sum()))


def by_day(found: pd.DataFrame, series: str) -> pd.DataFrame:
    """Cost and tokens per day and per `series` (Col.MODEL or Col.ANALYST), for a stacked chart."""
    return found.groupby([Col.DAY, series], as_index=False)[[Col.COST, Col.TOKENS]].sum()


def csv(found: pd.DataFrame) -> bytes:
    """The period's rows per day, analyst and model, as a CSV file."""
    rows = table(found, [Col.DAY, Col.ANALYST, Col.MODEL]).sort_values([Col.DAY, Col.ANALYST, Col.MODEL])
    return frame_csv(rows).encode()
