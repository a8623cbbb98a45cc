"""Every page URL renders the right page on the first visit to a freshly started server."""

import pytest

from tests.browser.conftest import open_page, proxy_env, screenshot, start_app

pytestmark = pytest.mark.browser

PAGES = {
    "/": "LLM Gateway Dashboard",
    "/chat": "Chat",
    "/compare": "Compare",
    "/models": "Model catalogue",
    "/health": "Proxy health",
}


@pytest.mark.parametrize("path, heading", PAGES.items())
def test_first_visit_to_each_url_on_a_fresh_server(browser, proxy, path, heading):
    server = start_app(proxy_env(proxy))  # fresh for every URL: the trap is the first visit
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = open_page(context.new_page(), server.url + path)
        page.get_by_role("heading", name=heading).first.wait_for()
        assert page.locator("text=Page not found").count() == 0
        assert page.locator("[data-testid='stException']").count() == 0
        # the shared sidebar ran too: the page was not run without its setup
        page.get_by_role("button", name="Refresh models").wait_for()
        screenshot(page, f"fresh{path.replace('/', '_') or '_home'}")
    finally:
        context.close()
        server.stop()


def test_catalogue_selection_links_to_chat_and_compare(app, page):
    open_page(page, app.url + "/models")
    page.get_by_text("models match").wait_for()
    screenshot(page, "models")
    assert page.locator("[data-testid='stDataFrame']").count() == 1
