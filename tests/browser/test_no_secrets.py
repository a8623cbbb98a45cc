"""No API key reaches the browser: not in any page's HTML, any HTTP response, nor any websocket frame.

Streamlit sends the page as protobuf frames over a websocket, so the frames are searched as raw bytes and as
latin-1 text. Each key is looked for whole and by its middle part (what `mask_key` hides), so a key cut or
reformatted on a page is caught too. A masked form such as `sk-…6789` is allowed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Response

from scripts.services import Service
from tests.support.app import proxy_env, start_app
from tests.support.browser import new_context, wait_idle
from tests.support.hostile import Hostile, hostile_server

pytestmark = [pytest.mark.browser, pytest.mark.proxy]

MESSAGES = "[data-testid='stChatMessage']"
PATHS = ("/", "/chat", "/compare", "/models", "/health")
DIRECT_KEYS = {"OPENAI_API_KEY": f"sk-openai-{secrets.token_hex(16)}",
               "ANTHROPIC_API_KEY": f"sk-ant-{secrets.token_hex(16)}"}


@dataclass
class Received:
    """Everything one tab received: (where, bytes) pairs, plus the HTTP responses whose bodies are still to read."""

    items: list[tuple[str, bytes]] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)

    def add(self, where: str, payload: str | bytes) -> None:
        self.items.append((where, payload.encode() if isinstance(payload, str) else payload))

    def read_responses(self) -> None:
        """Read the HTTP bodies (while the tab is still open)."""
        for response in self.responses:
            try:
                self.add(f"http {response.url}", response.body())
            except PlaywrightError:  # redirects and the websocket upgrade have no body
                pass
        self.responses.clear()

    def websocket_bytes(self) -> bytes:
        return b"".join(data for where, data in self.items if where.startswith("ws "))


def needles(key: str) -> list[str]:
    """The whole key and the part `mask_key` never shows (all but the first 3 and last 4 characters)."""
    return [key, key[3:-4]]


def leaks(received: Received, keys: dict[str, str]) -> list[str]:
    """Where each key shows up in what was received, as 'NAME in WHERE' lines."""
    found = []
    for where, data in received.items:
        text = data.decode("latin-1")
        for name, key in keys.items():
            if any(n.encode() in data or n in text for n in needles(key)):
                found.append(f"{name} in {where}")
    return found


def watch(page: Page) -> Received:
    """Record every websocket frame and HTTP response the tab receives from now on."""
    received = Received()
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.add(f"ws {ws.url}", payload)))
    page.on("response", lambda response: received.responses.append(response))
    return received


@pytest.fixture(scope="module")
def app_with_keys(proxy) -> Iterator[Service]:
    """A freshly started app holding the proxy's master key and two direct-provider keys."""
    server = start_app({**proxy_env(proxy), **DIRECT_KEYS})
    yield server
    server.stop()


@pytest.mark.parametrize("path", PATHS)
def test_no_key_in_anything_the_browser_receives(browser, proxy, app_with_keys, path):
    keys = {"LITELLM_API_KEY": proxy.master_key, **DIRECT_KEYS}
    context = new_context(browser)
    try:
        page = context.new_page()
        received = watch(page)
        page.goto(app_with_keys.url + path)
        wait_idle(page)  # a fresh server's first run: tests/support/browser.py's WAIT_MS
        page.get_by_role("button", name="Refresh models").click()  # a rerun: the sidebar and page drawn again
        page.get_by_text("Refreshed:").wait_for()
        wait_idle(page)
        received.add("page HTML", page.content())
        received.read_responses()
    finally:
        context.close()

    assert b"Refresh models" in received.websocket_bytes(), "the frames carry the page's text: the search can see it"
    assert leaks(received, keys) == []


def test_the_detector_finds_a_key_in_a_frame():
    key = "sk-test-master-key-0123456789"
    frame = b"\x0a\x1c" + b"LITELLM_API_KEY " + key[:10].encode() + key[10:].encode() + b"\x12\x00"

    assert leaks(Received([("ws frame", frame)]), {"LITELLM_API_KEY": key}) == ["LITELLM_API_KEY in ws frame"]
    assert leaks(Received([("ws frame", b"masked sk-\xe2\x80\xa66789")]), {"LITELLM_API_KEY": key}) == []


# --- A gateway that echoes the key back (tests/support/hostile.py) ---------------------------------------------------

ECHOED_KEY = f"sk-echo-{secrets.token_hex(16)}"


def pieces(key: str, size: int = 8) -> list[str]:
    """Every `size`-character piece of the key that its masked form (first 3, last 4) does not show."""
    hidden = key[3:-4]
    return [hidden[i:i + size] for i in range(len(hidden) - size + 1)]


def echo_leaks(received: Received, keys: dict[str, str]) -> list[str]:
    found = []
    for where, data in received.items:
        for name, key in keys.items():
            if any(piece.encode() in data for piece in pieces(key)):
                found.append(f"{name} in {where}")
    return found


@pytest.fixture(scope="module")
def echoing_gateway() -> Iterator[tuple[Hostile, Service]]:
    """A key-echoing gateway instead of the proxy, and a freshly started app holding a key for it."""
    with hostile_server("echo-calls") as gateway:
        server = start_app({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": gateway.url,
                            "LITELLM_API_KEY": ECHOED_KEY, **DIRECT_KEYS})
        yield gateway, server
        server.stop()


def test_a_key_echoing_gateway_gets_no_key_into_the_browser(browser, echoing_gateway):
    """Every page, a refresh (good, then failing), a chat, a comparison and the per-model check: page HTML, HTTP
    responses and websocket frames hold no 8 characters of any key (the code before this branch: dozens)."""
    gateway, app = echoing_gateway
    keys = {"LITELLM_API_KEY": ECHOED_KEY, **DIRECT_KEYS}
    context = new_context(browser)
    try:
        page = context.new_page()
        received = watch(page)
        for path in PATHS:
            page.goto(app.url + path)
            wait_idle(page)  # a fresh server's first run: tests/support/browser.py's WAIT_MS
            received.add(f"page HTML {path}", page.content())

        page.goto(app.url + "/models")
        wait_idle(page)
        page.get_by_role("button", name="Refresh models").click()
        page.get_by_text("Refreshed:").wait_for()
        wait_idle(page)
        gateway.mode = "echo"  # now the list cannot be fetched either: a stale list, a banner and a toast
        page.get_by_role("button", name="Refresh models").click()
        page.get_by_text("Refresh failed").wait_for()
        wait_idle(page)
        received.add("page HTML /models after a failed refresh", page.content())
        gateway.mode = "echo-calls"

        page.goto(app.url + "/chat?model=echo-a")
        prompt = page.get_by_placeholder("Message echo-a")  # the page has run (idle alone can be before its run)
        prompt.fill("Hello")
        prompt.press("Enter")
        page.locator(MESSAGES).nth(1).get_by_text("invalid key Bearer ***").wait_for()
        wait_idle(page)
        received.add("page HTML /chat", page.content())

        page.goto(app.url + "/compare?models=echo-a,echo-b")
        prompt = page.get_by_placeholder("Send to every model…")
        prompt.fill("Hello")
        prompt.press("Enter")
        page.get_by_text("Difference between two replies").wait_for()
        wait_idle(page)
        received.add("page HTML /compare", page.content())

        page.goto(app.url + "/health")
        wait_idle(page)
        page.get_by_role("button", name="Call every deployment (real requests, costs money)").click()
        page.get_by_text("The per-model check failed").first.wait_for()
        wait_idle(page)
        received.add("page HTML /health", page.content())
        received.read_responses()
    finally:
        context.close()

    frames = received.websocket_bytes()
    assert b"invalid key Bearer ***" in frames, "the echo did reach the browser, redacted: the search can see it"
    assert "/v1/chat/completions" in " ".join(gateway.requests) and "/utils/token_counter" in " ".join(gateway.requests)
    assert echo_leaks(received, keys) == []
