"""The cost quote shown before a run starts: what sending every prompt of a set to each model should cost.

Input tokens are counted by the proxy (`POST /utils/token_counter`, the model's own tokenizer where LiteLLM has one,
through `gateway.tokens`), up to `CHUNK` prompts a call, several calls at once, within `BUDGET` seconds; rows not
counted by then are estimated (about four characters a token) and the quote says how many. Output tokens cannot be
counted before the replies exist, so they are estimated and the estimate is stated: `max_tokens` when it is set
(then the quote is an upper bound), else the median length of the model's saved replies when it has any (the
quote says how many), else `DEFAULT_OUTPUT` tokens. Prices are the catalogue's (USD per 1M tokens); a model
without a price has no quote.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from gateway.budget import call_cost
from gateway.config import Settings
from gateway.evaluation.runs import EvalRun
from gateway.models import ModelRecord
from gateway.tokens import count_tokens, estimate_tokens

DEFAULT_OUTPUT = 400  # tokens a reply, when nothing better is known
MIN_HISTORY = 1  # saved replies of a model before their median length is used (the quote says how many)
BUDGET = 10.0  # seconds the proxy's counts may take in all
COUNT_TIMEOUT = 5.0  # seconds one count of up to CHUNK prompts may take (a page's own counts allow 1.5 s)
THREADS = 8
CHUNK = 100  # prompts counted in one call to the proxy's counter
PRIMING = 3  # tokens a counter adds once per request for the reply's start (OpenAI's counting)


@dataclass(frozen=True)
class ModelQuote:
    model: str
    input_tokens: int
    output_tokens_each: int  # the output estimate per reply
    output_basis: str  # "max_tokens" | "history" | "default"
    cost: float | None  # USD; None when the model has no price
    history: int = 0  # saved replies the output estimate is the median of ("history")


@dataclass(frozen=True)
class Quote:
    rows: int
    models: tuple[ModelQuote, ...]
    counted: int  # (row, model) pairs the proxy counted; the rest were estimated
    pairs: int

    @property
    def total(self) -> float | None:
        """USD for the whole run; None when some model has no price."""
        costs = [m.cost for m in self.models]
        return None if any(c is None for c in costs) else sum(c for c in costs if c is not None)

    @property
    def basis(self) -> str:
        """The quote's assumptions in words."""
        parts = []
        for m in self.models:
            how = {"max_tokens": "max tokens, so at most",
                   "history": f"the median of its {m.history:,} saved {'reply' if m.history == 1 else 'replies'}",
                   "default": "no saved replies to go by"}[m.output_basis]
            parts.append(f"{m.model}: {m.output_tokens_each:,} output tokens a reply ({how})")
        counted = (f"input tokens counted by the proxy for all {self.pairs} calls" if self.counted == self.pairs
                   else f"input tokens counted by the proxy for {self.counted} of {self.pairs} calls, the rest "
                        "estimated at about 4 characters a token")
        return f"{counted}; output estimated — " + "; ".join(parts) + "."


def quote(run: EvalRun, models: Mapping[str, ModelRecord], settings: Settings,
          output_history: Mapping[str, tuple[float, int]] | None = None) -> Quote:
    """The quote for `run` (not started). `output_history`: (median completion tokens, how many replies) of each
    model's saved replies (`history_medians`)."""
    history = output_history or {}
    deadline = time.monotonic() + BUDGET
    chunks = [range(start, min(start + CHUNK, len(run.rows))) for start in range(0, len(run.rows), CHUNK)]
    jobs = [(key, chunk) for key in run.models for chunk in chunks]
    with ThreadPoolExecutor(THREADS, thread_name_prefix="eval-quote") as pool:
        futures = [pool.submit(_count, models.get(key), run, chunk, settings, deadline) for key, chunk in jobs]
        finished, _ = wait(futures, timeout=BUDGET + 2)
        counts = [f.result() if f in finished else (_estimate(run, chunk), False)
                  for f, (_, chunk) in zip(futures, jobs)]
    tokens_in: dict[str, int] = {}
    counted = 0
    for (key, chunk), (tokens, by_proxy) in zip(jobs, counts):
        tokens_in[key] = tokens_in.get(key, 0) + tokens
        counted += len(chunk) if by_proxy else 0
    quotes = []
    for key in run.models:
        model = models.get(key)
        if run.params.max_tokens:
            each, basis = run.params.max_tokens, "max_tokens"
        elif key in history:
            each, basis = max(1, round(history[key][0])), "history"
        else:
            each, basis = DEFAULT_OUTPUT, "default"
        cost = model.cost(tokens_in[key], each * len(run.rows)) if model is not None else None
        quotes.append(ModelQuote(key, tokens_in[key], each, basis, cost, history[key][1] if basis == "history" else 0))
    return Quote(len(run.rows), tuple(quotes), counted, len(run.rows) * len(run.models))


def _estimate(run: EvalRun, rows: range) -> int:
    return sum(estimate_tokens(run.messages(row)) for row in rows)


def _count(model: ModelRecord | None, run: EvalRun, rows: range, settings: Settings,
           deadline: float) -> tuple[int, bool]:
    """(input tokens of these rows, counted by the proxy). The rows go to the counter as one conversation (one call
    for up to CHUNK prompts); a separate request would add the reply's priming tokens once more per row."""
    if model is None or time.monotonic() > deadline:
        return _estimate(run, rows), False
    messages = [message for row in rows for message in run.messages(row)]
    counted = count_tokens(model, messages, settings, timeout=max(0.5, min(COUNT_TIMEOUT, deadline - time.monotonic())))
    if counted.source != "proxy":
        return _estimate(run, rows), False
    return counted.tokens + PRIMING * (len(rows) - 1), True


def cell_cost(run: EvalRun, row: int, model: ModelRecord, settings: Settings) -> float:
    """What one cell is expected to cost against a budget (estimated, as each call is when it is sent)."""
    return call_cost(model, estimate_tokens(run.messages(row)), run.params.max_tokens,
                     settings.unpriced_usd_per_1k_tokens)


def remaining_cost(run: EvalRun, missing: Sequence[tuple[int, str]], models: Mapping[str, ModelRecord],
                   settings: Settings) -> float:
    """What the cells still `missing` are expected to cost against a budget: their share of the run's quote when it
    has one (every model priced), else each cell estimated (unpriced models at UNPRICED_USD_PER_1K_TOKENS)."""
    if run.quote is not None and run.cells_total:
        return run.quote * len(missing) / run.cells_total
    return sum(cell_cost(run, row, models[key], settings) for row, key in missing if key in models)


def history_medians(ledger_medians: Mapping[str, tuple[float, int]]) -> dict[str, tuple[float, int]]:
    """{model: (median completion tokens, replies)} for the models with at least MIN_HISTORY saved replies."""
    return {k: (median, n) for k, (median, n) in ledger_medians.items() if n >= MIN_HISTORY}
