"""What every API endpoint shares: who is calling, the size limit on bodies, JSON in and out, and errors as JSON.

`endpoint()` wraps a handler: it reads the settings, asks `api.access.identify` who is calling (or refuses),
refuses bodies over `MAX_BODY_BYTES` (413), checks the request against the OpenAPI document (api/validation.py),
and turns whatever the handler raises into a JSON error `{"error": {"message", "hint", "kind", "status"}}` with
plain, redacted words (`api.errors.answer_for`, the one mapping). A handler gets a `Call`: the
request, the settings (with the analyst's own LiteLLM key when `[analyst_keys]` names one, as on the
pages) and the analyst.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
from starlette.requests import Request
from starlette.responses import Response

from api.access import Refusal, identify, needs_database
from api.errors import ApiError, Sent, answer_for, error_object
from gateway.analyst import Analyst
from gateway.config import Settings, load_settings
from gateway.redaction import redact

__all__ = ["ApiError", "Call", "endpoint", "error_object", "json_response"]
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


@dataclass(frozen=True)
class Call:
    """One request the API answers: who is calling, with which settings."""

    request: Request
    settings: Settings
    analyst: Analyst
    body: Any = None  # the request's JSON body, checked against the document (None: the operation takes none)
    sent: Sent = field(default_factory=Sent)  # what was sent to models and recorded: a failure says so
    # An operation open to callers the sign-in does not name (`endpoint(..., nobody=True)`): why this one is not
    # named, with `analyst` NOBODY; the handler answers with it unless what it serves is open to anyone.
    refusal: Refusal | None = None


NOBODY = Analyst("", "nobody")  # the caller of a `nobody=True` operation whom the sign-in does not name


def refused(refusal: Refusal) -> ApiError:
    return ApiError(refusal.status, refusal.message, hint=refusal.hint, kind=refusal.kind,
                    headers={"WWW-Authenticate": refusal.challenge} if refusal.challenge else None)


def endpoint(handler: Callable[[Call], Any], *, threaded: bool = True, operation: tuple[str, str] | None = None,
             nobody: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint around `handler(call)`. `threaded`: the handler is blocking code (network, database) and
    runs in a worker thread (`waiting`); otherwise it is a coroutine function run on the event loop. `operation`:
    its (path, method) in the OpenAPI document, which every request is checked against first (api/validation.py):
    the handler only ever sees a request the document allows. `nobody`: a caller the sign-in does not name (401)
    reaches the handler too, as NOBODY with the `refusal` (a share link for anyone opens without signing in)."""

    async def answer(request: Request) -> Response:
        settings = current_settings()
        sent = Sent()
        try:
            analyst = await waiting(identify, request, settings) if needs_database(settings) \
                else identify(request, settings)
            refusal = None
            if isinstance(analyst, Refusal):
                if not (nobody and analyst.status == 401):
                    raise refused(analyst)
                refusal, analyst = analyst, NOBODY
            check_length(request)
            body = await checked(request, operation, settings) if operation is not None else None
            call = Call(request, settings.for_analyst(analyst.id), analyst, body, sent, refusal)
            if threaded:
                return await waiting(handler, call)
            return await handler(call)
        except Exception as exc:  # noqa: BLE001 - an API answer is never a traceback
            error = answer_for(exc, settings.secrets, sent, f"{request.method} {request.url.path}")
            return json_response(error.body(), error.status, settings=settings, headers=error.headers)

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


async def checked(request: Request, operation: tuple[str, str], settings: Settings) -> Any:
    """The request checked against its operation in the OpenAPI document; its JSON body (None when it takes none)."""
    from api.openapi import document  # (the document imports this module)
    from api.validation import check

    described = document(settings.max_output_tokens)
    path, method = operation
    body = await read_body(request) if request.method not in ("GET", "HEAD", "OPTIONS") else None
    operation_ = described["paths"][path][method.lower()]
    if body is not None and len(body) > 65_536:  # a large body is parsed off the event loop (~25 ms a megabyte)
        return await computing(check, operation_, request.query_params, body, described)
    return check(operation_, request.query_params, body, described)


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


async def read_body(request: Request) -> bytes:
    """The request's body, read at most MAX_BODY_BYTES (also when no Content-Length was sent)."""
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > MAX_BODY_BYTES:
            raise too_large()
    return bytes(body)


def dumps(content: Any) -> str:
    """Compact JSON; a number that is not finite becomes null (JSON has no NaN). `<`, `>` and `&` are written as
    `\\u003c`, `\\u003e`, `\\u0026` (the same JSON): no answer carries markup as such, even one a browser was
    tricked into reading as HTML."""
    try:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:
        text = json.dumps(_finite(content), ensure_ascii=False, separators=(",", ":"))
    return text.translate(_MARKUP) if any(c in text for c in "<>&") else text


_MARKUP = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


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
