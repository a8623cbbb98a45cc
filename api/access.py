"""Who is calling the API: the one place a request becomes an analyst id, or a refusal.

Sign-in does not exist yet, so the API is open: every caller is the one local analyst (`gateway.store.LOCAL_OWNER`,
the owner the pages use too, so a comparison made over HTTP opens on the Compare page). An open API answers only
the machine itself (a loopback client address) unless `API_ALLOW_REMOTE=true`.

Sign-in plugs in here, and nowhere else: in header mode `identify` reads the same header the pages trust
(`AUTH_HEADER`, set by the SSO proxy in front); in OIDC mode it checks a personal API token
(`Authorization: Bearer …`) against the stored hashes. Either way it returns the analyst id or a `Refusal` (401).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from gateway.config import Settings
from gateway.store import LOCAL_OWNER


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
    "where the app runs to open it to every host that can reach the port (anyone can then call it: there is no "
    "sign-in yet).", "forbidden")


def identify(request: HTTPConnection, settings: Settings) -> str | Refusal:
    """The analyst id this request acts for, or why it is refused."""
    if settings.api_allow_remote or is_loopback(request.client.host if request.client else None):
        return LOCAL_OWNER
    return REMOTE_REFUSED


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
