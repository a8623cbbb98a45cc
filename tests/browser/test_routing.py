"""Every page URL renders the right page on the first visit to a freshly started server, and asks nothing of any
other host (a favicon from fonts.gstatic.com once did: the browser left the network on every page)."""

import re

import pytest

from tests.support.app import proxy_env, start_app
from tests.support.browser import new_context, open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser

PAGES = {
    "/": "LLM Gateway Dashboard",
    "/chat": "Chat",
    "/compare": "Compare",
    "/models": "Model catalogue",
    "/health": "Proxy health",
    "/usage": "Usage",
    "/leaderboard": "Leaderboard",
    "/evaluate": "Evaluate",
    "/prompts": "Prompt library",
    "/shared": "Shared links",
}


@pytest.mark.parametrize("path, heading", PAGES.items())
def test_first_visit_to_each_url_on_a_fresh_server(browser, proxy, path, heading):
    server = start_app(proxy_env(proxy))  # fresh for every URL: the trap is the first visit
    context = new_context(browser)
    try:
        page = context.new_page()
        elsewhere: list[str] = []
        page.on("request", lambda request: elsewhere.append(request.url)
                if not request.url.startswith((server.url, "data:", "blob:")) else None)
        open_page(page, server.url + path)
        page.get_by_role("heading", name=heading).first.wait_for()
        assert page.locator("text=Page not found").count() == 0
        assert page.locator("[data-testid='stException']").count() == 0
        # the shared sidebar ran too: the page was not run without its setup
        page.locator("[data-testid='stSidebar']").get_by_role("button", name="Refresh models").wait_for()
        screenshot(page, f"fresh{path.replace('/', '_') or '_home'}")
        assert elsewhere == []
    finally:
        context.close()
        server.stop()


def select_rows(page, count):
    """Tick the first `count` rows of the catalogue table (drawn on a canvas: click the checkbox column),
    each time waiting for the page to say what is selected."""
    box = page.locator("[data-testid='stDataFrame']").bounding_box()
    for row in range(count):
        page.mouse.click(box["x"] + 16, box["y"] + 35 + 35 * row + 17)
        signal = "Select 2–6 rows to compare." if row == 0 else f"Compare selected ({row + 1})"
        page.get_by_text(signal).wait_for()
        wait_idle(page)


def test_selected_rows_link_to_compare_and_chat(app, page):
    open_page(page, app.url + "/models")
    page.get_by_placeholder("name, provider or mode").fill("demo")
    page.keyboard.press("Enter")
    page.get_by_text(re.compile(r"^3 of \d+ models match")).wait_for()  # demo-fast, demo-slow, demo-vision
    wait_idle(page)
    select_rows(page, 2)
    page.get_by_text("Selected:").wait_for()
    screenshot(page, "models_selected")
    href = page.get_by_role("link", name="Chat with demo-fast").get_attribute("href")
    assert href.rsplit("/", 1)[-1] == "chat?model=demo-fast", href
    page.get_by_text("Compare selected (2)").click()
    page.wait_for_url("**/compare?models=demo-fast%2Cdemo-slow")
    wait_idle(page)
    page.get_by_role("heading", name="Compare").first.wait_for()
