"""Saved work in Chromium: a chat and a comparison come back by their link after a reload, and after the app is
stopped and started again (the same database), and can be continued."""

from __future__ import annotations

import re
import tempfile

import pytest
from playwright.sync_api import expect

from tests.support.app import proxy_env, start_app
from tests.support.browser import new_context, open_page, wait_idle

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
    context = new_context(browser)
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
        expect(page.locator(MESSAGES)).to_have_count(4)
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()
        restarted.stop()


def test_a_new_chat_is_listed_in_the_sidebar_when_its_first_reply_ends(proxy, browser, database):
    """The conversation fragment lists it (no page run on the reply's path, issue 23); its menu works from there."""
    server = start_app({**proxy_env(proxy), "DATABASE_URL": database})
    context = new_context(browser)
    page = context.new_page()
    try:
        open_page(page, server.url + "/chat?model=upstream-echo")
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_text("Your chats appear here once sent.").wait_for()
        ask(page, "where do otters sleep")
        page.locator(MESSAGES).nth(1).get_by_text("echo: where do otters sleep").wait_for()
        entry = sidebar.get_by_role("link", name="where do otters sleep")
        entry.wait_for()  # no reload, no click
        wait_idle(page)
        assert sidebar.get_by_text("Your chats appear here once sent.").count() == 0
        assert entry.count() == 1 and re.search(r"c=[0-9a-f]{32}", entry.get_attribute("href") or "")

        ask(page, "and where do beavers")  # the next turn: listed still, once
        page.locator(MESSAGES).nth(3).get_by_text("echo: and where do beavers").wait_for()
        wait_idle(page)
        assert entry.count() == 1

        sidebar.locator("[data-testid='stPopover'] button").first.click()  # the entry's menu, drawn by the fragment
        title = page.get_by_label("Title")
        title.fill("Otters at night")
        title.press("Enter")
        page.get_by_role("button", name="Rename").click()
        sidebar.get_by_role("link", name="Otters at night").wait_for()
        wait_idle(page)
        assert sidebar.get_by_role("link", name="where do otters sleep").count() == 0
        assert page.locator(MESSAGES).count() == 4
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()
        server.stop()


def test_opening_a_saved_chats_menu_while_a_reply_streams_does_not_stop_the_reply(proxy, browser, database):
    """A menu's contents are drawn only once it is opened, which reruns the entry (a fragment of its own), not the
    page: a page rerun would stop the reply streaming in the conversation fragment (it did, before the entry was a
    fragment: "Stopped: partial reply" after w2)."""
    server = start_app({**proxy_env(proxy), "DATABASE_URL": database})
    context = new_context(browser)
    page = context.new_page()
    try:
        open_page(page, server.url + "/chat?model=upstream-echo")
        ask(page, "an earlier chat")
        page.locator(MESSAGES).nth(1).get_by_text("echo: an earlier chat").wait_for()
        wait_idle(page)
        open_page(page, server.url + "/chat?model=stream-1")  # a new chat; the earlier one listed by the page
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_role("link", name="an earlier chat").wait_for()
        ask(page, "count for me")
        page.locator(MESSAGES).nth(1).get_by_text("w1").wait_for()  # streaming (35 words at 10 a second)
        sidebar.locator("[data-testid='stPopover'] button").first.click()
        page.get_by_label("Title").wait_for()  # the menu opens (once the reply has ended)
        wait_idle(page)
        reply = page.locator(MESSAGES).nth(1)
        assert len(re.findall(r"\bw\d+\b", reply.inner_text())) == 35, reply.inner_text()
        assert reply.get_by_text("Stopped").count() == 0
    finally:
        context.close()
        server.stop()


def test_a_comparison_survives_a_restart(proxy, browser, database):
    env = {**proxy_env(proxy), "DATABASE_URL": database}
    server = start_app(env)
    context = new_context(browser)
    page = context.new_page()
    try:
        open_page(page, server.url + "/compare?models=upstream-echo,demo-fast")
        ask(page, "side by side")
        page.get_by_text("echo: side by side").first.wait_for()
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


NOT_SAVED = "Your work is not being saved"


@pytest.mark.postgres
def test_a_database_outage_mid_chat_is_said_within_seconds_and_cleared_when_the_work_is_written(proxy, browser):
    """PostgreSQL stops mid-chat: the reply still comes; the chat says the work is not being saved within ~2 s of
    the failed write (no further click: the page is not run again), and says nothing once it is back and written.
    The turns written late are all there after a reload."""
    import time

    from tests.support.postgres import start_postgres

    database = start_postgres()
    server = start_app({**proxy_env(proxy), "DATABASE_URL": database.create_database("outage")})
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    notice = page.get_by_text(NOT_SAVED)
    try:
        open_page(page, server.url + "/chat?model=upstream-echo")
        ask(page, "before the outage")
        page.locator(MESSAGES).nth(1).get_by_text("echo: before the outage").wait_for()
        page.wait_for_url(LINK)
        wait_idle(page)
        assert notice.count() == 0

        database.stop()
        ask(page, "during the outage")
        page.locator(MESSAGES).nth(3).get_by_text("echo: during the outage").wait_for()  # replies keep coming
        replied = time.monotonic()
        notice.wait_for(timeout=10_000)
        print(f"notice {time.monotonic() - replied:.2f} s after the reply was on the page")
        assert time.monotonic() - replied < 4, "the notice should come within ~2 s of the failed write"
        wait_idle(page)
        notice.wait_for()  # still there when the page is idle: nothing reran it away

        database.start()
        notice.wait_for(state="detached", timeout=20_000)  # the writer's retry (≤ 5 s apart) and one check later
        page.reload()
        wait_idle(page)
        page.locator(MESSAGES).nth(3).get_by_text("echo: during the outage").wait_for()  # written after all
        assert notice.count() == 0
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()
        server.stop()
        database.destroy()
