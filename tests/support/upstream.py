"""A small local OpenAI-compatible server, used as an upstream behind the proxy and for what a proxy can't produce.

The model name picks the behaviour:
- `echo`: streams back the last user message.
- `verbatim`: streams back the last user message exactly (line breaks and Markdown kept), 7 characters a piece.
- `long-<tokens>-<per_second>`: streams `tokens` words (`w0 w1 …`, one paragraph) at about `per_second` a second.
- `essay-<tokens>-<per_second>`: the same words shaped as a long reply: headings, paragraphs, lists, code blocks.
- `break-after-<n>`: streams n words, then an error event inside the 200 stream.
- `cut-after-<n>`: streams n words, then drops the connection.
- `pause-<n>-<ms>`: streams n words, pauses ms milliseconds, then streams n more.
- `rate-limited-<seconds>`: answers 429 with `retry-after: <seconds>`.
Also: `silent_server()`, a socket that accepts connections and never answers.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _chunk(model: str, content: str | None = None, finish: str | None = None, usage: dict | None = None) -> bytes:
    body: dict = {"id": "chatcmpl-local", "object": "chat.completion.chunk", "created": int(time.time()),
                  "model": model, "choices": []}
    if usage is None:
        body["choices"] = [{"index": 0, "delta": {"content": content} if content else {}, "finish_reason": finish}]
    else:
        body["usage"] = usage
    return f"data: {json.dumps(body)}\n\n".encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "echo", "object": "model", "owned_by": "local"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        request = json.loads(self.rfile.read(length) or b"{}")
        model = request.get("model", "echo")
        if limited := re.match(r"rate-limited-(\d+)", model):
            self._json(429, {"error": {"message": "Too many requests, slow down.", "type": "rate_limit_error",
                                       "code": "429"}}, {"retry-after": limited.group(1)})
            return
        words = list(self._words(model, request))
        if not request.get("stream"):
            text = "".join(words)
            self._json(200, {"id": "chatcmpl-local", "object": "chat.completion", "created": int(time.time()),
                             "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                                          "message": {"role": "assistant", "content": text}}],
                             "usage": {"prompt_tokens": 5, "completion_tokens": len(words), "total_tokens": 5 + len(words)}})
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        rate = _rate(model)
        broken, cut = _after(model, "break"), _after(model, "cut")
        pause = re.match(r"pause-(\d+)-(\d+)", model)
        start = time.perf_counter()
        try:
            for i, word in enumerate(words):
                if broken is not None and i == broken:
                    error = {"error": {"message": "upstream exploded mid-stream", "type": "server_error", "code": "500"}}
                    self.wfile.write(f"data: {json.dumps(error)}\n\n".encode())
                    self.wfile.flush()
                    return
                if cut is not None and i == cut:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if pause and i == int(pause.group(1)):
                    time.sleep(int(pause.group(2)) / 1000)
                if rate:
                    delay = start + i / rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                self.wfile.write(_chunk(model, word))
                self.wfile.flush()
            self.wfile.write(_chunk(model, finish="stop"))
            self.wfile.write(_chunk(model, usage={"prompt_tokens": 5, "completion_tokens": len(words),
                                                  "total_tokens": 5 + len(words)}))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def _words(self, model: str, request: dict) -> Iterator[str]:
        users = [m for m in request.get("messages", []) if m.get("role") == "user"]
        if model == "verbatim":
            text = users[-1]["content"] if users else ""
            return (text[i:i + 7] for i in range(0, len(text), 7))
        if match := re.match(r"essay-(\d+)", model):
            return essay(int(match.group(1)))
        match = (re.match(r"long-(\d+)", model) or re.match(r"(?:break|cut)-after-(\d+)", model)
                 or re.match(r"pause-(\d+)", model))
        if match:
            count = int(match.group(1)) * (1 if model.startswith("long") else 2)
            return (f"w{i} " for i in range(count))
        text = users[-1]["content"] if users else "nothing"
        return (word + " " for word in f"echo: {text}".split())

    def _json(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


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
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


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
