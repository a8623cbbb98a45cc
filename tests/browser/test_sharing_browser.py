"""Share links in headless Chromium, two analysts signed in by the sign-in proxy's header (AUTH_MODE=header), the app
allowing links for anyone (SHARING_PUBLIC_LINKS=true), which Ana chooses for one link only.

Ana shares a comparison; Bob opens the link: the replies and numbers, no chat box; "Make a copy" gives him his own
comparison, which he continues; Ana's is unchanged. Nobody signed in sees only the sign-in screen for Ana's link,
and the link she made for anyone. Ana revokes: Bob's next load says so, in the same words as a made-up link; an
expired link says it expired."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from gateway.sharing import links
from gateway.sharing.access import MESSAGES, Denied
from gateway.store import Store
from scripts.services import Service
from tests.support.app import proxy_env, start_app
from tests.support.browser import new_context, open_page, screenshot, wait_idle
from tests.support.proxy import Proxy

pytestmark = pytest.mark.browser

ANA, BOB = "ana@example.com", "bob@example.com"
FIRST = "Paris is the capital of France, on the Seine."  # compare-a's reply, whatever the prompt
SECOND = "The capital of France is Paris, on the river Seine."  # compare-b's


@pytest.fixture(scope="module")
def sharing_app(proxy: Proxy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, str]]:
    database = f"sqlite:///{tmp_path_factory.mktemp('sharing-db') / 'dashboard.db'}"
    server = start_app({**proxy_env(proxy), "AUTH_MODE": "header", "SHARING_PUBLIC_LINKS": "true",
                        "DATABASE_URL": database})
    yield server, database
    server.stop()


def tab(browser: Browser, email: str | None = None) -> Page:
    headers = {"X-Forwarded-Email": email} if email else {}
    return new_context(browser, extra_http_headers=headers).new_page()


def create_link(page: Page, *, anyone: bool = False) -> str:
    """Open the Share popover, make a link (for anyone, or signed-in analysts), and read its address."""
    page.get_by_role("button", name=re.compile("Share$")).click()
    page.get_by_role("button", name=re.compile("Create link")).wait_for()
    wait_idle(page)
    before = set(page.locator("[data-testid='stCode']").filter(has_text="/shared?s=").all_inner_texts())
    if anyone:
        page.get_by_text("Anyone with the link").click()
        wait_idle(page)
    page.get_by_role("button", name=re.compile("Create link")).click()
    wait_idle(page)
    codes = page.locator("[data-testid='stCode']").filter(has_text="/shared?s=")
    expect(codes).to_have_count(len(before) + 1)
    made = [text.strip() for text in codes.all_inner_texts() if text not in before]
    page.keyboard.press("Escape")
    return made[0]


def test_ana_shares_bob_reads_and_copies_revoked_and_expired_links_say_so(browser, sharing_app):
    server, database = sharing_app
    ana = tab(browser, ANA)
    open_page(ana, server.url + "/compare?models=compare-a,compare-b")
    ana.get_by_placeholder("Send to every model…").wait_for()
    ana.locator("[data-testid='stChatInput'] textarea").fill("What is the capital of France?")
    ana.keyboard.press("Enter")
    ana.get_by_text("Difference between two replies").wait_for()
    ana.wait_for_url(re.compile(r".*[?&]c=[0-9a-f]{32}"))
    wait_idle(ana)
    anas_link = ana.url
    link = create_link(ana)
    assert re.fullmatch(rf"{re.escape(server.url)}/shared\?s=[A-Za-z0-9_-]{{32}}", link), link

    # Bob: the replies and numbers, read-only
    bob = tab(browser, BOB)
    open_page(bob, link)
    bob.get_by_text(FIRST).first.wait_for()
    bob.get_by_text(SECOND).first.wait_for()
    bob.get_by_role("heading", name="Results").wait_for()
    bob.locator("[data-testid='stDataFrame']").first.wait_for()
    expect(bob.get_by_text(re.compile("TTFT"))).not_to_have_count(0)
    assert bob.locator("[data-testid='stChatInput']").count() == 0  # no chat box
    assert bob.locator("[data-testid='stException']").count() == 0
    screenshot(bob, "shared_comparison_bob")

    # Make a copy: his own comparison, which he continues
    bob.get_by_role("button", name=re.compile("Make a copy")).click()
    bob.wait_for_url(re.compile(r".*/compare\?.*c=[0-9a-f]{32}"))
    bob.get_by_placeholder("Send to every model…").wait_for()
    wait_idle(bob)
    bobs_copy = bob.url
    assert bobs_copy.split("c=")[1][:32] != anas_link.split("c=")[1][:32]
    bob.locator("[data-testid='stChatInput'] textarea").fill("And the capital of Italy?")
    bob.keyboard.press("Enter")
    bob.get_by_text("And the capital of Italy?").first.wait_for()
    expect(bob.get_by_text(FIRST, exact=True)).to_have_count(2)  # compare-a answered both rounds in his copy
    wait_idle(bob)

    # Ana's comparison is unchanged
    open_page(ana, anas_link)
    ana.get_by_text(FIRST).first.wait_for()
    wait_idle(ana)
    assert ana.get_by_text("And the capital of Italy?").count() == 0

    # Nobody signed in: only the sign-in screen for Ana's link; the link she makes for anyone opens
    nobody = tab(browser)
    open_page(nobody, link)
    nobody.get_by_role("heading", name="Sign in").wait_for()
    assert nobody.get_by_text(FIRST).count() == 0
    for_anyone = create_link(ana, anyone=True)
    open_page(nobody, for_anyone)
    nobody.get_by_text(FIRST).first.wait_for()
    assert nobody.locator("[data-testid='stChatInput']").count() == 0
    screenshot(nobody, "shared_for_anyone")

    # Ana revokes the link for anyone (the newest, first in her list): Bob's next load says so, as for a made-up one
    open_page(ana, server.url + "/shared")
    ana.get_by_role("heading", name="Shared links").wait_for()
    ana.locator("[data-testid='stCode']").filter(has_text=for_anyone).wait_for()  # the newest, picked
    wait_idle(ana)
    screenshot(ana, "shared_links_ana")
    ana.get_by_role("button", name=re.compile("Revoke")).click()
    expect(ana.locator("[data-testid='stCode']").filter(has_text=for_anyone)).to_have_count(0)  # no longer live
    wait_idle(ana)
    open_page(bob, for_anyone)
    bob.get_by_text(MESSAGES[Denied.GONE]).wait_for()
    assert bob.get_by_text(FIRST).count() == 0
    revoked_text = bob.locator("[data-testid='stMain']").inner_text()
    open_page(bob, f"{server.url}/shared?s={links.new_token()}")
    bob.get_by_text(MESSAGES[Denied.GONE]).wait_for()
    assert bob.locator("[data-testid='stMain']").inner_text() == revoked_text
    open_page(nobody, for_anyone)
    nobody.get_by_role("heading", name="Sign in").wait_for()

    # An expired link says so
    store = Store.open(database)
    try:
        assert links.set_expiry(store, ANA, link.split("s=")[1], -1.0) is True
    finally:
        store.close()
    open_page(bob, link)
    bob.get_by_text(MESSAGES[Denied.EXPIRED]).wait_for()
    screenshot(bob, "shared_expired")
