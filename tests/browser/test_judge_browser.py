"""The judge in Chromium, end to end through the real proxy: two rounds on /compare, each voted on by the analyst
and judged by `eval-judge` in both orders from the round's "Judge this round" — the first the same way she voted,
the second (both replies right) a flagged tie from the demo judge's lean to the first answer — and /leaderboard then
shows the judge–human agreement (50 %, Cohen's κ 0.33) and the judge's position consistency (50 %)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.support.app import proxy_env, start_app
from tests.support.browser import open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser

PROMPT = "[data-testid='stChatInput'] textarea"


@pytest.fixture(scope="module")
def judged_app(proxy) -> Iterator:
    """An app of its own: the leaderboard's agreement counts every round judged, so no other test's may be there."""
    server = start_app(proxy_env(proxy))
    yield server
    server.stop()


def round_voted_and_judged(page, prompt: str, voted: str, said: str) -> None:
    """Send `prompt`, vote `voted` best, judge the round, and wait for the judge's verdict (`said`)."""
    panels = page.locator("[data-testid='stColumn']").filter(has=page.locator("[data-testid='stChatMessage']"))
    page.locator(PROMPT).fill(prompt)
    page.locator(PROMPT).press("Enter")
    expect(panels.filter(has_text=prompt)).to_have_count(2)
    vote = page.get_by_role("button", name=re.compile(r"Vote$"))
    expect(vote).to_be_visible()
    wait_idle(page)
    page.get_by_text(f"({voted}) is better").click()
    vote.click()
    page.get_by_text("you voted:").wait_for()
    wait_idle(page)
    judge = page.get_by_role("button", name=re.compile(r"Judge$"))
    if not judge.is_visible():  # (the browser keeps the expander open from the last round)
        page.get_by_text("Judge this round with a model").click()
        wait_idle(page)  # (opened: its 500 ms animation over, so the click below lands on the button)
    expect(judge).to_be_visible()
    expect(page.get_by_text("1 pair, 2 calls (both orders): quote $")).to_be_visible()
    judge.click()
    page.get_by_text(said).wait_for()
    wait_idle(page)


def test_the_leaderboard_shows_judge_human_agreement_and_position_consistency(judged_app, page):
    open_page(page, judged_app.url + "/compare?models=eval-quick,eval-creative")
    page.get_by_placeholder("Send to every model…").wait_for()
    # 38 × 27: eval-quick says 1025, eval-creative 1026; she and the judge both pick eval-creative
    round_voted_and_judged(page, "What is 38 * 27?", "eval-creative", "eval-judge on this round: eval-creative is best")
    screenshot(page, "compare_judged_round")
    # both right: she picks eval-quick; the judge picks whichever it is shown first, so its verdict is a flagged tie
    round_voted_and_judged(page, "What is the capital of Japan?", "eval-quick", "Flagged tie")
    screenshot(page, "compare_flagged_tie")

    open_page(page, judged_app.url + "/leaderboard")
    line = page.get_by_text("position consistency")
    expect(line).to_contain_text("Judge verdicts: 2; position consistency 50%")
    expect(line).to_contain_text("Judge–human agreement on 2 votes both made: 50% (Cohen's κ 0.33")
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "leaderboard_judge_agreement")


def test_a_verdict_on_a_round_not_voted_on_shows_where_the_judge_was_asked(judged_app, page):
    """Judging needs no vote of one's own when the names are shown: the verdict appears in the open "Judge this round"
    (it closed on the page's redraw before, hiding the verdict the analyst had just paid for)."""
    open_page(page, judged_app.url + "/compare?models=eval-quick,eval-creative")
    page.get_by_placeholder("Send to every model…").wait_for()
    page.locator(PROMPT).fill("What is 38 * 27?")
    page.locator(PROMPT).press("Enter")
    page.get_by_text("Judge this round with a model").wait_for()
    wait_idle(page)
    page.get_by_text("Judge this round with a model").click()
    wait_idle(page)
    page.get_by_role("button", name=re.compile(r"Judge$")).click()
    verdict = page.get_by_text("eval-judge on this round: eval-creative is best")
    verdict.wait_for()
    wait_idle(page)
    expect(verdict).to_be_visible()
    expect(page.get_by_text(re.compile(r"Last pass: 1 pair judged in both orders"))).to_be_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "compare_judged_not_voted")
