"""What every API endpoint shares: who is calling, the size limit on bodies, JSON in and out, and errors as JSON.

`endpoint()` wraps a handler: it reads the settings, asks `api.access.identify` who is calling (or refuses),
refuses bodies over `MAX_BODY_BYTES` (413), and turns an `ApiError` or any unexpected exception into a JSON error
`{"error": {"message", "hint", "kind", "status"}}` with plain, redacted words. A handler gets a `Call`: the
request, the settings and the analyst id.
"""

from __future__ import annotations

import json
import logging
import math
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from starlette.requests import Request
from starlette.responses import Response

from api.access import Refusal, identify
from gateway.config import Settings, load_settings
from gateway.errors import mask_key, redact

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BODY_BYTES = 1_000_000  # a request body larger than this is refused with 413
API_THREADS = 2  # API handlers running at once; the others wait their turn (see `blocking`)
_limiter: anyio.CapacityLimiter | None = None


async def blocking(function: Callable[..., T], *args: Any) -> T:
    """Run blocking code (network, database, the catalogue's cache) for the API in a worker thread.

    At most API_THREADS at once: a burst of API calls then neither takes the thread pool Streamlit serves its static
    files from (28 threads), nor outnumbers the pages' script threads when they all want the interpreter lock.
    """
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(API_THREADS)
    return await anyio.to_thread.run_sync(function, *args, limiter=_limiter)


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
    analyst: str


def endpoint(handler: Callable[[Call], Any], *, threaded: bool = True) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint around `handler(call)`. `threaded`: the handler is blocking code (network, database) and
    runs in the API's worker threads (`blocking`); otherwise it is a coroutine function run on the event loop."""

    async def answer(request: Request) -> Response:
        settings = load_settings()
        try:
            analyst = identify(request, settings)
            if isinstance(analyst, Refusal):
                raise ApiError(analyst.status, analyst.message, hint=analyst.hint, kind=analyst.kind)
            check_length(request)
            call = Call(request, settings, analyst)
            if threaded:
                return await blocking(handler, call)
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
    """The last check before anything leaves: a configured key, verbatim, becomes its masked form. (Messages are
    redacted where they are made; this catches what a new field might carry.)"""
    for secret in settings.secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, mask_key(secret))
    return text


def json_response(content: Any, status: int = 200, *, settings: Settings,
                  headers: dict[str, str] | None = None) -> Response:
    return Response(guard(dumps(content), settings), status, headers=headers, media_type="application/json")
