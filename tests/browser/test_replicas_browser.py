"""Two app processes on one PostgreSQL, as a team deploys them behind a load balancer (Chromium): a chat started
on one opens by its link on the other, is listed there, and goes on; PostgreSQL stopped mid-chat shows a banner,
no traceback, and the turns written meanwhile land when it is back."""

from __future__ import annotations

import re
import time

import pytest

from tests.support.app import proxy_env, start_app
from tests.support.browser import new_context, open_page, wait_idle
from tests.support.postgres import start_postgres

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

PROMPT = "[data-testid='stChatInput'] textarea"
MESSAGES = "[data-testid='stChatMessage']"
LINK = re.compile(r".*[?&]c=([0-9a-f]{32})(&|$)")


def ask(page, prompt: str) -> None:
    page.locator(PROMPT).fill(prompt)
    page.locator(PROMPT).press("Enter")


@pytest.fixture
def postgres():
    server = start_postgres()  # its own server: the test stops and starts it
    yield server
    server.destroy()


def test_two_replicas_share_the_work_and_survive_the_database_going_away(proxy, browser, postgres):
    env = {**proxy_env(proxy), "DATABASE_URL": postgres.create_database()}
    first, second = start_app(env), start_app(env)
    context = new_context(browser)
    page = context.new_page()
    try:
        open_page(page, first.url + "/chat?model=upstream-echo")
        ask(page, "started on the first replica")
        page.locator(MESSAGES).nth(1).get_by_text("echo: started on the first replica").wait_for()
        page.wait_for_url(LINK)
        conversation = LINK.match(page.url).group(1)
        wait_idle(page)

        open_page(page, f"{second.url}/chat?c={conversation}")  # the load balancer sent the analyst elsewhere
        page.locator(MESSAGES).nth(1).get_by_text("echo: started on the first replica").wait_for()
        page.locator("[data-testid='stSidebar']").get_by_role("link", name="started on the first replica").wait_for()
        ask(page, "continued on the second")
        page.locator(MESSAGES).nth(3).get_by_text("echo: continued on the second").wait_for()
        wait_idle(page)

        postgres.stop()
        ask(page, "while the database is down")
        page.locator(MESSAGES).nth(5).get_by_text("echo: while the database is down").wait_for()
        wait_idle(page)
        ask(page, "still down?")  # by now the writer has found the database gone: the next run says so
        page.locator(MESSAGES).nth(7).get_by_text("echo: still down?").wait_for()
        page.get_by_text("not being saved").first.wait_for()
        assert page.locator("[data-testid='stException']").count() == 0

        postgres.start()  # the second replica's queued turn is written once its writer reaches the database again
        deadline = time.monotonic() + 180
        while True:  # open the link again until the queued turns are there (each visit waits on what it draws)
            open_page(page, f"{first.url}/chat?c={conversation}")
            page.locator(MESSAGES).nth(3).get_by_text("echo: continued on the second").wait_for()
            wait_idle(page)
            if page.locator(MESSAGES).count() == 8 or time.monotonic() > deadline:
                break
        assert "echo: while the database is down" in page.locator(MESSAGES).nth(5).inner_text()
        assert "echo: still down?" in page.locator(MESSAGES).nth(7).inner_text()
    finally:
        context.close()
        first.stop()
        second.stop()
