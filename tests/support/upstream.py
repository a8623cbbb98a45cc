"""The test suite's local OpenAI-compatible server: the demo upstream (demo/upstream.py) with test models on top,
used as an upstream behind the proxy and for what a proxy can't produce.

The model name picks the behaviour:
- `demo-quick`, `demo-thorough`, `demo-creative`, `demo-flaky`, `demo-vision`: the demo models (demo/models.py).
- `echo` (and any other name): streams back the last user message.
- `verbatim`: streams back the last user message exactly (line breaks and Markdown kept), 7 characters a piece.
- `long-<tokens>-<per_second>`: streams `tokens` words (`w0 w1 …`, one paragraph) at about `per_second` a second.
- `essay-<tokens>-<per_second>`: the same words shaped as a long reply: headings, paragraphs, lists, code blocks.
- `break-after-<n>`: streams n words, then an error event inside the 200 stream.
- `cut-after-<n>`: streams n words, then drops the connection.
- `pause-<n>-<ms>`: streams n words, pauses ms milliseconds, then streams n more.
- `think-<n>-<per_second>-<answer>`: streams n reasoning pieces (`delta.reasoning_content`, `t0 t1 …`) then an
  answer of `answer` words (`w0 w1 …`), all at `per_second` a second, and `reasoning_tokens: n` in its usage; with a
  `-reasoning` / `-blocks` suffix the thinking comes as `delta.reasoning` / `delta.thinking_blocks`, with
  `-unreported` the usage omits the reasoning token count.
- `think-length-<n>`: streams n reasoning pieces, then ends with `finish_reason: "length"` and no answer (hidden
  reasoning used up max_tokens).
- `rate-limited-<seconds>`: answers 429 with `retry-after: <seconds>`.
- `no-vision`: refuses a request holding an image with a 400, as OpenAI does for a text-only model; else echoes.
Every request's body is kept in `RECEIVED` (the newest last), for tests that check what the upstream was sent.
The test models answer a non-streaming request at once with the whole text, and always end a stream with `usage`
(5 prompt tokens, a word a token). Also: `silent_server()`, a socket that accepts connections and never answers.
"""

from __future__ import annotations

import re
import socket
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from demo import models
from demo.prompt import read
from demo.reply import Failure, Reply
from demo.upstream import Upstream, running

MID_STREAM_ERROR = Failure(500, "upstream exploded mid-stream")
NO_VISION = Failure(400, "Invalid content type. image_url is only supported by certain models.",
                    "invalid_request_error")
RECEIVED: deque[Mapping] = deque(maxlen=100)  # the bodies of the latest requests, newest last


def respond(model: str, request: Mapping) -> Reply:
    """A demo model's reply, else the test model the name describes (echo for any other name)."""
    RECEIVED.append(request)
    if model == "no-vision" and read(request.get("messages") or []).images:
        return Reply([], prompt_tokens=5, failure=NO_VISION)
    demo = models.respond(model, request)
    if demo is not None:
        return demo
    if limited := re.match(r"rate-limited-(\d+)", model):
        return Reply([], prompt_tokens=5, failure=Failure(429, "Too many requests, slow down.", "rate_limit_error",
                                                          retry_after=int(limited.group(1))))
    if think := re.match(r"think-(\d+)-(\d+)-(\d+)(?:-(reasoning|blocks|unreported))?$", model):
        n, rate, answer, variant = int(think[1]), float(think[2]), int(think[3]), think[4]
        field = {"reasoning": "reasoning", "blocks": "thinking_blocks"}.get(variant or "", "reasoning_content")
        return Reply([f"w{i} " for i in range(answer)], prompt_tokens=5, rate=rate, stream_usage=True,
                     thinking=[f"t{i} " for i in range(n)], thinking_field=field,
                     report_reasoning=variant != "unreported")
    if think := re.match(r"think-length-(\d+)$", model):
        return Reply([], prompt_tokens=5, rate=200, stream_usage=True, finish_reason="length",
                     thinking=[f"t{i} " for i in range(int(think[1]))])
    pause = re.match(r"pause-(\d+)-(\d+)", model)
    return Reply(list(_words(model, request)), prompt_tokens=5, rate=_rate(model),
                 break_after=_after(model, "break"), break_failure=MID_STREAM_ERROR, cut_after=_after(model, "cut"),
                 pause=(int(pause.group(1)), int(pause.group(2)) / 1000) if pause else None,
                 batch_delay=0.0, stream_usage=True)


def _words(model: str, request: Mapping) -> Iterator[str]:
    if model == "verbatim":
        users = [m for m in request.get("messages") or [] if m.get("role") == "user"]
        text = str(users[-1].get("content") or "") if users else ""
        return (text[i:i + 7] for i in range(0, len(text), 7))
    if match := re.match(r"essay-(\d+)", model):
        return essay(int(match.group(1)))
    match = (re.match(r"long-(\d+)", model) or re.match(r"(?:break|cut)-after-(\d+)", model)
             or re.match(r"pause-(\d+)", model))
    if match:
        count = int(match.group(1)) * (1 if model.startswith("long") else 2)
        return (f"w{i} " for i in range(count))
    text = read(request.get("messages") or []).text or "nothing"
    return (word + " " for word in f"echo: {text}".split())


def essay(tokens: int) -> Iterator[str]:
    """`tokens` pieces of Markdown shaped like a long reply, every word numbered (`w0` … `w<tokens - 1>`)."""
    shapes = (("heading", 4), ("paragraph", 60), ("list", 30), ("paragraph", 45), ("code", 24), ("paragraph", 50))
    index = 0
    while True:
        for shape, size in shapes:
            for position in range(size):
                if index == tokens:
                    return
                end = position == size - 1 or index == tokens - 1
                word = f"w{index}"
                if shape == "heading":
                    yield ("## " if position == 0 else "") + word + ("\n\n" if end else " ")
                elif shape == "paragraph":
                    yield word + (".\n\n" if end else " ")
                elif shape == "list":  # items of six words
                    yield ("- " if position % 6 == 0 else "") + word + ("\n" if position % 6 == 5 or end else " ") \
                        + ("\n" if end else "")
                else:  # a code block, four words a line
                    yield ("```python\n" if position == 0 else "") + word + ("\n" if position % 4 == 3 or end else " ") \
                        + ("```\n\n" if end else "")
                index += 1


def _rate(model: str) -> float | None:
    match = re.match(r"(?:long|essay)-\d+-(\d+)", model)
    return float(match.group(1)) if match else None


def _after(model: str, kind: str) -> int | None:
    match = re.match(rf"{kind}-after-(\d+)", model)
    return int(match.group(1)) if match else None


@contextmanager
def upstream_server() -> Iterator[str]:
    """Run the server on a free loopback port; yields its base URL (ending in /v1)."""
    with running(Upstream(respond=respond, model_ids=("echo", *models.MODELS))) as base_url:
        yield base_url


@contextmanager
def silent_server() -> Iterator[str]:
    """A socket that accepts connections and never answers; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in accepted:
            conn.close()
        sock.close()
