"""Spending on the chat and compare pages: the monthly budget's warning, a refused round drawn as one, and what a
comparison is expected to cost before it is sent. Each page calls these; the numbers are decided in gateway/budget.py
and the refusals in gateway/sending.py (the one door every call goes through).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from gateway import sending
from gateway.attachments import Attachment
from gateway.budget import Budget, expected_cost
from gateway.config import Settings
from gateway.conversation import Conversation, Round, messages_for
from gateway.errors import GatewayError
from gateway.models import ModelRecord
from gateway.params import ChatParams
from gateway.reply import Outcome, Reply, ReplyError
from gateway.sending import Sender
from gateway.store import Store
from gateway.tokens import estimate_tokens
from ui import analyst as analysts
from ui.format import usd
from ui.markdown import escape_dollars, inline_code


def budget(settings: Settings, store: Store) -> Budget | None:
    """The signed-in analyst's month so far, as the sending door counts it (gateway/sending.py: unpriced replies at
    the assumed rate, requests on their way); None when no budget applies or the ledger cannot be read now."""
    who = analysts.signed_in(settings)
    return sending.budget(Sender(who.id, "", admin=who.admin), settings, store)


def budget_note(settings: Settings, store: Store) -> None:
    """A warning from 80 % of the monthly budget, an error once it is spent; nothing below."""
    found = budget(settings, store)
    if found is None or not (message := found.message()):
        return
    if found.level == "refused":
        st.error(escape_dollars(message), icon=":material/block:")
    else:
        st.warning(escape_dollars(message), icon=":material/savings:")


def refuse_round(comparison: Conversation, models: Sequence[ModelRecord], prompt: str,
                 params: Mapping[str, ChatParams], error: GatewayError,
                 attachments: Sequence[Attachment] = ()) -> Round:
    """Record a prompt that was not sent: every model's reply says why, and the prompt is kept with its files."""
    reason = ReplyError.of(error)
    round_ = Round(prompt, {m.key: params[m.key] for m in models},
                   {m.key: [Reply(m.key, outcome=Outcome.FAILED, error=reason)] for m in models},
                   attachments=list(attachments))
    comparison.rounds.append(round_)
    return round_


def expected_cost_caption(comparison: Conversation, models: Sequence[ModelRecord], params: Mapping[str, ChatParams],
                          repeats: int) -> None:
    """What the next prompt is expected to cost on every model (and every run), before it is sent."""
    runs = [(m, estimate_tokens(messages_for(comparison.thread(m.key, images=m.supports_vision is not False),
                                             params[m.key])), params[m.key].max_tokens)
            for m in models]
    expected = expected_cost(runs, repeats)
    if expected is None:
        return
    runs_text = f" × {repeats} runs" if repeats > 1 else ""
    length = "replies assumed ~500 tokens: set Max tokens for a ceiling" if expected.assumed \
        else "each reply at most Max tokens"
    unpriced = f"; no price for {', '.join(inline_code(name) for name in expected.unpriced)}" \
        if expected.unpriced else ""
    st.caption(f":material/payments: Expected cost of the next prompt: {'about' if expected.assumed else 'at most'} "
               f"{escape_dollars(usd(expected.cost))} ({len(models)} models{runs_text}, the conversation so far plus "
               f"your prompt in, {length}{unpriced}).")
