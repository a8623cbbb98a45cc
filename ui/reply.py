"""How a reply is drawn, on the chat and compare pages alike: a reasoning model's thinking (open while it thinks,
folded away once the answer starts), its text, how it ended, its error, its numbers."""

from __future__ import annotations

import streamlit as st

from gateway.models import ModelRecord
from gateway.reply import Metrics, Outcome, Reply
from ui.format import seconds, tokens, usd
from ui.markdown import displayable, plain

CURSOR = "▌"
THINKING_TAIL = 2_000  # characters of a thought shown while it streams: the latest; all of it once folded


def thinking_tail(thinking: str, limit: int = THINKING_TAIL) -> str:
    """The end of a long thought, from a line (or else a word) boundary, after a `…`: what the open box shows, so
    a 5,000-token thought does not cost the page a full redraw of all of it on every update."""
    if len(thinking) <= limit:
        return thinking
    tail = thinking[-limit:]
    cut = tail.find("\n")
    if cut < 0 or cut > limit // 2:
        cut = tail.find(" ")
    return "…" + (tail[cut + 1:] if 0 <= cut <= limit // 2 else tail)


def metrics_line(metrics: Metrics) -> str:
    """`TTFT 120 ms · total 1.52 s · 85 tok/s · 14 → 120 tokens · $0.0012 · proxy overhead 3 ms`; for a reasoning
    model `first thought 90 ms · thought 1.50 s · TTFT 1.59 s · … · 40 tok/s · 10 → 83 tokens (60 reasoning)`:
    TTFT is to the first answer token, tok/s the answer's own."""
    parts = []
    if metrics.first_thought is not None:
        parts += [f"first thought {seconds(metrics.first_thought)}", f"thought {seconds(metrics.thinking_time)}"]
    parts += [f"TTFT {seconds(metrics.ttft)}", f"total {seconds(metrics.total)}"]
    if metrics.tokens_per_second:
        parts.append(f"{metrics.tokens_per_second:,.0f} tok/s")
    if metrics.prompt_tokens is not None or metrics.completion_tokens is not None:
        parts.append(f"{metrics.prompt_tokens if metrics.prompt_tokens is not None else '?'} → "
                     f"{metrics.completion_tokens if metrics.completion_tokens is not None else '?'} tokens"
                     + reasoning_note(metrics))
    if metrics.cost is not None:
        parts.append(usd(metrics.cost) + (" (est.)" if metrics.cost_source == "catalogue" else ""))
    if metrics.overhead_ms is not None:
        parts.append(f"proxy overhead {metrics.overhead_ms:.0f} ms")
    if metrics.finish_reason and metrics.finish_reason != "stop":
        parts.append(f"finish: {metrics.finish_reason}")
    return " · ".join(parts)


def reasoning_note(metrics: Metrics) -> str:
    """` (60 reasoning)`, ` (reasoning not reported)` for a model that thought and did not say how much, else ``."""
    if metrics.reasoning_tokens:
        return f" ({metrics.reasoning_tokens:,} reasoning)"
    return " (reasoning not reported)" if metrics.first_thought is not None and metrics.reasoning_tokens is None \
        else ""


def thinking_label(reply: Reply) -> str:
    """`Thinking · thought for 1.50 s · 60 tokens` (`tokens not reported` when the provider did not say)."""
    metrics, parts = reply.metrics, ["Thinking"]
    if metrics.thinking_time is not None:
        parts.append(f"thought for {seconds(metrics.thinking_time)}")
    if metrics.reasoning_tokens is not None:
        parts.append(f"{metrics.reasoning_tokens:,} tokens")
    elif reply.finished:
        parts.append("tokens not reported")
    return " · ".join(parts)


def draw_thinking(reply: Reply, target=None, image_hosts: frozenset[str] = frozenset()) -> None:
    """A reasoning model's thinking, drawn with the replies' safe Markdown: open (a bordered box) while it thinks,
    folded into a closed expander once its answer has started or the reply has ended."""
    if not reply.thinking:
        return
    target = target if target is not None else st
    if reply.text or reply.finished:
        target.expander(thinking_label(reply), icon=":material/psychology:", expanded=False).markdown(
            displayable(reply.thinking, image_hosts))
    else:
        box = target.container(border=True)
        box.caption(":material/psychology: Thinking…")
        box.markdown(displayable(thinking_tail(reply.thinking), image_hosts) + CURSOR)


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
    if reply.thinking:  # above the answer, in the same slot
        target = target.container()
        draw_thinking(reply, target, image_hosts)
    if reply.text:
        target.markdown(displayable(reply.text, image_hosts) + (CURSOR if not reply.finished else ""))
    elif reply.thinking and not reply.finished:
        pass  # the thinking, open, says it is under way
    elif not reply.finished:
        target.markdown(":gray[_waiting for the first token…_]")
    elif text_slot is not None and not reply.thinking:
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
    if reply.finished and (reply.text or reply.thinking or reply.outcome is not Outcome.FAILED):
        st.caption(prefix + metrics_line(reply.metrics))
    elif elapsed is not None:
        doing = "streaming" if reply.text else "thinking" if reply.thinking else "waiting"
        st.caption(f"{prefix}{doing}… {seconds(elapsed)}")
