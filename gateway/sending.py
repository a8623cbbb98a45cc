"""The one door every model call made for an analyst goes through: chat, compare, evaluation cells and the API.

Before anything is sent it applies, in this order:
1. the prompt's limits (`check_prompt`): not longer than MAX_PROMPT_CHARS, and not blank — a prompt of nothing but
   spaces or invisible characters (zero-width spaces, joiners, fillers) is refused like an empty one;
2. the context window (`gateway.tokens.fit_before_sending`), for a single call (`send_chat`);
3. the monthly budget (gateway/budget.py): the call's expected cost is reserved for the analyst, or the request is
   refused in words (`BudgetExceeded`); the reservation is let go once the reply is in the usage ledger;
4. attribution (gateway/attribution.py): the analyst's id as `user` and LiteLLM metadata tags on every request.
Each refusal is a `GatewayError` with a `kind`, so a page draws it, the API serialises it and an evaluation run
records it, in the same words. The usage ledger is written by whoever saves the reply (`Store.save_round`, and
`Evaluations.save_cell` for a cell); `Sending.settle()` / `Comparing.settle()` come after that save, so a reply is
always counted once, by its reservation or by its ledger row, never by neither.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import openai

from gateway.attachments import Attachment
from gateway.attribution import Attribution
from gateway.budget import RESERVATIONS, Budget, BudgetExceeded, Reservation, call_cost, month, unpriced_cost
from gateway.chat import ChatStream, start_chat
from gateway.compare import CompareRun, Job, jobs_for
from gateway.config import Settings
from gateway.conversation import Conversation
from gateway.errors import ContextWindowExceeded, GatewayError, PromptTooLong
from gateway.models import ModelRecord
from gateway.params import ChatParams
from gateway.store import Store, Unavailable
from gateway.tokens import estimate_tokens, fit_before_sending

# Characters that draw nothing on their own: besides spaces and the format, control and combining categories, the
# Hangul and Braille blanks that render as empty space.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Cn", "Co", "Cs"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


class EmptyPrompt(GatewayError):
    """A prompt with no visible character (empty, spaces, or invisible characters only): nothing is sent."""

    kind = "empty_prompt"
    http_status = 400
    hint = "Type a question or an instruction: a prompt of spaces or invisible characters only is not sent."


class ThinkingBudgetTooLarge(GatewayError):
    """A thinking budget as large as Max tokens: the thinking would leave nothing for the answer (Anthropic refuses
    it outright: budget_tokens must be below max_tokens)."""

    kind = "thinking_budget"
    http_status = 400
    hint = "Raise Max tokens above the thinking budget, or lower the budget (or leave either unset)."


def check_params(params: ChatParams, model: str = "") -> ThinkingBudgetTooLarge | None:
    """Why these parameters are not sent, or None: a thinking budget must leave room for the answer."""
    budget, most = params.thinking_budget, params.max_tokens
    if budget is not None and most is not None and params.reasoning_effort != "off" and budget >= most:
        return ThinkingBudgetTooLarge(f"Not sent: the thinking budget{f' for {model}' if model else ''} "
                                      f"({budget:,} tokens) must be below Max tokens ({most:,}): the answer comes "
                                      "out of the same tokens.")
    return None


def visible(text: str) -> bool:
    """Whether `text` has a character that shows (a letter, digit, sign or symbol; not a space, a zero-width or
    format character, a lone combining mark or a blank filler)."""
    return any(not ch.isspace() and ch not in _BLANK_LETTERS
               and unicodedata.category(ch) not in _INVISIBLE_CATEGORIES for ch in text)


def check_prompt(prompt: str, settings: Settings, *, files: bool = False) -> PromptTooLong | EmptyPrompt | None:
    """Why a prompt is not sent at all, or None. Longer than MAX_PROMPT_CHARS is counted first, with no round trip,
    so a 20 MB paste costs microseconds, not a proxy call; then it must show something (unless `files` come with
    it: attached files alone may be sent)."""
    if len(prompt) > settings.max_prompt_chars:
        tokens = estimate_tokens([{"role": "user", "content": prompt}])
        return PromptTooLong(f"Not sent: this prompt is {len(prompt):,} characters, about {tokens:,} tokens "
                             f"(estimated); the app sends at most {settings.max_prompt_chars:,} characters in one "
                             "prompt.")
    if not files and not visible(prompt):
        return EmptyPrompt("Not sent: the prompt is empty (it has no visible characters).")
    return None


# --- Who is sending ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sender:
    """The analyst a call is for, the page (or "api", "evaluate") it comes from, and the conversation or run."""

    analyst: str  # the analyst id (lower-cased e-mail, or "local")
    page: str
    conversation_id: str | None = None
    admin: bool = False  # admins are not held to budgets

    def attribution(self) -> Attribution:
        return Attribution(self.analyst, self.page, self.conversation_id)


def budget(sender: Sender, settings: Settings, store: Store, *, held: float | None = None) -> Budget | None:
    """The analyst's month so far (the ledger's costs, unpriced replies at UNPRICED_USD_PER_1K_TOKENS, and what this
    process holds for their requests on the way); None when no budget applies or the ledger cannot be read now (then
    nothing is refused: LiteLLM's own key budgets are the hard limit)."""
    limit = settings.monthly_budget(sender.analyst)
    if limit is None:
        return None
    since, until = month(time.time())
    found = store.spending(sender.analyst, since=since, until=until)
    if isinstance(found, Unavailable):
        return None
    cost, unpriced_tokens = found
    assumed = unpriced_cost(unpriced_tokens, settings.unpriced_usd_per_1k_tokens)
    return Budget(limit, cost + assumed, exempt=sender.admin,
                  reserved=RESERVATIONS.held(sender.analyst) if held is None else held, unpriced=assumed)


def admit(sender: Sender, settings: Settings, store: Store, expected: float) -> Reservation | BudgetExceeded:
    """Reserve `expected` USD of the analyst's budget for a request, or the refusal in words. Release the
    reservation once the reply is saved (its cost is then in the ledger), or when it was not sent after all."""
    if sender.admin or settings.monthly_budget(sender.analyst) is None:
        return RESERVATIONS.admit(sender.analyst, 0.0, lambda held: None)
    return RESERVATIONS.admit(sender.analyst, expected, lambda held: budget(sender, settings, store, held=held))


def expected_cost(model: ModelRecord, messages: list[dict[str, Any]], max_tokens: int | None, settings: Settings,
                  repeats: int = 1) -> float:
    """What sending `messages` to `model` (`repeats` times) is expected to cost against a budget: the estimated
    prompt tokens plus Max tokens (or ~500) for the reply, at the model's price or the unpriced rate."""
    return repeats * call_cost(model, estimate_tokens(messages), max_tokens, settings.unpriced_usd_per_1k_tokens)


# --- One call: chat, an evaluation cell ----------------------------------------------------------------------------

@dataclass
class Sending:
    """A call on its way: its stream, and the budget it holds until `settle()` (after the reply is saved)."""

    stream: ChatStream
    reservation: Reservation

    def settle(self) -> None:
        """The reply has ended and is saved (or will never be): let go of what it held of the budget."""
        self.stream.close()
        self.reservation.release()


def send_chat(model: ModelRecord, messages: list[dict[str, Any]], params: ChatParams, settings: Settings,
              store: Store, sender: Sender, *, prompt: str | None = None,
              client: openai.OpenAI | None = None) -> Sending | GatewayError:
    """Send one conversation to one model for `sender`, or the refusal (nothing sent): `prompt`, when given, is
    checked first; then the context window, then the budget. The stream carries the analyst's attribution."""
    if prompt is not None and (refused := check_prompt(prompt, settings)) is not None:
        return refused
    if (wrong := check_params(params)) is not None:
        return wrong
    fit = fit_before_sending(model, messages, settings, max_tokens=params.max_tokens)
    if not fit.fits:
        return ContextWindowExceeded(
            f"Not sent: the conversation is about {fit.used:,} tokens"
            f"{f' plus {fit.reserve:,} for the reply' if fit.reserve else ''}, and {model.name} takes "
            f"{fit.limit:,}.")
    held = admit(sender, settings, store, expected_cost(model, messages, params.max_tokens, settings))
    if isinstance(held, BudgetExceeded):
        return held
    try:
        stream = start_chat(model, messages, params, settings, client=client, attribution=sender.attribution())
    except BaseException:
        held.release()
        raise
    return Sending(stream, held)


# --- A round of a comparison: several models at once -----------------------------------------------------------------

@dataclass
class Comparing:
    """A comparison's round on its way: the run, and the budget it holds until `settle()` (after the round is
    saved)."""

    run: CompareRun
    reservation: Reservation

    def settle(self) -> None:
        self.run.stop()
        self.reservation.release()


def start_compare(comparison: Conversation, models: Sequence[ModelRecord], prompt: str,
                  params: Mapping[str, ChatParams], repeats: int, settings: Settings, store: Store, sender: Sender,
                  attachments: Sequence[Attachment] = (), *,
                  on_text: Callable[[str, int, str], None] | None = None,
                  on_thought: Callable[[str, int, str], None] | None = None,
                  best: Mapping[str, str] | None = None) -> Comparing | GatewayError:
    """Send the next round of `comparison` (the prompt to every model, `repeats` times) for `sender`, or the refusal
    (nothing sent): the prompt's limits, then the budget for every call of the round at once. Every request carries
    the analyst's attribution (with its run number when repeated). `best` (round key → model): continue every model
    from those rounds' best replies instead of its own (`gateway.compare.jobs_for`)."""
    if (refused := check_prompt(prompt, settings, files=bool(attachments))) is not None:
        return refused
    for model in models:
        if (wrong := check_params(params[model.key], model.name)) is not None:
            return wrong
    jobs = jobs_for(comparison, models, prompt, params, repeats, attachments, attribution=sender.attribution(),
                    best=best)
    expected = sum(_job_cost(job, settings) for job in jobs)
    held = admit(sender, settings, store, expected)
    if isinstance(held, BudgetExceeded):
        return held
    try:
        run = CompareRun(jobs, settings, on_text=on_text, on_thought=on_thought).start()
    except BaseException:
        held.release()
        raise
    return Comparing(run, held)


def _job_cost(job: Job, settings: Settings) -> float:
    return expected_cost(job.model, job.messages, job.params.max_tokens, settings, job.repeats)


def check_spending(sender: Sender, settings: Settings, store: Store, expected: float) -> BudgetExceeded | None:
    """Whether a batch of calls expected to cost `expected` USD in all (an evaluation run's missing cells) fits the
    analyst's budget now, beside what is held; nothing is held (each call reserves its own when it is sent)."""
    held = admit(sender, settings, store, expected)
    if isinstance(held, BudgetExceeded):
        return held
    held.release()
    return None
