"""How a reply is drawn, on the chat and compare pages alike: its text, how it ended, its error, its numbers."""

from __future__ import annotations

import streamlit as st

from gateway.models import ModelRecord
from gateway.reply import Metrics, Outcome, Reply
from ui.format import seconds, tokens, usd
from ui.markdown import displayable, plain

CURSOR = "▌"


def metrics_line(metrics: Metrics) -> str:
    """`TTFT 120 ms · total 1.52 s · 85 tok/s · 14 → 120 tokens · $0.0012 · proxy overhead 3 ms`."""
    parts = [f"TTFT {seconds(metrics.ttft)}", f"total {seconds(metrics.total)}"]
    if metrics.tokens_per_second:
        parts.append(f"{metrics.tokens_per_second:,.0f} tok/s")
    if metrics.prompt_tokens is not None or metrics.completion_tokens is not None:
        parts.append(f"{metrics.prompt_tokens if metrics.prompt_tokens is not None else '?'} → "
                     f"{metrics.completion_tokens if metrics.completion_tokens is not None else '?'} tokens")
    if metrics.cost is not None:
        parts.append(usd(metrics.cost) + (" (est.)" if metrics.cost_source == "catalogue" else ""))
    if metrics.overhead_ms is not None:
        parts.append(f"proxy overhead {metrics.overhead_ms:.0f} ms")
    if metrics.finish_reason and metrics.finish_reason != "stop":
        parts.append(f"finish: {metrics.finish_reason}")
    return " · ".join(parts)


def model_facts(model: ModelRecord) -> str:
    """`128k context · $2.5 in / $10 out per 1M tokens` (with `est.` when the window is a guess from the name)."""
    window = f"{tokens(model.context_window)} context" if model.context_window else "context window unknown"
    if model.context_window and model.context_source == "estimated":
        window += " (est.)"
    if model.input_price is None and model.output_price is None:
        return f"{window} · no price listed"
    return f"{window} · {usd(model.input_price)} in / {usd(model.output_price)} out per 1M tokens"


def draw_reply(reply: Reply, *, text_slot=None, prefix: str = "", elapsed: float | None = None,
               image_hosts: frozenset[str] = frozenset()) -> None:
    """A reply where the page is drawing: its text (into `text_slot` when given), how it ended, its numbers.

    While it streams (`elapsed` given), a cursor follows the text and the caption counts the seconds.
    """
    target = text_slot if text_slot is not None else st
    if reply.text:
        target.markdown(displayable(reply.text, image_hosts) + (CURSOR if not reply.finished else ""))
    elif not reply.finished:
        target.markdown(":gray[_waiting for the first token…_]")
    elif text_slot is not None:
        text_slot.empty()
    if reply.outcome is Outcome.STOPPED:
        st.caption(":material/stop_circle: Stopped: partial reply.")
    elif reply.outcome is Outcome.CUT:
        st.caption(f":material/content_cut: Reply cut at {len(reply.text):,} characters (MAX_REPLY_CHARS): the "
                   "rest was not kept.")
    if reply.error:
        st.error(plain(reply.error.message), icon=":material/error:")
        if reply.error.hint:
            st.caption(plain(reply.error.hint))
    if reply.finished and (reply.text or reply.outcome is not Outcome.FAILED):
        st.caption(prefix + metrics_line(reply.metrics))
    elif elapsed is not None:
        st.caption(f"{prefix}{'streaming' if reply.text else 'waiting'}… {seconds(elapsed)}")
