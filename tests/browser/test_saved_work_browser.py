"""Saved work in Chromium: a chat and a comparison come back by their link after a reload, and after the app is
stopped and started again (the same database), and can be continued."""

from __future__ import annotations

import re
import tempfile

import pytest

from tests.browser.conftest import open_page, proxy_env, start_app, wait_idle

pytestmark = pytest.mark.browser

PROMPT = "[data-testid='stChatInput'] textarea"
MESSAGES = "[data-testid='stChatMessage']"
LINK = re.compile(r".*[?&]c=[0-9a-f]{32}(&|$)")


def ask(page, prompt: str) -> None:
    page.locator(PROMPT).fill(prompt)
    page.locator(PROMPT).press("Enter")


@pytest.fixture
def database() -> str:
    return f"sqlite:///{tempfile.mkdtemp(prefix='saved-work-')}/dashboard.db"


def test_a_chat_survives_a_reload_and_a_restart(proxy, browser, database):
    env = {**proxy_env(proxy), "DATABASE_URL": database}
    server = start_app(env)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        open_page(page, server.url + "/chat?model=upstream-echo")
        ask(page, "remember the otters")
        page.locator(MESSAGES).nth(1).get_by_text("echo: remember the otters").wait_for()
        page.wait_for_url(LINK)
        link = page.url
        wait_idle(page)

        page.reload()
        wait_idle(page)
        page.locator(MESSAGES).nth(1).get_by_text("echo: remember the otters").wait_for()
        page.locator("[data-testid='stSidebar']").get_by_role("link", name="remember the otters").wait_for()  # listed
    finally:
        server.stop()

    restarted = start_app(env)
    try:
        open_page(page, link.replace(server.url, restarted.url))
        page.locator(MESSAGES).nth(1).get_by_text("echo: remember the otters").wait_for()
        ask(page, "and the beavers")
        page.locator(MESSAGES).nth(3).get_by_text("echo: and the beavers").wait_for()
        wait_idle(page)
        assert page.locator(MESSAGES).count() == 4
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()
        restarted.stop()


def test_a_comparison_survives_a_restart(proxy, browser, database):
    env = {**proxy_env(proxy), "DATABASE_URL": database}
    server = start_app(env)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        open_page(page, server.url + "/compare?models=upstream-echo,demo-fast")
        ask(page, "side by side")
        page.get_by_text("echo: side by side").first.wait_for(timeout=30_000)
        page.wait_for_url(LINK)
        wait_idle(page)
        link = page.url
    finally:
        server.stop()

    restarted = start_app(env)
    try:
        open_page(page, link.replace(server.url, restarted.url))
        page.get_by_text("echo: side by side").first.wait_for()
        page.get_by_text("Hello! I am the fast demo model.").first.wait_for()
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()
        restarted.stop()
