"""Who is using the app: the signed-in analyst, the sign-in screen, and who the sidebar says is signed in.

`AUTH_MODE` (gateway/analyst.py) decides where identity comes from: nobody (`none`, the one local analyst),
Streamlit's own OpenID Connect sign-in (`oidc`: `st.login()`, `st.user`, `[auth]` in secrets.toml), or a header an
SSO reverse proxy sets (`header`: `st.context.headers`). Pages ask here, never the store or Streamlit, so the rest of
the app only ever sees an `Analyst`: `owner()` for saved work, `attribution()` for requests to the proxy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import streamlit as st

import gateway
from gateway import analyst as analysts
from gateway.analyst import LOCAL, Analyst, Ended, Refused
from gateway.attribution import Attribution
from gateway.config import Settings
from gateway.sending import Sender
from gateway.store import get_store
from gateway.store.records import Unavailable
from gateway.store.sign_outs import SignOuts
from ui.markdown import plain

log = logging.getLogger(__name__)


CONNECTED = "_analyst_connected"  # session key: (analyst id, when this session first saw them) in header mode


def current(settings: Settings | None = None) -> Analyst | Refused | Ended | None:
    """The analyst of this session; None when nobody is signed in; `Refused` for a sign-in that cannot be used;
    `Ended` for one that is over (signed out since, or older than a session lasts)."""
    settings = settings or gateway.load_settings()
    if settings.auth_mode == "none":
        return LOCAL
    if settings.auth_mode == "oidc":
        claims = st.user.to_dict()
        who = analysts.from_claims(claims, settings)
        return _oidc_session(who, claims, settings) if isinstance(who, Analyst) else who
    if settings.auth_mode == "header":  # the API's rule too (api/access.py): one address, the proxy's secret if set
        headers = st.context.headers
        found = analysts.from_headers({name: headers.get_all(name) for name in headers}, settings)
        return _header_session(found, settings) if isinstance(found, Analyst) else found
    return None  # an AUTH_MODE that is not understood: nobody gets in (see config._parse_auth_mode)


def _oidc_session(analyst: Analyst, claims: Mapping[str, object], settings: Settings) -> Analyst | Ended:
    """The analyst, while their sign-in is still good (gateway/analyst.py `session_end`)."""
    signed_out_at = SignOuts(get_store(settings)).last(analyst.id)
    ended = analysts.session_end(analyst, claims, settings, signed_out_at=signed_out_at, now=time.time())
    return analyst if ended is None else ended


def _header_session(analyst: Analyst, settings: Settings) -> Analyst | Ended:
    """The analyst the proxy names, while this page has not been open longer than a session lasts."""
    seen = st.session_state.get(CONNECTED)
    if not seen or seen[0] != analyst.id:
        seen = st.session_state[CONNECTED] = (analyst.id, time.time())
    ended = analysts.header_session_end(analyst, seen[1], settings, now=time.time())
    return analyst if ended is None else ended


def signed_in(settings: Settings | None = None) -> Analyst:
    """The analyst of this session. A session without one sees the sign-in screen and nothing else: the run ends."""
    settings = settings or gateway.load_settings()
    who = current(settings)
    if isinstance(who, Analyst):
        return who
    sign_in_screen(settings, who)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises; for type checkers


def owner() -> str:
    """The analyst id that owns what this session saves and may open."""
    return signed_in().owner()


def attribution(page: str, conversation_id: str | None = None) -> Attribution:
    """Who this session's requests to the proxy are for (see gateway/attribution.py)."""
    return Attribution(owner(), page, conversation_id)


def sender(page: str, conversation_id: str | None = None) -> Sender:
    """Who this session's calls are for, as the sending door wants it (gateway/sending.py): attribution, budget."""
    who = signed_in()
    return Sender(who.id, page, conversation_id, admin=who.admin)


# --- Drawing -------------------------------------------------------------------------------------------------------

def sign_in_screen(settings: Settings, refused: Refused | Ended | None) -> None:
    """What a visitor who is not signed in sees, whatever page they asked for: no models, no health, no history."""
    st.title("Sign in")
    if isinstance(refused, Ended):
        log.info("sign-in: a sign-in that is over was refused (signed out since, or older than a session lasts)")
        st.info(plain(refused.reason), icon=":material/timer_off:")
        refused = None
        if settings.auth_mode == "header":
            return
    if settings.auth_mode == "oidc":
        _oidc_sign_in(refused)
    elif settings.auth_mode == "header":
        log.warning("sign-in: a session arrived without a usable %s header%s", settings.auth_header,
                    f": {refused.reason}" if refused is not None else "")
        if refused is not None:  # the reason never repeats the header's value
            st.warning(plain(refused.reason), icon=":material/person_off:")
        st.info("This dashboard is opened through your company's sign-in. Open it from the company link (or sign "
                "in there again), then reload this page.", icon=":material/lock:")
    else:
        st.error("Sign-in is misconfigured (AUTH_MODE), so nobody can sign in. Whoever runs this app can see why "
                 "in its settings.", icon=":material/settings:")


def _oidc_sign_in(refused: Refused | None) -> None:
    if refused is not None:
        st.warning(plain(refused.reason), icon=":material/person_off:")  # it names the provider's e-mail
        st.button("Sign out", icon=":material/logout:", on_click=st.logout, key="analyst_sign_out_refused")
        return
    providers = _providers()
    if providers is None:
        st.error("Sign-in is switched on (AUTH_MODE=oidc) but `[auth]` in .streamlit/secrets.toml is missing or "
                 "incomplete (redirect_uri, cookie_secret, client_id, client_secret, server_metadata_url). See the "
                 "README's “Analysts and sign-in”.", icon=":material/settings:")
        return
    st.write("This dashboard is for the team's analysts: sign in with your company account to see your chats, "
             "comparisons and usage.")
    for provider in providers:
        label = "Sign in" if provider is None else f"Sign in with {plain(provider.replace('_', ' ').title())}"
        st.button(label, icon=":material/login:", type="primary", key=f"analyst_sign_in_{provider or 'default'}",
                  on_click=st.login, args=(provider,) if provider else ())


def _providers() -> list[str | None] | None:
    """The `[auth]` providers to offer (None: the default one), or None when sign-in is not configured."""
    try:
        section = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - a broken secrets file: not configured
        return None
    if section is None or not hasattr(section, "get"):
        return None
    named = [name for name, value in section.items() if hasattr(value, "get") and value.get("client_id")]
    found: list[str | None] = ([None] if section.get("client_id") else []) + sorted(named)
    shared = all(section.get(k) for k in ("redirect_uri", "cookie_secret"))
    return found if found and shared else None


def sidebar_identity(analyst: Analyst, settings: Settings) -> None:
    """Who is signed in and how to sign out (oidc), or that sign-in is off. Drawn inside the sidebar."""
    if settings.auth_mode == "none":
        st.caption(":material/person: Sign-in is off: one local analyst.")
        return
    role = " · admin" if analyst.admin else ""
    st.caption(f":material/person: Signed in as **{plain(analyst.name)}**{role}")
    if analyst.name != analyst.id:
        st.caption(plain(analyst.id))
    if settings.auth_mode == "oidc":
        st.button("Sign out", icon=":material/logout:", on_click=sign_out, args=(analyst, settings),
                  key="analyst_sign_out", width="stretch")


def sign_out(analyst: Analyst, settings: Settings) -> None:
    """End the analyst's sign-in: keep the time (so copies of this browser's identity cookies, and every older
    sign-in of theirs, are refused from now on), then Streamlit clears the cookies and ends the provider's session."""
    at = analysts.sign_out_time(st.user.to_dict(), time.time())
    kept = SignOuts(get_store(settings)).record(analyst.id, at)
    if isinstance(kept, Unavailable):  # the cookies are still cleared; a copy lasts until the session's end
        log.warning("sign-out: the time could not be kept (%s); copies of the identity cookie stay good until the "
                    "session ends", kept)
    st.logout()

