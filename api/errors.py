"""The API's errors: one class for a request it will not answer as asked (`ApiError`), one shape for every error
answer (`error_object`), and the one mapping from anything a handler raises to an answer (`answer_for`).

`answer_for` maps:
- an `ApiError` to itself;
- a gateway error (`gateway.errors.GatewayError`) to the status its class declares (`http_status`: the proxy
  unreachable 502, slow 504, rate-limited 429 with `Retry-After`…) and its kind (`kind_of`), with its redacted
  message and hint;
- anything else to a 500 that says plainly whether anything was sent to a model before the failure, and what of it
  was recorded (`Sent`), so a client never retries blindly into a second spend.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from typing import Any

from gateway.redaction import redact

log = logging.getLogger(__name__)


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


def kind_of(error: BaseException) -> str:
    """A gateway error's kind (`rate_limited`, `unreachable`…: a class attribute of its class), read here only."""
    kind = getattr(error, "kind", None)
    return kind if isinstance(kind, str) and kind else "error"


@dataclass
class Sent:
    """What a request has had sent to models and recorded so far, for a failure to report (filled by the handler
    the moment it sends: `Call.sent`)."""

    what: list[str] = field(default_factory=list)

    def note(self, words: str) -> None:
        self.what.append(words)


def answer_for(exc: Exception, secrets: tuple[str | None, ...], sent: Sent, where: str) -> ApiError:
    """The answer for anything a handler raised (see the module's list)."""
    from gateway.errors import GatewayError  # (imported here: api.errors stays importable before the gateway)

    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, GatewayError):
        kind = kind_of(exc)
        retry = {"Retry-After": str(max(1, round(exc.retry_after)))} if exc.retry_after else None
        return ApiError(exc.http_status, redact(exc.message, secrets), hint=redact(exc.hint, secrets),
                        kind=kind, headers=retry)
    message = redact(f"{type(exc).__name__}: {exc}", secrets)[:300]
    log.error("api: %s failed: %s", where, redact("".join(traceback.format_exception(exc)), secrets))
    if sent.what:
        return ApiError(500, f"The API failed unexpectedly after it had sent the request: {'; '.join(sent.what)}. "
                             f"The failure: {message}",
                        hint="Do not simply retry: a retry sends the prompt again (and spends again). Look at what "
                             "was saved first. This is a bug in the dashboard: the server log has the details.",
                        kind="internal")
    return ApiError(500, f"The API failed unexpectedly before anything was sent to a model: {message}",
                    hint="Nothing was sent or recorded. This is a bug in the dashboard: the server log has the "
                         "details. The request can be retried.", kind="internal")
