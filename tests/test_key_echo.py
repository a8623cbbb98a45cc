"""A gateway that echoes the key back never gets it onto a page.

The hostile server (tests/support/hostile.py) stands in for a misconfigured gateway in front of, or instead of, the
proxy: every error body repeats the request's `Authorization` header whole, JSON-escaped, split in two and cut short.
Every page is driven through it with AppTest (discovery, the catalogue and its refresh, chat, compare, token
counting, the health probes and the per-model check), and every element each page sends is searched, serialised as
the browser would receive it, for any 8 characters of the key; so are the downloads. The browser-side twin, which
watches page HTML and websocket frames in Chromium, is in tests/browser/test_no_secrets.py.
"""

from __future__ import annotations

import secrets

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from tests.conftest import APP_ENV
from tests.support.hostile import hostile_server
from tests.support.pages import RUN_TIMEOUT
from tests.support.text import shown

APP = "../home.py"
SECRET_PART = secrets.token_hex(16)
KEY = f"sk-echo-{SECRET_PART}"
DIRECT_KEYS = {"OPENAI_API_KEY": f"sk-openai-{secrets.token_hex(16)}",
               "ANTHROPIC_API_KEY": f"sk-ant-{secrets.token_hex(16)}"}


def pieces(key: str, size: int = 8) -> list[str]:
    """Every `size`-character piece of the key that its masked form (first 3, last 4) does not show."""
    hidden = key[3:-4]
    return [hidden[i:i + size] for i in range(len(hidden) - size + 1)]


def sent(at: AppTest) -> bytes:
    """Every element of the page as the browser receives it (serialised protobuf), toasts and sidebar included."""
    blobs: list[bytes] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            blobs.append(proto.SerializeToString())
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(at._tree)
    return b"\n".join(blobs)


def sightings(blob: bytes | str, keys: dict[str, str]) -> list[str]:
    data = blob.encode() if isinstance(blob, str) else blob
    return [f"{name}: {piece}" for name, key in keys.items() for piece in pieces(key) if piece.encode() in data]


@pytest.fixture
def downloads(monkeypatch):
    files: list[bytes] = []
    add = MediaFileManager.add

    add_deferred = MediaFileManager.add_deferred

    def capture(self, data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        files.append(data if isinstance(data, bytes) else str(data).encode())
        return add(self, data, mimetype, coordinates, file_name, is_for_static_download)

    def capture_deferred(self, make, mimetype, coordinates, file_name=None, **kwargs):
        data = make()  # made when clicked: made now, as a click would
        files.append(data if isinstance(data, bytes) else str(data).encode())
        return add_deferred(self, make, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", capture)
    monkeypatch.setattr(MediaFileManager, "add_deferred", capture_deferred)
    return files


@pytest.fixture
def echoing(monkeypatch):
    """The app's environment pointing at a key-echoing gateway; yields the server."""
    with hostile_server("echo-calls") as server:
        for name in APP_ENV:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("LITELLM_ENABLED", "true")
        monkeypatch.setenv("LITELLM_BASE_URL", server.url)
        monkeypatch.setenv("LITELLM_API_KEY", KEY)
        for name, value in DIRECT_KEYS.items():
            monkeypatch.setenv(name, value)
        yield server


def test_the_detector_sees_the_key_in_an_element():
    at = AppTest.from_string(f"import streamlit as st\nst.toast('x {KEY[:14]}')\nst.caption('{KEY[-14:]}')")
    at.run()
    found = sightings(sent(at), {"key": KEY})
    assert f"key: {KEY[3:11]}" in found and f"key: {KEY[-12:-4]}" in found


def test_a_key_echoing_gateway_never_gets_the_key_onto_any_page(echoing, downloads):
    keys = {"LITELLM_API_KEY": KEY, **DIRECT_KEYS}
    seen: dict[str, bytes] = {}

    def look(at: AppTest, where: str) -> AppTest:
        assert not at.exception, (where, at.exception)
        seen[where] = sent(at)
        return at

    # Home: the glance probes fail with the echo; discovery falls back to /v1/models, which answers.
    at = look(AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run(), "home")
    assert at.metric[0].value == "Degraded"  # only /v1/models answers

    # Catalogue and its refresh: once fine, once with /v1/models echoing too (a stale list, a banner, a toast).
    at.switch_page("pages/models.py").run()
    look(at.sidebar.button[0].click().run(), "models, refreshed")
    echoing.mode = "echo"
    at = look(at.sidebar.button[0].click().run(), "models, refresh failed")
    assert any("Refresh failed" in t.value for t in at.toast) and at.warning
    echoing.mode = "echo-calls"
    look(at.sidebar.button[0].click().run(), "models, refreshed again")

    # Chat: the token count and the call both meet the echo.
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.query_params["model"] = "echo-a"
    at.run()
    at.switch_page("pages/chat.py").run()
    at = look(at.chat_input[0].set_value("Hello").run(), "chat")
    chat_error = shown(at.chat_message[1].error[0].value)
    assert "invalid key Bearer ***" in chat_error, "the echo reached the page, redacted"

    # Compare: two models, both echoing.
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.query_params["models"] = "echo-a,echo-b"
    at.run()
    at.switch_page("pages/compare.py").run()
    at = look(at.chat_input(key="compare_prompt").set_value("Hello").run(), "compare")
    assert len(at.error) >= 2

    # Health: every probe, the curl commands, the per-model check.
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    at.switch_page("pages/health.py").run()
    at = look(at.button(key="health_deployments_run").click().run(), "health")
    assert any("per-model check failed" in e.value for e in at.error)

    requests = " ".join(echoing.requests)
    for path in ("/v1/models", "/model/info", "/utils/token_counter", "/v1/chat/completions", "/health/liveliness",
                 "/health"):
        assert path in requests, f"{path} was never asked: the test would not drive it"
    found = {where: sightings(blob, keys) for where, blob in seen.items()}
    found["downloads"] = sightings(b"\n".join(downloads), keys)
    assert all(not found[where] for where in found), found
