"""The chat page in headless Chromium: type a prompt, watch the reply stream in, see its numbers and errors."""

import re

import pytest

from tests.browser.conftest import open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser

PROMPT = "[data-testid='stChatInput'] textarea"
MESSAGES = "[data-testid='stChatMessage']"


def ask(page, prompt: str) -> None:
    page.locator(PROMPT).fill(prompt)
    page.locator(PROMPT).press("Enter")


def test_a_reply_streams_in_and_its_numbers_follow(app, page):
    open_page(page, app.url + "/chat?model=upstream-long")
    ask(page, "Count for me")
    replies = page.locator(MESSAGES).nth(1)
    replies.get_by_text("w0 w1 w2", exact=False).wait_for()  # the start is visible ...
    assert page.locator(MESSAGES).nth(1).get_by_text("w2999").count() == 0  # ... before the end has arrived
    replies.get_by_text("w2999", exact=False).wait_for()
    replies.get_by_text("TTFT").wait_for()
    wait_idle(page)
    assert page.locator(MESSAGES).nth(0).inner_text().strip().endswith("Count for me")
    assert page.locator("[data-testid='stException']").count() == 0


def test_an_error_stays_in_the_conversation_with_the_prompt(app, page):
    open_page(page, app.url + "/chat?model=demo-fast")
    ask(page, "Hello")
    page.get_by_text("Hello! I am the fast demo model.").wait_for()
    page.get_by_text("TTFT").first.wait_for()
    wait_idle(page)
    page.locator("[data-testid='stSelectbox'] input").first.click()
    page.keyboard.type("error-rate-limit")  # the picker is searchable
    page.get_by_role("option", name="error-rate-limit").click()
    page.wait_for_url(re.compile(r".*[?&]model=error-rate-limit$"))  # the URL follows the picker
    wait_idle(page)
    ask(page, "And again")
    page.get_by_text("Rate limited").wait_for()
    wait_idle(page)
    messages = page.locator(MESSAGES)
    assert messages.count() == 4 and messages.nth(2).inner_text().strip().endswith("And again")
    screenshot(page, "chat")
