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
from collections.abc import Callable, Generator, Iterator
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
                 arrival: ArrivalStream | None = None, max_tokens: int | None = None) -> None:
        self.model = model
        self.reply = Reply(model.key)
        self.max_chars = max_chars
        self._chunks = chunks
        self._close = close
        self._started = time.perf_counter() if started is None else started
        self._finishing = threading.Lock()
        self._stopped = False
        self._cut = False
        self._done = False
        self._max_tokens = max_tokens  # what the request allowed (for the message when thinking used it all)
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
        """Text pieces of the answer as they arrive (the thinking gathers in `.reply.thinking`). Ends quietly on an
        error, a stop or the size limit (see `.reply`)."""
        parts = self.parts()
        try:
            for piece, _ in parts:
                if piece:
                    yield piece
        finally:
            parts.close()

    def parts(self) -> Generator[tuple[str, str]]:
        """(answer piece, thought piece) pairs as the chunks bring either (a reasoning model's thinking first). Ends
        quietly, as iterating does."""
        if self._chunks is None:
            return
        try:
            for chunk in self._chunks:
                piece, thought = self._absorb(chunk)
                if piece or thought:
                    yield piece, thought
                if self._cut:
                    break
            if self.metrics.finish_reason is None and not (self._stopped or self._cut):  # ended without a reason
                self._error = StreamInterrupted("The reply broke off: the connection closed before the reply ended.")
        except GeneratorExit:
            self._stopped = True
            raise
        except Exception as exc:
            if not self._stopped:  # a close() from another thread shuts the response under the reader
                self._error = map_error(exc, mid_stream=bool(self.text or self.reply.thinking))
        finally:
            self._finish()

    def batched(self, interval: float = BATCH_INTERVAL, *, resend_rate: float | None = None) -> Iterator[str]:
        """Text pieces grouped so that at most one is yielded per `interval` seconds (the first at once). New
        thinking counts as an update too (yielded as "" when no answer text came with it): draw `.reply` on each.

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
            parts = self.parts()
            try:
                for piece, _ in parts:
                    pieces.put(piece)  # "" when only thinking came: an update all the same
            finally:
                parts.close()
                pieces.put(None)

        threading.Thread(target=read, daemon=True, name="chat-stream-reader").start()
        pending: list[str] = []
        fresh = False  # thinking arrived since the last yield
        last, finished = 0.0, False
        _count_streaming(1)
        try:
            while not finished:
                shown = len(self.text) or len(self.reply.thinking)  # what a page re-sends: the thinking until
                gap = max(interval, streaming_now() / UPDATES_PER_SECOND,  # the answer starts, then the answer
                          0.0 if resend_rate is None else shown / resend_rate)
                try:
                    piece = pieces.get(timeout=max(0.0, last + gap - time.perf_counter())
                                       if pending or fresh else None)
                except queue.Empty:
                    piece = ""  # the gap is over: show what is pending
                else:
                    if piece is None:
                        finished = True
                    elif piece:
                        pending.append(piece)
                    else:
                        fresh = True
                if (pending or fresh) and (finished or time.perf_counter() - last >= gap):
                    yield "".join(pending)
                    pending.clear()
                    fresh = False
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

    def _absorb(self, chunk: object) -> tuple[str, str]:
        metrics = self.metrics
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            metrics.prompt_tokens = usage.prompt_tokens
            metrics.completion_tokens = usage.completion_tokens
            details = getattr(usage, "completion_tokens_details", None)
            reasoning = getattr(details, "reasoning_tokens", None) if details is not None else None
            if isinstance(reasoning, int) and not isinstance(reasoning, bool) and reasoning >= 0:
                metrics.reasoning_tokens = reasoning
            cost = getattr(usage, "cost", None) or (usage.model_extra or {}).get("cost")
            if isinstance(cost, (int, float)) and cost > 0:
                metrics.cost, metrics.cost_source = float(cost), "proxy"
        piece = thought = ""
        for choice in getattr(chunk, "choices", None) or ():
            if choice.delta:
                if choice.delta.content:
                    piece += choice.delta.content
                thought += thought_of(choice.delta)
            if choice.finish_reason:
                metrics.finish_reason = choice.finish_reason
        if thought:
            if metrics.first_thought is None:
                metrics.first_thought = self._arrived() - self._started
            if self.max_chars is not None:  # kept to the reply's size limit; the answer still comes
                thought = thought[:max(0, self.max_chars - len(self.reply.thinking))]
            self.reply.thinking += thought
            if self.reply.outcome is Outcome.WAITING:
                self.reply.outcome = Outcome.STREAMING
        if piece:
            if metrics.ttft is None:
                metrics.ttft = self._arrived() - self._started
            if self.max_chars is not None and len(self.reply.text) + len(piece) > self.max_chars:
                piece = piece[:max(0, self.max_chars - len(self.reply.text))]
                self._cut = True
            self.reply.text += piece
            if self.reply.outcome is Outcome.WAITING:
                self.reply.outcome = Outcome.STREAMING
        return piece, thought

    def _arrived(self) -> float:
        """When the bytes parsed last arrived: the reply's own clock, not the parser's (gateway/arrival.py)."""
        arrived = self._arrival.arrived if self._arrival is not None else None
        return time.perf_counter() if arrived is None else arrived

    def _finish(self) -> None:
        with self._finishing:  # the reader thread and a close() may both get here; the second waits for the first
            if self._done:
                return
            self._done = True
            self._settle()

    def _settle(self) -> None:
        close, self._chunks, self._close = self._close, None, None
        metrics = self.metrics
        metrics.total = (time.perf_counter() if self._stopped else self._arrived()) - self._started
        if close is not None:
            try:
                close()
            except Exception:
                pass
        self._count_tokens()
        error = self._error
        if error is None and not (self._cut or self._stopped) and not self.text and metrics.finish_reason == "length" \
                and (self.reply.thinking or metrics.reasoning_tokens):
            self.reply.error = thinking_exhausted(self.model.name, metrics.reasoning_tokens, self._max_tokens)
        elif error is not None:
            self.reply.error = ReplyError.of(error)
        # the outcome last: a reader on another thread (compare) takes a finished reply as final
        self.reply.outcome = (Outcome.FAILED if self.reply.error is not None else Outcome.CUT if self._cut
                              else Outcome.STOPPED if self._stopped else Outcome.COMPLETE)

    def _count_tokens(self) -> None:
        """Completion, reasoning and answer tokens, and the cost when the proxy did not say it."""
        metrics, text, thinking = self.metrics, self.text, self.reply.thinking
        if metrics.reasoning_tokens == 0 and thinking:  # a 0 beside visible thinking is a count not given
            metrics.reasoning_tokens = None
        if metrics.completion_tokens is None and (text or thinking):  # no usage chunk: estimate (~4 characters)
            metrics.completion_tokens = max(1, round((len(text) + len(thinking)) / 4))
            metrics.answer_tokens = max(1, round(len(text) / 4)) if text else 0
        elif metrics.completion_tokens is not None:
            completion, reasoning = metrics.completion_tokens, metrics.reasoning_tokens
            if reasoning is not None and (reasoning < completion or not text):
                metrics.answer_tokens = completion - reasoning
            elif reasoning is not None and reasoning > completion:  # counted apart from the completion
                metrics.answer_tokens = completion
            elif thinking:  # no count, or one that leaves nothing for an answer there is (LiteLLM caps its own
                # count of a thought the provider did not count at the completion): the answer's share of the text
                metrics.answer_tokens = max(1, round(completion * len(text) / (len(text) + len(thinking)))) \
                    if text else 0
            else:
                metrics.answer_tokens = completion
        if metrics.cost is None and metrics.prompt_tokens is not None:
            cost = self.model.cost(metrics.prompt_tokens, output_tokens(metrics))
            if cost is not None:
                metrics.cost, metrics.cost_source = cost, "catalogue"


def thought_of(delta: object) -> str:
    """The thinking a stream delta carries, whichever way LiteLLM forwards it: `reasoning_content` (most providers),
    `reasoning` (vLLM, SGLang) or the text of Anthropic's `thinking_blocks` (the first found: LiteLLM sends an
    Anthropic thought both as `reasoning_content` and as a block)."""
    extra = getattr(delta, "model_extra", None)  # fields the SDK's model does not declare (a dict lookup, no
    fields = extra if isinstance(extra, dict) else vars(delta)  # AttributeError raised per answer chunk)
    if not fields:
        return ""
    for name in ("reasoning_content", "reasoning"):
        value = fields.get(name)
        if isinstance(value, str) and value:
            return value
    blocks = fields.get("thinking_blocks")
    if isinstance(blocks, list):
        return "".join(block["thinking"] for block in blocks
                       if isinstance(block, dict) and isinstance(block.get("thinking"), str))
    return ""


def output_tokens(metrics: Metrics) -> int:
    """The tokens billed as output: the completion, reasoning included (a provider that leaves the reasoning out of
    its completion count, as a count larger than the completion shows, has it added)."""
    completion, reasoning = metrics.completion_tokens or 0, metrics.reasoning_tokens
    return completion + reasoning if reasoning is not None and reasoning > completion else completion


def thinking_exhausted(name: str, reasoning_tokens: int | None, max_tokens: int | None) -> ReplyError:
    """The reply's error when the model's thinking used up its output budget and no answer came."""
    used = f"{reasoning_tokens:,} reasoning tokens" if reasoning_tokens is not None \
        else "reasoning tokens (how many: not reported)"
    limit = f"max_tokens {max_tokens:,}" if max_tokens is not None else "its default max_tokens"
    return ReplyError(f"{name} used its whole output budget thinking ({used} of {limit}): raise max tokens or lower "
                      "the effort.", "Your prompt is kept: send it again with the new setting.",
                      kind="thinking_exhausted")


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
            extra_body={**(attribution.request_fields(model.route) if attribution else {}), **params.reasoning()}
            or None)
        response = context.__enter__()
        arrival = ArrivalStream.attach(response.http_response)  # timed where the bytes arrive, parsed here
        chunks = iter(response.parse())
    except Exception as exc:
        return ChatStream(model, started=started, error=map_error(exc))
    stream = ChatStream(model, chunks, close=lambda: context.__exit__(None, None, None), started=started,
                        max_chars=settings.max_reply_chars, arrival=arrival, max_tokens=params.max_tokens)
    stream.metrics.call_id = response.headers.get("x-litellm-call-id")
    overhead = response.headers.get("x-litellm-overhead-duration-ms")
    stream.metrics.overhead_ms = float(overhead) if overhead else None
    return stream
