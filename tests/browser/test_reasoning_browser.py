"""A reasoning model in headless Chromium (tests/proxy_config.yaml `upstream-think`: 60 thoughts at 40 a second,
then a 23-token answer at 40 a second): the thinking is shown while it streams, folds away once the answer starts,
its numbers are named, it comes back by the link, it is not sent back; and an answer lost to thinking says why."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import open_page, screenshot, wait_idle
from tests.support.upstream import RECEIVED

pytestmark = pytest.mark.browser

PROMPT = "[data-testid='stChatInput'] textarea"
MESSAGES = "[data-testid='stChatMessage']"
EXPANDER = "[data-testid='stExpander']"
LAST_THOUGHT, LAST_WORD = "t59", "w22"

# Records in the page, as each change happens, whether the thinking was ever drawn before any of the answer, and
# the moments (performance.now()) the first thought and the first answer word were drawn.
WATCH = """() => {
  window.thoughtFirst = null; window.answerFirst = null; window.thoughtAlone = false;
  new MutationObserver(() => {
    const text = document.querySelectorAll("[data-testid='stChatMessage']")[1]?.innerText
      || [...document.querySelectorAll("[data-testid='stChatMessage']")].map(m => m.innerText).join("\\n");
    const thought = /\\bt0 t1\\b/.test(text), answered = /\\bw0\\b/.test(text);
    if (thought && window.thoughtFirst === null) window.thoughtFirst = performance.now();
    if (answered && window.answerFirst === null) window.answerFirst = performance.now();
    if (thought && !answered) window.thoughtAlone = true;
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def ask(page, prompt: str) -> None:
    page.locator(PROMPT).fill(prompt)
    page.locator(PROMPT).press("Enter")


def sent_to_think_model() -> list[dict]:
    return [r for r in RECEIVED if r.get("model") == "think-60-40-23"]


def test_the_thinking_streams_then_folds_away_with_honest_numbers_and_comes_back_by_the_link(app, page, browser):
    open_page(page, app.url + "/chat?model=upstream-think")
    page.get_by_placeholder("Message upstream-think").wait_for()
    page.evaluate(WATCH)
    ask(page, "What is 17 × 23?")
    reply = page.locator(MESSAGES).nth(1)
    reply.get_by_text(LAST_WORD, exact=False).wait_for()
    reply.get_by_text("TTFT").wait_for()
    wait_idle(page)
    assert page.evaluate("window.thoughtAlone"), "the thinking was drawn while the model thought, before its answer"
    drawn_apart = page.evaluate("window.answerFirst - window.thoughtFirst") / 1000
    assert drawn_apart > 0.75, f"the thinking showed only {drawn_apart:.2f} s before the answer (it took ~1.5 s)"

    # Folded once the answer started, under a label with its numbers; the thought text is in it.
    folded = reply.locator(EXPANDER)
    expect(folded).to_have_count(1)
    label = folded.locator("summary").inner_text()
    assert re.search(r"Thinking · thought for [\d.]+ (s|ms) · 60 tokens", label), label
    assert not folded.get_by_text(LAST_THOUGHT, exact=False).is_visible()
    line = reply.get_by_text("TTFT").inner_text()
    assert "(60 reasoning)" in line and "first thought" in line, line
    speed = float(re.search(r"([\d,]+) tok/s", line).group(1).replace(",", ""))
    assert speed < 100, line  # the answer's own pace, ~40 (83 tokens over the answer's time read ~135; the 20 %
    # bound on a measured reply is tests/test_reasoning.py's)
    folded.locator("summary").click()
    folded.get_by_text(LAST_THOUGHT, exact=False).wait_for()
    screenshot(page, "chat_reasoning")

    # The next turn sends the answer, never the thinking.
    ask(page, "And doubled?")
    page.locator(MESSAGES).nth(3).get_by_text("TTFT").wait_for()
    wait_idle(page)
    history = sent_to_think_model()[-1]["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "user"]
    assert "t0 t1" not in str(history) and LAST_WORD in history[1]["content"]

    # Reopened by its link in a fresh tab: the thinking is there, folded.
    page.wait_for_url(re.compile(r".*[?&]c=[0-9a-f]{32}(&|$)"))
    other = browser.new_page()
    try:
        open_page(other, page.url)
        first = other.locator(MESSAGES).nth(1)
        first.locator(EXPANDER).locator("summary").get_by_text("60 tokens", exact=False).wait_for()
        first.locator(EXPANDER).locator("summary").click()
        first.get_by_text(LAST_THOUGHT, exact=False).wait_for()
    finally:
        other.close()


def test_thinking_that_used_up_max_tokens_says_so_and_keeps_the_prompt(app, page):
    open_page(page, app.url + "/chat?model=upstream-think-length")
    page.get_by_placeholder("Message upstream-think-length").wait_for()
    ask(page, "Think hard")
    page.get_by_text("used its whole output budget thinking (40 reasoning tokens of", exact=False).wait_for()
    page.get_by_text("raise max tokens or lower the effort", exact=False).first.wait_for()
    wait_idle(page)
    assert page.locator(MESSAGES).nth(0).inner_text().strip().endswith("Think hard")
    page.get_by_role("button", name="Regenerate").wait_for()  # the prompt is kept, to send again


def test_each_compare_panel_shows_its_models_thinking_and_names_the_reasoning(app, page):
    open_page(page, app.url + "/compare?models=upstream-think,demo-fast")
    page.get_by_role("heading", name="Compare").first.wait_for()
    page.evaluate(WATCH)
    ask(page, "What is 17 × 23?")
    panels = page.locator("[data-testid='stColumn']").filter(has=page.locator(MESSAGES))
    thinking = panels.filter(has_text="upstream-think")
    thinking.get_by_text(LAST_WORD, exact=False).wait_for()
    page.get_by_role("heading", name="Results").wait_for()
    wait_idle(page)
    assert page.evaluate("window.thoughtAlone"), "the panel showed the thinking before the answer"
    label = thinking.locator(EXPANDER).locator("summary").inner_text()
    assert re.search(r"Thinking · thought for [\d.]+ (s|ms) · 60 tokens", label), label
    expect(panels.filter(has=page.locator(EXPANDER))).to_have_count(1)  # demo-fast did not think
    assert "(60 reasoning)" in thinking.get_by_text("TTFT").inner_text()
    screenshot(page, "compare_reasoning")
