"""Gateway errors: a few classes grouped by cause, one function that maps the layers below onto them, and the one
redaction boundary (gateway/redaction.py) every text on its way to a page passes.

Every error carries a plain-words message, a `hint` saying what to do, and the upstream HTTP status when there was
one (`status`). Each class names its cause, as httpx's do: `kind` (a short stable name, e.g. `rate_limited`, what
the API's error objects and the stored replies say) and `http_status` (what the app's own HTTP API answers for it).
Pages show `str(error)` and `error.hint`, never a traceback. A `GatewayError` redacts its message and hint whenever
they are set and again whenever they are read, so no caller can forget: keys registered by `load_settings()`
(`register_secrets`), the key variables of the process environment, `Bearer …` tokens and anything shaped like an
API key (`sk-…`, `sk-ant-…`) never leave it, even when a proxy echoes them back cut short, quoted or JSON-escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import ClassVar

import httpx
import openai

from gateway.redaction import (  # noqa: F401 (part of this module's interface: the boundary)
    FRAGMENT,
    MIN_SECRET,
    SECRET_VARIABLES,
    known_secrets,
    mask_key,
    redact,
    register_secrets,
)


class GatewayError(Exception):
    """Something between the app and a model failed. Its message and hint are always redacted."""

    kind: ClassVar[str] = "error"  # a short stable name for the cause; every subclass names its own
    http_status: ClassVar[int] = 502  # what the API answers: by default, something upstream failed
    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__()
        self.message = message
        self.hint = type(self).hint if hint is None else hint
        self.status = status
        self.retry_after = retry_after

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("message", "hint") and isinstance(value, str):
            value = redact(value)
            if name == "message":
                super().__setattr__("args", (value,))
        super().__setattr__(name, value)

    def __getattribute__(self, name: str) -> object:
        value = super().__getattribute__(name)
        if name in ("message", "hint") and isinstance(value, str):
            return redact(value)  # again on the way out: a key registered after the error was made
        return value

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    def __reduce__(self):  # pickling (another process, a page cache) keeps only the redacted fields
        return _rebuild, (type(self), self.message, self.hint, self.status, self.retry_after)


def _rebuild(cls: type[GatewayError], message: str, hint: str, status: int | None,
             retry_after: float | None) -> GatewayError:
    return cls(message, hint=hint, status=status, retry_after=retry_after)


class ConfigurationError(GatewayError):
    """A setting is missing or malformed."""

    kind = "configuration"
    http_status = 503
    hint = "Fix the setting in the environment, .env or .streamlit/secrets.toml, then reload."


class ProxyUnreachable(GatewayError):
    """No connection could be made to the server."""

    kind = "unreachable"
    http_status = 502
    hint = ("Is the proxy running on that host and port? Check LITELLM_BASE_URL "
            "(from inside a container, localhost is the container itself; try 127.0.0.1 or the host name).")


class ProxyTimeout(GatewayError):
    """The server accepted the request but did not answer in time."""

    kind = "timeout"
    http_status = 504
    hint = "The proxy or the provider behind it is slow or stuck. Try again, or check the proxy's logs."


class AuthenticationFailed(GatewayError):
    """The key was refused."""

    kind = "authentication"
    http_status = 502
    hint = ("Check LITELLM_API_KEY. A proxy without a database answers a wrong key with "
            "'No connected db.': use the master key or a virtual key it knows.")


class ModelNotFound(GatewayError):
    """The proxy does not serve that model name."""

    kind = "model_not_found"
    http_status = 400  # a request naming a model not on offer
    hint = "The model list may be out of date: refresh the models, then pick one the proxy serves."


class RateLimited(GatewayError):
    """The provider or the proxy asked us to slow down."""

    kind = "rate_limited"
    http_status = 429
    hint = "Wait a moment and try again."


class ContextWindowExceeded(GatewayError):
    """The conversation does not fit the model's context window."""

    kind = "context_window"
    http_status = 400
    hint = "Shorten the conversation (clear it or remove long messages), or pick a model with a larger window."


class ProviderError(GatewayError):
    """The provider behind the proxy failed or is not set up."""

    kind = "provider"
    http_status = 502
    hint = "The proxy is up but the provider failed. Check the provider's credentials and status in the proxy's logs."


class BadResponse(GatewayError):
    """The server answered something that is not what a LiteLLM proxy sends."""

    kind = "bad_response"
    http_status = 502
    hint = "Is LITELLM_BASE_URL pointing at a LiteLLM proxy, and not at another web server?"


class StreamInterrupted(GatewayError):
    """The reply broke off after it had started."""

    kind = "stream_interrupted"
    http_status = 502
    hint = "The partial reply is kept. Regenerate to try again."


class PromptTooLong(GatewayError):
    """A prompt larger than the app sends (MAX_PROMPT_CHARS): refused before anything is sent."""

    kind = "prompt_too_long"
    http_status = 400
    hint = ("Nothing was sent, and your text is kept: download it, shorten it or send it in parts. "
            "MAX_PROMPT_CHARS sets the limit.")


def map_error(exc: BaseException, *, secrets: tuple[str | None, ...] = (), mid_stream: bool = False) -> GatewayError:
    """Map an httpx or openai exception (or a GatewayError) onto a GatewayError; its texts are redacted, `secrets`
    too (beyond the registered keys)."""
    error = exc if isinstance(exc, GatewayError) else _map(exc, mid_stream)
    if mid_stream and isinstance(error, (ProxyUnreachable, ProxyTimeout, BadResponse)):  # the connection broke
        error = StreamInterrupted(f"The reply broke off: {error.message}")
    if secrets:
        error.message = redact(error.message, secrets)
        error.hint = redact(error.hint, secrets)
    return error


def _map(exc: BaseException, mid_stream: bool) -> GatewayError:
    if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException)):
        if isinstance(exc, httpx.ConnectTimeout):
            return ProxyUnreachable("Timed out connecting to the server.")
        return ProxyTimeout("The server did not answer in time.")
    if isinstance(exc, (openai.APIConnectionError, httpx.TransportError)):
        return ProxyUnreachable(f"Could not connect to the server: {_cause_text(exc)}")
    if isinstance(exc, openai.APIStatusError):
        return from_status(exc.status_code, _body_message(exc.body) or exc.message,
                           retry_after=_retry_after(exc.response.headers))
    if isinstance(exc, httpx.HTTPStatusError):
        return from_status(exc.response.status_code, error_text(exc.response),
                           retry_after=_retry_after(exc.response.headers))
    if isinstance(exc, openai.APIError):  # an error event inside a 200 stream
        message = _body_message(exc.body) or exc.message
        status = _status_in(exc.body)
        error = from_status(status, message) if status else None
        if error is not None and not isinstance(error, ProviderError):
            return error
        if mid_stream:
            return StreamInterrupted(f"The reply broke off: {message}")
        return ProviderError(message)
    if isinstance(exc, RecursionError):
        return BadResponse("The server's answer is nested too deeply to read: this does not look like a LiteLLM "
                           "proxy.")
    if isinstance(exc, (json.JSONDecodeError, ValueError)):
        return BadResponse(f"The server's answer could not be read: {str(exc)[:300]}")
    return GatewayError(f"{type(exc).__name__}: {exc}")


def from_status(status: int, message: str, *, retry_after: float | None = None) -> GatewayError:
    """The error a proxy means by an HTTP status and its error message."""
    text = message or f"HTTP {status}"
    lowered = text.lower()
    if "litellm.authenticationerror" in lowered or "missing credentials" in lowered:
        return ProviderError(text, status=status, hint=_NO_PROVIDER_KEY)  # the provider refused the proxy
    if "no connected db" in lowered or status in (401, 403) or "authentication" in lowered and status == 400:
        return AuthenticationFailed(f"The key was refused ({status}): {text}", status=status)
    if "contextwindowexceeded" in lowered or "context window" in lowered or "context_length_exceeded" in lowered:
        return ContextWindowExceeded(text, status=status)
    if "invalid model name" in lowered or status == 404 and "model" in lowered:
        return ModelNotFound(text, status=status)
    if status == 429 and "cooldown" in lowered:
        retry_after = retry_after or _seconds_in(text)
        return RateLimited(f"Every deployment of this model failed recently and is cooling down: {text}",
                           status=status, retry_after=retry_after, hint=_COOLDOWN)
    if status == 429:
        wait = f" Retry after {retry_after:g} s." if retry_after else ""
        return RateLimited(f"Rate limited: {text.rstrip('.')}.{wait}", status=status, retry_after=retry_after)
    if "api key" in lowered and status >= 500:
        return ProviderError(text, status=status, hint=_NO_PROVIDER_KEY)
    if status == 408 or status == 504:
        return ProxyTimeout(text, status=status)
    if status >= 500:
        return ProviderError(text, status=status)
    return GatewayError(f"HTTP {status}: {text}", status=status)


_NO_PROVIDER_KEY = ("The proxy has no working credentials for this model's provider: set the provider's key where "
                    "the proxy runs (its config reads it from the environment), then restart it.")
_COOLDOWN = ("The proxy pauses a model's deployments for a few seconds after failures (often missing provider "
             "credentials or rate limits). Try again shortly, and check the proxy's logs for the first failure.")


def _seconds_in(text: str) -> float | None:
    match = re.search(r"try again in (\d+(?:\.\d+)?) ?s", text, re.IGNORECASE)
    return float(match.group(1)) if match else None


def error_text(response: httpx.Response) -> str:
    """The message of a proxy error response: `error.message` when it is JSON, else the start of the body."""
    try:
        return _body_message(response.json()) or response.text[:300]
    except ValueError:
        return response.text[:300].strip() or response.reason_phrase


def _body_message(body: object) -> str:
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            message = inner.get("message") or inner.get("detail") or ""
            return _body_message(message) if isinstance(message, dict) else str(message)  # 1.53.1 nests one more
        if isinstance(inner, str):
            return inner
    return ""


def _status_in(body: object) -> int | None:
    inner = body.get("error", body) if isinstance(body, dict) else None
    code = inner.get("code") if isinstance(inner, dict) else None
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        return float(headers.get("retry-after", ""))
    except ValueError:
        return None


def _cause_text(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__ or exc
    text = str(cause) or type(cause).__name__
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return f"unknown host ({text})"
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused (nothing is listening on that port)"
    return text
