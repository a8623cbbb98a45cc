"""What every API endpoint shares: who is calling, the size limit on bodies, JSON in and out, and errors as JSON.

`endpoint()` wraps a handler: it reads the settings, asks `api.access.identify` who is calling (or refuses),
refuses bodies over `MAX_BODY_BYTES` (413), and turns an `ApiError` or any unexpected exception into a JSON error
`{"error": {"message", "hint", "kind", "status"}}` with plain, redacted words. A handler gets a `Call`: the
request, the settings (with the analyst's own LiteLLM key when `[analyst_keys]` names one, as on the
pages) and the analyst.
"""

from __future__ import annotations

import json
import logging
import math
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from starlette.requests import Request
from starlette.responses import Response

from api.access import Refusal, identify, needs_database
from gateway.analyst import Analyst
from gateway.config import Settings, load_settings
from gateway.redaction import redact

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BODY_BYTES = 1_000_000  # a request body larger than this is refused with 413
COMPUTE_THREADS = 2  # API work that computes at once (a catalogue read, an answer made); see `computing`
WAIT_THREADS = 8  # API calls that wait on the proxy or the database at once (probes, a refresh); see `waiting`
_lanes: dict[str, anyio.CapacityLimiter] = {}


async def computing(function: Callable[..., T], *args: Any) -> T:
    """Run CPU work for the API in a worker thread, at most COMPUTE_THREADS at once: a burst of API calls then does
    not outnumber the pages' script threads when they all want the interpreter lock."""
    return await _in_lane("compute", COMPUTE_THREADS, function, *args)


async def waiting(function: Callable[..., T], *args: Any) -> T:
    """Run a call that mostly waits (on the proxy, the database) in a worker thread, at most WAIT_THREADS at once:
    a slow proxy's health check or refresh does not hold up the catalogue."""
    return await _in_lane("wait", WAIT_THREADS, function, *args)


async def _in_lane(lane: str, threads: int, function: Callable[..., T], *args: Any) -> T:
    # Lanes of their own, not the server's default pool: that one (28 threads) serves Streamlit's static files.
    if lane not in _lanes:
        _lanes[lane] = anyio.CapacityLimiter(threads)
    return await anyio.to_thread.run_sync(function, *args, limiter=_lanes[lane])


class ApiError(Exception):
    """A request the API will not answer as asked: its HTTP status and plain words (no key in them)."""

    def __init__(self, status: int, message: str, *, hint: str = "", kind: str = "bad_request",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.hint, self.kind = status, message, hint, kind
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return {"error": error_object(self.message, self.hint, self.kind, self.status)}


def error_object(message: str, hint: str, kind: str, status: int | None = None) -> dict[str, Any]:
    """The one shape of an error in every answer."""
    found: dict[str, Any] = {"message": message, "hint": hint, "kind": kind}
    if status is not None:
        found["status"] = status
    return found


@dataclass(frozen=True)
class Call:
    """One request the API answers: who is calling, with which settings."""

    request: Request
    settings: Settings
    analyst: Analyst


def endpoint(handler: Callable[[Call], Any], *, threaded: bool = True) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint around `handler(call)`. `threaded`: the handler is blocking code (network, database) and
    runs in a worker thread (`waiting`); otherwise it is a coroutine function run on the event loop."""

    async def answer(request: Request) -> Response:
        settings = current_settings()
        try:
            analyst = await waiting(identify, request, settings) if needs_database(settings) \
                else identify(request, settings)
            if isinstance(analyst, Refusal):
                raise ApiError(analyst.status, analyst.message, hint=analyst.hint, kind=analyst.kind,
                               headers={"WWW-Authenticate": analyst.challenge} if analyst.challenge else None)
            check_length(request)
            call = Call(request, settings.for_analyst(analyst.id), analyst)
            if threaded:
                return await waiting(handler, call)
            return await handler(call)
        except ApiError as error:
            return json_response(error.body(), error.status, settings=settings, headers=error.headers)
        except Exception as exc:  # noqa: BLE001 - an API answer is never a traceback
            message = redact(f"{type(exc).__name__}: {exc}", settings.secrets)
            log.error("api: %s %s failed: %s", request.method, request.url.path,
                      redact("".join(traceback.format_exception(exc)), settings.secrets))
            return json_response({"error": error_object(
                f"The API failed unexpectedly: {message}", "This is a bug in the dashboard: the server log has the "
                "details. The request can be retried.", "internal", 500)}, 500, settings=settings)

    answer.__name__ = getattr(handler, "__name__", "answer")
    answer.__doc__ = handler.__doc__
    return answer


SETTINGS_EVERY = 1.0  # seconds the API reuses the settings it read (a burst of calls reads them once)
_settings: tuple[float, Settings] | None = None


def current_settings() -> Settings:
    """`load_settings()` (environment, secrets, .env), read again at most once a second."""
    global _settings
    now = time.monotonic()
    if _settings is None or now - _settings[0] >= SETTINGS_EVERY:
        _settings = (now, load_settings())
    return _settings[1]


def check_length(request: Request) -> None:
    """Refuse a body announced larger than MAX_BODY_BYTES before reading any of it."""
    declared = request.headers.get("content-length")
    if declared is None:
        return
    try:
        length = int(declared)
    except ValueError:
        raise ApiError(400, f"Content-Length {declared[:40]!r} is not a number.") from None
    if length > MAX_BODY_BYTES:
        raise too_large()


def too_large() -> ApiError:
    return ApiError(413, f"The request body is larger than {MAX_BODY_BYTES:,} bytes.",
                    hint="Send a shorter prompt: the API takes at most 1 MB per request.", kind="too_large")


async def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object, read at most MAX_BODY_BYTES (also when no Content-Length was sent)."""
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > MAX_BODY_BYTES:
            raise too_large()
    if not body.strip():
        raise ApiError(400, "The request has no body: send a JSON object.",
                       hint='e.g. {"models": ["a", "b"], "prompt": "Hello"} with Content-Type: application/json.')
    try:
        found = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(found, dict):
        raise ApiError(400, f"The request body must be a JSON object, not {type(found).__name__}.")
    return found


def dumps(content: Any) -> str:
    """Compact JSON; a number that is not finite becomes null (JSON has no NaN)."""
    try:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps(_finite(content), ensure_ascii=False, separators=(",", ":"))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def guard(text: str, settings: Settings) -> str:
    """The last check before anything leaves, through the gateway's one redaction boundary (`gateway.redaction.redact`):
    every known key whole or any 8 characters of it (also split or escaped), `Bearer` tokens, `api_key=…` values
    and anything shaped like `sk-…`. (Messages are redacted where they are made; this catches what a reply, a name
    from the proxy or a new field might carry.)"""
    return redact(text, settings.secrets)


def json_response(content: Any, status: int = 200, *, settings: Settings,
                  headers: dict[str, str] | None = None) -> Response:
    return Response(guard(dumps(content), settings), status, headers=headers, media_type="application/json")
