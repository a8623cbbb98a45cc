"""Replies cannot phone home, checked where it matters: Chromium loads nothing a reply or a prompt names.

A reply written by the test (the upstream's `verbatim` model sends the prompt back exactly) holds every way Markdown
can name an image: inline, reference-style, inside a link, autolinks, a bare URL, raw HTML `<img>`, a `data:` image,
and a plain link. All point at a local capture server that records every request. On /chat and on /compare, after
the replies are drawn, the capture server has seen no request, except for the one image whose host (`localhost`) is
on the app's REPLY_IMAGE_HOSTS: that one shows the browser does load what it is allowed to, so the check can fail.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts.services import Service
from tests.support.app import proxy_env, start_app
from tests.support.browser import new_context, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.proxy]

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
PROMPT = "[data-testid='stChatInput'] textarea"
MESSAGES = "[data-testid='stChatMessage']"


class _Capture(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-type", "image/png")
        self.send_header("content-length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def capture() -> Iterator[tuple[int, list[str]]]:
    """A server that records every path asked of it (and answers a 1×1 PNG): (port, paths)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    server.daemon_threads = True
    server.paths = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], server.paths  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def app_allowing_localhost(proxy) -> Iterator[Service]:
    server = start_app({**proxy_env(proxy), "REPLY_IMAGE_HOSTS": "localhost"})
    yield server
    server.stop()


def poisoned(port: int) -> str:
    """A reply a poisoned document could have asked for: every form of image, pointing at the capture server."""
    at = f"http://127.0.0.1:{port}"
    return "\n".join([
        f"Inline: ![chart]({at}/inline.png?d=secret-data)",
        "",
        "Reference: ![chart][exfil]",
        "",
        f"In a link: [![badge]({at}/in-link.png)]({at}/link-target)",
        "",
        f"Autolink: <{at}/autolink.png> and bare: {at}/bare.png",
        "",
        f'HTML: <img src="{at}/html.png"> <picture><source srcset="{at}/srcset.png"></picture>',
        "",
        "Data: ![pixel](data:image/png;base64," + base64.b64encode(PNG).decode() + ")",
        "",
        f"| table | cell |\n|---|---|\n| ![t]({at}/table.png) | x |",
        "",
        f"Allowed: ![ok](http://localhost:{port}/allowed.png)",
        "",
        f"[exfil]: {at}/reference.png",
    ])


def send(page, text: str) -> None:
    page.locator(PROMPT).fill(text)
    page.locator(PROMPT).press("Enter")


def settle(page) -> None:
    """Wait until the run has ended and the browser has loaded whatever it was going to load."""
    wait_idle(page)
    page.wait_for_load_state("networkidle")
    page.locator("img[src*='allowed.png']").first.evaluate("img => img.complete || new Promise(r => img.onload = r)")


def test_no_reply_or_prompt_makes_the_browser_load_anything(browser, app_allowing_localhost, capture):
    port, paths = capture
    context = new_context(browser)
    try:
        page = context.new_page()
        page.goto(app_allowing_localhost.url + "/chat?model=upstream-verbatim")
        wait_idle(page)
        send(page, poisoned(port))
        page.locator(MESSAGES).nth(1).get_by_text("TTFT").wait_for()
        settle(page)
        reply = page.locator(MESSAGES).nth(1).inner_text()
        assert "image from 127.0.0.1 — not loaded" in reply and "embedded image (data: URL)" in reply
        assert "(127.0.0.1)" in reply  # the link shows where it goes
        chat_paths = list(paths)

        page.goto(app_allowing_localhost.url + "/compare?models=upstream-verbatim,demo-fast")
        wait_idle(page)
        send(page, poisoned(port))
        page.get_by_text("Difference between two replies").wait_for()
        settle(page)
        assert page.get_by_text("image from 127.0.0.1 — not loaded").count() >= 4  # the prompt and the reply
    finally:
        context.close()

    assert chat_paths and set(chat_paths) == {"/allowed.png"}, chat_paths  # the allowed image did load
    assert set(paths) == {"/allowed.png"}, paths
