"""Monthly budgets: how much of it an analyst has spent, and whether the app still sends for them.

`ANALYST_MONTHLY_BUDGET_USD` (or the analyst's own line in `[analyst_budgets]`) is the limit for a calendar month
(UTC); spend comes from the app's usage ledger (gateway/store/usage.py). From `WARN_AT` of it the chat and compare
pages warn; from all of it they refuse to send (admins are exempt). No budget configured: nothing is checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gateway.errors import GatewayError
from gateway.models import ModelRecord

WARN_AT = 0.8
DEFAULT_REPLY_TOKENS = 500  # what a reply is assumed to take when estimating a run without Max tokens
Level = Literal["none", "ok", "warning", "refused"]


class BudgetExceeded(GatewayError):
    """The analyst has spent their monthly budget: nothing is sent until the month ends or the budget is raised."""

    hint = "Ask an admin to raise your budget ([analyst_budgets] in secrets.toml), or wait for the next month."

    @property
    def kind(self) -> str:
        return "budget_exceeded"


def month(now: float) -> tuple[float, float]:
    """The calendar month (UTC) around `now`: [start, end) in epoch seconds."""
    today = dt.datetime.fromtimestamp(now, dt.UTC)
    start = today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start.timestamp(), end.timestamp()


@dataclass(frozen=True)
class Budget:
    """One analyst's month so far."""

    limit: float | None  # USD; None: no budget
    spent: float  # USD this month (known costs)
    exempt: bool = False  # admins

    @property
    def fraction(self) -> float | None:
        if self.limit is None:
            return None
        return self.spent / self.limit if self.limit > 0 else float("inf")

    @property
    def level(self) -> Level:
        fraction = self.fraction
        if fraction is None:
            return "none"
        if fraction >= 1 and not self.exempt:
            return "refused"
        return "warning" if fraction >= WARN_AT else "ok"

    def refusal(self) -> BudgetExceeded | None:
        """The error a request gets when the budget is spent (None while it may be sent)."""
        if self.level != "refused":
            return None
        return BudgetExceeded(f"Not sent: you have spent ${self.spent:,.2f} of your ${self.limit:,.2f} budget for "
                              "this month.")

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
