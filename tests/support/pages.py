"""The one way tests open a page with AppTest, as a browser arrives at it: the app's home script runs first, then the
page, with the link's query parameters and any session state set beforehand; a page that raised fails the test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

HOME = str(Path(__file__).resolve().parents[2] / "home.py")
# Seconds an AppTest script run may take: a page run takes well under a second here when the machine is quiet, many
# times that beside CPU hogs on a shared 2-core machine. A run that ends sooner returns at once.
RUN_TIMEOUT = 120


def open_page(path: str | None = None, *, timeout: float = RUN_TIMEOUT, state: dict[str, Any] | None = None,
              **query: str) -> AppTest:
    """`path` (e.g. "pages/chat.py"; None: the home page) after the home page, with `?name=value` from `query`."""
    at = AppTest.from_file(HOME, default_timeout=timeout)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    for name, value in query.items():
        at.query_params[name] = value
    if path:
        at.switch_page(path).run()
    assert not at.exception, at.exception
    return at
