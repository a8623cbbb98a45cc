"""The numbers of a comparison as tables: one row per model for a round, and statistics over repeated runs.

Column names are defined here once (`Col`) and imported by the pages that format them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from gateway.reply import Outcome, Reply


class Col:
    """The columns of the tables below."""

    MODEL = "Model"
    OUTCOME = "Outcome"
    TTFT = "TTFT (s)"
    TOTAL = "Total (s)"
    TOKENS_PER_S = "Tokens/s"  # answer tokens over the answer's time (a reasoning model's thinking is in neither)
    TOKENS = "Tokens"  # completion tokens, reasoning included (what is billed)
    THINKING = "Thinking (s)"  # from the first thought to the first answer token
    REASONING = "Reasoning tokens"  # as the provider reported them (empty: not reported)
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
    MEASURE = "Measure"
    MEDIAN = "Median"
    LOW = "95% low"
    HIGH = "95% high"
    N = "N"
    PAIR = "Pair"
    VERDICT = "Verdict"
    DIFFERENCE = "Median difference"


RESULT_COLUMNS = (Col.MODEL, Col.OUTCOME, Col.TTFT, Col.TOTAL, Col.TOKENS_PER_S, Col.TOKENS, Col.COST, Col.FINISH,
                  Col.BEST)
REASONING_COLUMNS = (Col.THINKING, Col.REASONING)  # added after Col.TOKENS when a reply of the round reasoned
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
             Col.FINISH: reply.metrics.finish_reason or "", Col.BEST: "", Col.THINKING: reply.metrics.thinking_time,
             Col.REASONING: reply.metrics.reasoning_tokens} for key, reply in replies.items()]
    columns = list(RESULT_COLUMNS)
    if any(r.thinking or r.metrics.reasoning_tokens for r in replies.values()):
        place = columns.index(Col.TOKENS) + 1
        columns[place:place] = REASONING_COLUMNS
    frame = pd.DataFrame(rows, columns=columns).astype({Col.TOKENS: "Int64"})
    if Col.REASONING in frame:
        frame = frame.astype({Col.REASONING: "Int64"})
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


def best_by_measure(frame: pd.DataFrame) -> dict[str, str]:
    """For each chart measure, the model best at it among the replies that completed: the shortest TTFT, the
    shortest total, the most tokens a second ("fastest" for each), the lowest cost ("cheapest")."""
    done = frame[frame[Col.OUTCOME] == Outcome.COMPLETE.value]
    best = {}
    for measure in CHART_COLUMNS:
        if measure not in done:
            continue
        known = done.dropna(subset=[measure])
        if len(known):
            values = known[measure].astype(float)
            best[measure] = known.loc[values.idxmax() if measure == Col.TOKENS_PER_S else values.idxmin(), Col.MODEL]
    return best


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


# --- Run ×N: medians with bootstrap intervals, and which differences are real --------------------------------------

BOOTSTRAP_ROUNDS = 1_000
BOOTSTRAP_SEED = 1_234_567  # the same replies give the same intervals on every rerun
# measure → (how to read it from a reply's metrics, lower is better, words for "A is better than B")
MEASURES: dict[str, tuple[Callable[[Reply], float | None], bool, str]] = {
    Col.TTFT: (lambda r: r.metrics.ttft, True, "faster to the first token than"),
    Col.TOTAL: (lambda r: r.metrics.total, True, "faster than"),
    Col.TOKENS_PER_S: (lambda r: r.metrics.tokens_per_second, False, "streams faster than"),
    Col.COST: (lambda r: r.metrics.cost, True, "cheaper than"),
}
NO_CLEAR_DIFFERENCE = "no clear difference"


def _samples(runs: Mapping[str, Sequence[Reply]]) -> dict[str, dict[str, np.ndarray]]:
    """measure → model → the values of its complete replies."""
    found: dict[str, dict[str, np.ndarray]] = {}
    for measure, (read, _, _) in MEASURES.items():
        for key, replies in runs.items():
            values = [read(r) for r in replies if r.outcome is Outcome.COMPLETE]
            kept = np.array([v for v in values if v is not None], dtype=float)
            if len(kept):
                found.setdefault(measure, {})[key] = kept
    return found


def _bootstrap_medians(values: np.ndarray, rng: np.random.Generator, rounds: int) -> np.ndarray:
    """The medians of `rounds` resamples (with replacement) of `values`."""
    draws = rng.integers(0, len(values), size=(rounds, len(values)))
    return np.median(values[draws], axis=1)


def median_intervals(runs: Mapping[str, Sequence[Reply]], rounds: int = BOOTSTRAP_ROUNDS) -> pd.DataFrame:
    """Per model and measure: the median of its complete replies with a bootstrap 95 % interval, and N."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    rows = []
    for measure, by_model in _samples(runs).items():
        for key, values in by_model.items():
            low, high = np.percentile(_bootstrap_medians(values, rng, rounds), [2.5, 97.5])
            rows.append({Col.MODEL: key, Col.MEASURE: measure, Col.MEDIAN: float(np.median(values)),
                         Col.LOW: float(low), Col.HIGH: float(high), Col.N: len(values)})
    return pd.DataFrame(rows, columns=[Col.MODEL, Col.MEASURE, Col.MEDIAN, Col.LOW, Col.HIGH, Col.N])


def pairwise_differences(runs: Mapping[str, Sequence[Reply]], rounds: int = BOOTSTRAP_ROUNDS) -> pd.DataFrame:
    """For each measure and pair of models: the difference of their medians (first − second) with a bootstrap 95 %
    interval (each model's replies resampled on their own), and in words whether it is real: "A faster than B" when
    the interval leaves out 0, else "no clear difference". N: the replies each median is based on."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    rows = []
    for measure, by_model in _samples(runs).items():
        _, lower_better, better = MEASURES[measure]
        for first, second in combinations(by_model, 2):
            a, b = by_model[first], by_model[second]
            if len(a) < 2 or len(b) < 2:
                continue  # one value says nothing about spread
            differences = _bootstrap_medians(a, rng, rounds) - _bootstrap_medians(b, rng, rounds)
            low, high = np.percentile(differences, [2.5, 97.5])
            if low > 0 or high < 0:
                first_better = (high < 0) == lower_better
                winner, loser = (first, second) if first_better else (second, first)
                verdict = f"{winner} {better} {loser}"
            else:
                verdict = NO_CLEAR_DIFFERENCE
            rows.append({Col.MEASURE: measure, Col.PAIR: f"{first} vs {second}", Col.VERDICT: verdict,
                         Col.DIFFERENCE: float(np.median(a) - np.median(b)), Col.LOW: float(low),
                         Col.HIGH: float(high), Col.N: f"{len(a)} vs {len(b)}"})
    return pd.DataFrame(rows, columns=[Col.MEASURE, Col.PAIR, Col.VERDICT, Col.DIFFERENCE, Col.LOW, Col.HIGH, Col.N])
