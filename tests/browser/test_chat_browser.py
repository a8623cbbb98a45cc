"""The chat page in headless Chromium: type a prompt, watch the reply stream in, see its numbers and errors."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.browser import open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser

PROMPT = "[data-testid='stChatInput'] textarea"
MESSAGES = "[data-testid='stChatMessage']"


def ask(page, prompt: str) -> None:
    page.locator(PROMPT).fill(prompt)
    page.locator(PROMPT).press("Enter")


# Records, in the page, whether the reply was ever drawn begun but not finished: every change to the page is looked
# at as it happens (a check from the test between two of Playwright's round trips can miss a 1.5 s stream, or see it
# after its end on a busy machine).
SEEN_PARTIAL = """() => {
  window.sawPartial = false;
  new MutationObserver(() => {
    const reply = document.querySelectorAll("[data-testid='stChatMessage']")[1]?.innerText || "";
    if (reply.includes("w0 w1 w2") && !reply.includes("w2999")) window.sawPartial = true;
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def test_a_reply_streams_in_and_its_numbers_follow(app, page):
    open_page(page, app.url + "/chat?model=upstream-long")
    page.get_by_placeholder("Message upstream-long").wait_for()  # the page's own run, not only idle
    page.evaluate(SEEN_PARTIAL)
    ask(page, "Count for me")
    replies = page.locator(MESSAGES).nth(1)
    replies.get_by_text("w2999", exact=False).wait_for()
    assert page.evaluate("window.sawPartial"), "the start was drawn before the end had arrived"
    replies.get_by_text("TTFT").wait_for()
    wait_idle(page)
    expect(page.locator(MESSAGES)).to_have_count(2)
    assert page.locator(MESSAGES).nth(0).inner_text().strip().endswith("Count for me")
    assert page.locator("[data-testid='stException']").count() == 0


def test_an_error_stays_in_the_conversation_with_the_prompt(app, page):
    open_page(page, app.url + "/chat?model=demo-fast")
    ask(page, "Hello")
    page.get_by_text("Hello! I am the fast demo model.").wait_for()
    page.get_by_text("TTFT").first.wait_for()
    wait_idle(page)
    page.get_by_role("combobox", name="Model", exact=True).click()  # the picker, not a sidebar selectbox
    page.keyboard.type("error-rate-limit")  # the picker is searchable
    page.get_by_role("option", name="error-rate-limit").click()
    page.wait_for_url(re.compile(r".*[?&]model=error-rate-limit(&|$)"))  # the URL follows the picker
    wait_idle(page)
    ask(page, "And again")
    page.get_by_text("Rate limited").wait_for()
    wait_idle(page)
    messages = page.locator(MESSAGES)
    expect(messages).to_have_count(4)
    assert messages.nth(2).inner_text().strip().endswith("And again")
    screenshot(page, "chat")


def test_stop_ends_in_a_finished_state_at_once_and_the_next_turn_goes_on(app, page):
    open_page(page, app.url + "/chat?model=upstream-slow")
    ask(page, "Take your time")
    page.locator(MESSAGES).nth(1).get_by_text("w0 w1 w2 w3", exact=False).wait_for()
    page.locator("[data-testid='stChatInputStopButton']").click()
    # At once, without another prompt: the reply marked stopped with its numbers, the buttons, the link.
    page.get_by_text("Stopped: partial reply.").wait_for()
    page.locator(MESSAGES).nth(1).get_by_text("TTFT").wait_for()
    page.get_by_role("button", name="Regenerate").wait_for()
    page.wait_for_url(re.compile(r".*[?&]c=[0-9a-f]{32}(&|$)"))
    wait_idle(page)
    partial = page.locator(MESSAGES).nth(1).inner_text()
    assert "w0 w1 w2 w3" in partial and "w299" not in partial and "▌" not in partial
    expect(page.locator(MESSAGES)).to_have_count(2)  # the prompt was not sent again
    screenshot(page, "chat_stopped")
    ask(page, "Thanks")
    page.locator(MESSAGES).nth(3).get_by_text("w299", exact=False).wait_for()
    wait_idle(page)
    messages = page.locator(MESSAGES)
    assert messages.nth(0).inner_text().strip().endswith("Take your time")
    assert "w0 w1 w2 w3" in messages.nth(1).inner_text() and "Stopped: partial reply." in messages.nth(1).inner_text()
    assert messages.nth(2).inner_text().strip().endswith("Thanks")


def test_a_long_conversation_keeps_every_turn_once_and_in_order(app, page):
    """New turns are drawn by a fragment until the page takes them over (a full-page rerun every 6 turns)."""
    open_page(page, app.url + "/chat?model=upstream-echo")
    for number in range(1, 6):
        ask(page, f"prompt {number}")
        page.locator(MESSAGES).nth(2 * number - 1).get_by_text(f"echo: prompt {number}").wait_for()
        wait_idle(page)
    expect(page.locator(MESSAGES)).to_have_count(10)
    texts = [page.locator(MESSAGES).nth(i).inner_text() for i in range(page.locator(MESSAGES).count())]
    assert len(texts) == 10, texts
    for number in range(1, 6):
        assert texts[2 * number - 2].strip().endswith(f"prompt {number}")
        assert f"echo: prompt {number}" in texts[2 * number - 1] and "TTFT" in texts[2 * number - 1]



def hand_over_turns() -> int:
    """pages/chat.py's HAND_OVER_TURNS (a page script cannot be imported: it would run)."""
    source = (Path(__file__).resolve().parents[2] / "pages" / "chat.py").read_text()
    return int(re.search(r"^HAND_OVER_TURNS = (\d+)", source, re.MULTILINE).group(1))


def test_the_seventh_turn_hands_over_to_the_page_and_keeps_every_turn_once(app, page):
    """The first reply reruns the page; then the fragment draws HAND_OVER_TURNS new turns, and the reply that makes
    them that many (the 7th turn) hands them over to the page (a full rerun); the next turn starts a fresh fragment.
    Every turn shows once, in order, with its reply, and a reload of the chat's link shows the same."""
    turns = 1 + hand_over_turns() + 1  # the first, the fragment's, and one after the hand-over
    assert turns == 8
    open_page(page, app.url + "/chat?model=upstream-echo")
    for number in range(1, turns + 1):
        ask(page, f"turn {number}")
        page.locator(MESSAGES).nth(2 * number - 1).get_by_text(f"echo: turn {number}").wait_for()
        wait_idle(page)

        texts = [page.locator(MESSAGES).nth(i).inner_text() for i in range(page.locator(MESSAGES).count())]
        assert len(texts) == 2 * number, (number, texts)  # no turn drawn twice (page and fragment), none lost
        for earlier in range(1, number + 1):
            assert texts[2 * earlier - 2].strip().endswith(f"turn {earlier}")
            assert f"echo: turn {earlier}" in texts[2 * earlier - 1] and "TTFT" in texts[2 * earlier - 1]
    assert page.locator("[data-testid='stException']").count() == 0
    page.wait_for_url(re.compile(r".*[?&]c=[^&]+"))
    open_page(page, page.url)  # the saved chat, drawn by the page alone
    reloaded = [page.locator(MESSAGES).nth(i).inner_text() for i in range(page.locator(MESSAGES).count())]
    assert len(reloaded) == 2 * turns and reloaded[-1].count("echo: turn 8") == 1
