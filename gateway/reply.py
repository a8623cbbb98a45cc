"""The one record of a model's reply, shared by chat, compare, storage and exports.

A `Reply` is what one model answered to one prompt: its text (partial when it did not complete), how it ended (an
`Outcome`: the only vocabulary for that in the app), its `Metrics`, and a `ReplyError` when it failed (plain words,
already redacted, safe to show). The model's own `finish_reason` ("stop", "length", …) stays in the metrics as the
model said it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """How a reply ended (or that it has not yet)."""

    WAITING = "waiting"  # sent, nothing back yet
    STREAMING = "streaming"  # text arriving
    COMPLETE = "complete"  # the model finished its reply
    STOPPED = "stopped"  # the analyst stopped it: the partial text is kept
    CUT = "cut"  # the app ended it at its size limit: the text up to there is kept
    FAILED = "failed"  # an error ended it, or it was never sent: any partial text is kept

    @property
    def finished(self) -> bool:
        return self not in (Outcome.WAITING, Outcome.STREAMING)

    @property
    def label(self) -> str:
        """How the outcome reads in a table or an export."""
        return _LABELS[self]


_LABELS = {Outcome.WAITING: "waiting", Outcome.STREAMING: "streaming", Outcome.COMPLETE: "complete",
           Outcome.STOPPED: "stopped (partial)", Outcome.CUT: "cut at the size limit", Outcome.FAILED: "failed"}


@dataclass
class Metrics:
    """The numbers of one reply."""

    ttft: float | None = None  # seconds from sending to the first text
    total: float | None = None  # seconds from sending to the end of the reply
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None  # USD
    cost_source: str | None = None  # "proxy" (LiteLLM's usage.cost) or "catalogue" (estimated from prices)
    overhead_ms: float | None = None  # the proxy's own overhead (x-litellm-overhead-duration-ms)
    finish_reason: str | None = None  # the model's own reason ("stop", "length", …), never the app's
    call_id: str | None = None  # x-litellm-call-id

    @property
    def tokens_per_second(self) -> float | None:
        """Output tokens per second, from the first token to the end."""
        if not self.completion_tokens or self.total is None or self.ttft is None:
            return None
        generating = self.total - self.ttft
        return self.completion_tokens / generating if generating > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tokens_per_second": self.tokens_per_second}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Metrics:
        return cls(**_known(cls, data))


@dataclass(frozen=True)
class ReplyError:
    """Why a reply failed, in plain words (redacted by the gateway's error boundary), and what to do."""

    message: str
    hint: str = ""
    kind: str = "error"  # GatewayError.kind, e.g. "model_not_found"

    def __str__(self) -> str:
        return self.message

    @classmethod
    def of(cls, error: Exception) -> ReplyError:
        """From a GatewayError (its message, hint and kind), or any exception's text."""
        return cls(str(error), getattr(error, "hint", "") or "", getattr(error, "kind", "error"))

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ReplyError | None:
        return cls(**_known(cls, data)) if data else None


@dataclass
class Reply:
    """One model's answer to one prompt."""

    model: str  # catalogue key of the model
    text: str = ""
    outcome: Outcome = Outcome.WAITING
    metrics: Metrics = field(default_factory=Metrics)
    error: ReplyError | None = None
    run: int = 1  # which repeat this is, from 1 (Run ×N)

    @property
    def finished(self) -> bool:
        return self.outcome.finished

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "run": self.run, "outcome": self.outcome.value, "text": self.text,
                "metrics": self.metrics.to_dict(), "error": asdict(self.error) if self.error else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        return cls(model=str(data["model"]), text=str(data.get("text") or ""),
                   outcome=Outcome(data.get("outcome") or Outcome.COMPLETE),
                   metrics=Metrics.from_dict(data.get("metrics")), error=ReplyError.from_dict(data.get("error")),
                   run=int(data.get("run") or 1))


def _known(cls: type, data: dict[str, Any] | None) -> dict[str, Any]:
    """The entries of `data` that are fields of the dataclass `cls` (exports carry derived extras)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in (data or {}).items() if k in names}
