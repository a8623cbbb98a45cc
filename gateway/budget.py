"""Monthly budgets: how much of it an analyst has spent, and whether the app still sends for them.

`ANALYST_MONTHLY_BUDGET_USD` (or the analyst's own line in `[analyst_budgets]`) is the limit for a calendar month
(UTC); spend comes from the app's usage ledger (gateway/store/usage.py). From `WARN_AT` of it the chat and compare
pages warn; a request is refused when what was spent, plus what this process's other requests for the analyst have
reserved, plus what this one is expected to cost, would pass the limit (admins are exempt). No budget configured:
nothing is checked.

Reservations (`Reservations`): before a request is sent its expected cost is held for the analyst, and let go once
the reply has ended and is in the ledger. The check and the hold happen under one lock per analyst, so five requests
at once cannot each see the same room and all pass: at most the ones that fit are sent. They are held in this
process only: several replicas of the app share the ledger but not their reservations, so each replica can let
through up to its own in-flight requests' worth more (LiteLLM's own key budgets, `[analyst_keys]`, are the hard
limit across replicas).

Unpriced models: a reply whose cost nobody knows (no price in the proxy or the catalogue) counts against budgets at
`UNPRICED_USD_PER_1K_TOKENS` per 1,000 tokens (prompt and reply), in the ledger and in reservations alike.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from gateway.errors import GatewayError
from gateway.models import ModelRecord

WARN_AT = 0.8
DEFAULT_REPLY_TOKENS = 500  # what a reply is assumed to take when estimating a run without Max tokens
Level = Literal["none", "ok", "warning", "refused"]


class BudgetExceeded(GatewayError):
    """The analyst has spent their monthly budget (or this request would pass it): nothing is sent until the month
    ends or the budget is raised."""

    kind = "budget_exceeded"
    http_status = 402
    hint = "Ask an admin to raise your budget ([analyst_budgets] in secrets.toml), or wait for the next month."


def month(now: float) -> tuple[float, float]:
    """The calendar month (UTC) around `now`: [start, end) in epoch seconds."""
    today = dt.datetime.fromtimestamp(now, dt.UTC)
    start = today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start.timestamp(), end.timestamp()


def unpriced_cost(tokens: int, usd_per_1k: float) -> float:
    """What `tokens` of a model without a price count as against a budget."""
    return tokens * usd_per_1k / 1000


def call_cost(model: ModelRecord, prompt_tokens: int, reply_tokens: int | None, usd_per_1k: float) -> float:
    """What one call is expected to cost against a budget: at the model's price, else at the assumed rate for
    unpriced models. The reply is taken to be `reply_tokens` long (Max tokens), else DEFAULT_REPLY_TOKENS."""
    reply = reply_tokens or DEFAULT_REPLY_TOKENS
    priced = model.cost(prompt_tokens, reply)
    return priced if priced is not None else unpriced_cost(prompt_tokens + reply, usd_per_1k)


def dollars(amount: float) -> str:
    """An amount in words: cents, or tenths of a cent below one cent (a single call often costs less)."""
    return f"${amount:,.4f}" if 0 < amount < 0.01 else f"${amount:,.2f}"


@dataclass(frozen=True)
class Budget:
    """One analyst's month so far."""

    limit: float | None  # USD; None: no budget
    spent: float  # USD this month: known costs plus `unpriced` (replies without a price, at the assumed rate)
    exempt: bool = False  # admins
    reserved: float = 0.0  # USD held by this process's requests for the analyst that are still on their way
    unpriced: float = 0.0  # the part of `spent` assumed for replies without a price (UNPRICED_USD_PER_1K_TOKENS)

    @property
    def fraction(self) -> float | None:
        if self.limit is None:
            return None
        return self.spent / self.limit if self.limit > 0 else float("inf")

    @property
    def left(self) -> float:
        """USD still free for a new request (0 when none); infinite without a budget."""
        if self.limit is None:
            return float("inf")
        return max(0.0, self.limit - self.spent - self.reserved)

    @property
    def level(self) -> Level:
        fraction = self.fraction
        if fraction is None:
            return "none"
        if fraction >= 1 and not self.exempt:
            return "refused"
        return "warning" if fraction >= WARN_AT else "ok"

    def refusal(self, expected: float = 0.0) -> BudgetExceeded | None:
        """The error a request expected to cost `expected` (USD) gets, or None while it may be sent: refused once the
        budget is spent, or when it would not fit in what is left beside the requests already on their way."""
        if self.limit is None or self.exempt:
            return None
        assumed = f" (of which {dollars(self.unpriced)} assumed for replies without a price)" if self.unpriced else ""
        if self.level == "refused":
            return BudgetExceeded(f"Not sent: you have spent ${self.spent:,.2f} of your ${self.limit:,.2f} budget "
                                  f"for this month{assumed}.")
        if self.spent + self.reserved + expected <= self.limit:
            return None
        held = f", {dollars(self.reserved)} held for your requests still on their way" if self.reserved else ""
        return BudgetExceeded(f"Not sent: this is expected to cost about {dollars(expected)}, and "
                              f"{dollars(self.left)} of your ${self.limit:,.2f} budget for this month is left "
                              f"({dollars(self.spent)} spent{assumed}{held}).")

    def message(self) -> str:
        """The warning or refusal in words (empty when neither applies)."""
        if self.limit is None or self.fraction is None:
            return ""
        used = f"${self.spent:,.2f} of your ${self.limit:,.2f} monthly budget ({min(self.fraction, 9.99):.0%})"
        if self.level == "refused":
            return f"You have spent {used}: new requests are not sent until the month ends (UTC)."
        if self.fraction >= 1:
            return f"You have spent {used}; as an admin you can go on sending."
        if self.level == "warning":
            return f"You have spent {used}. At 100 % the app stops sending for you until the month ends."
        return ""


# --- Reservations ----------------------------------------------------------------------------------------------------

class Reservation:
    """An expected cost held for an analyst until `release()` (idempotent; also a context manager)."""

    def __init__(self, owner: Reservations | None, analyst: str, number: int, amount: float) -> None:
        self._owner, self.analyst, self._number, self.amount = owner, analyst, number, amount

    def release(self) -> None:
        """Let go of the held amount: call it once the reply has ended and is in the ledger (or was never sent)."""
        owner, self._owner = self._owner, None
        if owner is not None:
            owner._release(self.analyst, self._number)

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


NOTHING_HELD = Reservation(None, "", 0, 0.0)  # no budget applies: nothing to hold or release


class Reservations:
    """The expected costs held per analyst in this process (see the module's docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._analysts: dict[str, threading.Lock] = {}
        self._held: dict[str, dict[int, float]] = {}
        self._numbers = itertools.count(1)

    def held(self, analyst: str) -> float:
        with self._lock:
            return sum(self._held.get(analyst, {}).values())

    def admit(self, analyst: str, expected: float,
              budget: Callable[[float], Budget | None]) -> Reservation | BudgetExceeded:
        """Hold `expected` (USD) for `analyst` when `budget(held)` (the month so far, read with what is held now)
        lets it through, else the refusal. Check and hold are one step for the analyst: a concurrent request of
        theirs waits, then sees this one's hold."""
        with self._analyst_lock(analyst):
            found = budget(self.held(analyst))
            if found is None:
                return NOTHING_HELD
            if (refused := found.refusal(expected)) is not None:
                return refused
            with self._lock:
                number = next(self._numbers)
                self._held.setdefault(analyst, {})[number] = max(0.0, expected)
            return Reservation(self, analyst, number, expected)

    def _release(self, analyst: str, number: int) -> None:
        # Under the analyst's lock: a check that has read the ledger (without this reply's row) still counts the hold.
        with self._analyst_lock(analyst), self._lock:
            held = self._held.get(analyst, {})
            held.pop(number, None)
            if not held:
                self._held.pop(analyst, None)

    def _analyst_lock(self, analyst: str) -> threading.Lock:
        with self._lock:
            return self._analysts.setdefault(analyst, threading.Lock())


RESERVATIONS = Reservations()  # the process's


@dataclass(frozen=True)
class Expected:
    """What sending a prompt is expected to cost before it is sent."""

    cost: float  # USD, the models with a price
    unpriced: tuple[str, ...]  # names of the models without one
    assumed: bool  # some reply lengths are assumed (DEFAULT_REPLY_TOKENS); else each is Max tokens, a ceiling


def expected_cost(runs: Sequence[tuple[ModelRecord, int, int | None]], repeats: int = 1) -> Expected | None:
    """The expected cost of sending to each of `runs` (model, prompt tokens, Max tokens) `repeats` times. A reply is
    taken to be Max tokens long when set, else `DEFAULT_REPLY_TOKENS`. None when no model has a price."""
    cost, unpriced = 0.0, []
    for model, prompt_tokens, max_tokens in runs:
        one = model.cost(prompt_tokens, max_tokens or DEFAULT_REPLY_TOKENS)
        if one is None:
            unpriced.append(model.name)
        else:
            cost += one * repeats
    if len(unpriced) == len(runs):
        return None
    return Expected(cost, tuple(unpriced), any(max_tokens is None for _, _, max_tokens in runs))
