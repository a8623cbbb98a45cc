"""The demo upstream: a small OpenAI-compatible HTTP server for the demo models, which LiteLLM calls like any provider.

    python -m demo.upstream [--host 127.0.0.1] [--port 4010] [--speed 1]

`make run` starts it beside LiteLLM (DEMO_PORT) and litellm_config.yaml's demo-* models point at it through
DEMO_API_BASE. It answers:

- `POST /v1/chat/completions`: streaming (server-sent events at each model's pace, `usage` in a last chunk when
  `stream_options.include_usage` is set) or not; errors in OpenAI's shape (`{"error": {...}}`), 429 with Retry-After;
- `GET /v1/models`: the models it serves; `GET /health`: `{"status": "ok"}`.

Which reply a model gives is not decided here: `Upstream` takes a `respond(model, request) -> Reply | None`
(demo.models.respond by default; the test suite adds its own models on top).
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from demo import models
from demo.reply import Failure, Reply

Respond = Callable[[str, Mapping], "Reply | None"]
MAX_BODY = 64 * 1024 * 1024  # bytes of a request (images arrive base64-encoded in it)
DEFAULT_PORT = 4010


class Upstream(ThreadingHTTPServer):
    """The server. `speed` divides every wait (2 = twice as fast); `respond` decides each model's reply."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int] = ("127.0.0.1", 0), *, respond: Respond = models.respond,
                 model_ids: Iterable[str] = tuple(models.MODELS), speed: float = 1.0,
                 log: Callable[[str], None] | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.respond, self.model_ids, self.speed, self.log = respond, tuple(model_ids), speed, log
        super().__init__(address, _Handler)

    @property
    def base_url(self) -> str:
        """`http://host:port/v1`, what an OpenAI client or LiteLLM's `api_base` wants."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def wait(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up early is not an error worth a traceback in the log."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def running(upstream: Upstream) -> Iterator[str]:
    """Serve on a background thread; yields the base URL; shuts down on exit."""
    # shutdown() waits for serve_forever to look at its flag every poll_interval (0.5 s by default, paid by every
    # test that starts one)
    thread = threading.Thread(target=upstream.serve_forever, kwargs={"poll_interval": 0.05}, name="demo-upstream",
                              daemon=True)
    thread.start()
    try:
        yield upstream.base_url
    finally:
        upstream.shutdown()
        upstream.server_close()
        thread.join(timeout=5)


@contextmanager
def serve(port: int = 0, host: str = "127.0.0.1", **options: Any) -> Iterator[str]:
    """The demo models on host:port (0: a free port) on a background thread; yields the base URL (ending in /v1)."""
    with running(Upstream((host, port), **options)) as base_url:
        yield base_url


def _completion_id() -> str:
    return f"chatcmpl-demo-{uuid.uuid4().hex[:24]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Upstream

    def log_message(self, *args: object) -> None:  # one line per completion instead (see _log)
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": model, "object": "model", "created": 0,
                                                         "owned_by": "demo"} for model in self.server.model_ids]})
        elif path in ("/health", "/v1/health"):
            self._json(200, {"status": "ok"})
        else:
            self._error(Failure(404, f"Unknown path {path or '/'}", "invalid_request_error", "not_found"))

    def do_POST(self) -> None:
        started = time.perf_counter()
        request = self._read_request()
        if request is None:
            return
        model = request.get("model")
        if not isinstance(model, str) or not model:
            self._error(Failure(400, "`model` is required", "invalid_request_error", "missing_model"))
            return
        reply = self.server.respond(model, request)
        if reply is None:
            self._error(Failure(404, f"The model `{model}` does not exist on the demo upstream (it serves: "
                                     f"{', '.join(self.server.model_ids)}).", "invalid_request_error",
                                "model_not_found"))
            return
        stream = bool(request.get("stream"))
        if reply.failure is not None:
            self._error(reply.failure)
            outcome = str(reply.failure.status)
        elif stream:
            outcome = self._stream(model, reply, reply.stream_usage or _wants_usage(request))
        else:
            outcome = self._complete(model, reply)
        self._log(f"{model} {'stream' if stream else 'batch'} {outcome} prompt={reply.prompt_tokens} "
                  f"completion={reply.completion_tokens} {time.perf_counter() - started:.2f}s")

    # --- one request ------------------------------------------------------------------------------------------------

    def _read_request(self) -> dict | None:
        path = self.path.split("?")[0].rstrip("/")
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._error(Failure(413, f"The request body must be at most {MAX_BODY // (1024 * 1024)} MB.",
                                "invalid_request_error", "request_too_large"))
            return None
        body = self.rfile.read(length)
        if not path.endswith("/chat/completions"):
            self._error(Failure(404, f"Unknown path {path or '/'}: only /v1/chat/completions is served.",
                                "invalid_request_error", "not_found"))
            return None
        try:
            request = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            request = None
        if not isinstance(request, dict):
            self._error(Failure(400, "The request body is not a JSON object.", "invalid_request_error",
                                "invalid_json"))
            return None
        return request

    def _complete(self, model: str, reply: Reply) -> str:
        self.server.wait(reply.batch_seconds())
        self._json(200, {"id": _completion_id(), "object": "chat.completion", "created": int(time.time()),
                         "model": model, "choices": [{"index": 0, "finish_reason": reply.finish_reason,
                                                      "message": {"role": "assistant", "content": reply.text,
                                                                  **_thought(reply)}}],
                         "usage": reply.usage()})
        return "200"

    def _stream(self, model: str, reply: Reply, usage: bool) -> str:
        completion = _completion_id()
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk = lambda **fields: _event(_chunk(completion, model, **fields))  # noqa: E731
        try:
            self.wfile.flush()
            self.server.wait(reply.ttft)
            start = time.perf_counter()
            for index, piece in enumerate(reply.thinking):  # the reasoning first, at the reply's pace
                if reply.rate:
                    delay = start + index / (reply.rate * self.server.speed) - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                self._send(chunk(thinking={reply.thinking_field: [{"type": "thinking", "thinking": piece}]
                                           if reply.thinking_field == "thinking_blocks" else piece}))
            start += len(reply.thinking) / (reply.rate * self.server.speed) if reply.rate else 0.0
            for index, piece in enumerate(reply.pieces):
                if reply.break_after is not None and index == reply.break_after:
                    self._send(_event((reply.break_failure or Failure(500, "The reply broke off.")).body()))
                    return "200+error"
                if reply.cut_after is not None and index == reply.cut_after:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return "200+cut"
                if reply.pause and index == reply.pause[0]:
                    self.server.wait(reply.pause[1])
                    start += reply.pause[1] / self.server.speed
                if reply.rate:
                    delay = start + index / (reply.rate * self.server.speed) - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                self._send(chunk(content=piece))
            self._send(chunk(finish=reply.finish_reason) + (chunk(usage=reply.usage()) if usage else b"")
                       + b"data: [DONE]\n\n")
        except ConnectionError:  # the client hung up (Stop in the app, a timeout)
            return "200+client-gone"
        return "200"

    # --- writing ----------------------------------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def _json(self, status: int, body: dict, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, failure: Failure) -> None:
        headers = {"retry-after": str(failure.retry_after)} if failure.retry_after is not None else None
        self._json(failure.status, failure.body(), headers)

    def _log(self, line: str) -> None:
        if self.server.log is not None:
            self.server.log(line)


def _wants_usage(request: Mapping) -> bool:
    options = request.get("stream_options")
    return isinstance(options, Mapping) and bool(options.get("include_usage"))


def _chunk(completion: str, model: str, content: str | None = None, finish: str | None = None,
           usage: dict | None = None, thinking: dict | None = None) -> dict:
    body: dict = {"id": completion, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                  "choices": []}
    if usage is None:
        delta = thinking or ({"content": content} if content else {})
        body["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish}]
    else:
        body["usage"] = usage
    return body


def _thought(reply: Reply) -> dict:
    """A whole reply's thinking in its message, in the field (and shape) the reply streams it in."""
    if not reply.thinking:
        return {}
    text = "".join(reply.thinking)
    if reply.thinking_field == "thinking_blocks":
        return {"thinking_blocks": [{"type": "thinking", "thinking": text}]}
    return {reply.thinking_field: text}


def _event(body: dict) -> bytes:
    return f"data: {json.dumps(body)}\n\n".encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.upstream", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1 (this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default: {DEFAULT_PORT}")
    parser.add_argument("--speed", type=float, default=1.0, help="divide every wait by this (default: 1)")
    parser.add_argument("--quiet", action="store_true", help="no line per request")
    args = parser.parse_args(argv)
    log = None if args.quiet else (lambda line: print(f"[demo] {line}", flush=True))
    try:
        upstream = Upstream((args.host, args.port), speed=args.speed, log=log)
    except OSError as error:
        print(f"[demo] Cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"[demo] {error}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=upstream.shutdown, daemon=True).start())
    print(f"[demo] Demo models on {upstream.base_url}: {', '.join(upstream.model_ids)}", flush=True)
    try:
        upstream.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        upstream.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
