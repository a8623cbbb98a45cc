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
from tests.support.api import conforms, key_pieces, server_sent_events
from tests.support.app import start_app
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
        api.get("/api/models"), api.get("/api/models/catalogue"), api.post("/api/models"), api.get("/api/health"),
        api.get("/api/openapi.json"),
        api.post("/api/compare", json={"models": ["echo-a", "echo-b"], "prompt": "hello"}),
        api.post("/api/compare?stream=true", json={"models": ["echo-a", "echo-b"], "prompt": "hello"}),
        api.post("/api/compare", json={"models": ["echo-a"], "prompt": "hello"}), api.get("/api/nothing"),
    ]
    for answer in answers:
        everything = answer.text + json.dumps(dict(answer.headers))
        leaked = sorted(piece for piece in key_pieces(KEY) if piece in everything)
        assert not leaked, f"{answer.request.method} {answer.request.url.path}: {leaked}"
    assert any(r.startswith("POST ") and "chat/completions" in r for r in echo.requests)  # the calls were made
    models, catalogue, refreshed, health, _, compared, streamed, *_ = answers
    assert [m["id"] for m in models.json()[:2]] == ["echo-a", "echo-b"]
    assert [m["key"] for m in catalogue.json()["models"][:2]] == ["echo-a", "echo-b"]
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
        assert answer.status_code == 200 and answer.headers["x-models-source"] == "builtin_only"
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
        deadline = time.monotonic() + 60
        while (found := store.load(comparison_id, "ana@example.com")) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert found is not None and found.rounds[0].prompt == "mine"
        assert store.load(comparison_id, "bo@example.com") is None
        assert store.load(comparison_id, LOCAL_OWNER) is None
        assert [c.id for c in store.history("bo@example.com")] == []
    finally:
        store.close()


# --- No cross-site writes, no rebound names (api/policy.py) ------------------------------------------------------

COMPARE_BODY = json.dumps({"models": ["echo-a", "echo-b"], "prompt": "spend it"}).encode()
EVIL = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}


def model_calls(echo: Hostile) -> int:
    return sum("chat/completions" in r for r in echo.requests)


@pytest.mark.parametrize("headers, status, kind", [
    ({"Content-Type": "text/plain", **EVIL}, 403, "cross_site"),  # the curl: an HTML form, enctype=text/plain
    ({"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"}, 403, "cross_site"),
    ({"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, 403, "cross_site"),  # a sibling subdomain
    ({"Content-Type": "application/json", "Origin": "null"}, 403, "cross_site"),  # a sandboxed frame
    ({"Content-Type": "text/plain"}, 415, "unsupported_media_type"),  # no Origin: still not JSON
    ({"Content-Type": "multipart/form-data; boundary=x"}, 415, "unsupported_media_type"),
    ({}, 415, "unsupported_media_type"),  # a body without a Content-Type
])
def test_a_cross_site_or_non_json_write_is_refused_and_nothing_is_sent(api, echo, headers, status, kind):
    calls, before = model_calls(echo), len(echo.requests)
    answer = api.post("/api/compare", content=COMPARE_BODY, headers=headers)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["kind"] == kind and error["message"] and error["hint"]
    refresh = api.post("/api/models", headers=headers)  # the other write: a refresh asks the proxy
    assert refresh.status_code in (403, 415) if headers else refresh.status_code == 200
    assert model_calls(echo) == calls
    if headers:  # (a refresh without a body needs no Content-Type: curl -X POST)
        assert len(echo.requests) == before


def test_a_same_origin_json_call_from_the_apps_own_page_still_works(api, echo, server):
    calls = model_calls(echo)
    same = {"Origin": server.url, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json; charset=utf-8"}
    answer = api.post("/api/compare", content=COMPARE_BODY, headers=same)
    assert answer.status_code == 200, answer.text
    assert model_calls(echo) == calls + 2
    assert api.post("/api/models", headers={"Origin": server.url}).status_code == 200  # curl -X POST: no body


def test_a_page_that_rebinds_its_name_to_this_machine_is_refused_everywhere(api, server, echo):
    """Sign-in off: `Host: evil.example:PORT` is a page elsewhere whose name now points here (DNS rebinding)."""
    port = server.url.rsplit(":", 1)[1]
    rebound = {"Host": f"evil.example:{port}"}
    before = len(echo.requests)
    for answer in (api.get("/api/usage", headers=rebound), api.get("/api/models", headers=rebound),
                   api.post("/api/compare", json={"models": ["echo-a", "echo-b"], "prompt": "x"}, headers=rebound)):
        assert answer.status_code == 421, answer.text
        assert answer.json()["error"]["kind"] == "wrong_host" and "ALLOWED_HOSTS" in answer.json()["error"]["hint"]
        assert answer.headers["x-content-type-options"] == "nosniff"
    page = api.get("/", headers=rebound)  # the pages too, in plain text that repeats nothing it was sent
    assert page.status_code == 421 and page.headers["content-type"].startswith("text/plain")
    assert "evil" not in page.text
    assert len(echo.requests) == before
    assert _websocket_status(server.url, f"evil.example:{port}") == 403  # and the pages' websocket
    assert _websocket_status(server.url, f"127.0.0.1:{port}") == 101
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", f"app.localhost:{port}"):
        assert api.get("/api/usage", headers={"Host": host}).status_code == 200, host


def _websocket_status(url: str, host: str) -> int:
    """The status line's code of a websocket handshake to the pages' stream with this Host."""
    import socket

    address = url.removeprefix("http://")
    name, port = address.rsplit(":", 1)
    with socket.create_connection((name, int(port)), timeout=10) as sock:
        sock.sendall((f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Protocol: streamlit\r\n\r\n").encode())
        return int(sock.recv(1024).split(b" ", 2)[1])


# --- Hostile input: a 400 before any model is called ----------------------------------------------------------

HOSTILE = [
    ('{"models": ["echo-a", "echo-b"], "prompt": "x\\ud800y"}', "'prompt' is not valid Unicode"),
    ("[" * 50_000, "deeper than"),
    ('{"models": ["echo-a", "echo-b"], "prompt": "x", "system_prompt": ' + "[" * 5_000 + "]" * 5_000 + "}",
     "deeper than"),
    ('{"models": ["echo-a", "echo-b"], "prompt": "x", "max_tokens": ' + "7" * 5_001 + "}", "5,001 digits"),
    ('{"models": ["echo-a", "echo-b"], "prompt": "x", "max_tokens": 1e308}', "'max_tokens' must be a whole number"),
    ('{"models": ["echo-a", "echo-b"], "prompt": "x", "temperature": "hot"}', "'temperature' must be a number"),
    ('{"models": ["echo-a", "echo-b"], "prompt": ["x"]}', "'prompt' must be a non-empty string"),
    ('{"models": ["echo-a", "echo-b", "echo-a"], "prompt": "x"}', "'echo-a' is given twice"),
]


@pytest.mark.parametrize("stream", ["", "?stream=true"])
@pytest.mark.parametrize("body, words", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_is_a_400_and_no_model_is_called(api, echo, body, words, stream):
    calls = model_calls(echo)
    answer = api.post(f"/api/compare{stream}", content=body.encode(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text[:300]
    assert words in answer.json()["error"]["message"]
    assert model_calls(echo) == calls
    assert api.get("/api/models").status_code == 200  # and the server is fine


def test_an_unknown_stream_value_is_refused_not_taken_for_false(api, echo):
    calls = model_calls(echo)
    answer = api.post("/api/compare?stream=maybe", json={"models": ["echo-a", "echo-b"], "prompt": "x"})
    assert answer.status_code == 400 and "stream='maybe' is not true or false" in answer.json()["error"]["message"]
    assert model_calls(echo) == calls


def test_errors_never_carry_markup_as_such(api):
    answer = api.post("/api/compare", json={"models": ["echo-a", "<img src=x onerror=alert(1)>"], "prompt": "x"})
    assert answer.status_code == 400 and answer.json()["error"]["kind"] == "model_not_found"
    assert "<img src=x onerror=alert(1)>" in answer.json()["error"]["message"]  # the same words, as JSON text
    assert "<" not in answer.text and "\\u003cimg" in answer.text  # never markup a browser could render
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_personal_answers_are_never_stored_and_nothing_is_sniffed(api):
    for path in ("/api/usage", "/api/usage?scope=me", "/api/models", "/api/health", "/api/nothing"):
        answer = api.get(path)
        assert answer.headers["cache-control"] == "no-store", path
        assert answer.headers["x-content-type-options"] == "nosniff", path
    document = api.get("/api/openapi.json")
    assert "no-store" not in document.headers.get("cache-control", "") and \
        document.headers["x-content-type-options"] == "nosniff"
    assert api.get("/").headers["x-content-type-options"] == "nosniff"  # the pages too


# --- A property over the request schema, over HTTP -----------------------------------------------------------

def _request_bodies():
    from hypothesis import strategies as st

    from tests.test_api_validation import _hostile, _raw, _valid

    served = _valid.map(lambda body: {**body, "models": body["models"][:0] + ["echo-a", "echo-b"],
                                      "repeats": min(body.get("repeats", 1), 2)})
    mutated = st.builds(lambda body, name, value: {**body, name: value}, served,
                        st.sampled_from(["models", "prompt", "max_tokens", "temperature", "stream", "extra"]), _hostile)
    return st.one_of(served, mutated).map(lambda d: json.dumps(d).encode()) | _raw


def test_no_request_makes_a_500_or_calls_a_model_before_it_is_valid(server, echo):
    """Hypothesis over CompareRequest (valid bodies, each with one field made hostile, and raw bytes): every answer
    is a 200 or a 4xx, and a 4xx called no model (the gateway's own count of chat calls)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.support.properties import examples

    with httpx.Client(base_url=server.url, timeout=60) as client:
        @settings(max_examples=examples(60), deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(body=_request_bodies(), stream=st.sampled_from(["", "?stream=true", "?stream=false"]))
        def check(body: bytes, stream: str) -> None:
            calls = model_calls(echo)
            answer = client.post(f"/api/compare{stream}", content=body, headers={"Content-Type": "application/json"})
            assert answer.status_code in (200, 400, 402, 413), (answer.status_code, answer.text[:300])
            if answer.status_code != 200:
                assert model_calls(echo) == calls, body[:200]
                assert answer.json()["error"]["message"]

        check()


# --- Identity by header, strictly --------------------------------------------------------------------------------

PROXY_SECRET = "proxy-only-secret-7f3a9c1e55"


def test_header_sign_in_takes_exactly_one_address_and_only_from_the_proxy(echo):
    """AUTH_MODE=header with AUTH_PROXY_SECRET: without the proxy's secret nobody is named (401, with a challenge);
    with it, `evil:x:boss@…` is nobody, `budget1@example.com.` is budget1@example.com, and a Cyrillic look-alike of
    the admin (sent as UTF-8, as a proxy would) is refused rather than read as Latin-1."""
    app = start_app({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": echo.url, "LITELLM_API_KEY": KEY,
                     "AUTH_MODE": "header", "ADMIN_EMAILS": "boss@example.com", "AUTH_PROXY_SECRET": PROXY_SECRET})
    try:
        with httpx.Client(base_url=app.url, timeout=60) as client:
            def usage(email: str | bytes, secret: str | None = PROXY_SECRET, **query: str) -> httpx.Response:
                headers: dict[str, str | bytes] = {"X-Forwarded-Email": email}
                if secret is not None:
                    headers["X-Auth-Proxy-Secret"] = secret
                return client.get("/api/usage", headers=headers, params=query)

            for refused in (usage("boss@example.com", secret=None), usage("boss@example.com", secret="guess"),
                            usage("evil:x:boss@example.com"), usage("b\u043ess@example.com".encode()),
                            usage("boss@example.com, ana@example.com")):
                assert refused.status_code == 401, refused.text
                assert refused.headers["www-authenticate"].startswith("SignInProxy realm=\"api\"")
                assert refused.json()["error"]["kind"] == "unauthenticated"
                assert PROXY_SECRET not in refused.text and "evil" not in refused.text
            assert "did not come through the sign-in proxy" in usage("boss@example.com", secret=None).text
            calls = len(echo.requests)
            assert client.post("/api/compare", json={"models": ["echo-a", "echo-b"], "prompt": "x"},
                               headers={"X-Forwarded-Email": "boss@example.com"}).status_code == 401
            assert len(echo.requests) == calls  # nothing reached the gateway
            assert usage("budget1@example.com.").json()["analyst"] == "budget1@example.com"
            assert usage("BOSS@Example.COM", scope="team").status_code == 200  # the admin, by the proxy
    finally:
        app.stop()


# --- The server and its OpenAPI document agree ------------------------------------------------------------------

def _example(schema: dict) -> str:
    """A valid query value of this parameter schema."""
    if schema.get("type") == "array":
        return _example(schema["items"])
    if "enum" in schema:
        return str(schema["enum"][0])
    return {"boolean": "true", "integer": str(schema.get("minimum", 0))}.get(schema.get("type", ""), "x")


def _invalid(schema: dict) -> str:
    """A query value this parameter schema refuses."""
    if schema.get("type") == "array":
        return _invalid(schema["items"])
    if "enum" in schema or schema.get("type") in ("boolean", "integer"):
        return "not-one-of-them"
    return "x" * (schema["maxLength"] + 1)


def _requests(document: dict, url: str) -> list[tuple[str, str, str, dict, bytes | None, str]]:
    """(what, method, path?query, headers, body, path) over every documented operation: valid requests and each way
    the document says one can be refused."""
    host = url.removeprefix("http://")
    made = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            method = method.upper()
            body = json.dumps({"models": ["echo-a", "echo-b"], "prompt": "agree"}).encode() \
                if "requestBody" in operation else None
            json_type = {"Content-Type": "application/json"} if body is not None else {}
            made.append(("valid", method, path, json_type, body, path))
            for parameter in operation.get("parameters", []):
                name, schema = parameter["name"], parameter["schema"]
                made.append(("valid parameter", method, f"{path}?{name}={_example(schema)}", json_type, body, path))
                made.append(("invalid parameter", method, f"{path}?{name}={_invalid(schema)}", json_type, body, path))
            made.append(("unknown parameter", method, f"{path}?nope=1", json_type, body, path))
            made.append(("rebound host", method, path, {**json_type, "Host": f"evil.example:{host.split(':')[1]}"},
                         body, path))
            made.append(("another machine", method, path, {**json_type, **REMOTE}, body, path))
            made.append(("over the limit", method, path, {"Content-Type": "application/json"},
                         b" " * (MAX_BODY_BYTES + 1), path))
            if method != "GET":
                made.append(("text/plain", method, path, {"Content-Type": "text/plain"}, body or b"{}", path))
                made.append(("cross-site", method, path, {**json_type, **EVIL}, body, path))
                made.append(("not JSON", method, path, json_type or {"Content-Type": "application/json"}, b"{x", path))
    return made


def test_every_answer_is_one_the_openapi_document_describes(api, server):
    """A generator over the document: for every operation, valid requests and every documented way to refuse one;
    each answer's status is documented for its operation, its body matches the documented schema, and its headers
    are the policy's. Undocumented methods and paths answer 405 and 404 as the document's description says."""
    document = api.get("/api/openapi.json").json()
    seen: set[tuple[str, str, int]] = set()
    for what, method, target, headers, body, path in _requests(document, server.url):
        answer = api.request(method, target, headers=headers, content=body)
        responses = document["paths"][path][method.lower()]["responses"]
        assert str(answer.status_code) in responses, f"{what}: {method} {target} → {answer.status_code} " \
                                                     f"(documented: {', '.join(responses)}) {answer.text[:200]}"
        seen.add((path, method, answer.status_code))
        assert answer.headers["x-content-type-options"] == "nosniff", what
        if path != "/api/openapi.json" or answer.status_code >= 400:
            assert answer.headers["cache-control"] == "no-store", (what, target)
        schema = responses[str(answer.status_code)].get("content", {}).get("application/json", {}).get("schema")
        if answer.headers["content-type"].startswith("application/json") and schema and "$ref" in schema:
            conforms(answer.json(), schema["$ref"].rsplit("/", 1)[1])
        if answer.status_code == 401:
            assert "www-authenticate" in answer.headers
    assert {status for _, _, status in seen} >= {200, 400, 403, 413, 415, 421}  # each way was exercised
    for path, item in document["paths"].items():
        other = next(m for m in ("DELETE", "PUT", "PATCH") if m.lower() not in item)
        wrong = api.request(other, path, headers={"Content-Type": "application/json"}, content=b"{}")
        assert wrong.status_code == 405 and wrong.headers["allow"], path
        conforms(wrong.json(), "ErrorAnswer")
    missing = api.get("/api/not-in-the-document")
    assert missing.status_code == 404 and conforms(missing.json(), "ErrorAnswer")
