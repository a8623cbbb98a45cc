"""Who is calling the API: the one place a request becomes an analyst (`gateway.analyst.Analyst`), or a refusal.

The API follows the pages' sign-in (`AUTH_MODE`, gateway/analyst.py):
- `none`: every caller is the one local analyst (`LOCAL`, the owner the pages use too, so a comparison made over
  HTTP opens on the Compare page). An open API answers only the machine itself (a loopback client address) unless
  `API_ALLOW_REMOTE=true`.
- `header`: the analyst is the e-mail in `AUTH_HEADER`, read exactly as the pages read it (`from_headers`); a call
  without a usable one is refused (401), whatever its address.
- `oidc`: the API would take personal API tokens an analyst creates on a page; this version issues none yet, so
  every call is refused (401) rather than answered as somebody.
- an `AUTH_MODE` that is not understood: nobody gets in, as on the pages.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from gateway.analyst import LOCAL, Analyst, from_headers
from gateway.config import Settings


@dataclass(frozen=True)
class Refusal:
    """Why a request may not be answered: the HTTP status and the plain words the JSON error carries."""

    status: int
    message: str
    hint: str
    kind: str


REMOTE_REFUSED = Refusal(
    403, "The API answers only this machine (a loopback address) while sign-in is off.",
    "Call it from the host the app runs on (curl http://127.0.0.1:8501/api/models), or set API_ALLOW_REMOTE=true "
    "where the app runs to open it to every host that can reach the port (anyone can then call it: sign-in is off, "
    "AUTH_MODE=none).", "forbidden")
OIDC_REFUSED = Refusal(
    401, "With OpenID Connect sign-in (AUTH_MODE=oidc) the API needs a personal API token, and this version of the "
         "dashboard does not issue them yet: nobody can call it.",
    "Use the pages (sign in there), or run the app behind your SSO proxy with AUTH_MODE=header, where the API takes "
    "the same header as the pages.", "unauthenticated")
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
        if who is not None:
            return who
        return Refusal(401, f"The API needs the {settings.auth_header} header your sign-in proxy sets (one e-mail "
                            "address), as the pages do; this request has none that can be used.",
                       "Call the API through the same sign-in proxy as the pages (it adds the header), not the "
                       "app's port directly.", "unauthenticated")
    if settings.auth_mode == "oidc":
        return OIDC_REFUSED
    return MISCONFIGURED


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
