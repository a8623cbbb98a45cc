"""How a reply's numbers are shown (one line under every reply, on the chat and compare pages alike), and a model's."""

from __future__ import annotations

from gateway.chat import ReplyMetrics
from gateway.models import ModelRecord
from ui.format import seconds, tokens, usd


def metrics_line(metrics: ReplyMetrics) -> str:
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
