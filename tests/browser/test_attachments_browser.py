"""Attachments in Chromium: an image and a CSV picked with the prompt box's file chooser are sent with the prompt,
shown as a thumbnail and a table preview, and come back when the saved chat is reloaded by its link."""

from __future__ import annotations

import re
import tempfile

import pandas as pd
import pytest

from tests.support.app import proxy_env, start_app
from tests.support.browser import new_context, open_page, wait_idle
from tests.test_attachments import png

pytestmark = pytest.mark.browser

PROMPT = "[data-testid='stChatInput'] textarea"
MESSAGES = "[data-testid='stChatMessage']"
LINK = re.compile(r".*[?&]c=[0-9a-f]{32}(&|$)")


def test_an_image_and_a_csv_are_sent_shown_and_come_back_after_a_reload(proxy, browser, tmp_path):
    image, table = tmp_path / "chart.png", tmp_path / "sales.csv"
    image.write_bytes(png(3000, 1500))
    table.write_bytes(pd.DataFrame({"city": ["Paris", "Lyon", "Nice"], "sales": [10, 20, 30]})
                      .to_csv(index=False).encode())
    database = f"sqlite:///{tempfile.mkdtemp(prefix='attachments-')}/dashboard.db"
    server = start_app({**proxy_env(proxy), "DATABASE_URL": database})
    context = new_context(browser)
    page = context.new_page()
    try:
        open_page(page, server.url + "/chat?model=demo-vision")
        with page.expect_file_chooser() as chooser:
            page.locator("[data-testid='stChatInputFileUploadButton'] button").click()
        chooser.value.set_files([str(image), str(table)])
        page.locator(PROMPT).fill("Describe this")
        submit = page.locator("[data-testid='stChatInputSubmitButton']")
        page.wait_for_function("() => !document.querySelector(\"[data-testid='stChatInputSubmitButton']\").disabled")
        submit.click()

        def shown() -> None:
            user = page.locator(MESSAGES).nth(0)
            user.get_by_text("chart.png · 2,048×1,024 px (from 3,000×1,500)").wait_for()
            thumbnail = user.locator("img").first
            thumbnail.wait_for()
            assert thumbnail.get_attribute("src").startswith("data:image/webp;base64,")  # inline: no link to it
            assert thumbnail.evaluate("img => img.complete && img.naturalWidth") == 480  # 2 × its 240 px width
            user.get_by_text("sales.csv · 3 rows × 2 columns").wait_for()
            user.locator("[data-testid='stDataFrame']").wait_for()
            page.locator(MESSAGES).nth(1).get_by_text("2048×1024").first.wait_for()

        shown()
        page.wait_for_url(LINK)
        wait_idle(page)
        page.reload()
        wait_idle(page)
        shown()
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()
        server.stop()
