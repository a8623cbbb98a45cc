"""The compare page's "Follow-ups continue": each model's own thread (as always), or every model from the best reply
of each voted round (a person's vote or a judge's verdict: gateway/evaluation/best.py). Remembered for the session;
offered once a round has a best reply."""

from __future__ import annotations

import streamlit as st

from gateway.conversation import Conversation
from gateway.evaluation.best import best_replies
from gateway.evaluation.blind import Blind
from gateway.store import Store
from gateway.store.evaluation import Evaluations
from ui.markdown import plain

OWN, BEST = "own", "best"
LABELS = {OWN: "Each model's own thread", BEST: "From the best reply"}


def continue_from(store: Store, owner: str, comparison: Conversation, blind: Blind) -> dict[str, str] | None:
    """The radio, and the best replies the next round continues from (round key → model); None: each its own."""
    if not comparison.rounds or blind.hidden:
        return None
    best = best_replies(Evaluations(store), comparison, owner)
    if not best:
        return None
    choice = st.radio("Follow-ups continue", [OWN, BEST], horizontal=True, key="compare_continue",
                      format_func=LABELS.__getitem__,
                      help="From the best reply: every model gets, for each round with a best reply (your vote, "
                           "else a judge's verdict), that reply as the conversation so far — not its own.")
    if choice != BEST:
        return None
    places = {round_.key: i + 1 for i, round_ in enumerate(comparison.rounds)}
    said = ", ".join(f"round {places[key]}: {plain(model)}" for key, model in best.items())
    st.caption(f":material/call_merge: Every model continues from the best reply of {said}; rounds without one "
               "from its own.")
    return best
