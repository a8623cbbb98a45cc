"""Browser tests: a real Streamlit server in front of the test proxy, driven in Debian's headless Chromium
(tests/support/browser.py: the browser, its tabs and the waits; tests/support/app.py: the app's server, `app`).

Waits are on Streamlit's own signals (`/_stcore/health`, the app's script state) and on visible text, never on
fixed sleeps, with timeouts made for a busy machine.
"""

from __future__ import annotations

import pytest

from tests.support.browser import browser, page  # noqa: F401 - fixtures

BROWSER_TEST_TIMEOUT = 900  # seconds a browser test may take (pytest.ini's 300 is for the rest): a busy machine


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests (that do not set their own) get BROWSER_TEST_TIMEOUT."""
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(BROWSER_TEST_TIMEOUT))
