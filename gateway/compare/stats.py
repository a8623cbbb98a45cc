"""The numbers of a comparison as tables: one row per model for a round, and statistics over repeated runs.

Column names are defined here once (`Col`) and imported by the pages that format them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from gateway.reply import Outcome, Reply


class Col:
    """The columns of the tables below."""

    MODEL = "Model"
    OUTCOME = "Outcome"
    TTFT = "TTFT (s)"
    TOTAL = "Total (s)"
    TOKENS_PER_S = "Tokens/s"
    TOKENS = "Tokens"
    COST = "Cost ($)"
    FINISH = "Finish"
    BEST = "Best"
    RUNS = "Runs"
    FAILED = "Failed"
    TTFT_MEDIAN = "TTFT median (s)"
    TTFT_P95 = "TTFT p95 (s)"
    TOTAL_MEDIAN = "Total median (s)"
    TOTAL_P95 = "Total p95 (s)"
    MEAN_COST = "Mean cost ($)"


RESULT_COLUMNS = (Col.MODEL, Col.OUTCOME, Col.TTFT, Col.TOTAL, Col.TOKENS_PER_S, Col.TOKENS, Col.COST, Col.FINISH,
                  Col.BEST)
CHART_COLUMNS = (Col.TTFT, Col.TOTAL, Col.TOKENS_PER_S, Col.COST)  # the measures worth a bar chart
STATS_TIMES = (Col.TTFT_MEDIAN, Col.TTFT_P95, Col.TOTAL_MEDIAN, Col.TOTAL_P95)
FASTEST, CHEAPEST = "fastest", "cheapest"


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) with linear interpolation between the closest ranks; None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def results_frame(replies: Mapping[str, Reply]) -> pd.DataFrame:
    """One row per model: its numbers, and which is the fastest (total time) and the cheapest."""
    rows = [{Col.MODEL: key, Col.OUTCOME: reply.outcome.value, Col.TTFT: reply.metrics.ttft,
             Col.TOTAL: reply.metrics.total, Col.TOKENS_PER_S: reply.metrics.tokens_per_second,
             Col.TOKENS: reply.metrics.completion_tokens, Col.COST: reply.metrics.cost,
             Col.FINISH: reply.metrics.finish_reason or "", Col.BEST: ""} for key, reply in replies.items()]
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS)).astype({Col.TOKENS: "Int64"})
    fastest, cheapest = fastest_and_cheapest(frame)
    for label, key in ((FASTEST, fastest), (CHEAPEST, cheapest)):
        if key is not None:
            row = frame[Col.MODEL] == key
            frame.loc[row, Col.BEST] = frame.loc[row, Col.BEST].map(lambda s, label=label: f"{s}, {label}" if s
                                                                    else label)
    return frame


def fastest_and_cheapest(frame: pd.DataFrame) -> tuple[str | None, str | None]:
    """The fastest (shortest total time) and the cheapest model among the replies that completed."""
    done = frame[frame[Col.OUTCOME] == Outcome.COMPLETE.value]
    timed = done.dropna(subset=[Col.TOTAL])
    priced = done.dropna(subset=[Col.COST])
    fastest = timed.loc[timed[Col.TOTAL].astype(float).idxmin(), Col.MODEL] if len(timed) else None
    cheapest = priced.loc[priced[Col.COST].astype(float).idxmin(), Col.MODEL] if len(priced) else None
    return fastest, cheapest


def stats_frame(runs: Mapping[str, Sequence[Reply]]) -> pd.DataFrame:
    """Per model over repeated runs: median and p95 of TTFT and total time, mean cost, and the failures."""
    rows = []
    for key, replies in runs.items():
        done = [r.metrics for r in replies if r.outcome is Outcome.COMPLETE]
        ttft = [m.ttft for m in done if m.ttft is not None]
        total = [m.total for m in done if m.total is not None]
        costs = [m.cost for m in done if m.cost is not None]
        rows.append({Col.MODEL: key, Col.RUNS: len(replies),
                     Col.FAILED: sum(r.outcome is Outcome.FAILED for r in replies),
                     Col.TTFT_MEDIAN: percentile(ttft, 50), Col.TTFT_P95: percentile(ttft, 95),
                     Col.TOTAL_MEDIAN: percentile(total, 50), Col.TOTAL_P95: percentile(total, 95),
                     Col.MEAN_COST: sum(costs) / len(costs) if costs else None})
    return pd.DataFrame(rows)
