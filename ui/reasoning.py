"""The reasoning inputs: effort (off / low / medium / high) and a thinking budget, for a model the catalogue says
reasons (`supports_reasoning`); for one it does not know about, under "Advanced" with a note; none for a model it says
does not reason. Blank means the model's default: nothing is sent (gateway/params.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import streamlit as st

from gateway.models import ModelRecord
from gateway.params import EFFORTS, MIN_THINKING_BUDGET, ChatParams

DEFAULT = "default"
UNKNOWN_NOTE = ("The catalogue does not say whether this model reasons: the setting is sent as LiteLLM's "
                "`reasoning_effort` / `thinking`, and a model that does not reason may ignore or refuse it.")
EFFORT_HELP = ("How hard a reasoning model thinks before answering (sent as `reasoning_effort`; off as `none`). "
               "More effort: usually better answers, more reasoning tokens (billed as output) and a longer wait.")
BUDGET_HELP = (f"At most this many tokens of thinking (at least {MIN_THINKING_BUDGET:,}; Anthropic-style "
               "`thinking.budget_tokens`). Keep it below Max tokens, or the thinking can use the whole reply budget.")


def reasons(models: Iterable[ModelRecord | None]) -> bool | None:
    """Whether to offer reasoning for these models together: True when the catalogue says one of them reasons,
    False when it says none does, None (offered under "Advanced") when it does not know."""
    said = [m.supports_reasoning if m is not None else None for m in models]
    return True if any(said) else False if said and all(s is False for s in said) else None


def reasoning_inputs(model: ModelRecord | None | bool, key: str, *, compact: bool = False, persist: bool = False,
                     nested: bool = False) -> tuple[str | None, int | None]:
    """(effort, thinking budget) for `model` (or for models that `reasons()` said of); (None, None) when it does
    not reason. `persist`: kept for the browser session (as the chat page's other settings). `nested`: drawn
    inside an expander already (Streamlit nests none), so an unknown model's inputs come with the note, unfolded."""
    reasons = model if isinstance(model, bool) else model.supports_reasoning if model is not None else None
    if reasons is False:
        return None, None
    place = st.container() if reasons or nested else st.expander("Advanced: reasoning", icon=":material/psychology:")
    if not reasons:
        place.caption(UNKNOWN_NOTE if not compact else ":material/help: " + UNKNOWN_NOTE)
    visibility: Literal["collapsed", "visible"] = "collapsed" if compact else "visible"
    kept: Literal["session"] | None = "session" if persist else None
    effort_col, budget_col = place.columns(2) if compact else (place, place)
    effort = effort_col.selectbox("Reasoning effort", (DEFAULT, *EFFORTS), key=f"{key}_reasoning_effort",
                                  help=EFFORT_HELP, label_visibility=visibility, persist_state=kept,
                                  format_func=lambda e: "effort: model default" if e == DEFAULT else f"effort: {e}")
    budget = budget_col.number_input("Thinking budget (tokens)", MIN_THINKING_BUDGET, 1_000_000, value=None,
                                     step=1024, key=f"{key}_thinking_budget", placeholder="thinking budget: not sent",
                                     help=BUDGET_HELP, label_visibility=visibility, persist_state=kept)
    return (None if effort == DEFAULT else effort), (int(budget) if budget is not None else None)


def reasoning_state(params: ChatParams, key: str) -> dict[str, object]:
    """The session values of `reasoning_inputs(..., key)` for `params`: how a saved conversation reopens with the
    effort and thinking budget it was sent with."""
    return {f"{key}_reasoning_effort": params.reasoning_effort or DEFAULT,
            f"{key}_thinking_budget": params.thinking_budget}
