"""Evaluation in Chromium: the new pages on a fresh server; three blind rounds whose votes put the same model first
on /leaderboard, with its interval, names hidden before each vote; and the 20-prompt sample set against three demo
models through the real proxy, stopped half-way, the app restarted, resumed, and complete with the known pass rates
and no finished cell sent again."""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile

import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.support.app import proxy_env, start_app
from tests.support.browser import new_context, open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser

PROMPT = "[data-testid='stChatInput'] textarea"
FAST_REPLY = "Hello! I am the fast demo model."
NAMES = ("upstream-echo", "demo-fast")


def download(page, label: str) -> bytes:
    """The first download button of that name (a run's results come before the run-against-run comparison's)."""
    with page.expect_download() as info:
        page.get_by_role("button", name=label).first.click()
    path = info.value.path()
    return path.read_bytes()


def test_three_blind_rounds_won_by_one_model_put_it_first_on_the_leaderboard(app, page):
    open_page(page, app.url + "/compare?models=" + ",".join(NAMES))
    page.get_by_placeholder("Send to every model…").wait_for()  # the page's own first run, not only idle
    page.get_by_text("Blind mode").click()
    page.get_by_text("hidden and the panels shuffled").wait_for()  # the toggle's run drew the blind caption
    wait_idle(page)
    panels = page.locator("[data-testid='stColumn']").filter(has=page.locator("[data-testid='stChatMessage']"))
    vote = page.get_by_role("button", name=re.compile(r"Vote$"))  # the new round's form ("Change vote" once voted)
    for number in range(1, 4):
        prompt = f"Round {number}: say hello"
        page.locator(PROMPT).fill(prompt)
        page.locator(PROMPT).press("Enter")
        # The round is drawn whole once both panels show its prompt, the fast model's reply is in one of them, and the
        # vote on it is offered. (Until the new run has drawn, the page still shows the last round, voted and
        # revealed, with its own "Which reply is best?": waiting on that text alone reads the old round.)
        expect(panels.filter(has_text=prompt)).to_have_count(2)
        expect(panels.filter(has_text=prompt).filter(has_text=FAST_REPLY)).to_have_count(1)
        expect(vote).to_be_visible()
        wait_idle(page)
        # before the vote: aliases in the panels, no model name and no cost anywhere in them or in a caption
        expect(panels).to_have_count(2)
        expect(panels.filter(has_text="hidden until you vote")).to_have_count(2)
        expect(panels.filter(has_text="Model A")).to_have_count(1)
        expect(panels.filter(has_text="Model B")).to_have_count(1)
        shown = " ".join(panels.all_inner_texts()) + " ".join(
            page.locator("[data-testid='stCaptionContainer']").all_inner_texts())
        assert not any(name in shown for name in NAMES), shown
        assert "$" not in " ".join(panels.all_inner_texts())
        if number == 1:
            screenshot(page, "compare_blind_before_vote")
        fast_panel = panels.filter(has_text=FAST_REPLY)
        alias = re.search(r"Model [AB]", fast_panel.inner_text()).group(0)
        page.get_by_text(f"({alias}) is better").click()
        vote.click()
        page.get_by_text("you voted:").wait_for()
        panels.filter(has_text="demo-fast").first.wait_for()  # revealed
        wait_idle(page)
        expect(panels.filter(has_text="hidden until you vote")).to_have_count(0)
    screenshot(page, "compare_blind_after_vote")

    open_page(page, app.url + "/leaderboard")
    page.get_by_text("3 votes · 2 models").wait_for()
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for()  # the intervals chart
    rows = list(csv.DictReader(io.StringIO(download(page, "Download CSV").decode())))
    assert [row["Model"] for row in rows] == ["demo-fast", "upstream-echo"]
    # three votes say demo-fast is probably better, not by how much: the intervals overlap, the rank is shared
    assert rows[0]["Rank"] == rows[1]["Rank"] == "1–2" and int(rows[0]["Wins"]) == 3
    assert float(rows[0]["95% low"]) <= float(rows[0]["Rating"]) <= float(rows[0]["95% high"])
    assert float(rows[0]["Rating"]) > float(rows[1]["Rating"])
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "leaderboard")


MODELS = ("eval-quick", "eval-creative", "eval-flaky")  # demo-quick, demo-creative, demo-flaky
PASSES = {"eval-quick": 14, "eval-creative": 16, "eval-flaky": 11}  # README: the sample set's known pass rates
DONE = re.compile(r"(\d+) of 60 cells")


def cells_done(page) -> int:
    text = page.locator("[data-testid='stProgress']").first.inner_text()
    found = DONE.search(text)
    return int(found.group(1)) if found else 0


def test_a_prompt_set_stopped_half_way_resumes_after_a_restart_without_running_a_cell_twice(proxy, browser):
    env = {**proxy_env(proxy), "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp(prefix='eval-')}/dashboard.db",
           "EVAL_CONCURRENCY": "6"}
    server = start_app(env)
    context = new_context(browser, viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    try:
        open_page(page, server.url + "/evaluate")
        page.get_by_role("heading", name="Prompt set").wait_for()  # the page's own first run, not only idle
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
            str(ROOT / "examples" / "prompt-set.csv"))
        page.get_by_text("prompt-set.csv").first.wait_for()
        wait_idle(page)
        page.get_by_role("button", name="Save set").click()
        page.get_by_role("heading", name="New run").wait_for()  # drawn once a set is saved
        page.get_by_text("The prompts of prompt-set").wait_for()  # the saved set, named after its file
        wait_idle(page)
        models = page.locator("[data-testid='stMultiSelect']").filter(has_text="Models (2–6)").locator("input")
        for name in MODELS:
            models.click()
            models.fill(name)
            page.keyboard.press("Enter")
            wait_idle(page)
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Get a cost quote").click()
        page.get_by_text("Quote:").wait_for()
        wait_idle(page)
        page.get_by_role("button", name="Start the run").click()
        page.wait_for_url(re.compile(r".*[?&]run=[0-9a-f]{32}"))
        link = page.url
        page.get_by_role("button", name="Stop").wait_for()
        page.wait_for_function(  # half-way: the progress bar's own text, redrawn every second
            "() => { const m = /(\\d+) of 60 cells/.exec(document.querySelector(\"[data-testid='stProgress']\")"
            "?.innerText || ''); return m && +m[1] >= 24 }", timeout=300_000)
        page.get_by_role("button", name="Stop").click()
        page.get_by_text(re.compile(r"Stopped · \d+ of 60 cells")).wait_for()
        wait_idle(page)
        stopped_at = cells_done(page)
        assert 24 <= stopped_at < 60
        before = json.loads(download(page, "JSON"))
        assert len(before["cells"]) == stopped_at
        screenshot(page, "evaluate_stopped")
    finally:
        server.stop()

    restarted = start_app(env)
    try:
        open_page(page, link.replace(server.url, restarted.url))
        page.get_by_text(f"Stopped · {stopped_at} of 60 cells").wait_for()
        page.get_by_role("button", name=f"Resume ({60 - stopped_at} cells left)").click()
        page.get_by_text("Finished · 60 of 60 cells").wait_for(timeout=300_000)
        wait_idle(page)
        after = json.loads(download(page, "JSON"))
        screenshot(page, "evaluate_finished")
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()
        restarted.stop()

    cells = {(c["row"], c["reply"]["model"]): c for c in after["cells"]}
    assert len(after["cells"]) == len(cells) == 60
    for cell in before["cells"]:  # every cell finished before the stop is the same call, not a new one
        again = cells[(cell["row"], cell["reply"]["model"])]
        assert again["reply"]["metrics"]["call_id"] == cell["reply"]["metrics"]["call_id"]
        assert again["reply"]["text"] == cell["reply"]["text"]
    passed = {name: sum(bool(c["passed"]) for c in after["cells"] if c["reply"]["model"] == name) for name in MODELS}
    assert passed == PASSES


def test_an_unvoted_blind_round_stays_blind_after_a_reload_in_a_new_tab_and_in_its_export(app, page, browser):
    open_page(page, app.url + "/compare?models=" + ",".join(NAMES))
    page.get_by_placeholder("Send to every model…").wait_for()
    page.get_by_text("Blind mode").click()
    page.get_by_text("hidden and the panels shuffled").wait_for()
    wait_idle(page)
    page.locator(PROMPT).fill("Blind round: say hello")
    page.locator(PROMPT).press("Enter")
    page.get_by_text("Which reply is best?").wait_for()
    page.wait_for_url("**c=*")
    wait_idle(page)
    link = page.url
    panels = page.locator("[data-testid='stColumn']").filter(has=page.locator("[data-testid='stChatMessage']"))

    def still_blind(tab) -> None:
        tab.get_by_text("Which reply is best?").wait_for()
        wait_idle(tab)
        tab_panels = tab.locator("[data-testid='stColumn']").filter(has=tab.locator("[data-testid='stChatMessage']"))
        shown = " ".join(tab_panels.all_inner_texts()) + " ".join(tab.get_by_role("radiogroup").all_inner_texts())
        assert "Model A" in shown and "Model B" in shown and FAST_REPLY in shown
        assert not any(name in shown for name in NAMES), shown
        exported = download(tab, "Markdown").decode()
        assert "Model A" in exported and FAST_REPLY in exported
        assert not any(name in exported for name in NAMES), exported

    page.reload()  # a reload starts a new session
    still_blind(page)
    screenshot(page, "compare_blind_after_reload")
    other = browser.new_page(viewport={"width": 1400, "height": 1600})  # another tab, by the link
    try:
        other.goto(link)
        still_blind(other)
        other.get_by_text("Tie").click()
        other.get_by_role("button", name="Vote").click()
        other.get_by_text("you voted:").wait_for()
        wait_idle(other)
    finally:
        other.close()
    page.reload()  # the vote, cast in the other tab, reveals the round here too
    page.get_by_text("you voted:").wait_for()
    wait_idle(page)
    panels.filter(has_text="demo-fast").first.wait_for()
    exported = download(page, "Markdown").decode()
    assert all(name in exported for name in NAMES)
