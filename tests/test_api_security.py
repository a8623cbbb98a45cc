"""The API's security, over real HTTP: no key in any answer even when the gateway behind echoes it, bodies over the
limit refused, and (sign-in being off) only this machine answered unless API_ALLOW_REMOTE=true."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from api.http import MAX_BODY_BYTES
from gateway.store import LOCAL_OWNER, Store
from tests.browser.conftest import start_app
from tests.support.api import key_pieces, server_sent_events
from tests.support.hostile import Hostile, hostile_server

KEY = "sk-api-echo-Zq8Xv2Lm4Np7Rt1Wy9Bc"  # the app's key to the echo server: no piece of it may come back
REMOTE = {"X-Forwarded-For": "203.0.113.7"}  # the server trusts this from 127.0.0.1: the caller is another host

pytestmark = pytest.mark.processes  # the app's own server (start_app), as a client meets it


@pytest.fixture(scope="module")
def echo() -> Iterator[Hostile]:
    """A gateway whose every error repeats the key whole, JSON-escaped, split in two and cut short; `/v1/models`
    lists echo-a and echo-b, so every call, probe and count meets the echo."""
    with hostile_server("echo-calls") as server:
        yield server


@pytest.fixture(scope="module")
def server(echo: Hostile):
    """The app in front of a gateway that echoes the key in its errors."""
    app = start_app({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": echo.url, "LITELLM_API_KEY": KEY})
    yield app
    app.stop()


def test_the_echo_server_does_echo_the_key(echo):  # so the next test can fail
    answer = httpx.get(f"{echo.url}/model/info", headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 401 and any(piece in answer.text for piece in key_pieces(KEY))


def test_no_answer_carries_the_key_when_the_gateway_echoes_it(api, echo):
    answers = [
        api.get("/api/models"), api.post("/api/models"), api.get("/api/health"), api.get("/api/openapi.json"),
        api.post("/api/compare", json={"models": ["echo-a", "echo-b"], "prompt": "hello"}),
        api.post("/api/compare?stream=true", json={"models": ["echo-a", "echo-b"], "prompt": "hello"}),
        api.post("/api/compare", json={"models": ["echo-a"], "prompt": "hello"}), api.get("/api/nothing"),
    ]
    for answer in answers:
        everything = answer.text + json.dumps(dict(answer.headers))
        leaked = sorted(piece for piece in key_pieces(KEY) if piece in everything)
        assert not leaked, f"{answer.request.method} {answer.request.url.path}: {leaked}"
    assert any(r.startswith("POST ") and "chat/completions" in r for r in echo.requests)  # the calls were made
    models, refreshed, health, _, compared, streamed, *_ = answers
    assert [m["key"] for m in models.json()["models"][:2]] == ["echo-a", "echo-b"]
    assert health.status_code == 503 and "invalid key" in health.text  # the echo arrived, the key masked
    replies = compared.json()["replies"]
    assert [r["outcome"] for r in replies] == ["failed", "failed"]
    assert all("invalid key" in r["error"]["message"] for r in replies)
    events = server_sent_events(streamed.text)
    assert [name for name, _ in events][-1] == "done" and "invalid key" in streamed.text


def test_a_body_over_the_limit_is_refused_before_it_is_read(api):
    too_big = b"x" * (MAX_BODY_BYTES + 1)
    answer = api.post("/api/compare", content=too_big, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and answer.json()["error"]["kind"] == "too_large"

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
        for _ in range(3 * MAX_BODY_BYTES // 65536):
            yield b"x" * 65536

    answer = api.post("/api/compare", content=chunked(), headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "larger than 1,000,000 bytes" in answer.json()["error"]["message"]
    assert api.get("/api/models").status_code == 200  # the server is fine


def test_a_body_just_under_the_limit_is_read(api):
    prompt = "word " * ((MAX_BODY_BYTES - 200) // 5)
    body = json.dumps({"models": ["echo-a", "echo-b"], "prompt": prompt}).encode()
    assert len(body) <= MAX_BODY_BYTES
    answer = api.post("/api/compare", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 200 and answer.json()["prompt"] == prompt.strip()


def test_another_host_is_refused_while_sign_in_is_off(api, echo):
    calls = len(echo.requests)
    for answer in (api.get("/api/models", headers=REMOTE), api.get("/api/health", headers=REMOTE),
                   api.post("/api/models", headers=REMOTE), api.get("/api/openapi.json", headers=REMOTE),
                   api.post("/api/compare", headers=REMOTE, json={"models": ["echo-a", "echo-b"], "prompt": "hi"})):
        assert answer.status_code == 403, answer.text
        error = answer.json()["error"]
        assert error["kind"] == "forbidden" and "API_ALLOW_REMOTE=true" in error["hint"]
    assert len(echo.requests) == calls  # nothing reached the gateway
    assert api.get("/models", headers=REMOTE).status_code == 200  # the pages are not the API's to refuse


def test_api_allow_remote_opens_it_to_other_hosts():
    app = start_app({"LITELLM_ENABLED": "false", "API_ALLOW_REMOTE": "true"})
    try:
        answer = httpx.get(f"{app.url}/api/models", headers=REMOTE, timeout=30)
        assert answer.status_code == 200 and answer.json()["source"] == "builtin_only"
    finally:
        app.stop()


def test_a_prompt_over_max_prompt_chars_is_refused_before_anything_is_sent(echo):
    app = start_app({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": echo.url, "LITELLM_API_KEY": KEY,
                     "MAX_PROMPT_CHARS": "100"})
    try:
        with httpx.Client(base_url=app.url, timeout=60) as client:
            calls = sum("chat/completions" in r for r in echo.requests)
            answer = client.post("/api/compare", json={"models": ["echo-a", "echo-b"], "prompt": "x" * 101})
            assert answer.status_code == 400, answer.text
            error = answer.json()["error"]
            assert error["kind"] == "prompt_too_long" and "101 characters" in error["message"]
            assert "at most 100 characters" in error["message"] and "MAX_PROMPT_CHARS" in error["hint"]
            assert sum("chat/completions" in r for r in echo.requests) == calls  # nothing was sent
            fits = client.post("/api/compare", json={"models": ["echo-a", "echo-b"], "prompt": "x" * 100})
            assert fits.status_code == 200 and sum("chat/completions" in r for r in echo.requests) == calls + 2
    finally:
        app.stop()


def test_header_sign_in_the_api_acts_for_the_header_analyst_and_nobody_sees_another_ones_work(echo, tmp_path):
    """AUTH_MODE=header: the API reads the pages' header; without it nothing is answered (even from loopback), and a
    comparison made over HTTP is saved for the analyst the header names, for nobody else."""
    database = f"sqlite:///{tmp_path}/dashboard.db"
    app = start_app({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": echo.url, "LITELLM_API_KEY": KEY,
                     "AUTH_MODE": "header", "AUTH_HEADER": "X-Forwarded-Email", "DATABASE_URL": database})
    try:
        with httpx.Client(base_url=app.url, timeout=60) as client:
            calls = len(echo.requests)
            for answer in (client.get("/api/models"), client.get("/api/health"), client.post("/api/models"),
                           client.post("/api/compare", json={"models": ["echo-a", "echo-b"], "prompt": "hi"}),
                           client.get("/api/models", headers={"X-Forwarded-Email": "not an address"})):
                assert answer.status_code == 401, answer.text
                error = answer.json()["error"]
                assert error["kind"] == "unauthenticated" and "X-Forwarded-Email" in error["message"]
            assert len(echo.requests) == calls  # nothing reached the gateway
            ana = {"X-Forwarded-Email": "Ana@Example.com"}
            assert client.get("/api/models", headers=ana).status_code == 200
            made = client.post("/api/compare", headers=ana, json={"models": ["echo-a", "echo-b"], "prompt": "mine"})
            assert made.status_code == 200, made.text
            comparison_id = made.json()["id"]
    finally:
        app.stop()  # the write-behind queue is flushed on the way out
    store = Store.open(database)
    try:
        deadline = time.monotonic() + 10
        while (found := store.load(comparison_id, "ana@example.com")) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert found is not None and found.rounds[0].prompt == "mine"
        assert store.load(comparison_id, "bo@example.com") is None
        assert store.load(comparison_id, LOCAL_OWNER) is None
        assert [c.id for c in store.history("bo@example.com")] == []
    finally:
        store.close()
