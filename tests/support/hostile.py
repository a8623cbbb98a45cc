"""A hostile stand-in for a proxy: a server that answers what a LiteLLM proxy never would.

`hostile_server()` yields a `Hostile` whose `mode` says what every request gets:
- `echo`: 401 on every path, the error body repeating the request's `Authorization` header in several forms
  (whole, JSON-escaped, split in two, cut short), as misconfigured gateways and some auth middlewares do;
- `echo-calls`: the same, except that `/v1/models` answers a list of two models (`echo-a`, `echo-b`), so pages have
  models to call and every call, count and probe fails with the echo;
- `markup`: `/v1/models` answers two models whose names are Markdown images and colour directives, and every
  other path a 400 (`/model/info` a 404, as a plain OpenAI-compatible server) whose error message is Markdown too (images, a link, `:red[…]`, raw HTML): text a page must show
  as text, never as markup (tests/test_untrusted_text.py);
- `huge` / `huge-chunked`: a 200 MB JSON answer, with or without a Content-Length;
- `gzip-bomb`: a small gzip body that inflates to 200 MB, sent although identity was asked for;
- `deep`: JSON nested 100,000 levels deep; `garbage`: random bytes labelled JSON; `html`: a web server's page.
It counts the connections it accepted and the requests it answered.
"""

from __future__ import annotations

import json
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MB = 1024 * 1024
HUGE_BYTES = 200 * MB
MARKUP_IMAGE = "http://127.0.0.1:9/markup.png"  # nothing listens there; a page must not even ask
MARKUP_MODELS = (f"![m]({MARKUP_IMAGE}?model=a)", ":red[model]-b")
MARKUP_ERROR = (f"Bad request ![e]({MARKUP_IMAGE}?error) [click](http://127.0.0.1:9/) :red[alarm] "
                f'<img src="{MARKUP_IMAGE}?html"> **bold**')
_ENTRY = json.dumps({"model_name": "padding", "litellm_params": {"model": "openai/padding"},
                     "model_info": {"note": "x" * 900}}).encode()


@dataclass
class Hostile:
    url: str
    mode: str = "echo"
    connections: int = 0
    requests: list[str] = field(default_factory=list)


def echo_body(authorization: str) -> bytes:
    """An error body that repeats the Authorization header whole, JSON-escaped, split in two and cut short."""
    token = authorization.removeprefix("Bearer ").strip()
    escaped = "".join(f"\\u{ord(c):04x}" if c == "-" else c for c in token)
    half = len(token) // 2
    message = (f"invalid key {authorization}; header was 'Authorization: {authorization}'; key={escaped}; "
               f"parts=\\\"{token[:half]}\\\" + \\\"{token[half:]}\\\"; prefix {token[:12]}")
    return ('{"error": {"message": "' + message + '", "type": "auth_error", "param": "' + token
            + '", "code": "401"}}').encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.state.connections += 1

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self._answer()

    def _answer(self) -> None:
        state = self.server.state
        state.requests.append(f"{self.command} {self.path}")
        mode = state.mode
        try:
            if mode == "echo-calls" and self.path.rstrip("/").endswith("/v1/models"):
                self._send(200, json.dumps({"object": "list", "data": [
                    {"id": "echo-a", "object": "model", "owned_by": "openai"},
                    {"id": "echo-b", "object": "model", "owned_by": "openai"}]}).encode())
            elif mode == "markup" and self.path.rstrip("/").endswith("/v1/models"):
                self._send(200, json.dumps({"object": "list", "data": [
                    {"id": name, "object": "model", "owned_by": "openai"} for name in MARKUP_MODELS]}).encode())
            elif mode == "markup":
                self._send(404 if self.path.startswith("/model/info") else 400, json.dumps({"error": {"message": MARKUP_ERROR, "type": "bad_request",
                                                      "code": "400"}}).encode())
            elif mode in ("echo", "echo-calls"):
                self._send(401, echo_body(self.headers.get("authorization", "")))
            elif mode == "huge":
                self._huge(chunked=False)
            elif mode == "huge-chunked":
                self._huge(chunked=True)
            elif mode == "gzip-bomb":
                self._send(200, _bomb(), {"content-encoding": "gzip"})
            elif mode == "deep":
                self._send(200, b"[" * 100_000 + b"]" * 100_000)
            elif mode == "garbage":
                self._send(200, os.urandom(4096))
            elif mode == "html":
                self._send(200, b"<html><body>Welcome to nginx</body></html>", {"content-type": "text/html"})
            else:
                self._send(500, b'{"error": {"message": "unknown mode"}}')
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        headers = {"content-type": "application/json", **(headers or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _huge(self, *, chunked: bool) -> None:
        """`{"data": [entry, entry, ...]}` of HUGE_BYTES, written 1 MB at a time."""
        count = HUGE_BYTES // (len(_ENTRY) + 1)
        body_length = len(b'{"data": [') + count * (len(_ENTRY) + 1) - 1 + len(b"]}")
        self.send_response(200)
        self.send_header("content-type", "application/json")
        if chunked:
            self.send_header("transfer-encoding", "chunked")
        else:
            self.send_header("content-length", str(body_length))
        self.end_headers()
        per_write = (1024 * 1024) // (len(_ENTRY) + 1)
        pieces = [b'{"data": [']
        for index in range(count):
            pieces.append(_ENTRY + (b"," if index < count - 1 else b"]}"))
            if len(pieces) >= per_write or index == count - 1:
                self._write(b"".join(pieces), chunked)
                pieces = []
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def _write(self, data: bytes, chunked: bool) -> None:
        if chunked:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        else:
            self.wfile.write(data)


_bomb_cache: list[bytes] = []


def _bomb() -> bytes:
    """HUGE_BYTES of spaces inside a JSON string, gzipped 1 MB at a time (~200 KB; made once)."""
    if not _bomb_cache:
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip container
        spaces = b" " * MB
        parts = [packer.compress(b'{"data": "')]
        parts += [packer.compress(spaces) for _ in range(HUGE_BYTES // MB)]
        parts.append(packer.compress(b'"}') + packer.flush())
        _bomb_cache.append(b"".join(parts))
    return _bomb_cache[0]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: Hostile

    def handle_error(self, request, client_address) -> None:  # a client that stops reading is the point
        pass


@contextmanager
def hostile_server(mode: str = "echo") -> Iterator[Hostile]:
    """Run the server on a free loopback port."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = Hostile(f"http://127.0.0.1:{server.server_address[1]}", mode)
    if mode == "gzip-bomb":
        _bomb()  # made before the test measures anything
    # shutdown() waits for serve_forever to look at its flag, every poll_interval (0.5 s by default: half a second
    # at the end of every test that uses the server)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True,
                              name="hostile-server")
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()


__all__ = ["HUGE_BYTES", "MARKUP_ERROR", "MARKUP_IMAGE", "MARKUP_MODELS", "Hostile", "echo_body", "hostile_server"]
