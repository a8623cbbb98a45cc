"""The model record, the built-in direct models, and context-window estimates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Route = Literal["litellm", "openai", "anthropic"]
ContextSource = Literal["proxy", "estimated", "unknown"]


@dataclass(frozen=True)
class ModelRecord:
    """One model as the app sees it: what to send, how to reach it, and what it can do."""

    id: str  # the model name sent in requests
    route: Route  # how the app reaches it
    providers: tuple[str, ...]  # the vendors behind it (several when a proxy load-balances across them)
    # When a proxy load-balances one name over several deployments that differ, a request may land on any of them:
    # the window and output limit are the smallest (what every request is sure to get), prices the highest (the
    # most a request can cost); the `_max` / `_min` fields hold the other end of each range.
    context_window: int | None = None
    context_source: ContextSource = "unknown"
    max_output_tokens: int | None = None
    input_price: float | None = None  # USD per 1M input tokens
    output_price: float | None = None  # USD per 1M output tokens
    mode: str | None = None
    supports_vision: bool | None = None
    supports_function_calling: bool | None = None
    supports_reasoning: bool | None = None
    deployments: int = 1
    available: bool = True
    unavailable_reason: str = ""
    context_window_max: int | None = None  # the largest window of its deployments (None: not known from the proxy)
    input_price_min: float | None = None  # the cheapest deployment's input price
    output_price_min: float | None = None  # the cheapest deployment's output price

    @property
    def key(self) -> str:
        """Unique in the catalogue: the proxy's name for LiteLLM models, `route:id` for direct ones."""
        return self.id if self.route == "litellm" else f"{self.route}:{self.id}"

    @property
    def name(self) -> str:
        """The display name."""
        return self.id if self.route == "litellm" else f"{self.id} (direct)"

    @property
    def provider(self) -> str:
        return ", ".join(self.providers) or "unknown"

    @property
    def capabilities(self) -> tuple[str, ...]:
        flags = (("vision", self.supports_vision), ("tools", self.supports_function_calling),
                 ("reasoning", self.supports_reasoning))
        return tuple(name for name, flag in flags if flag)

    @property
    def deployments_differ(self) -> bool:
        """Its deployments have different context windows or prices: a request may get a larger window or a lower
        price than the catalogue shows, never a smaller or dearer one."""
        return any(high is not None and low is not None and high > low for low, high in (
            (self.context_window, self.context_window_max), (self.input_price_min, self.input_price),
            (self.output_price_min, self.output_price)))

    @property
    def spread(self) -> str:
        """How its deployments differ: `32k–128k context · $1–$3 in / $2–$6 out per 1M tokens, across 3
        deployments`; empty when they agree."""
        if not self.deployments_differ:
            return ""
        parts = []
        if self.context_window and self.context_window_max and self.context_window_max > self.context_window:
            parts.append(f"{short_tokens(self.context_window)}–{short_tokens(self.context_window_max)} context")
        prices = [f"${low:g}–${high:g} {label}" for label, low, high in (
            ("in", self.input_price_min, self.input_price), ("out", self.output_price_min, self.output_price))
            if low is not None and high is not None and high > low]
        if prices:
            parts.append(f"{' / '.join(prices)} per 1M tokens")
        return f"{' · '.join(parts)}, across {self.deployments} deployments"

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """The USD cost of a call from catalogue prices (at most this when deployments differ), or None when a price
        is unknown."""
        if self.input_price is None or self.output_price is None:
            return None
        return (prompt_tokens * self.input_price + completion_tokens * self.output_price) / 1_000_000


def short_tokens(count: int) -> str:
    """128000 → `128k`, 32768 → `32.8k`, 1048576 → `1.05M`."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.3g}M"
    return f"{count / 1000:.3g}k" if count >= 1000 else str(count)


def find_model(models: tuple[ModelRecord, ...] | list[ModelRecord], ref: str) -> ModelRecord | None:
    """The model a link or a picker names: by key, else by id (LiteLLM first)."""
    for model in models:
        if model.key == ref:
            return model
    matches = sorted((m for m in models if m.id == ref), key=lambda m: m.route != "litellm")
    return matches[0] if matches else None


# --- Context-window estimates ---------------------------------------------------------------------------------------

# (pattern, tokens), most specific first. Matched against the lower-cased model name without its provider prefix.
FAMILY_CONTEXT: tuple[tuple[str, int], ...] = (
    (r"gpt-4\.1", 1_047_576),
    (r"gpt-4o", 128_000),
    (r"gpt-4-turbo|gpt-4-1106|gpt-4-0125|gpt-4-vision", 128_000),
    (r"gpt-4-32k", 32_768),
    (r"gpt-4(?!\d)", 8_192),
    (r"gpt-3\.5-turbo-instruct", 4_096),
    (r"gpt-3\.5-turbo|gpt-35-turbo", 16_385),
    (r"gpt-5", 400_000),
    (r"(^|[/-])o[134](-|$)", 200_000),
    (r"claude-(3|sonnet-4|opus-4|haiku-4)", 200_000),
    (r"claude-2|claude-instant", 100_000),
    (r"gemini-1\.5-(pro|flash)", 1_000_000),
    (r"gemini-2|gemini-3", 1_048_576),
    (r"gemini-pro|gemini-1\.0", 32_760),
    (r"llama-?2", 4_096),
    (r"llama-?3\.[1-3]|llama-?4", 128_000),
    (r"llama-?3", 8_192),
    (r"mixtral-8x22b", 65_536),
    (r"mixtral", 32_768),
    (r"mistral-large|mistral-small-(24|25)|codestral", 128_000),
    (r"mistral-(medium|small|tiny)|mistral-7b", 32_000),
    (r"command-r|command-a", 128_000),
    (r"deepseek", 128_000),
    (r"qwen-?2\.5|qwen-?3", 131_072),
    (r"gemma", 8_192),
)
_SIZE_K = re.compile(r"(?<![\d.x])(\d{1,4})k(?![a-z])")
_SIZE_N = re.compile(r"(?:^|[-_:])(\d{4,7})(?=$|[-_:])")


def estimate_context_window(model_name: str) -> int | None:
    """A context window guessed from a model's name: a size spelled in it (`-8192`, `32k`), else its family."""
    name = model_name.lower().rsplit("/", 1)[-1]
    spelled = _spelled_size(name)
    if spelled:
        return spelled
    for pattern, tokens in FAMILY_CONTEXT:
        if re.search(pattern, name):
            return tokens
    return None


def _spelled_size(name: str) -> int | None:
    for match in _SIZE_K.finditer(name):
        k = int(match.group(1))
        if 2 <= k <= 2048:
            return k * 1024 if k & (k - 1) == 0 and k <= 64 else k * 1000
    for match in _SIZE_N.finditer(name):
        n = int(match.group(1))
        if 2048 <= n <= 2_097_152 and (n & (n - 1) == 0 or n % 1000 == 0):
            return n
    return None


def infer_provider(model_name: str) -> str | None:
    """The vendor behind a bare model name (no `provider/` prefix), when the name makes it plain."""
    name = model_name.lower()
    for pattern, provider in (
        (r"^(gpt-|o[134](-|$)|chatgpt|text-embedding|dall-e|whisper|tts-)", "openai"),
        (r"^claude", "anthropic"), (r"^gemini", "gemini"), (r"^(mistral|mixtral|codestral)", "mistral"),
        (r"^command", "cohere"), (r"^deepseek", "deepseek"),
    ):
        if re.search(pattern, name):
            return provider
    return None


# --- Built-in direct models -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Builtin:
    id: str
    route: Route
    context: int
    max_output: int
    input_price: float
    output_price: float
    vision: bool = True
    reasoning: bool = False


BUILTIN: tuple[_Builtin, ...] = (
    _Builtin("gpt-4o", "openai", 128_000, 16_384, 2.50, 10.00),
    _Builtin("gpt-4o-mini", "openai", 128_000, 16_384, 0.15, 0.60),
    _Builtin("gpt-4-turbo", "openai", 128_000, 4_096, 10.00, 30.00),
    _Builtin("gpt-3.5-turbo", "openai", 16_385, 4_096, 0.50, 1.50, vision=False),
    _Builtin("claude-3-5-sonnet-20241022", "anthropic", 200_000, 8_192, 3.00, 15.00),
    _Builtin("claude-3-5-haiku-20241022", "anthropic", 200_000, 8_192, 0.80, 4.00, vision=False),
    _Builtin("claude-3-opus-20240229", "anthropic", 200_000, 4_096, 15.00, 75.00),
)
_KEY_VARIABLE = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


def builtin_models(*, openai_key: bool, anthropic_key: bool) -> tuple[ModelRecord, ...]:
    """The direct models, listed always; usable when their provider's key is set."""
    has_key = {"openai": openai_key, "anthropic": anthropic_key}
    return tuple(
        ModelRecord(
            id=b.id, route=b.route, providers=(b.route,), context_window=b.context, context_source="estimated",
            max_output_tokens=b.max_output, input_price=b.input_price, output_price=b.output_price, mode="chat",
            supports_vision=b.vision, supports_function_calling=True, supports_reasoning=b.reasoning,
            available=has_key[b.route],
            unavailable_reason="" if has_key[b.route] else f"set {_KEY_VARIABLE[b.route]} to use it",
        )
        for b in BUILTIN
    )
