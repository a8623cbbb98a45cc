"""The read-only page's drawing (pages/shared.py): a share link's snapshot, with no chat box, and "Make a copy".

A snapshot is someone's prompts and a model's output: untrusted text, drawn through ui/markdown.py (`displayable`
for prompts and replies, `plain` for titles and model names) and the drawing modules the work's own pages use
(ui/reply.py, ui/attachments.py, ui/compare_results.py).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import streamlit as st

from gateway.compare.stats import STATS_TIMES, Col, results_frame, stats_frame
from gateway.conversation import Conversation
from gateway.evaluation import results
from gateway.sharing import snapshot
from gateway.sharing.access import Opened
from gateway.store import Store
from ui import pages
from ui.attachments import draw_attachments
from ui.compare_results import highlight, results_chart, show_diff, show_run_statistics
from ui.evaluate import draw_row
from ui.format import ago
from ui.markdown import displayable, plain
from ui.reply import draw_reply

KIND_WORDS = {"chat": "chat", "compare": "comparison", "evaluation": "evaluation run"}


def draw_shared(opened: Opened, image_hosts: frozenset[str], *, name_owner: bool = True) -> None:
    """The snapshot a link shows: read-only, no chat box. `name_owner`: False for a reader nobody signed in (a
    link for anyone does not hand out its owner's e-mail address)."""
    share, data = opened.share, opened.share.snapshot or {}
    st.title(plain(share.title) or "Shared work")
    by = f" by {plain(share.owner)}" if name_owner else ""
    st.caption(f":material/visibility: Read-only {KIND_WORDS.get(share.kind, 'work')} shared{by}, as it was "
               f"{ago(time.time() - share.updated_at)}. Nothing you do here changes it.")
    if share.kind == "evaluation":
        draw_run(data)
    elif share.kind == "compare":
        draw_comparison(data, image_hosts)
    else:
        draw_chat(data, image_hosts)


def draw_chat(data: Mapping[str, Any], image_hosts: frozenset[str]) -> None:
    chat = snapshot.conversation_of(data)
    for round_ in chat.rounds:
        with st.chat_message("user"):
            st.markdown(displayable(round_.prompt, image_hosts))
            draw_attachments(round_.attachments)
        reply = round_.reply()
        if reply is not None:
            with st.chat_message("assistant"):
                draw_reply(reply, prefix=f"{plain(reply.model)} · ", image_hosts=image_hosts)


def draw_comparison(data: Mapping[str, Any], image_hosts: frozenset[str]) -> None:
    """Every round: the prompt and its files, each model's reply side by side, the owner's vote; then the latest
    round's numbers, chart, Run ×N statistics and a diff."""
    comparison = snapshot.conversation_of(data)
    verdicts = snapshot.verdicts(data)
    for number, round_ in enumerate(comparison.rounds, 1):
        st.subheader(f"Round {number}")
        with st.chat_message("user"):
            st.markdown(displayable(round_.prompt, image_hosts))
            draw_attachments(round_.attachments)
        keys = list(round_.runs)
        for start in range(0, len(keys), 3):
            for key, column in zip(keys[start:start + 3], st.columns(3)):
                with column.container(border=True):
                    st.markdown(f"**{plain(key)}**")
                    runs = round_.runs[key]
                    if runs:
                        draw_reply(runs[-1], prefix=f"run {runs[-1].run} of {len(runs)} · " if len(runs) > 1 else "",
                                   image_hosts=image_hosts)
        if round_.key in verdicts:
            st.caption(f":material/how_to_vote: The owner's vote: **{plain(verdicts[round_.key])}**")
    latest = comparison.latest
    if latest is None:
        return
    st.subheader("Results")
    st.caption("Latest prompt; times in seconds, cost in USD.")
    frame = results_frame(latest.replies)
    st.dataframe(highlight(frame), hide_index=True, placeholder="—", column_config={
        Col.TTFT: st.column_config.NumberColumn(format="%.3f", help="Time to first token"),
        Col.TOTAL: st.column_config.NumberColumn(format="%.3f"),
        Col.TOKENS_PER_S: st.column_config.NumberColumn(format="%.0f"),
        Col.COST: st.column_config.NumberColumn(format="$%.6g")})
    chart = results_chart(frame)
    if chart is not None:
        st.altair_chart(chart)
    if any(len(runs) > 1 for runs in latest.runs.values()):
        st.subheader(f"Run ×{max(len(runs) for runs in latest.runs.values())}")
        st.dataframe(stats_frame(latest.runs), hide_index=True, placeholder="—",
                     column_config={name: st.column_config.NumberColumn(format="%.3f") for name in STATS_TIMES})
        show_run_statistics(latest.runs)
    show_diff(comparison, latest.replies)


def draw_run(data: Mapping[str, Any]) -> None:
    run, cells = snapshot.run_of(data)
    st.caption(f"{len(run.rows)} prompts × {len(run.models)} models · {plain(', '.join(run.models))}")
    number = st.column_config.NumberColumn
    st.subheader("Per model")
    st.dataframe(results.summary(run, cells), hide_index=True, placeholder="—", column_config={
        results.Col.PASS_RATE: number(format="percent", help="Of the rows with an expected answer"),
        results.Col.TTFT_MEDIAN: number(format="%.3f"), results.Col.TOTAL_COST: number(format="$%.6g")})
    st.subheader("Prompt × model")
    st.dataframe(results.grid(run, cells), hide_index=True, placeholder="—")
    if not run.rows:
        return
    row = st.selectbox("Row", range(len(run.rows)), format_func=lambda i: f"{i + 1}: {run.rows[i].prompt[:60]}",
                       key="shared_run_row")
    draw_row(run, row, cells, missing="Not run.")


def make_a_copy(store: Store, owner: str, opened: Opened) -> None:
    """"Make a copy": the snapshot as the reader's own chat or comparison (files included), opened where they can
    continue it. The owner's work is not touched."""
    if opened.share.kind not in ("chat", "compare") or opened.share.snapshot is None:
        return
    page = pages.COMPARE if opened.share.kind == "compare" else pages.CHAT
    if st.button("Make a copy", icon=":material/content_copy:", type="primary", key="shared_copy",
                 help=f"Save this as your own {KIND_WORDS[opened.share.kind]}, to continue it on {page.label}."):
        copy: Conversation = snapshot.copy_for_reader(opened.share.snapshot)
        store.save_conversation(copy, owner)
        store.flush(5.0)
        st.switch_page(page.path, query_params={"c": copy.id})
