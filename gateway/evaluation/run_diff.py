"""Two evaluation results compared row by row: one model in one run against one model in another run of the same
prompts (two models, or the same model last week and today), or two models of the same run.

**Which rows.** Rows are matched by their prompt and system prompt (the n-th occurrence of a repeated prompt with
the n-th), so a set edited between the runs still compares where the prompts agree; rows only one side has are
counted, not compared.

**Pass/fail: McNemar's test.** Only the rows both sides checked count. A row that passed on both, or failed on both,
says nothing about which side is better; the rows that changed do. Under "no difference" a changed row is as likely
to have changed either way, so the number that went pass → fail is Binomial(changed, ½): the exact two-sided
p-value is `scipy.stats.binomtest` on it (the exact McNemar test; the χ² version is wrong for the few changed rows an
evaluation has). p < `ALPHA` reads as a difference; otherwise "no clear difference" — never "the same".

**Numbers: a paired bootstrap.** For a per-row number both sides have (a reply's total time today, a judge's score
when there is one), the rows are resampled with replacement `ROUNDS` times and the mean of the B − A differences
taken each time; the 95 % interval is the middle 95 % of those means. Pairing matters: the same prompt is slow or
fast for both models, and comparing the two means unpaired would bury the difference in that spread. When the
interval includes 0 it reads "no clear difference".
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from gateway.evaluation.runs import Cell, EvalRun

ALPHA = 0.05
ROUNDS = 2_000
SEED = 20_261_206  # the same results give the same interval


class Change(StrEnum):
    """What happened to a row's check from side A to side B."""

    BROKE = "pass → fail"
    FIXED = "fail → pass"
    BOTH_PASS = "both pass"
    BOTH_FAIL = "both fail"
    UNCHECKED = "not compared"  # no check on the row, or no reply on one side

    @property
    def changed(self) -> bool:
        return self in (Change.BROKE, Change.FIXED)


class Col:
    """The row table's columns (defined once; the page and the export use them)."""

    ROW_A = "Row (A)"
    ROW_B = "Row (B)"
    PROMPT = "Prompt"
    EXPECTED = "Expected"
    PASSED_A = "A passed"
    PASSED_B = "B passed"
    CHANGE = "Change"
    TOTAL_A = "A total (s)"
    TOTAL_B = "B total (s)"
    REPLY_A = "A reply"
    REPLY_B = "B reply"


@dataclass(frozen=True)
class Side:
    """One side of the comparison: a model's cells in a run."""

    run: EvalRun
    model: str
    cells: tuple[Cell, ...]

    @classmethod
    def of(cls, run: EvalRun, model: str, cells: list[Cell] | tuple[Cell, ...]) -> Side:
        return cls(run, model, tuple(c for c in cells if c.model == model))

    @property
    def label(self) -> str:
        return f"{self.model} (run {self.run.id[:8]})"


@dataclass(frozen=True)
class Interval:
    """A paired bootstrap's mean difference B − A with its 95 % interval; `rows` pairs behind it."""

    mean: float
    low: float
    high: float
    rows: int

    @property
    def clear(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class McNemar:
    broke: int  # pass → fail
    fixed: int  # fail → pass
    compared: int  # rows both sides checked
    p_value: float

    @property
    def clear(self) -> bool:
        return self.p_value < ALPHA


@dataclass(frozen=True)
class RunComparison:
    a: Side
    b: Side
    rows: pd.DataFrame  # Col.* columns, one row per matched prompt
    only_a: int  # rows only side A's run has
    only_b: int
    passes: McNemar
    total_time: Interval | None  # None: fewer than 2 rows with both times
    # a judge's scores (judge_scores.label: "judge · mode") on the rows both sides have a score of: B − A
    judge_scores: dict[str, Interval | None] = field(default_factory=dict)

    def verdict(self) -> str:
        """The pass/fail result in words."""
        m = self.passes
        if m.compared == 0:
            return "No row was checked on both sides: nothing to compare (the rows need an expected answer)."
        counts = (f"{m.fixed} {_rows(m.fixed)} went fail → pass and {m.broke} pass → fail, of {m.compared} checked "
                  f"on both sides (McNemar p = {m.p_value:.3g})")
        if not m.clear:
            return f"No clear difference in passes: {counts}."
        better = self.b.label if m.fixed > m.broke else self.a.label
        return f"{better} passes more rows: {counts}."

    def time_verdict(self) -> str:
        t = self.total_time
        if t is None:
            return "Too few rows with both times to compare speed."
        span = f"{t.mean:+.2f} s per reply [{t.low:+.2f}, {t.high:+.2f}], B − A over {t.rows} rows"
        if not t.clear:
            return f"No clear difference in total time: {span}."
        return f"{self.b.label if t.mean < 0 else self.a.label} is faster: {span}."


    def score_verdicts(self) -> list[str]:
        """Each judge's scores compared, in words (none when neither side was scored by the same judge and mode)."""
        lines = []
        for name, t in self.judge_scores.items():
            if t is None:
                lines.append(f"Judge scores ({name}): too few rows scored on both sides to compare.")
                continue
            span = f"{t.mean:+.2f} [{t.low:+.2f}, {t.high:+.2f}], B − A over {t.rows} rows (0–1 scale)"
            if not t.clear:
                lines.append(f"No clear difference in judge scores ({name}): {span}.")
            else:
                lines.append(f"{self.b.label if t.mean > 0 else self.a.label} scores higher ({name}): {span}.")
        return lines


def _rows(n: int) -> str:
    return "row" if n == 1 else "rows"


def _keys(run: EvalRun) -> list[tuple[str, str, int]]:
    """Each row's match key: (prompt, system prompt, occurrence)."""
    seen: Counter[tuple[str, str]] = Counter()
    keys = []
    for row in run.rows:
        base = (row.prompt, row.system_prompt)
        keys.append((*base, seen[base]))
        seen[base] += 1
    return keys


def change(passed_a: bool | None, passed_b: bool | None) -> Change:
    if passed_a is None or passed_b is None:
        return Change.UNCHECKED
    if passed_a and passed_b:
        return Change.BOTH_PASS
    if not passed_a and not passed_b:
        return Change.BOTH_FAIL
    return Change.BROKE if passed_a else Change.FIXED


def mcnemar(broke: int, fixed: int, compared: int) -> McNemar:
    """The exact McNemar test on the changed rows (a binomial test of one direction against ½)."""
    changed = broke + fixed
    p = 1.0 if changed == 0 else float(stats.binomtest(broke, changed, 0.5).pvalue)
    return McNemar(broke, fixed, compared, p)


def paired_bootstrap(a: np.ndarray, b: np.ndarray, rounds: int = ROUNDS, seed: int = SEED) -> Interval | None:
    """Mean of b − a over paired rows with a percentile 95 % interval; None with fewer than two pairs."""
    differences = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    if len(differences) < 2:
        return None
    rng = np.random.default_rng(seed)
    means = differences[rng.integers(0, len(differences), (rounds, len(differences)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Interval(float(differences.mean()), float(low), float(high), len(differences))


def compare(a: Side, b: Side, scores_a: Mapping[str, Mapping[int, float]] | None = None,
            scores_b: Mapping[str, Mapping[int, float]] | None = None) -> RunComparison:
    """Side A against side B, row by row. `scores_a` / `scores_b`: each side's judge scores by judge and mode
    (gateway.evaluation.judge_scores.by_label), rows numbered from 0 in their own run; the judges and modes both
    sides have are compared with the paired bootstrap on the matched rows."""
    cells_a = {c.row: c for c in a.cells}
    cells_b = {c.row: c for c in b.cells}
    where_b = {key: i for i, key in enumerate(_keys(b.run))}
    keys_a = _keys(a.run)
    records = []
    for i, key in enumerate(keys_a):
        j = where_b.get(key)
        if j is None:
            continue
        cell_a, cell_b = cells_a.get(i), cells_b.get(j)
        passed_a = cell_a.passed if cell_a else None
        passed_b = cell_b.passed if cell_b else None
        row = a.run.rows[i]
        records.append({
            Col.ROW_A: i + 1, Col.ROW_B: j + 1, Col.PROMPT: row.prompt, Col.EXPECTED: row.expected,
            Col.PASSED_A: passed_a, Col.PASSED_B: passed_b, Col.CHANGE: change(passed_a, passed_b).value,
            Col.TOTAL_A: cell_a.reply.metrics.total if cell_a else None,
            Col.TOTAL_B: cell_b.reply.metrics.total if cell_b else None,
            Col.REPLY_A: cell_a.reply.text if cell_a else "", Col.REPLY_B: cell_b.reply.text if cell_b else ""})
    columns = [Col.ROW_A, Col.ROW_B, Col.PROMPT, Col.EXPECTED, Col.PASSED_A, Col.PASSED_B, Col.CHANGE, Col.TOTAL_A,
               Col.TOTAL_B, Col.REPLY_A, Col.REPLY_B]
    rows = pd.DataFrame(records, columns=columns).astype(
        {Col.PASSED_A: "boolean", Col.PASSED_B: "boolean", Col.TOTAL_A: float, Col.TOTAL_B: float})
    changes = Counter(rows[Col.CHANGE])
    compared = sum(changes[c.value] for c in Change if c is not Change.UNCHECKED)
    timed = rows.dropna(subset=[Col.TOTAL_A, Col.TOTAL_B])
    matched = len(rows)
    scored: dict[str, Interval | None] = {}
    for name in sorted(set(scores_a or {}) & set(scores_b or {})):
        own_a, own_b = (scores_a or {})[name], (scores_b or {})[name]
        pairs = [(own_a[i - 1], own_b[j - 1]) for i, j in zip(rows[Col.ROW_A], rows[Col.ROW_B])
                 if i - 1 in own_a and j - 1 in own_b]
        scored[name] = paired_bootstrap(np.array([p[0] for p in pairs], dtype=float),
                                        np.array([p[1] for p in pairs], dtype=float)) if pairs else None
    return RunComparison(
        a, b, rows, only_a=len(keys_a) - matched, only_b=len(b.run.rows) - matched,
        passes=mcnemar(changes[Change.BROKE.value], changes[Change.FIXED.value], compared),
        total_time=paired_bootstrap(timed[Col.TOTAL_A].to_numpy(), timed[Col.TOTAL_B].to_numpy()),
        judge_scores=scored)


def changed_rows(comparison: RunComparison) -> pd.DataFrame:
    """The rows whose check changed, regressions first."""
    rows = comparison.rows
    order = {Change.BROKE.value: 0, Change.FIXED.value: 1}
    changed = rows[rows[Col.CHANGE].isin(order)]
    return changed.assign(_order=changed[Col.CHANGE].map(order)).sort_values(["_order", Col.ROW_A]).drop(
        columns="_order")


def summary_lines(comparison: RunComparison) -> list[str]:
    """The comparison in a few lines of words: what the page and the export's header say."""
    lines = [f"A: {comparison.a.label} · B: {comparison.b.label}", comparison.verdict(), comparison.time_verdict(),
             *comparison.score_verdicts()]
    if comparison.only_a or comparison.only_b:
        lines.append(f"Not compared: {comparison.only_a} {_rows(comparison.only_a)} only in A's run, "
                     f"{comparison.only_b} only in B's.")
    return lines


def to_dict(comparison: RunComparison) -> dict[str, Any]:
    """The comparison as its JSON export (and the API) give it: the sides, the verdicts in words, the test, the
    interval, every matched row."""
    passes, time = comparison.passes, comparison.total_time
    return {
        "a": {"run": comparison.a.run.id, "model": comparison.a.model},
        "b": {"run": comparison.b.run.id, "model": comparison.b.model},
        "summary": summary_lines(comparison),
        "mcnemar": {"fail_to_pass": passes.fixed, "pass_to_fail": passes.broke, "compared": passes.compared,
                    "p_value": passes.p_value},
        "total_time_difference": None if time is None else {
            "mean": time.mean, "low": time.low, "high": time.high, "rows": time.rows},
        "judge_score_difference": {name: None if t is None else {"mean": t.mean, "low": t.low, "high": t.high,
                                                                 "rows": t.rows}
                                   for name, t in comparison.judge_scores.items()},
        "rows": json.loads(comparison.rows.to_json(orient="records")),
    }
