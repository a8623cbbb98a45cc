"""Chat streaming: send a conversation to a model on its route and measure the reply as it arrives.

`start_chat()` returns a `ChatStream`, shaped like `openai.Stream`: iterate it for text pieces (or `batched()` for
pieces grouped every ~50 ms, which is what a page should render), `close()` it to stop early, or use it as a context
manager. It never raises while streaming: how the reply ended is in `.reply` (a `gateway.reply.Reply`: text so far,
outcome, numbers, and the error in plain words). The compare page runs several of these at once.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TypeVar, cast

import openai
from openai.types.chat import ChatCompletionMessageParam

from gateway.arrival import ArrivalStream
from gateway.attribution import Attribution
from gateway.cache import cached
from gateway.config import Settings
from gateway.errors import GatewayError, StreamInterrupted, map_error
from gateway.models import ModelRecord
from gateway.params import ChatParams
from gateway.reply import Metrics, Outcome, Reply, ReplyError

ANTHROPIC_OPENAI_BASE = "https://api.anthropic.com/v1/"
BATCH_INTERVAL = 0.05  # seconds between rendered updates of a fast stream
RESEND_RATE = 200_000  # characters per second of reply the browser may be asked to redraw
UPDATES_PER_SECOND = 100  # page updates a second that all the replies streaming in this process share
T = TypeVar("T")

_streaming_lock = threading.Lock()
_streaming = 0  # replies being read with batched() in this process right now


def streaming_now() -> int:
    """How many replies this process is drawing as they stream (every session's)."""
    return _streaming


def _count_streaming(step: int) -> None:
    global _streaming
    with _streaming_lock:
        _streaming += step


@cached(size=32)
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


class ChatStream:
    """One streaming reply. Iterate it for text pieces; it ends quietly, with the outcome in `.reply`."""

    def __init__(self, model: ModelRecord, chunks: Iterator[object] | None = None, *,
                 close: Callable[[], None] | None = None, started: float | None = None,
                 max_chars: int | None = None, error: GatewayError | None = None,
                 arrival: ArrivalStream | None = None) -> None:
        self.model = model
        self.reply = Reply(model.key)
        self.max_chars = max_chars
        self._chunks = chunks
        self._close = close
        self._started = time.perf_counter() if started is None else started
        self._finishing = threading.Lock()
        self._stopped = False
        self._cut = False
        self._error = error
        self._arrival = arrival  # when the bytes being parsed arrived (gateway/arrival.py); else: when parsed
        if chunks is None:  # nothing to read: it failed before it started
            self._finish()

    # --- what it has so far ----------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.reply.text

    @property
    def metrics(self) -> Metrics:
        return self.reply.metrics

    @property
    def error(self) -> GatewayError | None:
        """The error that ended the reply, if any (its message is already redacted)."""
        return self._error

    # --- reading it ------------------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[str]:
        """Text pieces as they arrive. Ends quietly on an error, a stop or the size limit (see `.reply`)."""
        if self._chunks is None:
            return
        try:
            for chunk in self._chunks:
                piece = self._absorb(chunk)
                if piece:
                    yield piece
                if self._cut:
                    break
            if self.metrics.finish_reason is None and not (self._stopped or self._cut):  # ended without a reason
                self._error = StreamInterrupted("The reply broke off: the connection closed before the reply ended.")
        except GeneratorExit:
            self._stopped = True
            raise
        except Exception as exc:
            if not self._stopped:  # a close() from another thread shuts the response under the reader
                self._error = map_error(exc, mid_stream=bool(self.text))
        finally:
            self._finish()

    def batched(self, interval: float = BATCH_INTERVAL, *, resend_rate: float | None = None) -> Iterator[str]:
        """Text pieces grouped so that at most one is yielded per `interval` seconds (the first at once).

        The stream is read on a helper thread (which never touches Streamlit), so text that arrives just before
        a pause in the reply is still yielded within `interval`, not held until the next piece. `resend_rate`
        (characters per second) widens the gap as the text grows, so a very long reply does not flood the browser:
        Streamlit's frontend redraws a whole reply on every update, even the blocks a page does not re-send.
        The gap also widens when many replies stream at once in this process (every session's): together they
        send at most UPDATES_PER_SECOND updates, since each update costs the one server process the same whoever
        reads it (40 replies at once: one update per 0.4 s each). The first piece is always yielded at once.
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
        _count_streaming(1)
        try:
            while not finished:
                gap = max(interval, streaming_now() / UPDATES_PER_SECOND,
                          0.0 if resend_rate is None else len(self.text) / resend_rate)
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
            _count_streaming(-1)
            if not finished:  # the consumer left early: end the stream, keeping the partial reply
                self.close()

    # --- ending it -------------------------------------------------------------------------------------------

    def close(self) -> None:
        """End the stream now, keeping the partial reply (outcome `stopped` unless it had already ended)."""
        if self._chunks is not None:
            self._stopped = True
            self._finish()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _absorb(self, chunk: object) -> str:
        metrics = self.metrics
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            metrics.prompt_tokens = usage.prompt_tokens
            metrics.completion_tokens = usage.completion_tokens
            cost = getattr(usage, "cost", None) or (usage.model_extra or {}).get("cost")
            if isinstance(cost, (int, float)) and cost > 0:
                metrics.cost, metrics.cost_source = float(cost), "proxy"
        piece = ""
        for choice in getattr(chunk, "choices", None) or ():
            if choice.delta and choice.delta.content:
                piece += choice.delta.content
            if choice.finish_reason:
                metrics.finish_reason = choice.finish_reason
        if piece:
            if metrics.ttft is None:
                metrics.ttft = self._arrived() - self._started
            if self.max_chars is not None and len(self.reply.text) + len(piece) > self.max_chars:
                piece = piece[:max(0, self.max_chars - len(self.reply.text))]
                self._cut = True
            self.reply.text += piece
            if self.reply.outcome is Outcome.WAITING:
                self.reply.outcome = Outcome.STREAMING
        return piece

    def _arrived(self) -> float:
        """When the bytes parsed last arrived: the reply's own clock, not the parser's (gateway/arrival.py)."""
        arrived = self._arrival.arrived if self._arrival is not None else None
        return time.perf_counter() if arrived is None else arrived

    def _finish(self) -> None:
        with self._finishing:  # the reader thread and a close() may both get here
            if self.reply.finished:
                return
            close, self._chunks, self._close = self._close, None, None
            metrics = self.metrics
            metrics.total = (time.perf_counter() if self._stopped else self._arrived()) - self._started
            if self._error is not None:
                self.reply.outcome, self.reply.error = Outcome.FAILED, ReplyError.of(self._error)
            elif self._cut:
                self.reply.outcome = Outcome.CUT
            elif self._stopped:
                self.reply.outcome = Outcome.STOPPED
            else:
                self.reply.outcome = Outcome.COMPLETE
        if close is not None:
            try:
                close()
            except Exception:
                pass
        if metrics.completion_tokens is None and self.text:
            metrics.completion_tokens = max(1, round(len(self.text) / 4))  # no usage chunk: estimate
        if metrics.cost is None and metrics.prompt_tokens is not None:
            cost = self.model.cost(metrics.prompt_tokens, metrics.completion_tokens or 0)
            if cost is not None:
                metrics.cost, metrics.cost_source = cost, "catalogue"


def _given(value: T | None) -> T | openai.Omit:
    """A sampling argument as the SDK wants it: left out when unset (the model's default)."""
    return openai.omit if value is None else value


def start_chat(model: ModelRecord, messages: list[dict[str, str]], params: ChatParams, settings: Settings,
               *, client: openai.OpenAI | None = None, attribution: Attribution | None = None) -> ChatStream:
    """Send the request and return the stream. Errors before the first byte end the stream at once (see `.reply`).

    `attribution`: who the request is for (the `user` field and LiteLLM `metadata` tags; see gateway/attribution.py).
    """
    started = time.perf_counter()
    if not model.available:
        return ChatStream(model, started=started,
                          error=GatewayError(f"{model.name} is not available: {model.unavailable_reason}."))
    try:
        client = client or client_for(model, settings)
        context = client.chat.completions.with_streaming_response.create(
            model=model.id, messages=cast("list[ChatCompletionMessageParam]", messages), stream=True,
            stream_options={"include_usage": True}, temperature=_given(params.temperature),
            top_p=_given(params.top_p), max_tokens=_given(params.max_tokens),
            extra_body=attribution.request_fields(model.route) if attribution else None)
        response = context.__enter__()
        arrival = ArrivalStream.attach(response.http_response)  # timed where the bytes arrive, parsed here
        chunks = iter(response.parse())
    except Exception as exc:
        return ChatStream(model, started=started, error=map_error(exc))
    stream = ChatStream(model, chunks, close=lambda: context.__exit__(None, None, None), started=started,
                        max_chars=settings.max_reply_chars, arrival=arrival)
    stream.metrics.call_id = response.headers.get("x-litellm-call-id")
    overhead = response.headers.get("x-litellm-overhead-duration-ms")
    stream.metrics.overhead_ms = float(overhead) if overhead else None
    return stream
