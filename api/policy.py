"""What every request to the app must be before anything answers it: the one ASGI middleware (`RequestPolicy`) in
front of the pages, their websocket and the API, so a route added later is covered without asking.

- **The name asked for** (DNS rebinding): while sign-in is off (AUTH_MODE=none), or in any mode once ALLOWED_HOSTS
  is set, the `Host` must be an IP address, `localhost` (or a `*.localhost` name), or a name ALLOWED_HOSTS lists
  (`*.example.com` for every subdomain, `*` for any). A page elsewhere that rebinds its own name to this machine
  sends its own name, and gets 421, on the API, the pages and the pages' websocket alike. (An IP address cannot be
  rebound, so `http://10.0.0.5:8501` keeps working.)
- **No cross-site writes** (CSRF), on every /api request that is not GET, HEAD or OPTIONS: a browser's
  `Sec-Fetch-Site` must say `same-origin` or `none`, and its `Origin`, when sent, must be the request's own host
  (403, in words); the body must be `application/json` (415), which no HTML form can send and no page elsewhere can
  send without the browser first asking permission the API never gives. A request with no body and no
  `Content-Type` (curl -X POST) needs none. Scripts (curl, httpx) send no `Origin` and are not affected.
- **Headers on every answer**: `X-Content-Type-Options: nosniff` (pages too), and `Cache-Control: no-store` on
  every /api answer but the OpenAPI document (usage, comparisons, catalogues per key: personal data).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from api.http import ApiError, current_settings, dumps
from gateway.config import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE = frozenset({"same-origin", "none"})  # Sec-Fetch-Site values of a request the app's own page (or the
# analyst, typing the address) made; `same-site` (a sibling subdomain) and `cross-site` are refused
JSON_TYPES = frozenset({"application/json"})
CACHED = frozenset({"/api/openapi.json"})  # the only API answer that is the same for everyone (when it is the document)


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def host_allowed(host: str | None, settings: Settings) -> bool:
    """May the app answer a request whose `Host` is `host`? (See the module's first point.)"""
    if settings.auth_mode != "none" and not settings.allowed_hosts:
        return True  # sign-in decides who is asking; the name is not an identity
    if host is None:
        return True  # HTTP/1.0 without a Host: not a browser, so not a page rebinding a name
    name = _hostname(host)
    if name is None:
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    if name == "localhost" or name.endswith(".localhost"):
        return True
    for allowed in settings.allowed_hosts:
        if allowed == "*" or name == allowed or allowed.startswith("*.") and name.endswith(allowed[1:]):
            return True
    return False


def _hostname(host: str) -> str | None:
    """The host name of a `Host` header (no port, lower-cased, no trailing dot), or None when it is not one."""
    try:
        parts = urlsplit(f"//{host}")
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None or parts.password is not None or parts.path \
            or parts.query or parts.fragment:
        return None
    return parts.hostname.lower().rstrip(".")


def _host_and_port(netloc: str) -> tuple[str, int | None] | None:
    try:
        parts = urlsplit(f"//{netloc}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname.lower().rstrip("."), port


def cross_site(headers: dict[str, str]) -> str | None:
    """Why a state-changing request is a page elsewhere acting in the analyst's browser, or None. `headers`: names
    lower-cased."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.strip().lower() not in SAME_SITE:
        return f"the browser says it was sent from another site (Sec-Fetch-Site: {fetch_site.strip()[:20]})"
    origin = headers.get("origin")
    if origin is None:
        return None
    if origin.strip().lower() == "null":
        return "it comes from a page with no origin (a sandboxed frame, a file or a redirect)"
    parts = urlsplit(origin.strip())
    sender = _host_and_port(parts.netloc) if parts.scheme in ("http", "https") else None
    own = _host_and_port(headers.get("host", ""))
    if sender is None or own is None or sender != own:
        return "it was sent by a page of another origin than this app's"
    return None


def refusal(scope: Scope, settings: Settings) -> ApiError | None:
    """Why this request may not be answered at all, or None."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    if not host_allowed(headers.get("host"), settings):
        return ApiError(421, "This app does not answer to the name this request was sent to (its Host header).",
                        hint="Open it by its own address: localhost, 127.0.0.1, or a name listed in ALLOWED_HOSTS "
                             "where the app runs (a page that rebinds its own name to this machine is refused).",
                        kind="wrong_host")
    if scope["type"] != "http" or not is_api(scope["path"]) or scope["method"] in SAFE_METHODS:
        return None
    if (why := cross_site(headers)) is not None:
        return ApiError(403, f"Refused: {why}. The API does not act for another web page.",
                        hint="Call the API from a script (curl, httpx) or from this app's own pages.",
                        kind="cross_site")
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    bodiless = headers.get("content-length", "0").strip() == "0" and "transfer-encoding" not in headers
    if media not in JSON_TYPES and (media or not bodiless):
        return ApiError(415, f"{scope['method']} {scope['path']} takes only Content-Type: application/json"
                             f"{'' if media else ' (none was sent)'}.",
                        hint="Send the body as JSON with the header Content-Type: application/json "
                             "(curl: -H 'Content-Type: application/json' --data '{…}').", kind="unsupported_media_type")
    return None


class RequestPolicy:
    """The ASGI middleware (`st.App(middleware=…)` in streamlit_app.py runs it before Streamlit's own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        settings = current_settings()
        refused = refusal(scope, settings)
        if refused is not None:
            if scope["type"] == "websocket":  # closed before it is accepted: the server answers 403
                await send({"type": "websocket.close", "code": 1008})
                return None
            return await _answer_refusal(scope, send, refused)
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        api = is_api(scope["path"])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                no_store = api and (scope["path"] not in CACHED or message["status"] >= 300)
                message["headers"] = _added(message.get("headers", []), no_store)
            await send(message)

        return await self.app(scope, receive, with_headers)


def _added(headers: list[tuple[bytes, bytes]], no_store: bool) -> list[tuple[bytes, bytes]]:
    names = {name.lower() for name, _ in headers}
    extra = [(b"x-content-type-options", b"nosniff")] if b"x-content-type-options" not in names else []
    if no_store and b"cache-control" not in names:
        extra.append((b"cache-control", b"no-store"))
    return [*headers, *extra]


async def _answer_refusal(scope: Scope, send: Send, refused: ApiError) -> None:
    """The refusal as JSON on the API, as plain text on the pages (never repeating what the request sent)."""
    if is_api(scope["path"]):
        body, media = dumps(refused.body()).encode(), b"application/json"
    else:
        body, media = f"{refused.message}\n{refused.hint}\n".encode(), b"text/plain; charset=utf-8"
    headers = [(b"content-type", media), (b"content-length", str(len(body)).encode()),
               (b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
