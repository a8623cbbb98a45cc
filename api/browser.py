"""Who a browser's own HTTP request (not the API's) comes from, as the pages would see that browser: the one local
analyst with sign-in off, the proxy's header in `AUTH_MODE=header`, and with `AUTH_MODE=oidc` Streamlit's signed
identity cookie, under the same session rules as the pages (gateway/analyst.py `session_end`: refused after the
analyst signed out, or once the session is older than it may be). None: nobody, or a sign-in that is over.

The API itself never takes the cookie (a script sends a personal token; a cookie would let any page the analyst
visits call the API as them): this is for what a page hands its own browser, the media guard's downloads.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping

from starlette.requests import HTTPConnection

from gateway import analyst as analysts
from gateway.analyst import LOCAL, Analyst
from gateway.config import Settings
from gateway.store import get_store
from gateway.store.sign_outs import SignOuts

log = logging.getLogger(__name__)
USER_COOKIE = "_streamlit_user"  # Streamlit's identity cookie (starlette_server_config.USER_COOKIE_NAME)


def browser_analyst(request: HTTPConnection, settings: Settings) -> Analyst | None:
    """The analyst whose browser sent `request`, or None. Reads the database in oidc mode (run it in a thread)."""
    if settings.auth_mode == "none":
        return LOCAL
    if settings.auth_mode == "header":
        headers = request.headers
        found = analysts.from_headers({name: headers.getlist(name) for name in headers}, settings)
        return found if isinstance(found, Analyst) else None
    if settings.auth_mode == "oidc":
        claims = identity_claims(request.cookies)
        who = analysts.from_claims(claims, settings) if claims else None
        if not isinstance(who, Analyst):
            return None
        ended = analysts.session_end(who, claims, settings, signed_out_at=SignOuts(get_store(settings)).last(who.id),
                                     now=time.time())
        return who if ended is None else None
    return None


def identity_claims(cookies: Mapping[str, str]) -> dict[str, object]:
    """What Streamlit's identity cookie holds (the provider's claims, `is_logged_in`), when it is there, signed with
    this app's cookie secret and made for this app's origin; else {}."""
    if USER_COOKIE not in cookies:
        return {}
    try:  # Streamlit's own reading of its cookie (chunked when large, itsdangerous-signed)
        from streamlit.auth_util import get_cookie_with_chunks, get_origin_from_redirect_uri
        from streamlit.web.server.server_util import get_cookie_secret
        from streamlit.web.server.starlette.starlette_app_utils import decode_signed_value

        secret = get_cookie_secret()

        def single(name: str) -> bytes | None:
            value = cookies.get(name)
            return None if value is None else decode_signed_value(secret, name, value.encode("latin-1"))

        raw = get_cookie_with_chunks(single, USER_COOKIE)
        payload = json.loads(raw) if raw else None
        origin = get_origin_from_redirect_uri()
    except Exception:  # noqa: BLE001 - a cookie that cannot be read names nobody
        log.warning("browser: an identity cookie could not be read", exc_info=True)
        return {}
    if not isinstance(payload, dict) or origin is None or payload.get("origin") != origin:
        return {}
    return payload
