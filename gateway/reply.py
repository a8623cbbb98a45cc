"""The one record of a model's reply, shared by chat, compare, storage and exports.

A `Reply` is what one model answered to one prompt: its text (partial when it did not complete), the thinking a
reasoning model showed before it (`thinking`: kept and shown, never sent back to a model), how it ended (an `Outcome`:
the only vocabulary for that in the app), its `Metrics`, and a `ReplyError` when it failed (plain words, already
redacted, safe to show). The model's own `finish_reason` ("stop", "length", …) stays in the metrics as the model said
it.

Times of a reasoning model: `first_thought` is when its thinking began to arrive, `ttft` when its *answer* did (the
time to first answer token, for every model: the moment the analyst has something to read), `thinking_time` the
span between. Speed is the answer's own: `answer_tokens` (completion tokens less the reasoning tokens) over the
answer's time (`total - ttft`). `reasoning_tokens` is None when the provider did not report them ("not reported"),
never a made-up 0.
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

    ttft: float | None = None  # seconds from sending to the first text of the answer (thinking excluded)
    total: float | None = None  # seconds from sending to the end of the reply
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None  # USD
    cost_source: str | None = None  # "proxy" (LiteLLM's usage.cost) or "catalogue" (estimated from prices)
    overhead_ms: float | None = None  # the proxy's own overhead (x-litellm-overhead-duration-ms)
    finish_reason: str | None = None  # the model's own reason ("stop", "length", …), never the app's
    call_id: str | None = None  # x-litellm-call-id
    first_thought: float | None = None  # seconds from sending to the first text of the thinking (None: no thinking)
    reasoning_tokens: int | None = None  # usage.completion_tokens_details.reasoning_tokens; None: not reported
    answer_tokens: int | None = None  # completion tokens of the answer alone (None on records from before: all)

    @property
    def thinking_time(self) -> float | None:
        """Seconds the model thought: from its first thought to its first answer token (or to the end)."""
        if self.first_thought is None:
            return None
        end = self.ttft if self.ttft is not None else self.total
        return max(0.0, end - self.first_thought) if end is not None else None

    @property
    def tokens_per_second(self) -> float | None:
        """Answer tokens per second, from the first answer token to the end (the thinking is not in it)."""
        answer = self.answer_tokens if self.answer_tokens is not None else self.completion_tokens
        if not answer or self.total is None or self.ttft is None:
            return None
        generating = self.total - self.ttft
        return answer / generating if generating > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "thinking_time": self.thinking_time, "tokens_per_second": self.tokens_per_second}

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
    text: str = ""  # the answer
    outcome: Outcome = Outcome.WAITING
    metrics: Metrics = field(default_factory=Metrics)
    error: ReplyError | None = None
    run: int = 1  # which repeat this is, from 1 (Run ×N)
    thinking: str = ""  # what a reasoning model showed of its thinking before the answer (model output: untrusted)

    @property
    def finished(self) -> bool:
        return self.outcome.finished

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "run": self.run, "outcome": self.outcome.value, "text": self.text,
                "thinking": self.thinking, "metrics": self.metrics.to_dict(),
                "error": asdict(self.error) if self.error else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        return cls(model=str(data["model"]), text=str(data.get("text") or ""), thinking=str(data.get("thinking") or ""),
                   outcome=Outcome(data.get("outcome") or Outcome.COMPLETE),
                   metrics=Metrics.from_dict(data.get("metrics")), error=ReplyError.from_dict(data.get("error")),
                   run=int(data.get("run") or 1))


def _known(cls: type, data: dict[str, Any] | None) -> dict[str, Any]:
    """The entries of `data` that are fields of the dataclass `cls` (exports carry derived extras)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in (data or {}).items() if k in names}
