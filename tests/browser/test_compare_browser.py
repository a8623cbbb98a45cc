"""The Compare page in headless Chromium: one prompt, three models, three replies side by side."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser

REPLIES = {
    "compare-a": "Paris is the capital of France, on the Seine.",
    "compare-b": "The capital of France is Paris, on the river Seine.",
    "compare-c": "Paris is the capital of France, on the Seine.",
}


def test_one_prompt_streams_to_three_models_side_by_side(app, page):
    open_page(page, app.url + "/compare?models=" + ",".join(REPLIES))
    page.get_by_role("heading", name="Compare").first.wait_for()

    prompt = page.locator("[data-testid='stChatInput'] textarea")
    prompt.fill("What is the capital of France?")
    prompt.press("Enter")

    panels = page.locator("[data-testid='stColumn']").filter(has=page.locator("[data-testid='stChatMessage']"))
    for text in set(REPLIES.values()):
        page.get_by_text(text).first.wait_for()
    wait_idle(page)
    page.get_by_text("Difference between two replies").wait_for()

    expect(page.get_by_text(REPLIES["compare-a"], exact=True)).to_have_count(2)  # compare-a and compare-c agree
    expect(page.get_by_text(REPLIES["compare-b"], exact=True)).to_have_count(1)
    expect(panels).to_have_count(3)
    expect(panels.filter(has_text="TTFT")).to_have_count(3)  # every panel has its numbers
    assert page.locator("[data-testid='stException']").count() == 0
    page.locator("[data-testid='stVegaLiteChart']").wait_for()  # the results chart (loaded lazily)
    screenshot(page, "compare_three_models")


def test_stop_halts_every_stream_and_keeps_the_partial_replies(app, page):
    # two streams of ~20 s (w0 … w599, w598) and one that says w0, then waits a minute: Stop lands while all three run
    open_page(page, app.url + "/compare?models=stop-stream-1,stop-stream-2,stop-waiting")
    prompt = page.locator("[data-testid='stChatInput'] textarea")
    prompt.fill("Count")
    prompt.press("Enter")
    panels = page.locator("[data-testid='stColumn']").filter(has=page.locator("[data-testid='stChatMessage']"))
    expect(panels.filter(has_text="w5")).to_have_count(2)  # both streams have begun
    expect(panels.filter(has_text="w0")).to_have_count(3)  # and the third has said its first word

    page.locator("[data-testid='stChatInputStopButton']").click()

    # At once, without another click: every panel marked stopped, the numbers, and the link.
    expect(panels.filter(has_text="Stopped: partial reply.")).to_have_count(3)
    page.get_by_role("heading", name="Results").wait_for()
    page.wait_for_url(re.compile(r".*[?&]c=[0-9a-f]{32}(&|$)"))
    wait_idle(page)
    assert "▌" not in " ".join(panels.all_inner_texts())
    assert panels.filter(has_text="w5").count() == 2  # both partial replies are still there...
    assert panels.filter(has_text="w598").count() == 0  # ...and neither went on to the end
    assert panels.filter(has_text="w1").count() == 2  # (the waiting one never said its second word)
