"""Who is calling the API: the one place a request becomes an analyst (`gateway.analyst.Analyst`), or a refusal.

The API follows the pages' sign-in (`AUTH_MODE`, gateway/analyst.py):
- `none`: every caller is the one local analyst (`LOCAL`, the owner the pages use too, so a comparison made over
  HTTP opens on the Compare page). An open API answers only the machine itself (a loopback client address) unless
  `API_ALLOW_REMOTE=true`.
- `header`: the analyst is the e-mail in `AUTH_HEADER`, read exactly as the pages read it (`from_headers`: exactly
  one address, AUTH_HEADER_PREFIX removed only when set, and AUTH_PROXY_SECRET's header when set); a call without a
  usable one is refused (401, with a `WWW-Authenticate` challenge naming the header), whatever its address.
- `oidc`: the analyst whose personal API token the request carries (`Authorization: Bearer dash_…`, created and
  revoked on the Usage page, gateway/api_tokens.py); without one, or with one that was revoked or never issued, the
  call is refused (401). The lookup reads the database: `needs_database` says so, and the caller runs it in a
  worker thread.
- an `AUTH_MODE` that is not understood: nobody gets in, as on the pages.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from gateway import api_tokens
from gateway.analyst import LOCAL, Analyst, Refused, from_headers, is_admin
from gateway.config import Settings
from gateway.store import Unavailable, get_store


@dataclass(frozen=True)
class Refusal:
    """Why a request may not be answered: the HTTP status and the plain words the JSON error carries."""

    status: int
    message: str
    hint: str
    kind: str
    challenge: str | None = None  # the WWW-Authenticate header of a 401 (RFC 6750 for a token; every 401 has one)


REMOTE_REFUSED = Refusal(
    403, "The API answers only this machine (a loopback address) while sign-in is off.",
    "Call it from the host the app runs on (curl http://127.0.0.1:8501/api/models), or set API_ALLOW_REMOTE=true "
    "where the app runs to open it to every host that can reach the port (anyone can then call it: sign-in is off, "
    "AUTH_MODE=none).", "forbidden")
NO_TOKEN = Refusal(
    401, "The API needs your personal API token (sign-in is OpenID Connect, AUTH_MODE=oidc): this request carries "
         "none.", "Create one on the Usage page (API tokens) and send it as `Authorization: Bearer <token>`.",
    "unauthenticated", 'Bearer realm="api"')
BAD_TOKEN = Refusal(
    401, "This API token is not valid: it was revoked, or this dashboard never issued it.",
    "Create a new one on the Usage page (API tokens); the page lists the ones you have by their first characters.",
    "unauthenticated", 'Bearer realm="api", error="invalid_token"')
MISCONFIGURED = Refusal(
    503, "Sign-in is misconfigured (AUTH_MODE), so nobody can call the API.",
    "Set AUTH_MODE to none, header or oidc where the app runs; the pages' sidebar names the problem.", "configuration")


def identify(request: HTTPConnection, settings: Settings) -> Analyst | Refusal:
    """The analyst this request acts for, or why it is refused."""
    if settings.auth_mode == "none":
        if settings.api_allow_remote or is_loopback(request.client.host if request.client else None):
            return LOCAL
        return REMOTE_REFUSED
    if settings.auth_mode == "header":
        headers = request.headers
        who = from_headers({name: headers.getlist(name) for name in headers}, settings)
        if isinstance(who, Analyst):
            return who
        why = f" {who.reason}" if isinstance(who, Refused) else " This request has none."
        return Refusal(401, f"The API needs the {settings.auth_header} header your sign-in proxy sets (one e-mail "
                            f"address), as the pages do.{why}",
                       "Call the API through the same sign-in proxy as the pages (it adds the header), not the "
                       "app's port directly.", "unauthenticated",
                       f'SignInProxy realm="api", header="{settings.auth_header}"')
    if settings.auth_mode == "oidc":
        return from_token(request, settings)
    return MISCONFIGURED


def needs_database(settings: Settings) -> bool:
    """`identify` reads the database in this mode (a token's owner): call it from a worker thread."""
    return settings.auth_mode == "oidc"


def from_token(request: HTTPConnection, settings: Settings) -> Analyst | Refusal:
    """The analyst whose live API token the request carries. (The token is never repeated in a refusal.)"""
    token = api_tokens.bearer(request.headers.getlist("authorization"))
    if token is None:
        return NO_TOKEN
    owner = api_tokens.owner_of(get_store(settings), token)
    if isinstance(owner, Unavailable):
        return Refusal(503, "API tokens cannot be checked now: the app's database is not answering.",
                       "Try again in a moment.", "unavailable")
    if owner is None:
        return BAD_TOKEN
    return Analyst(owner, owner, is_admin(owner, settings))


def is_loopback(host: str | None) -> bool:
    """The client address is this machine's (127.0.0.0/8, ::1, or ::ffff:127.x.x.x).

    Behind a reverse proxy on the same host every request comes from loopback: the proxy must send
    `X-Forwarded-For`, which the server (uvicorn) trusts from 127.0.0.1 and turns into the real client address.
    """
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))
