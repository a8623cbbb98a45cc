"""Sign-out ends the session, and an analyst's files stay with them (Chromium, a real OpenID Connect provider).

Ana signs in, attaches an image, chats and downloads her chat and comparison exports. Her thumbnail is drawn inline
(no link exists); each download's link answers her browser once, and never Ben's browser or a request without a
cookie, at once or after she signed out. A copy of her identity cookies, loaded into a fresh browser after she signed
out, shows only the sign-in screen; so does a copy whose session is older than a sign-in lasts.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer
from playwright.sync_api import BrowserContext, Page, Route

from scripts.services import Service
from tests.browser.test_sign_in import (  # noqa: F401 - fixtures
    SECRET,
    only_sign_in,
    provider,
    sign_in,
    watched,
)
from tests.support.app import proxy_env, start_app
from tests.support.browser import open_page, wait_idle
from tests.support.proxy import Proxy, free_port
from tests.test_attachments import png

pytestmark = pytest.mark.browser

COOKIE = "_streamlit_user"
COOKIE_SECRET = secrets.token_hex(32)


@pytest.fixture(scope="module")
def app(proxy: Proxy, provider: str, tmp_path_factory) -> Iterator[Service]:  # noqa: F811
    """The app with AUTH_MODE=oidc, a cookie secret this test knows (to age a copied cookie), and the provider."""
    port = free_port()
    secrets_file = tmp_path_factory.mktemp("oidc-files") / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{COOKIE_SECRET}"\n'
        'client_id = "llm-dashboard"\n'
        'client_secret = "not-a-real-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n')
    server = start_app({**proxy_env(proxy), "AUTH_MODE": "oidc"}, port=port, secrets_file=secrets_file)
    yield server
    server.stop()


def download(page: Page, label: str) -> tuple[str, bytes]:
    """Click a download button: the link it was served from, and what arrived."""
    with page.expect_download() as started:
        page.get_by_role("button", name=label, exact=True).click()
    done = started.value
    path = done.path()
    return done.url, path.read_bytes()


def unfetched_link(page: Page, label: str) -> str:
    """Click a download button with the page's requests for /media/ stopped: the link, never fetched."""
    seen: list[str] = []

    def stop(route: Route) -> None:
        seen.append(route.request.url)
        route.abort()

    page.route("**/media/**", stop)
    try:
        page.get_by_role("button", name=label, exact=True).click()
        deadline = time.monotonic() + 30
        while not seen and time.monotonic() < deadline:
            page.wait_for_timeout(50)
    finally:
        page.unroute("**/media/**")
    assert seen, "the download button asked for no link"
    return seen[0]


def nothing_for(url: str, *contexts: BrowserContext) -> None:
    """`url` gives these browsers, and a request with no cookie at all, nothing."""
    assert httpx.get(url, timeout=10).status_code == 404
    for context in contexts:
        answer = context.request.get(url)
        assert answer.status == 404 and SECRET.encode() not in answer.body(), url


def identity(context: BrowserContext) -> dict:
    """The claims in the context's identity cookie (signed with the app's cookie secret)."""
    cookie = next(c for c in context.cookies() if c["name"] == COOKIE)
    return json.loads(URLSafeTimedSerializer(COOKIE_SECRET, salt=COOKIE).loads(cookie["value"]))


@pytest.mark.timeout(900)  # two sign-ins, a chat, a comparison and a sign-out: slow on a busy 2-core machine
def test_files_stay_with_their_owner_and_sign_out_ends_the_session(app, watched, tmp_path):  # noqa: F811
    image = tmp_path / "plan.png"
    image.write_bytes(png(1200, 600))
    ana = watched(accept_downloads=True)
    media: list[str] = []
    ana.page.on("request", lambda request: media.append(request.url) if f"{app.url}/media/" in request.url else None)
    failed: list[str] = []  # nothing the page itself loads (its fonts under /static/media/) may be refused
    ana.page.on("response", lambda response: failed.append(response.url)
                if response.status >= 400 and "/static/" in response.url else None)
    sign_in(ana.page, app, "ana")
    claims = identity(ana.context)
    assert isinstance(claims.get("iat"), int) and isinstance(claims.get("exp"), int)  # what the session rules read

    # Her chat, with an image: the thumbnail is inline, no /media/ link is ever asked for.
    open_page(ana.page, app.url + "/chat?model=demo-vision")
    with ana.page.expect_file_chooser() as chooser:
        ana.page.locator("[data-testid='stChatInputFileUploadButton'] button").click()
    chooser.value.set_files([str(image)])
    ana.page.locator("[data-testid='stChatInput'] textarea").fill(SECRET)
    ana.page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stChatInputSubmitButton']\").disabled")
    ana.page.locator("[data-testid='stChatInputSubmitButton']").click()
    ana.page.wait_for_url("**c=*", timeout=90_000)
    wait_idle(ana.page)
    chat_link = ana.page.url
    thumbnail = ana.page.locator("[data-testid='stChatMessage'] img").first
    thumbnail.wait_for()
    assert thumbnail.get_attribute("src").startswith("data:image/webp;base64,")
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth") > 0  # it shows
    assert media == [] and failed == []

    # Her chat's export: built on her click, fetched by her browser, and then gone.
    chat_url, chat_json = download(ana.page, "JSON")
    assert "/media/" in chat_url and SECRET in chat_json.decode()
    assert ana.context.request.get(chat_url).status == 404

    # Her comparison's exports download too.
    open_page(ana.page, app.url + "/compare?models=demo-fast,demo-slow")
    ana.page.locator("[data-testid='stChatInput'] textarea").fill(SECRET)
    ana.page.keyboard.press("Enter")
    for reply in ("Hello! I am the fast demo model.", "I am the slow demo model, thinking carefully."):
        ana.page.get_by_text(reply).first.wait_for(timeout=60_000)
    ana.page.get_by_role("heading", name="Export").wait_for(timeout=60_000)
    wait_idle(ana.page)
    for label in ("Markdown", "CSV"):
        _, body = download(ana.page, label)
        assert SECRET in body.decode(), label

    # A link she has not fetched yet (her page's fetches stopped on the way): Ben's browser and a request without a
    # cookie get nothing from it; her own browser does get it. (Asked at once: Streamlit itself drops a download's
    # file after two more page runs on the server, whoever's.)
    ben = watched()
    sign_in(ben.page, app, "ben")
    waiting = unfetched_link(ana.page, "JSON")
    nothing_for(waiting, ben.context)
    answer = ana.context.request.get(waiting)
    assert answer.status == 200 and SECRET in answer.text()
    assert not ben.received("ZEBRA-4711")

    # A copy of her cookies; then she signs out.
    copied = ana.context.cookies()
    ana.page.goto(chat_link)
    wait_idle(ana.page)
    ana.page.locator("[data-testid='stSidebar']").get_by_role("button", name="Sign out").click()
    ana.page.wait_for_url("**/oauth2/end_session**")
    ana.page.get_by_role("button", name="End session").click()
    ana.page.wait_for_url(f"{app.url}/**")
    wait_idle(ana.page)
    only_sign_in(ana.page)

    # The copy, in a fresh browser: only the sign-in screen, and nothing from her links.
    replay = watched()
    replay.context.add_cookies(copied)
    open_page(replay.page, chat_link)
    only_sign_in(replay.page)
    replay.page.get_by_text("You signed out").wait_for()
    assert not replay.received("ZEBRA-4711")
    for url in (chat_url, waiting):
        nothing_for(url, replay.context, ben.context)

    # She signs in again: her chat is hers again, and its export downloads.
    sign_in(ana.page, app, "ana")
    open_page(ana.page, chat_link)
    ana.page.get_by_text(SECRET).first.wait_for()
    _, again = download(ana.page, "JSON")
    assert SECRET in again.decode()


def test_a_copied_cookie_older_than_a_session_shows_only_sign_in(app, watched):  # noqa: F811
    ben = watched()  # (Ben: he has not signed out in this module)
    sign_in(ben.page, app, "ben")
    cookies = ben.context.cookies()
    claims = identity(ben.context)
    issued = int(time.time()) - 2 * 3600  # the same sign-in, aged: issued two hours ago, its token valid for one
    aged = {**claims, "iat": issued, "exp": issued + 3600}
    signer = URLSafeTimedSerializer(COOKIE_SECRET, salt=COOKIE)
    replay = watched()
    replay.context.add_cookies([{**c, "value": signer.dumps(json.dumps(aged))} if c["name"] == COOKIE else c
                                for c in cookies])
    open_page(replay.page, app.url + "/chat")
    only_sign_in(replay.page)
    replay.page.get_by_text("Your session ended").wait_for()
    replay.page.get_by_role("button", name="Sign in").wait_for()

    fresh = watched()  # the control: the same cookie, not aged, opens the app
    fresh.context.add_cookies(cookies)
    open_page(fresh.page, app.url + "/chat")
    fresh.page.get_by_text("Signed in as Ben Builder").wait_for()
