"""Chat streaming: send a conversation to a model on its route and measure the reply as it arrives.

`start_chat()` returns a `ChatStream`: iterate it for text pieces (or `batched()` for pieces grouped every ~50 ms,
which is what a page should render). It never raises while streaming: a failure is kept in `.error`, with the
partial text in `.text`, and the numbers in `.metrics`. The compare page runs several of these at once.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import openai
import streamlit as st

from gateway.config import Settings
from gateway.errors import GatewayError, StreamInterrupted, map_error
from gateway.models import ModelRecord

ANTHROPIC_OPENAI_BASE = "https://api.anthropic.com/v1/"
BATCH_INTERVAL = 0.05  # seconds between rendered updates of a fast stream
RESEND_RATE = 200_000  # characters per second of reply the browser may be asked to redraw


@dataclass(frozen=True)
class ChatParams:
    """What the user tunes: system prompt and sampling."""

    system_prompt: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None


@dataclass
class ReplyMetrics:
    """The numbers under a reply."""

    model: str
    ttft: float | None = None  # seconds from sending to the first text
    total: float | None = None  # seconds from sending to the end of the stream
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None  # USD
    cost_source: str | None = None  # "proxy" (LiteLLM's usage.cost) or "catalogue" (computed from prices)
    overhead_ms: float | None = None  # the proxy's own overhead (x-litellm-overhead-duration-ms)
    finish_reason: str | None = None
    call_id: str | None = None

    @property
    def tokens_per_second(self) -> float | None:
        """Output tokens per second, measured from the first token to the end."""
        if not self.completion_tokens or self.total is None or self.ttft is None:
            return None
        generating = self.total - self.ttft
        return self.completion_tokens / generating if generating > 0 else None

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "tokens_per_second": self.tokens_per_second}


def build_messages(history: list[dict[str, str]], params: ChatParams) -> list[dict[str, str]]:
    """The messages to send: the system prompt (if any) then the user/assistant turns."""
    system = [{"role": "system", "content": params.system_prompt}] if params.system_prompt.strip() else []
    return system + [{"role": m["role"], "content": m["content"]} for m in history]


@st.cache_resource(show_spinner=False, max_entries=32)
def _client(base_url: str | None, api_key: str, max_retries: int, connect: float, read: float) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=max_retries,
                         timeout=openai.Timeout(read, connect=connect))


def client_for(model: ModelRecord, settings: Settings) -> openai.OpenAI:
    """The OpenAI SDK client for a model's route, shared per (base URL, key).

    The proxy already retries and falls back, so LiteLLM calls are not retried again by the SDK;
    direct calls get one retry.
    """
    if model.route == "litellm":
        return _client(settings.api_base, settings.litellm_api_key or "no-key", 0,
                       settings.connect_timeout, settings.request_timeout)
    if model.route == "openai":
        return _client(None, settings.openai_api_key or "", 1, settings.connect_timeout, settings.request_timeout)
    return _client(ANTHROPIC_OPENAI_BASE, settings.anthropic_api_key or "", 1,
                   settings.connect_timeout, settings.request_timeout)


@dataclass
class ChatStream:
    """One streaming reply: its text so far, its numbers, and the error that ended it, if any."""

    model: ModelRecord
    metrics: ReplyMetrics
    text: str = ""
    error: GatewayError | None = None
    stopped: bool = False
    _chunks: Iterator[object] | None = field(default=None, repr=False)
    _started: float = field(default=0.0, repr=False)
    _secrets: tuple[str | None, ...] = field(default=(), repr=False)
    _close: object = field(default=None, repr=False)
    _finishing: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def done(self) -> bool:
        return self._chunks is None

    def __iter__(self) -> Iterator[str]:
        """Text pieces as they arrive. Ends quietly on an error (see `.error`)."""
        if self._chunks is None:
            return
        try:
            for chunk in self._chunks:
                piece = self._absorb(chunk)
                if piece:
                    yield piece
            if self.metrics.finish_reason is None and not self.stopped:  # ended without saying why: cut off
                self.error = StreamInterrupted("The reply broke off: the connection closed before the reply ended.")
        except GeneratorExit:
            self.stopped = True
            raise
        except Exception as exc:
            if not self.stopped:  # a stop from another thread closes the response under the reader
                self.error = map_error(exc, secrets=self._secrets, mid_stream=bool(self.text))
        finally:
            self._finish()

    def batched(self, interval: float = BATCH_INTERVAL, *, resend_rate: float | None = None) -> Iterator[str]:
        """Text pieces grouped so that at most one is yielded per `interval` seconds (the first at once).

        The stream is read on a helper thread (which never touches Streamlit), so text that arrives just before
        a pause in the reply is still yielded within `interval`, not held until the next piece. `resend_rate`
        (characters per second) widens the gap as the text grows, so a very long reply does not flood the browser:
        Streamlit's frontend redraws a whole reply on every update, even the blocks a page does not re-send.
        """
        pieces: queue.SimpleQueue[str | None] = queue.SimpleQueue()

        def read() -> None:
            try:
                for piece in self:
                    pieces.put(piece)
            finally:
                pieces.put(None)

        threading.Thread(target=read, daemon=True, name="chat-stream-reader").start()
        pending: list[str] = []
        last, finished = 0.0, False
        try:
            while not finished:
                gap = interval if resend_rate is None else max(interval, len(self.text) / resend_rate)
                try:
                    piece = pieces.get(timeout=max(0.0, last + gap - time.perf_counter()) if pending else None)
                except queue.Empty:
                    piece = ""  # the gap is over: show what is pending
                if piece is None:
                    finished = True
                elif piece:
                    pending.append(piece)
                if pending and (finished or time.perf_counter() - last >= gap):
                    yield "".join(pending)
                    pending.clear()
                    last = time.perf_counter()
        finally:
            if not finished:  # the consumer left early: end the stream, keeping the partial reply
                self.stop()

    def stop(self) -> None:
        """End the stream early, keeping the partial reply."""
        if self._chunks is not None:
            self.stopped = True
            self._finish()

    def _absorb(self, chunk: object) -> str:
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.metrics.prompt_tokens = usage.prompt_tokens
            self.metrics.completion_tokens = usage.completion_tokens
            cost = getattr(usage, "cost", None) or (usage.model_extra or {}).get("cost")
            if isinstance(cost, (int, float)) and cost > 0:
                self.metrics.cost, self.metrics.cost_source = float(cost), "proxy"
        piece = ""
        for choice in getattr(chunk, "choices", None) or ():
            if choice.delta and choice.delta.content:
                piece += choice.delta.content
            if choice.finish_reason:
                self.metrics.finish_reason = choice.finish_reason
        if piece:
            if self.metrics.ttft is None:
                self.metrics.ttft = time.perf_counter() - self._started
            self.text += piece
        return piece

    def _finish(self) -> None:
        with self._finishing:  # the reader thread and a stop() may both get here
            if self._chunks is None:
                return
            close, self._chunks, self._close = self._close, None, None
        self.metrics.total = time.perf_counter() - self._started
        try:
            close()  # type: ignore[misc]
        except Exception:
            pass
        if self.metrics.completion_tokens is None and self.text:
            self.metrics.completion_tokens = max(1, round(len(self.text) / 4))  # no usage chunk: estimate
        if self.metrics.cost is None and self.metrics.prompt_tokens is not None:
            cost = self.model.cost(self.metrics.prompt_tokens, self.metrics.completion_tokens or 0)
            if cost is not None:
                self.metrics.cost, self.metrics.cost_source = cost, "catalogue"
        if self.stopped and self.metrics.finish_reason is None:
            self.metrics.finish_reason = "stopped"
        if self.error is not None and self.metrics.finish_reason is None:
            self.metrics.finish_reason = "error"


def start_chat(model: ModelRecord, messages: list[dict[str, str]], params: ChatParams, settings: Settings,
               *, client: openai.OpenAI | None = None) -> ChatStream:
    """Send the request and return the stream. Errors before the first byte are kept in `.error`, not raised."""
    metrics = ReplyMetrics(model=model.key)
    stream = ChatStream(model=model, metrics=metrics, _started=time.perf_counter(), _secrets=settings.secrets)
    if not model.available:
        stream.error = GatewayError(f"{model.name} is not available: {model.unavailable_reason}.")
        stream.metrics.finish_reason = "error"
        return stream
    extra = {k: v for k, v in (("temperature", params.temperature), ("top_p", params.top_p),
                                ("max_tokens", params.max_tokens)) if v is not None}
    try:
        client = client or client_for(model, settings)
        context = client.chat.completions.with_streaming_response.create(
            model=model.id, messages=messages, stream=True, stream_options={"include_usage": True}, **extra)
        response = context.__enter__()
        headers = response.headers
        metrics.call_id = headers.get("x-litellm-call-id")
        overhead = headers.get("x-litellm-overhead-duration-ms")
        metrics.overhead_ms = float(overhead) if overhead else None
        stream._chunks = iter(response.parse())
        stream._close = lambda: context.__exit__(None, None, None)
    except Exception as exc:
        stream.error = map_error(exc, secrets=settings.secrets)
        stream.metrics.total = time.perf_counter() - stream._started
        stream.metrics.finish_reason = "error"
    return stream
