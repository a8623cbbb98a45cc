"""Browser tests: a real Streamlit server in front of the test proxy, driven in Debian's headless Chromium.

Waits are on Streamlit's own signals (`/_stcore/health`, the app's script state) and on visible text, never on
fixed sleeps. Screenshots go to artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import APP_ENV, ROOT
from tests.support.proxy import Proxy, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


@dataclass
class AppServer:
    """A running `streamlit run streamlit_app.py`."""

    url: str
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_app(env: dict[str, str], *, timeout: float = 60.0) -> AppServer:
    """Start the app on a free port with exactly these app settings and wait for /_stcore/health."""
    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix="streamlit-", suffix=".log")[1])
    child_env = {k: v for k, v in os.environ.items() if k not in APP_ENV}
    child_env.update(env)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = AppServer(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{server.url}/_stcore/health", timeout=1.0).text == "ok":
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError("streamlit did not become healthy")


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
def app(proxy: Proxy) -> Iterator[AppServer]:
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
