"""Browser tests: a real Streamlit server in front of the test proxy, driven in Debian's headless Chromium.

Waits are on Streamlit's own signals (`/_stcore/health`, the app's script state) and on visible text, never on
fixed sleeps. Screenshots go to artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from scripts.services import Service, app_healthy, launch, wait_until_ready
from tests.conftest import APP_ENV, ROOT
from tests.support.proxy import Proxy, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"



def start_app(env: dict[str, str], *, timeout: float = 60.0) -> Service:
    """Start the app on a free port with exactly these app settings and wait for /_stcore/health."""
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if k not in APP_ENV}
    child_env["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='dashboard-db-')}/dashboard.db"
    child_env.update(env)
    argv = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
            "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    server = launch("streamlit", argv, f"http://127.0.0.1:{port}", env=child_env, cwd=ROOT)
    wait_until_ready(server, app_healthy, timeout)
    return server


def proxy_env(proxy: Proxy) -> dict[str, str]:
    return {"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": proxy.base_url, "LITELLM_API_KEY": proxy.master_key}


def wait_idle(page: Page, timeout: float = 90_000) -> None:
    """Wait until the app's script has finished its run."""
    page.wait_for_selector(IDLE, timeout=timeout)


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


@pytest.fixture(scope="session")
def app(proxy: Proxy) -> Iterator[Service]:
    """One app server for the session, pointing at the test proxy."""
    server = start_app(proxy_env(proxy))
    yield server
    server.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    yield tab
    context.close()
