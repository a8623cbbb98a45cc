"""What the analyst tunes for a reply: the system prompt, sampling, and how hard a reasoning model thinks.

Reasoning is sent as LiteLLM standardises it for every provider: `reasoning_effort` ("off" is sent as "none",
which LiteLLM maps to no thinking) and, for a thinking budget, Anthropic's `thinking={"type": "enabled",
"budget_tokens": N}`. Unset (None) means the model's default: nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

EFFORTS = ("off", "low", "medium", "high")  # reasoning effort, as the analyst picks it (None: the model's default)
MIN_THINKING_BUDGET = 1024  # Anthropic's smallest budget_tokens


@dataclass(frozen=True)
class ChatParams:
    """System prompt and sampling; None means the model's default."""

    system_prompt: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    reasoning_effort: str | None = None  # one of EFFORTS; None: the model's default
    thinking_budget: int | None = None  # tokens the model may think (Anthropic-style budget); None: not sent

    def __post_init__(self) -> None:
        if self.reasoning_effort is not None and self.reasoning_effort not in EFFORTS:
            raise ValueError(f"reasoning effort must be one of {', '.join(EFFORTS)} (got {self.reasoning_effort!r})")
        if self.thinking_budget is not None and (isinstance(self.thinking_budget, bool)
                                                 or not isinstance(self.thinking_budget, int)
                                                 or self.thinking_budget < MIN_THINKING_BUDGET):
            raise ValueError(f"thinking budget must be a whole number of at least {MIN_THINKING_BUDGET:,} tokens "
                             f"(got {self.thinking_budget!r})")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ChatParams:
        """From a stored or exported record; a reasoning setting this version does not know reads as unset."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in (data or {}).items() if k in names}
        if values.get("reasoning_effort") not in (None, *EFFORTS):
            values["reasoning_effort"] = None
        budget = values.get("thinking_budget")
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)
                                   or budget < MIN_THINKING_BUDGET):
            values["thinking_budget"] = None
        return cls(**values)

    def reasoning(self) -> dict[str, Any]:
        """The reasoning fields to send (only those set): `reasoning_effort` and/or `thinking`."""
        sent: dict[str, Any] = {}
        if self.reasoning_effort is not None:
            sent["reasoning_effort"] = "none" if self.reasoning_effort == "off" else self.reasoning_effort
        if self.thinking_budget is not None and self.reasoning_effort != "off":
            sent["thinking"] = {"type": "enabled", "budget_tokens": self.thinking_budget}
        return sent

    def reasoning_text(self) -> str:
        """`effort high, thinking budget 4,096 tokens` (empty when neither is set)."""
        shown = [f"effort {self.reasoning_effort}"] if self.reasoning_effort else []
        if self.thinking_budget is not None:
            shown.append(f"thinking budget {self.thinking_budget:,} tokens")
        return ", ".join(shown)

    def sampling(self) -> dict[str, float | int]:
        """The sampling arguments to send (only those set)."""
        return {k: v for k, v in (("temperature", self.temperature), ("top_p", self.top_p),
                                  ("max_tokens", self.max_tokens)) if v is not None}

    def with_overrides(self, override: Mapping[str, object] | None) -> ChatParams:
        """These parameters with a model's own overrides (None and blank mean: keep this value)."""
        names = {f.name for f in fields(self)}
        changes: dict[str, Any] = {k: v for k, v in (override or {}).items()
                                   if v is not None and v != "" and k in names}
        return replace(self, **changes)
