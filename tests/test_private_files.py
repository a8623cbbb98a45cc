"""Files stay with their owner: thumbnails are inline data, a download is handed to the analyst who clicked it for
that download only, and a browser's own HTTP request is its analyst's only under the same session rules as the
pages (Streamlit's signed identity cookie, refused once its analyst signed out or its session is over)."""

from __future__ import annotations

import base64
import io
import json
import time

import pytest
from PIL import Image
from starlette.requests import Request
from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

from api import browser
from api.browser import browser_analyst, identity_claims
from gateway.attachments.thumbnail import thumbnail_url
from gateway.config import load_settings
from gateway.handouts import FETCHES, HANDOUT_SECONDS, Handouts
from gateway.store import Store
from gateway.store import sign_outs as sign_out_times
from gateway.store.sign_outs import SignOuts
from tests.test_attachments import png

SECRET = "a-cookie-secret-for-these-tests"
ORIGIN = "http://127.0.0.1:8501"


# --- Thumbnails ------------------------------------------------------------------------------------------------------

def test_a_thumbnail_is_a_small_inline_webp_image():
    url = thumbnail_url(png(3000, 1500), 240)
    assert url is not None and url.startswith("data:image/webp;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert image.format == "WEBP" and image.size == (480, 240)
    assert len(url) < 20_000
    assert thumbnail_url(png(3000, 1500), 240) is url  # made once
    assert thumbnail_url(png(100, 50, mode="RGBA"), 240).startswith("data:image/webp")  # small ones stay small
    assert thumbnail_url(b"not an image", 240) is None


# --- Handouts --------------------------------------------------------------------------------------------------------

def test_a_handout_answers_its_owner_for_the_download_only():
    desk = Handouts()
    desk.hand_out(b"ana's export", "ana@example.com", now=0)
    assert not desk.claim(b"ana's export", "ben@example.com", now=1)  # another analyst: nothing, and nothing used
    assert not desk.claim(b"someone else's", "ana@example.com", now=1)
    assert desk.claim(b"ana's export", "ana@example.com", now=1)  # the page checks the link,
    assert desk.claim(b"ana's export", "ana@example.com", now=1)  # then saves it;
    assert not desk.claim(b"ana's export", "ana@example.com", now=2)  # then it is gone
    assert desk.waiting() == {}


def test_a_handout_not_fetched_in_time_is_forgotten():
    desk = Handouts()
    desk.hand_out(b"export", "ana@example.com", now=0)
    assert desk.waiting() == {"ana@example.com": 1}
    assert not desk.claim(b"export", "ana@example.com", now=HANDOUT_SECONDS)
    assert desk.waiting() == {}


def test_the_same_bytes_handed_to_two_analysts_are_two_handouts():
    desk = Handouts()
    desk.hand_out(b"same", "ana@example.com", now=0)
    desk.hand_out(b"same", "ben@example.com", now=0)
    assert [desk.claim(b"same", "ben@example.com", now=1) for _ in range(FETCHES + 1)] == [True] * FETCHES + [False]
    assert desk.claim(b"same", "ana@example.com", now=1)


# --- A browser's own requests ------------------------------------------------------------------------------------------

@pytest.fixture
def oidc(monkeypatch, tmp_path):
    import streamlit.auth_util as auth_util
    import streamlit.web.server.server_util as server_util

    monkeypatch.setattr(server_util, "get_cookie_secret", lambda: SECRET)
    monkeypatch.setattr(auth_util, "get_origin_from_redirect_uri", lambda: ORIGIN)
    sign_out_times.forget()
    settings = load_settings({"AUTH_MODE": "oidc", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite"}, secrets={},
                             dotenv_path=None)
    yield settings
    sign_out_times.forget()


def request_with(cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if cookies:
        raw.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
    return Request({"type": "http", "method": "GET", "path": "/media/x.json", "headers": raw, "query_string": b""})


def cookie(claims: dict, *, secret: str = SECRET) -> dict[str, str]:
    """Streamlit's identity cookie for these claims, as its sign-in sets it."""
    value = json.dumps({**claims, "origin": ORIGIN, "is_logged_in": True, "provider": "default"})
    return {browser.USER_COOKIE: create_signed_value(secret, browser.USER_COOKIE, value).decode()}


def ana(issued: float | None = None) -> dict:
    issued = int(time.time()) - 60 if issued is None else int(issued)
    return {"sub": "ana", "email": "Ana@Example.com", "name": "Ana", "iat": issued, "exp": issued + 3600}


def test_the_identity_cookie_names_its_analyst(oidc):
    who = browser_analyst(request_with(cookie(ana())), oidc)
    assert who is not None and who.id == "ana@example.com"


def test_no_cookie_a_forged_one_or_one_for_another_origin_names_nobody(oidc):
    assert browser_analyst(request_with(), oidc) is None
    assert browser_analyst(request_with(cookie(ana(), secret="not-the-apps-secret")), oidc) is None
    assert browser_analyst(request_with({browser.USER_COOKIE: "garbage"}), oidc) is None
    other = {browser.USER_COOKIE: create_signed_value(SECRET, browser.USER_COOKIE, json.dumps(
        {**ana(), "origin": "http://elsewhere.example", "is_logged_in": True})).decode()}
    assert identity_claims(request_with(other).cookies) == {}


def test_a_cookie_from_before_the_analysts_sign_out_names_nobody(oidc):
    copied = cookie(ana())
    store = Store.open(oidc.database_url)
    try:
        SignOuts(store).record("ana@example.com", time.time())
        from gateway.store import store as stores

        stores._stores[oidc.database_url] = store  # the store get_store(settings) gives
        assert browser_analyst(request_with(copied), oidc) is None
        again = browser_analyst(request_with(cookie(ana(issued=time.time() + 1))), oidc)  # signed in again
        assert again is not None and again.id == "ana@example.com"
    finally:
        stores._stores.pop(oidc.database_url, None)
        store.close()


def test_a_cookie_older_than_a_session_names_nobody(oidc):
    assert browser_analyst(request_with(cookie(ana(issued=time.time() - 7200))), oidc) is None


def test_header_and_local_modes_name_the_analyst_as_the_pages_do():
    header = load_settings({"AUTH_MODE": "header"}, secrets={}, dotenv_path=None)
    found = browser_analyst(request_with(headers={"X-Forwarded-Email": "Ben@Example.com"}), header)
    assert found is not None and found.id == "ben@example.com"
    assert browser_analyst(request_with(), header) is None
    local = browser_analyst(request_with(), load_settings({}, secrets={}, dotenv_path=None))
    assert local is not None and local.id == "local"
