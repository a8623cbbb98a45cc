"""Debian's headless Chromium driven by Playwright, and the few ways the browser tests wait on the app.

Waits are on what the page draws and on Streamlit's own signals, never on fixed sleeps, and their timeouts are
generous: the suite must hold on a shared 2-core machine with CPU hogs beside it, where a page's run takes many times
what it takes on a quiet one. A wait that is met returns at once, so the generous timeouts cost a green run nothing.
Screenshots go to artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.support.app import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
# The app has finished its run and drawn it: the script is not running and no element of the last run is still
# stale (Streamlit marks what a run has not drawn again yet `data-stale`, and removes what it left out at the end).
# Nor is anything still moving: an expander opens over 500 ms (a Web Animation of its height), and a click on a
# button in it while it grows can land on nothing (seen on a loaded machine: the click was dispatched, the app never
# heard of it). Endless animations (a spinner) do not count.
DRAWN = ("() => !!document.querySelector(\"" + IDLE.replace('"', '\\"') + "\")"
         " && !document.querySelector(\"[data-stale='true']\")"
         " && document.getAnimations().every(a => a.playState !== 'running'"
         " || a.effect.getComputedTiming().iterations === Infinity)")
WAIT_MS = 120_000  # every wait, expect() and navigation: Playwright's 30 s default fails on a busy machine
VIEWPORT = {"width": 1400, "height": 900}

expect.set_options(timeout=WAIT_MS)


def new_context(browser: Browser, **options: Any) -> BrowserContext:
    """A fresh browser context (its own cookies and storage) whose waits use WAIT_MS."""
    context = browser.new_context(**{"viewport": VIEWPORT, **options})
    context.set_default_timeout(WAIT_MS)
    context.set_default_navigation_timeout(WAIT_MS)
    return context


def wait_idle(page: Page, timeout: float = WAIT_MS) -> None:
    """Wait until the app's script has finished its run and the page shows what it drew. (Right after a click or
    `goto` the app may not have started the run yet: wait first for something that run draws.)"""
    page.wait_for_function(DRAWN, timeout=timeout)


def open_page(page: Page, url: str) -> Page:
    page.goto(url)
    wait_idle(page)
    return page


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make browser)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = new_context(browser)
    tab = context.new_page()
    yield tab
    context.close()
