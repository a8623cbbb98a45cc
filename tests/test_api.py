"""The HTTP API, over real HTTP: `streamlit run streamlit_app.py` started as the browser tests start it, in front
of the real test proxy (through a relay that can take the proxy away). Answers are checked against the API's own
OpenAPI schemas as well as by value."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

import gateway
from api import SERVED
from api.openapi import document
from gateway.store import LOCAL_OWNER, Store
from tests.support.api import Relay, conforms, server_sent_events
from tests.support.app import start_app
from tests.support.pages import RUN_TIMEOUT
from tests.support.proxy import Proxy, settings_for
from tests.support.upstream import RECEIVED

pytestmark = pytest.mark.proxy


@pytest.fixture(scope="module")
def relay(proxy: Proxy) -> Iterator[Relay]:
    relay = Relay(int(proxy.base_url.rsplit(":", 1)[1])).start()
    yield relay
    relay.stop()


@pytest.fixture(scope="module")
def server(proxy: Proxy, relay: Relay, tmp_path_factory: pytest.TempPathFactory):
    """One app server for the module, reaching the proxy through the relay, with a database the tests can read."""
    database = f"sqlite:///{tmp_path_factory.mktemp('api-db')}/dashboard.db"
    app = start_app({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": relay.url, "LITELLM_API_KEY": proxy.master_key,
                     "DATABASE_URL": database})
    app.database = database
    yield app
    app.stop()


@pytest.fixture
def proxy_settings(proxy: Proxy):
    return settings_for(proxy)


def error_of(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = conforms(response.json(), "ErrorAnswer")["error"]
    assert error["message"] and error["status"] == status
    return error


# --- GET /api/models: the integration guide's array ----------------------------------------------------------------


def test_models_answer_the_guides_array_of_usable_models(api, proxy_settings):
    response = api.get("/api/models").raise_for_status()
    models = conforms(response.json(), "GuideModelList")  # a bare array of exactly id, name, provider, contextWindow
    pages = gateway.fetch_models(proxy_settings)  # what every page's setup reads, here in the test process
    assert [m["id"] for m in models] == [m.id for m in pages.models if m.available]
    by_id = {m["id"]: m for m in models}
    assert by_id["demo-fast"] == {"id": "demo-fast", "name": "demo-fast", "provider": "litellm", "contextWindow": 8192}
    assert by_id["llama3-70b"]["provider"] == "litellm"  # reached through the proxy, whoever serves it upstream
    assert {m["provider"] for m in models} == {"litellm"}  # no direct key is set: the direct models cannot be used
    assert "gpt-4o (direct)" not in {m["name"] for m in models}


def test_models_say_where_the_list_came_from_in_headers(api):
    assert api.post("/api/models").status_code == 200  # fetched now
    first, second = api.get("/api/models"), api.get("/api/models")
    catalogue = api.get("/api/models/catalogue").json()
    assert first.headers["x-models-source"] == second.headers["x-models-source"] == catalogue["source"] == "cached"
    assert first.headers["x-models-status"] == catalogue["status"] == "live"
    assert first.headers["x-models-fetched-at"] == catalogue["fetchedAt"]
    assert 0 <= int(first.headers["x-models-age"]) <= int(second.headers["x-models-age"]) <= catalogue["ageSeconds"]
    assert "x-models-error" not in first.headers


def test_models_filter_the_guides_array_as_the_catalogue(api):
    for query in ({"q": "demo"}, {"provider": "anthropic"}, {"min_context": 1_000_000}):
        guide = api.get("/api/models", params=query).raise_for_status().json()
        full = api.get("/api/models/catalogue", params=query).json()["models"]
        assert [m["id"] for m in guide] == [m["id"] for m in full if m["available"]]
    assert api.get("/api/models", params={"q": "no such model anywhere"}).json() == []


# --- GET /api/models/catalogue: ours ---------------------------------------------------------------------------------


def test_the_catalogue_is_what_the_pages_show_with_every_field(api, proxy_settings):
    answer = conforms(api.get("/api/models/catalogue").raise_for_status().json(), "ModelList")
    pages = gateway.fetch_models(proxy_settings)
    assert [m["key"] for m in answer["models"]] == [m.key for m in pages.models]
    assert answer["count"] == answer["total"] == len(pages.models)
    assert answer["proxyModels"] == len(pages.litellm_models)
    models = {m["key"]: m for m in answer["models"]}
    assert models["gpt-4o"]["deployments"] == 2 and models["gpt-4o"]["contextSource"] == "proxy"
    demo = models["demo-fast"]  # from the config's model_info
    assert (demo["contextWindow"], demo["contextSource"], demo["maxOutputTokens"]) == (8192, "proxy", 1024)
    assert (demo["inputPricePerMillion"], demo["outputPricePerMillion"], demo["route"]) == (1.0, 2.0, "litellm")
    llama = models["llama3-70b"]
    assert (llama["provider"], llama["contextWindow"], llama["contextSource"]) == ("groq", 8192, "estimated")
    direct = models["openai:gpt-4o"]  # a built-in direct model, listed without its key
    assert (direct["id"], direct["name"], direct["available"]) == ("gpt-4o", "gpt-4o (direct)", False)
    assert "OPENAI_API_KEY" in direct["unavailableReason"]


@pytest.mark.parametrize("path", ["/api/models", "/api/models/catalogue"])
def test_models_come_compressed_only_when_asked(api, path):
    plain = api.get(path, headers={"Accept-Encoding": "identity"})
    packed = api.get(path, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers and packed.headers["content-encoding"] == "gzip"
    assert len(packed.content) == len(plain.content)  # httpx decompressed it
    assert int(packed.headers["content-length"]) < len(plain.content) / 4
    bodies = [plain.json(), packed.json()]
    if path == "/api/models/catalogue":
        bodies = [body["models"] for body in bodies]  # (its age may have turned a second between the two)
    assert bodies[0] == bodies[1]
    assert plain.headers["vary"] == packed.headers["vary"] == "Accept-Encoding"
    assert packed.headers.get("x-models-source") == plain.headers.get("x-models-source")


def test_the_catalogue_says_live_then_cached_with_its_age(api):
    assert api.post("/api/models").status_code == 200  # fetched now
    first = api.get("/api/models/catalogue").json()
    second = api.get("/api/models/catalogue").json()
    assert first["source"] == second["source"] == "cached" and first["status"] == "live"
    assert second["fetchedAt"] == first["fetchedAt"] and second["ageSeconds"] >= 0
    assert first["endpoint"] == "/model/info" and first["error"] is None


def test_the_catalogue_filters_by_provider_context_and_words(api):
    def keys(**query) -> list[str]:
        answer = api.get("/api/models/catalogue", params=query).raise_for_status().json()
        assert answer["count"] == len(answer["models"]) <= answer["total"]
        return [m["key"] for m in answer["models"]]

    assert keys(q="demo") == ["demo-fast", "demo-slow", "demo-vision"]  # demo-vision: the attachments' test model
    anthropic = keys(provider="anthropic")
    assert "claude-3-5-sonnet" in anthropic and "anthropic:claude-3-opus-20240229" in anthropic
    assert all("anthropic" in m["providers"]
               for m in api.get("/api/models/catalogue?provider=anthropic").json()["models"])
    assert set(keys(provider="groq,vertex_ai")) == {"llama3-70b", "gemini-1.5-pro"}
    assert keys(provider=["groq", "vertex_ai"]) == keys(provider="groq,vertex_ai")
    big = api.get("/api/models/catalogue", params={"min_context": 1_000_000}).json()["models"]
    assert big and all(m["contextWindow"] >= 1_000_000 for m in big)
    assert keys(q="gpt-4o", provider="openai", min_context=100_000) == ["gpt-4o", "openai:gpt-4o", "openai:gpt-4o-mini"]
    assert keys(q="no such model anywhere") == []


@pytest.mark.parametrize("path", ["/api/models", "/api/models/catalogue"])
@pytest.mark.parametrize("query, words", [
    ("min_context=lots", "min_context='lots' is not a whole number"),
    ("min_context=-5", "min_context='-5' is not a whole number from 0"),
    ("capability=telepathy", "capability='telepathy' is not one of vision, tools, reasoning"),
    ("capability=vision,telepathy", "capability='telepathy' is not one of"),
    ("q=a&q=b", "q is given 2 times; give it once"),
    ("colour=red", "Unknown query parameter 'colour'"),
])
def test_bad_filters_are_refused_in_plain_words(api, path, query, words):
    error = error_of(api.get(f"{path}?{query}"), 400)
    assert words in error["message"]


# --- POST /api/models ----------------------------------------------------------------------------------------------


def test_refresh_answers_the_original_shape_with_the_count(api):
    answer = conforms(api.post("/api/models").raise_for_status().json(), "Refreshed")
    assert answer["success"] is True and answer["message"] == "Model cache refreshed"
    assert answer["count"] == len(api.get("/api/models").json())  # what a guide client then lists
    assert answer["total"] == api.get("/api/models/catalogue").json()["total"]
    assert answer["source"] == "live" and answer["ageSeconds"] < 5


# --- The proxy goes away -------------------------------------------------------------------------------------------


def test_an_outage_keeps_the_last_good_list_and_refresh_answers_503(api, relay):
    good = api.post("/api/models").raise_for_status().json()
    listed = [m["key"] for m in api.get("/api/models/catalogue").json()["models"]]
    guide = api.get("/api/models").json()
    relay.stop()
    try:
        refused = api.post("/api/models")
        answer = conforms(refused.json(), "RefreshFailed")
        error = error_of(refused, 503)
        assert answer["success"] is False and answer["count"] == good["count"]  # the count is unchanged
        assert error["kind"] == "unreachable" and "connection refused" in error["message"]
        assert "LITELLM_BASE_URL" in error["hint"] and "last good list is still served" in answer["message"]

        stale = conforms(api.get("/api/models/catalogue").json(), "ModelList")
        assert stale["source"] == "last_good" and stale["status"] == "stale"
        assert [m["key"] for m in stale["models"]] == listed and stale["ageSeconds"] >= 0
        assert stale["error"]["kind"] == "unreachable"
        kept = api.get("/api/models")  # a guide client still lists the last good models, and can tell
        assert kept.status_code == 200 and kept.json() == guide
        assert (kept.headers["x-models-source"], kept.headers["x-models-error"]) == ("last_good", "unreachable")

        down = api.get("/api/health")
        assert down.status_code == 503
        health = conforms(down.json(), "Health")
        assert health["status"] == "unreachable" and not health["healthy"] and health["version"] is None
        assert all(not p["ok"] and p["kind"] == "unreachable" for p in health["probes"])
    finally:
        relay.start()
    back = api.post("/api/models").raise_for_status().json()
    assert back["success"] is True and back["count"] == good["count"] and back["source"] == "live"


# --- GET /api/health -----------------------------------------------------------------------------------------------


def test_health_is_200_when_healthy_with_version_and_latencies(api):
    response = api.get("/api/health")
    assert response.status_code == 200, response.text
    health = conforms(response.json(), "Health")
    assert health["status"] == "healthy" and health["healthy"] and health["label"] == "Healthy"
    assert health["version"] and health["version"][0].isdigit()
    assert set(health["latenciesMs"]) == {"Liveliness", "Readiness", "Models", "Model info"}
    assert all(ms > 0 for ms in health["latenciesMs"].values())
    assert health["models"] >= 10 and health["deployments"] > health["models"]  # gpt-4o has two
    assert "answers every check" in health["summary"]


# --- POST /api/compare ---------------------------------------------------------------------------------------------


def saved(server, comparison_id: str):
    """The comparison as the server saved it (write-behind: it may take a moment)."""
    store = Store.open(server.database)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = store.load(comparison_id, LOCAL_OWNER)
            if found is not None:
                return found
            time.sleep(0.1)
        return None
    finally:
        store.close()


def test_compare_returns_every_reply_with_its_numbers_and_saves_it_for_the_caller(api, server):
    response = api.post("/api/compare", json={"models": ["demo-fast", "upstream-echo", "error-rate-limit"],
                                              "prompt": "Hello there", "temperature": 0.2})
    answer = conforms(response.raise_for_status().json(), "Comparison")
    replies = {r["model"]: r for r in answer["replies"]}
    assert list(replies) == answer["models"] == ["demo-fast", "upstream-echo", "error-rate-limit"]
    assert replies["demo-fast"]["text"] == "Hello! I am the fast demo model."
    assert replies["upstream-echo"]["text"].strip() == "echo: Hello there"
    for key in ("demo-fast", "upstream-echo"):
        reply = replies[key]
        assert reply["outcome"] == "complete" and reply["error"] is None
        assert 0 < reply["metrics"]["ttft"] <= reply["metrics"]["total"] and reply["metrics"]["completion_tokens"]
    assert replies["demo-fast"]["metrics"]["cost"] > 0
    failed = replies["error-rate-limit"]
    assert failed["outcome"] == "failed" and failed["error"]["kind"] == "rate_limited" and failed["error"]["hint"]
    assert answer["params"]["temperature"] == 0.2 and answer["url"] == f"/compare?c={answer['id']}"

    comparison = saved(server, answer["id"])  # like the page: a comparison of the caller's, one round
    assert comparison is not None and comparison.kind == "compare"
    assert comparison.models == answer["models"] and [r.prompt for r in comparison.rounds] == ["Hello there"]
    assert {k: r.to_dict() for k, r in comparison.rounds[0].replies.items()} == replies


def test_compare_sends_the_reasoning_effort_and_answers_with_the_thinking(api, server):
    answer = conforms(api.post("/api/compare", json={
        "models": ["upstream-think-reasoning", "upstream-echo"], "prompt": "Think first", "reasoning_effort": "high",
        "thinking_budget": 2048}).raise_for_status().json(), "Comparison")
    sent = [r for r in RECEIVED if r.get("model") == "think-20-200-5-reasoning"][-1]
    assert sent["reasoning_effort"] == "high"
    thinking = next(r for r in answer["replies"] if r["model"] == "upstream-think-reasoning")
    assert thinking["thinking"] == "".join(f"t{i} " for i in range(20)) and thinking["text"] == "w0 w1 w2 w3 w4 "
    assert thinking["metrics"]["reasoning_tokens"] == 20 and thinking["metrics"]["first_thought"] is not None
    assert answer["params"]["reasoning_effort"] == "high" and answer["params"]["thinking_budget"] == 2048
    comparison = saved(server, answer["id"])
    assert comparison.rounds[0].params["upstream-think-reasoning"].reasoning_effort == "high"


def test_compare_runs_repeats(api):
    answer = api.post("/api/compare", json={"models": ["demo-fast", "upstream-echo"], "prompt": "again",
                                            "repeats": 2}).raise_for_status().json()
    assert [(r["model"], r["run"]) for r in answer["replies"]] == [
        ("demo-fast", 1), ("demo-fast", 2), ("upstream-echo", 1), ("upstream-echo", 2)]
    assert all(r["outcome"] == "complete" for r in answer["replies"])


def test_compare_streams_one_event_per_chunk_then_each_reply_then_the_whole(api):
    with api.stream("POST", "/api/compare?stream=true",
                    json={"models": ["demo-fast", "upstream-echo"], "prompt": "Stream this please"}) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = server_sent_events(response.read().decode())
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done" and names.count("reply") == 2
    started, done = events[0][1], events[-1][1]
    conforms(started, "CompareStarted")
    conforms(done, "Comparison")
    assert done["id"] == started["id"] and done["models"] == ["demo-fast", "upstream-echo"]
    for key in done["models"]:
        chunks = [data["text"] for name, data in events if name == "chunk" and data["model"] == key]
        final = next(i for i, (name, data) in enumerate(events) if name == "reply" and data["model"] == key)
        last_chunk = max(i for i, (name, data) in enumerate(events) if name == "chunk" and data["model"] == key)
        assert last_chunk < final  # every chunk of a reply comes before its reply event
        reply = conforms(events[final][1], "Reply")
        assert "".join(chunks) == reply["text"] == next(r["text"] for r in done["replies"] if r["model"] == key)
    # demo-fast's mock streams its 32 characters in 3-character pieces: one event each
    assert [d["text"] for n, d in events if n == "chunk" and d["model"] == "demo-fast"] == [
        "Hel", "lo!", " I ", "am ", "the", " fa", "st ", "dem", "o m", "ode", "l."]


def test_a_reasoning_models_thinking_streams_as_thinking_events_before_its_answer(api):
    with api.stream("POST", "/api/compare?stream=true",
                    json={"models": ["upstream-think-fast", "demo-fast"], "prompt": "Think"}) as response:
        events = server_sent_events(response.read().decode())
    mine = [(name, data["text"]) for name, data in events
            if name in ("thinking", "chunk") and data["model"] == "upstream-think-fast"]
    assert "".join(t for n, t in mine if n == "thinking") == "".join(f"t{i} " for i in range(20))
    assert "".join(t for n, t in mine if n == "chunk") == "w0 w1 w2 w3 w4 "
    assert [n for n, _ in mine] == ["thinking"] * 20 + ["chunk"] * 5
    assert not any(n == "thinking" and d["model"] == "demo-fast" for n, d in events)


def test_a_stream_the_client_leaves_stops_the_models_and_keeps_what_arrived(api, server):
    with api.stream("POST", "/api/compare", params={"stream": "true"},
                    json={"models": ["upstream-slow", "demo-fast"], "prompt": "take your time"}) as response:
        seen: list[dict] = []
        for line in response.iter_lines():  # read until demo-fast has ended and upstream-slow has begun
            if line.startswith("data: "):
                seen.append(json.loads(line.removeprefix("data: ")))
            fast_done = any(data.get("model") == "demo-fast" and "outcome" in data for data in seen)
            slow_began = any(data.get("model") == "upstream-slow" and data.get("text") for data in seen)
            if fast_done and slow_began:
                break  # and go away
        comparison_id = seen[0]["id"]
    comparison = saved(server, comparison_id)
    assert comparison is not None
    slow = comparison.rounds[0].replies["upstream-slow"]
    assert slow.outcome.value == "stopped" and slow.text.startswith("w0 ")  # the partial reply is kept
    assert comparison.rounds[0].replies["demo-fast"].text == "Hello! I am the fast demo model."


def test_an_api_comparison_opens_on_the_compare_page(api, server, app_env, monkeypatch):
    from streamlit.testing.v1 import AppTest

    answer = api.post("/api/compare", json={"models": ["upstream-echo", "demo-fast"],
                                            "prompt": "Open me on the page"}).raise_for_status().json()
    assert saved(server, answer["id"]) is not None
    monkeypatch.setenv("DATABASE_URL", server.database)  # the page, in this process, reads the server's database
    at = AppTest.from_file("../home.py", default_timeout=RUN_TIMEOUT)
    at.run()
    at.query_params["c"] = answer["id"]
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    assert at.multiselect(key="compare_models").value == ["upstream-echo", "demo-fast"]
    shown = " ".join(m.markdown[0].value for m in at.chat_message if m.markdown)
    assert "Open me on the page" in shown and "echo: Open me on the page" in shown


@pytest.mark.parametrize("body, status, words", [
    ({"models": ["demo-fast"], "prompt": "hi"}, 400, "'models' must be a list of 2 to 6 different model keys, not 1"),
    ({"models": ["demo-fast", "demo-fast"], "prompt": "hi"}, 400, "('demo-fast' is given twice)"),
    ({"models": [f"m{i}" for i in range(7)], "prompt": "hi"}, 400, "2 to 6 different model keys, not 7"),
    ({"models": ["demo-fast", ""], "prompt": "hi"}, 400, "'models[1]' must be a string of 1 to 256 characters"),
    ({"models": ["demo-fast", "no-such-model"], "prompt": "hi"}, 400, "Not in the catalogue: no-such-model"),
    ({"models": ["demo-fast", "demo-slow"], "prompt": "  "}, 400, "'prompt' must be a non-empty string"),
    ({"models": ["demo-fast", "demo-slow"]}, 400, "'prompt' must be a non-empty string"),
    ({"models": "demo-fast,demo-slow", "prompt": "hi"}, 400, "'models' must be a list"),
    ({"models": ["demo-fast", "demo-slow"], "prompt": "hi", "temperature": 3}, 400, "'temperature' must be"),
    ({"models": ["demo-fast", "demo-slow"], "prompt": "hi", "max_tokens": 1.5}, 400, "'max_tokens' must be a whole"),
    ({"models": ["demo-fast", "demo-slow"], "prompt": "hi", "repeats": 21}, 400, "'repeats' must be"),
    ({"models": ["demo-fast", "demo-slow"], "prompt": "hi", "reasoning_effort": "max"}, 400, "'reasoning_effort'"),
    ({"models": ["demo-fast", "demo-slow"], "prompt": "hi", "thinking_budget": 10}, 400, "'thinking_budget'"),
    ({"models": ["demo-fast", "demo-slow"], "prompt": "hi", "stream": "yes"}, 400, "'stream' must be true or false"),
    ({"models": ["demo-fast", "demo-slow"], "prompt": "hi", "modle": 1}, 400, "Unknown field 'modle'"),
])
def test_a_bad_compare_request_is_refused_in_plain_words(api, body, status, words):
    error = error_of(api.post("/api/compare", json=body), status)
    assert words in error["message"], error


@pytest.mark.parametrize("content, words", [
    (b"", "no body"), (b"{not json", "not valid JSON"), (b"[1, 2]", "The body must be a JSON object"),
    (b"\xff\xfe", "not valid UTF-8"),
])
def test_a_compare_body_that_is_not_a_json_object_is_refused(api, content, words):
    error = error_of(api.post("/api/compare", content=content, headers={"content-type": "application/json"}), 400)
    assert words in error["message"]


# --- Everything else -----------------------------------------------------------------------------------------------


def test_the_openapi_document_is_served_and_names_exactly_the_routes(api):
    answer = api.get("/api/openapi.json").raise_for_status().json()
    assert answer == document() and answer["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in answer["paths"].items() for method in item}
    assert documented == {(path, method) for path, methods in SERVED.items() for method in methods}


def test_other_api_paths_and_methods_answer_json_not_the_pages(api):
    missing = error_of(api.get("/api/nothing-here"), 404)
    assert missing["kind"] == "not_found" and "/api/models" in missing["hint"]
    assert error_of(api.get("/api"), 404)["kind"] == "not_found"
    wrong = api.delete("/api/models")
    assert error_of(wrong, 405)["kind"] == "method_not_allowed" and wrong.headers["allow"] == "GET, HEAD, POST"
    assert error_of(api.get("/api/compare"), 405)["message"] == "/api/compare does not take GET: use POST."
    assert api.head("/api/models").status_code == 200
    page = api.get("/models")  # the pages are still served beside the API
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


def test_the_api_and_the_pages_share_one_server(api, server):
    assert api.get("/_stcore/health").text == "ok"
    assert api.get("/api/models").status_code == 200
    assert server.running()
