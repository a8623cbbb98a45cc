"""The team prompt library in headless Chromium, two analysts signed in by header (AUTH_MODE=header): Ana saves a
team prompt with a `{{variable}}` and a private one on the Prompt library page; Bob picks hers beside /compare's
input, fills the variable, and sends it as usual: both models answer the filled prompt. Bob's library page shows
her team prompt with only "Copy to mine", never her private one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from scripts.services import Service
from tests.support.app import proxy_env, start_app
from tests.support.browser import new_context, open_page, screenshot, wait_idle
from tests.support.proxy import Proxy

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def header_app(proxy: Proxy) -> Iterator[Service]:
    server = start_app({**proxy_env(proxy), "AUTH_MODE": "header"})
    yield server
    server.stop()


def as_analyst(browser: Browser, email: str) -> Page:
    return new_context(browser, extra_http_headers={"X-Forwarded-Email": email}).new_page()


def save_prompt(page: Page, name: str, text: str, *, shared: bool) -> None:
    """Fill the library page's "New prompt" form and save it."""
    form = page.locator("[data-testid='stForm']").first
    if not form.get_by_label("Name", exact=True).is_visible():  # the expander stays open after a save
        page.get_by_text("New prompt", exact=True).click()
        wait_idle(page)  # (opened: its animation over, so the clicks below land)
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_role("textbox", name="Text").fill(text)
    if shared:
        form.get_by_text("Share with the team").click()
    form.get_by_role("button", name="Save").click()
    page.get_by_text(f"Saved to your library: {name}").wait_for()
    wait_idle(page)


def test_bob_picks_anas_team_prompt_on_compare_fills_its_variable_and_sends_it(browser, header_app):
    ana = as_analyst(browser, "ana@example.com")
    bob = as_analyst(browser, "bob@example.com")
    try:
        open_page(ana, header_app.url + "/prompts")
        ana.get_by_role("heading", name="Prompt library").first.wait_for()
        save_prompt(ana, "One-line explainer", "Explain {{topic}} in one line.", shared=True)
        save_prompt(ana, "Ana private notes", "Only for Ana.", shared=False)

        open_page(bob, header_app.url + "/compare?models=upstream-echo,upstream-verbatim")
        bob.get_by_text("Signed in as bob@example.com").wait_for()
        bob.locator("[data-testid='stPopover'] button").filter(has_text="Prompt library").click()
        expect(bob.get_by_role("combobox", name="Saved prompt")).to_have_value(
            "One-line explainer · Prompt · team · ana@example.com")
        wait_idle(bob)  # (the popover open and still)
        bob.get_by_label("{{topic}}").fill("window functions")
        bob.get_by_role("button", name="Put in the prompt box").click()
        box = bob.locator("[data-testid='stChatInput'] textarea")
        expect(box).to_have_value("Explain window functions in one line.")
        wait_idle(bob)
        box.press("Enter")  # sent as any prompt: the page's own door
        bob.get_by_text("echo: Explain window functions in one line.").first.wait_for()  # the models answer it
        expect(bob.get_by_text("Explain window functions in one line.", exact=True).first).to_be_visible()
        wait_idle(bob)
        assert bob.locator("[data-testid='stException']").count() == 0
        screenshot(bob, "prompt_library_bob_sent")

        open_page(bob, header_app.url + "/prompts")
        bob.get_by_text("One-line explainer").first.click()
        expect(bob.get_by_role("button", name="Copy to mine")).to_be_visible()
        expect(bob.get_by_role("button", name="Delete")).to_have_count(0)
        expect(bob.get_by_text("Ana private notes")).to_have_count(0)
    finally:
        ana.context.close()
        bob.context.close()
