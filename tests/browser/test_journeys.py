"""The analyst's journey, end to end in a real browser: home → catalogue → pick two models → compare them →
carry one thread into chat → check the proxy's health. A screenshot of every step lands in artifacts/."""

import re

import pytest

from tests.browser.test_routing import select_rows
from tests.support.browser import open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser

PROMPT = "Summarise the plot of Hamlet in one line."


def test_home_to_catalogue_to_compare_to_chat_to_health(app, page):
    open_page(page, app.url + "/")
    page.get_by_role("heading", name="LLM Gateway Dashboard").wait_for()
    screenshot(page, "journey_1_home")

    page.locator("[data-testid='stSidebar']").get_by_role("link", name="Models").click()
    page.wait_for_url("**/models")
    wait_idle(page)
    page.get_by_placeholder("name, provider or mode").fill("demo")
    page.keyboard.press("Enter")
    page.get_by_text(re.compile(r"^3 of \d+ models match")).wait_for()  # demo-fast, demo-slow, demo-vision
    wait_idle(page)
    select_rows(page, 2)
    screenshot(page, "journey_2_catalogue")
    page.get_by_text("Compare selected (2)").click()
    page.wait_for_url(re.compile(r".*/compare\?models=demo-fast%2Cdemo-slow$"))
    wait_idle(page)

    page.locator("[data-testid='stChatInput'] textarea").fill(PROMPT)
    page.keyboard.press("Enter")
    page.get_by_text("Hello! I am the fast demo model.").first.wait_for()
    page.get_by_text("I am the slow demo model, thinking carefully.").first.wait_for()
    wait_idle(page)
    page.get_by_role("heading", name="Results").wait_for()
    screenshot(page, "journey_3_compare")

    page.get_by_role("button", name="Continue in chat").first.click()
    page.wait_for_url(re.compile(r".*/chat\?model=demo-fast&c=[0-9a-f]{32}$"))  # a saved chat, with its link
    wait_idle(page)
    messages = page.locator("[data-testid='stChatMessage']")
    messages.filter(has_text=PROMPT).first.wait_for()
    messages.filter(has_text="Hello! I am the fast demo model.").first.wait_for()
    screenshot(page, "journey_4_chat")

    page.locator("[data-testid='stSidebar']").get_by_role("link", name="Proxy health").click()
    page.wait_for_url("**/health")
    wait_idle(page)
    page.get_by_text("Healthy").first.wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "journey_5_health")
