"""Analysts as people, in Chromium: sign-in with Streamlit's own st.login() against a real local OpenID Connect
provider (`oidc-provider-mock`), and identity from a reverse proxy's header. Each analyst sees only their own work:
another's conversation link says "not found", and none of its text reaches the other browser (page or websocket).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from scripts.services import Service, launch, wait_until_ready
from tests.support.app import proxy_env, start_app
from tests.support.browser import new_context, open_page, screenshot, wait_idle
from tests.support.proxy import Proxy, free_port

pytestmark = pytest.mark.browser

USERS = {"ana": {"sub": "ana", "email": "Ana@Example.com", "name": "Ana Analyst"},
         "ben": {"sub": "ben", "email": "ben@example.com", "name": "Ben Builder"}}
SECRET = "ZEBRA-4711 is Ana's private plan"  # only Ana's browser may ever receive this
PAGE_PATHS = ("/", "/chat", "/chat?c=0123456789abcdef0123456789abcdef", "/compare?models=demo-fast,demo-slow",
              "/models", "/health", "/usage", "/shared", "/shared?s=made-up-token-0123456789abcdef")


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """A real OpenID Connect provider on a free loopback port, with Ana and Ben as predefined users."""
    port = free_port()
    argv = [str(Path(sys.executable).with_name("oidc-provider-mock")), "--port", str(port)]
    for claims in USERS.values():
        argv += ["--user-claims", json.dumps(claims)]
    server = launch("oidc-provider", argv, f"http://127.0.0.1:{port}", env=dict(os.environ))

    def ready(base: str) -> bool:
        try:
            return httpx.get(f"{base}/.well-known/openid-configuration", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until_ready(server, ready, 180)
    yield server.base_url
    server.stop()


@pytest.fixture(scope="module")
def oidc_app(proxy: Proxy, provider: str, tmp_path_factory) -> Iterator[Service]:
    """The app with AUTH_MODE=oidc and `[auth]` pointing at the provider."""
    port = free_port()
    secrets_file = tmp_path_factory.mktemp("oidc") / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "llm-dashboard"\n'
        'client_secret = "not-a-real-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n')
    server = start_app({**proxy_env(proxy), "AUTH_MODE": "oidc", "ADMIN_EMAILS": "ben@example.com"}, port=port,
                          secrets_file=secrets_file)
    yield server
    server.stop()


class Watched:
    """A browser context whose pages record every websocket frame they receive (what reached the browser)."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.frames: list[bytes] = []
        self.page = context.new_page()
        self.page.on("websocket", lambda ws: ws.on("framereceived", self._keep))

    def _keep(self, payload: str | bytes) -> None:
        self.frames.append(payload if isinstance(payload, bytes) else payload.encode())

    def received(self, text: str) -> bool:
        """`text` reached this browser: in a websocket frame or in the page."""
        needle = text.encode()
        return any(needle in frame for frame in self.frames) or text in self.page.content()


@pytest.fixture
def watched(browser: Browser) -> Iterator[callable]:
    opened: list[Watched] = []

    def new(**options) -> Watched:
        context = new_context(browser, **options)
        opened.append(Watched(context))
        return opened[-1]

    yield new
    for one in opened:
        one.context.close()


def sign_in(page: Page, app: Service, user: str) -> None:
    """Sign in through the provider's page as one of its predefined users."""
    open_page(page, app.url + "/")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize**")
    page.get_by_role("button", name=user, exact=True).click()
    page.wait_for_url(f"{app.url}/**")
    wait_idle(page)
    page.get_by_text(f"Signed in as {USERS[user]['name']}").wait_for()


def only_sign_in(page: Page) -> None:
    """The page shows the sign-in screen and nothing of the app."""
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.locator("[data-testid='stSidebar']").count() == 0 or \
        page.locator("[data-testid='stSidebar']").get_by_role("link").count() == 0
    for absent in ("Refresh models", "demo-fast", "Connected", "Proxy health", "Saved chats"):
        assert page.get_by_text(absent).count() == 0, absent
    assert page.locator("[data-testid='stException']").count() == 0


def send_chat(page: Page, text: str) -> None:
    """Send `text` on a chat page opened with ?model=upstream-echo, once that page has drawn its prompt box (an idle
    app right after page.goto may not have started the page's first run yet)."""
    page.get_by_placeholder("Message upstream-echo").wait_for()
    page.locator("[data-testid='stChatInput'] textarea").fill(text)
    page.keyboard.press("Enter")
    page.get_by_text(f"echo: {text}").wait_for()
    wait_idle(page)


def test_an_unauthenticated_visit_to_any_page_shows_only_sign_in(oidc_app, watched):
    visitor = watched()
    for path in PAGE_PATHS:
        open_page(visitor.page, oidc_app.url + path)
        only_sign_in(visitor.page)
        visitor.page.get_by_role("button", name="Sign in").wait_for()
    assert not visitor.received("demo-fast")  # not even the model list travelled
    screenshot(visitor.page, "sign_in_oidc")


@pytest.mark.timeout(900)  # two sign-ins, a chat and a sign-out: slow on a busy 2-core machine
def test_two_analysts_each_see_only_their_own_work_and_sign_out(oidc_app, watched):
    ana = watched()
    sign_in(ana.page, oidc_app, "ana")
    open_page(ana.page, oidc_app.url + "/chat?model=upstream-echo")
    send_chat(ana.page, SECRET)
    ana.page.wait_for_url("**c=*")
    ana_link = ana.page.url
    open_page(ana.page, ana_link)  # her history lists it
    ana.page.locator("[data-testid='stSidebar']").get_by_role("link", name=SECRET).wait_for()
    screenshot(ana.page, "signed_in_ana_chat")

    ben = watched()
    sign_in(ben.page, oidc_app, "ben")
    assert ben.page.get_by_text("ana@example.com").count() == 0
    open_page(ben.page, oidc_app.url + "/chat")
    ben.page.get_by_text("Your chats appear here once sent.").wait_for()
    open_page(ben.page, ana_link.replace("model=upstream-echo&", ""))  # Ana's conversation, by its link
    ben.page.get_by_text("No saved chat has that link").wait_for()
    assert ben.page.locator("[data-testid='stChatMessage']").count() == 0
    sidebar_search = ben.page.locator("[data-testid='stSidebar']").get_by_placeholder("words in titles")
    sidebar_search.fill("ZEBRA")
    sidebar_search.press("Enter")
    ben.page.get_by_text("No chats match.").wait_for()
    wait_idle(ben.page)
    screenshot(ben.page, "signed_in_ben_not_found")
    assert not ben.received("ZEBRA-4711")  # nothing of Ana's reached Ben's browser, in the page or on the wire
    assert ben.frames  # (the frames were watched: there were some)

    # Ben is an admin: the team's usage shows Ana's spend, not her words.
    open_page(ben.page, oidc_app.url + "/usage")
    ben.page.get_by_role("heading", name="Team").wait_for()
    assert not ben.received("ZEBRA-4711")

    # Ana still has her chat; then she signs out, and her pages need signing in again.
    open_page(ana.page, ana_link)
    ana.page.get_by_text(f"echo: {SECRET}").wait_for()
    ana.page.locator("[data-testid='stSidebar']").get_by_role("button", name="Sign out").click()
    ana.page.wait_for_url("**/oauth2/end_session**")  # Streamlit ends the provider's session too (OIDC logout)
    ana.page.get_by_role("button", name="End session").click()
    ana.page.wait_for_url(f"{oidc_app.url}/**")
    wait_idle(ana.page)
    only_sign_in(ana.page)
    open_page(ana.page, ana_link)
    only_sign_in(ana.page)


@pytest.fixture(scope="module")
def header_app(proxy: Proxy) -> Iterator[Service]:
    server = start_app({**proxy_env(proxy), "AUTH_MODE": "header"})
    yield server
    server.stop()


def test_header_mode_isolates_analysts_too(header_app, watched):
    nobody = watched()
    for path in PAGE_PATHS:
        open_page(nobody.page, header_app.url + path)
        only_sign_in(nobody.page)
    assert not nobody.received("demo-fast")

    ana = watched(extra_http_headers={"X-Forwarded-Email": "ana@example.com"})
    open_page(ana.page, header_app.url + "/chat?model=upstream-echo")
    ana.page.get_by_text("Signed in as ana@example.com").wait_for()
    send_chat(ana.page, SECRET)
    ana.page.wait_for_url("**c=*")
    conversation = ana.page.url.split("c=")[1].split("&")[0]

    ben = watched(extra_http_headers={"X-Forwarded-Email": "ben@example.com"})
    open_page(ben.page, f"{header_app.url}/chat?c={conversation}")
    ben.page.get_by_text("Signed in as ben@example.com").wait_for()
    ben.page.get_by_text("No saved chat has that link").wait_for()
    wait_idle(ben.page)
    assert not ben.received("ZEBRA-4711")
    screenshot(ben.page, "header_ben_not_found")

    again = watched(extra_http_headers={"X-Forwarded-Email": "ANA@example.com"})  # the same analyst, any case
    open_page(again.page, f"{header_app.url}/chat?c={conversation}")
    again.page.get_by_text(f"echo: {SECRET}").wait_for()
