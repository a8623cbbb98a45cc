"""What the analyst tunes for a reply: the system prompt and sampling."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class ChatParams:
    """System prompt and sampling; None means the model's default."""

    system_prompt: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ChatParams:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})

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
