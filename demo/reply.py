"""What the server sends for one request: a reply's pieces and its pace, or an error, and how it may go wrong
mid-way. Built by demo.models (and the test suite's own models), sent by demo.upstream."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Failure:
    """An error answer in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}` with this status."""

    status: int
    message: str
    type: str = "server_error"
    code: str | None = None
    retry_after: int | None = None  # seconds, sent as a Retry-After header

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": None,
                          "code": self.code or str(self.status)}}


@dataclass(frozen=True)
class Reply:
    """A reply: the pieces a stream sends one chunk each (their concatenation is the whole text), and its pace."""

    pieces: Sequence[str]
    prompt_tokens: int
    ttft: float = 0.0  # seconds before the first piece
    rate: float | None = None  # pieces a second after the first; None: as fast as the socket takes them
    failure: Failure | None = None  # answer this error instead (before anything is streamed)
    break_after: int | None = None  # stream this many pieces, then an error event inside the 200 stream
    break_failure: Failure | None = None  # that event's error
    cut_after: int | None = None  # stream this many pieces, then drop the connection
    # (break_after and cut_after apply to streams only: a non-streaming request gets the whole text)
    pause: tuple[int, float] | None = None  # before piece n, wait this many seconds
    batch_delay: float | None = None  # a non-streaming answer waits this long (default: as long as the stream)
    finish_reason: str = "stop"  # "length" when max_tokens cut it short
    stream_usage: bool | None = None  # a last chunk with `usage`: None as OpenAI does (when the request's
    # stream_options.include_usage is set), True always
    thinking: Sequence[str] = ()  # reasoning pieces streamed before the answer, one chunk each, at the same pace
    thinking_field: str = "reasoning_content"  # the delta field they come in ("reasoning" as vLLM sends it)
    report_reasoning: bool = True  # usage.completion_tokens_details.reasoning_tokens (when there was thinking)

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def completion_tokens(self) -> int:
        """A piece a token, the thinking included (reasoning tokens are output tokens, billed as such)."""
        return len(self.thinking) + len(self.pieces)

    def usage(self) -> dict:
        usage: dict = {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                       "total_tokens": self.prompt_tokens + self.completion_tokens}
        if self.thinking and self.report_reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": len(self.thinking)}
        return usage

    def batch_seconds(self) -> float:
        """Seconds a non-streaming answer waits: batch_delay if set, else as long as the stream would take (the
        wait for the first piece, the pieces at their rate, any pause)."""
        if self.batch_delay is not None:
            return self.batch_delay
        pieces = max(0, len(self.thinking) + len(self.pieces) - 1)
        return self.ttft + (pieces / self.rate if self.rate else 0.0) + (self.pause[1] if self.pause else 0.0)
