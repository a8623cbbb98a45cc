"""The compare page's panels: one per model, three to a row, each with its thread; new replies drawn as they stream.

Every model streams in its own worker thread (gateway.compare.CompareRun), its times taken where its bytes arrive
(gateway/arrival.py); only the script thread draws, into one placeholder per panel, paced so that drawing takes at
most a quarter of the time (DRAW_SHARE): drawing a long fast reply must not starve the reading of the others.
In blind mode (`gateway.evaluation.blind.Blind`) the panels come in the round's shuffled order and, until the vote,
show only that round, under "Model A", "Model B"…, with costs and self-naming text masked.
"""

from __future__ import annotations

import time

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from gateway import ModelRecord
from gateway.compare import CompareRun
from gateway.conversation import Conversation
from gateway.evaluation.blind import SHOWN, Blind
from gateway.reply import Reply
from ui import pages
from ui.attachments import draw_file_names
from ui.format import seconds
from ui.markdown import displayable, plain
from ui.reply import draw_reply

COLUMNS = 3  # panels per row
REFRESH = 0.05  # seconds between redraws while streaming, at the least
DRAW_SHARE = 0.25  # the largest share of the time the script thread spends drawing while the replies stream


def draw_panels(models: list[ModelRecord], comparison: Conversation, prompt: str | None,
                image_hosts: frozenset[str] = frozenset(), blind: Blind = SHOWN) -> dict[str, DeltaGenerator]:
    """One bordered panel per model, three to a row: its thread so far; returns a placeholder per new reply."""
    slots: dict[str, DeltaGenerator] = {}
    by_key = {model.key: model for model in models}
    models = [by_key[key] for key in blind.arrange(by_key)]
    for start in range(0, len(models), COLUMNS):
        for model, column in zip(models[start:start + COLUMNS], st.columns(COLUMNS)):
            with column.container(border=True):
                if (slot := draw_panel(model, comparison, prompt, image_hosts, blind)) is not None:
                    slots[model.key] = slot
    return slots


def draw_panel(model: ModelRecord, comparison: Conversation, prompt: str | None,
               image_hosts: frozenset[str] = frozenset(), blind: Blind = SHOWN) -> DeltaGenerator | None:
    """One model's thread so far, a placeholder for its new reply, and the way to carry it to the chat page."""
    if blind.hidden:
        st.markdown(f"**{blind.label(model.key)}** :gray[· hidden until you vote]")
    else:
        st.markdown(f"**{plain(model.name)}** :gray[· {plain(model.provider)}]")
    shown = comparison.rounds[-1:] if blind.hidden and not prompt else [] if blind.hidden else comparison.rounds
    if blind.hidden and len(comparison.rounds) > len(shown):
        st.caption("Earlier rounds are hidden until you vote.")
    for round_ in shown:
        if (reply := round_.reply(model.key)) is not None:
            with st.chat_message("user"):
                st.markdown(displayable(round_.prompt, image_hosts))
                draw_file_names(round_.attachments, model, name=blind.label(model.key) if blind.hidden else None)
            with st.chat_message("assistant"):
                draw_reply(blind.mask(reply), prefix=run_label(reply, len(round_.runs[model.key])),
                           image_hosts=image_hosts)
    slot = None
    if prompt:
        with st.chat_message("user"):
            st.markdown(displayable(prompt, image_hosts))
        with st.chat_message("assistant"):
            slot = st.empty()
    if st.button("Continue in chat", key=f"compare_handoff_{model.key}", icon=":material/chat:",
                 disabled=not comparison.thread(model.key) or blind.hidden,
                 help="Carry this model's thread to the chat page"):
        hand_off(model.key, comparison)
    return slot


def run_label(reply: Reply, repeats: int) -> str:
    return f"run {reply.run} of {repeats} · " if repeats > 1 else ""


def hand_off(key: str, comparison: Conversation) -> None:
    """Carry one model's thread, its parameters and each reply's numbers to the chat page."""
    st.session_state["chat_handoff"] = comparison.handoff(key)
    st.switch_page(pages.CHAT.path, query_params={"model": key})


def stream_into_panels(run: CompareRun, slots: dict[str, DeltaGenerator], repeats: int,
                       image_hosts: frozenset[str] = frozenset(), blind: Blind = SHOWN) -> None:
    """Draw the replies as they arrive, every ~50 ms or less often when drawing is slow, until all have ended."""
    status = st.empty()
    drawn: dict[str, tuple[object, ...]] = {}
    finished, pause = False, REFRESH
    while not finished:
        finished = run.wait(pause)
        began = time.perf_counter()
        elapsed = began - run.started
        for key, reply in run.snapshot().items():
            state = (len(reply.text), len(reply.thinking), reply.outcome, reply.run,
                     None if reply.finished else round(elapsed, 1))
            if drawn.get(key) != state:
                drawn[key] = state
                with slots[key].container():
                    draw_reply(blind.mask(reply), elapsed=None if reply.finished else elapsed,
                               prefix=run_label(reply, repeats), image_hosts=image_hosts)
        done, total = run.progress
        status.progress(done / total, text=f"{done} of {total} replies · {seconds(elapsed)}"
                        + (f" · Run ×{repeats}" if repeats > 1 else ""))
        pause = max(REFRESH, (time.perf_counter() - began) * (1 - DRAW_SHARE) / DRAW_SHARE)
