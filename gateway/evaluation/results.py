"""An evaluation run's results as tables and exports: the grid (prompt × model), one row per cell, the per-model
summary (pass rate, median TTFT, total cost), CSV and JSON, and any row as a side-by-side comparison.

Column names are defined here once (`Col`) and imported by the page.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import pandas as pd

from gateway.conversation import Conversation, Round
from gateway.evaluation.runs import Cell, EvalRun
from gateway.reply import Outcome
from gateway.safe_csv import frame_csv

FORMAT = "llm-dashboard.evaluation/1"
EXCERPT = 160  # characters of a reply in the long table's preview


class Col:
    ROW = "#"
    PROMPT = "Prompt"
    TAG = "Tag"
    EXPECTED = "Expected"
    MODEL = "Model"
    OUTCOME = "Outcome"
    PASSED = "Passed"
    TTFT = "TTFT (s)"
    TOTAL = "Total (s)"
    TOKENS_PER_S = "Tokens/s"
    TOKENS = "Tokens"
    COST = "Cost ($)"
    ATTEMPTS = "Calls"
    ERROR = "Error"
    REPLY = "Reply"
    REASONING = "Reasoning tokens"  # as reported (empty: not reported); in Tokens too (billed as output)
    THINKING = "Thinking"  # what a reasoning model showed of its thinking
    CELLS = "Cells"
    COMPLETE = "Complete"
    FAILED = "Failed"
    CHECKED = "Checked"
    PASS_RATE = "Pass rate"
    TTFT_MEDIAN = "Median TTFT (s)"
    TOTAL_COST = "Total cost ($)"


def cells_frame(run: EvalRun, cells: Sequence[Cell]) -> pd.DataFrame:
    """One row per saved cell, row by row in model order."""
    order = {key: i for i, key in enumerate(run.models)}
    rows = []
    for cell in sorted(cells, key=lambda c: (c.row, order.get(c.model, 99))):
        prompt, reply, metrics = run.rows[cell.row], cell.reply, cell.reply.metrics
        rows.append({Col.ROW: cell.row + 1, Col.PROMPT: prompt.prompt, Col.TAG: prompt.tag,
                     Col.EXPECTED: prompt.expected, Col.MODEL: cell.model, Col.OUTCOME: reply.outcome.value,
                     Col.PASSED: cell.passed, Col.TTFT: metrics.ttft, Col.TOTAL: metrics.total,
                     Col.TOKENS_PER_S: metrics.tokens_per_second, Col.TOKENS: metrics.completion_tokens,
                     Col.COST: metrics.cost, Col.ATTEMPTS: cell.attempts,
                     Col.ERROR: reply.error.message if reply.error else "", Col.REPLY: reply.text,
                     Col.REASONING: metrics.reasoning_tokens, Col.THINKING: reply.thinking})
    columns = [Col.ROW, Col.PROMPT, Col.TAG, Col.EXPECTED, Col.MODEL, Col.OUTCOME, Col.PASSED, Col.TTFT, Col.TOTAL,
               Col.TOKENS_PER_S, Col.TOKENS, Col.COST, Col.ATTEMPTS, Col.ERROR, Col.REPLY, Col.REASONING,
               Col.THINKING]
    return pd.DataFrame(rows, columns=columns).astype({Col.PASSED: "boolean", Col.TOKENS: "Int64",
                                                       Col.REASONING: "Int64"})


def mark(cell: Cell | None) -> str:
    """How a cell reads in the grid: `✓ 0.84 s`, `✗ 1.20 s` (check failed), `· 0.50 s` (no check), `failed`…"""
    if cell is None:
        return ""
    reply = cell.reply
    if reply.outcome is not Outcome.COMPLETE:
        return reply.outcome.label
    sign = {True: "✓", False: "✗", None: "·"}[cell.passed]
    total = reply.metrics.total
    return f"{sign} {total:.2f} s" if total is not None else sign


def grid(run: EvalRun, cells: Sequence[Cell]) -> pd.DataFrame:
    """Prompt × model: each cell's check and time (blank while not run yet)."""
    found = {(c.row, c.model): c for c in cells}
    return pd.DataFrame([{Col.ROW: i + 1, Col.PROMPT: row.prompt, Col.TAG: row.tag,
                          **{key: mark(found.get((i, key))) for key in run.models}}
                         for i, row in enumerate(run.rows)], columns=[Col.ROW, Col.PROMPT, Col.TAG, *run.models])


def summary(run: EvalRun, cells: Sequence[Cell]) -> pd.DataFrame:
    """Per model: cells done, complete, failed, checked, passed, pass rate (of the checked rows), median TTFT, cost."""
    rows = []
    for key in run.models:
        own = [c for c in cells if c.model == key]
        checked = [c for c in own if c.passed is not None]
        ttfts = pd.Series([c.reply.metrics.ttft for c in own if c.reply.metrics.ttft is not None], dtype=float)
        rows.append({Col.MODEL: key, Col.CELLS: len(own),
                     Col.COMPLETE: sum(c.reply.outcome is Outcome.COMPLETE for c in own),
                     Col.FAILED: sum(c.reply.outcome is Outcome.FAILED for c in own),
                     Col.CHECKED: len(checked), Col.PASSED: sum(bool(c.passed) for c in checked),
                     Col.PASS_RATE: sum(bool(c.passed) for c in checked) / len(checked) if checked else None,
                     Col.TTFT_MEDIAN: float(ttfts.median()) if len(ttfts) else None,
                     Col.TOTAL_COST: sum(c.reply.metrics.cost or 0.0 for c in own)})
    return pd.DataFrame(rows)


def to_csv(run: EvalRun, cells: Sequence[Cell]) -> str:
    """One row per cell, every text inert in a spreadsheet (gateway/safe_csv.py)."""
    return frame_csv(cells_frame(run, cells))


def to_dict(run: EvalRun, cells: Sequence[Cell]) -> dict[str, Any]:
    """The run and every saved cell, as the JSON export (and the API) give them."""
    return {
        "format": FORMAT, "id": run.id, "set": {"id": run.set_id, "name": run.set_name}, "models": list(run.models),
        "params": run.params.to_dict(), "status": run.status.value, "created_at": run.created_at,
        "rows": [row.to_dict() for row in run.rows],
        "cells": [{"row": c.row, "passed": c.passed, "calls": c.attempts, "reply": c.reply.to_dict()}
                  for c in cells]}


def to_json(run: EvalRun, cells: Sequence[Cell]) -> str:
    return json.dumps(to_dict(run, cells), ensure_ascii=False, indent=1)


def comparison_id(run: EvalRun, row: int) -> str:
    """The same comparison id for the same cell row, so opening it twice does not make two."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"llm-dashboard:eval:{run.id}:{row}").hex


def as_comparison(run: EvalRun, row: int, cells: Sequence[Cell]) -> Conversation:
    """One row of the run as a comparison of its models (one round: the prompt and each model's reply)."""
    prompt = run.rows[row]
    replies = {c.model: c.reply for c in cells if c.row == row}
    keys = [key for key in run.models if key in replies]
    round_ = Round(prompt.prompt, {key: run.row_params(row) for key in keys}, {key: [replies[key]] for key in keys},
                   key=comparison_id(run, row))  # the same round every time too: opening it again saves it in place
    return Conversation("compare", [round_], params=run.row_params(row), models=keys, id=comparison_id(run, row),
                        title=f"{run.set_name} #{row + 1}: {prompt.prompt[:60]}")
