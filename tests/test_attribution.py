"""Every request the app sends through LiteLLM says who it is for: the real proxy's callback sees the analyst as
`end_user` and the dashboard's tags on every chat, compare and Run ×N call (tests/attribution_callback.py)."""

from __future__ import annotations

import time

import pytest

from gateway import fetch_models, find_model
from gateway.attribution import Attribution
from gateway.chat import start_chat
from gateway.compare import CompareRun, jobs_for
from gateway.conversation import Conversation
from gateway.params import ChatParams
from tests.support.pages import open_signed_in

ANA, BEN = "ana@example.com", "ben@example.com"


def recorded_calls(proxy) -> list[dict]:
    """Every call the proxy's callback has recorded so far. (tests/attribution_callback.py imports LiteLLM, ~5 s:
    imported here, when these proxy tests run, rather than whenever the test files are collected.)"""
    from tests.attribution_callback import callback_log, read_calls

    return read_calls(callback_log(proxy.process.pid))


@pytest.fixture
def calls(proxy):
    """The calls the proxy's callback recorded, looked up by call id (waiting briefly: callbacks run after the
    response)."""
    def seen(call_ids: list[str], timeout: float = 60.0) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = {c["call_id"]: c for c in recorded_calls(proxy) if c["call_id"] in call_ids}
            if len(found) == len(call_ids) or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    return seen


def model(settings, name):
    found = find_model(fetch_models(settings).models, f"litellm/{name}") or next(
        m for m in fetch_models(settings).models if m.id == name)
    return found


def test_attribution_fields_by_route():
    who = Attribution(ANA, "chat", "c1")
    assert who.request_fields("litellm") == {
        "user": ANA, "metadata": {"tags": ["dashboard", "page:chat"], "conversation_id": "c1"}}
    direct = who.request_fields("openai")
    assert set(direct) == {"user"} and len(direct["user"]) == 32 and "ana" not in direct["user"]  # a hash
    assert who.request_fields("anthropic") == {}


def test_every_chat_call_names_its_analyst(settings, calls):
    demo = model(settings, "demo-fast")
    ids = []
    for index, user in enumerate([ANA, BEN, ANA, BEN, ANA, BEN]):
        with start_chat(demo, [{"role": "user", "content": f"hello {index}"}], ChatParams(), settings,
                        attribution=Attribution(user, "chat", f"conv-{index}")) as stream:
            assert "".join(stream)
        ids.append((stream.metrics.call_id, user, f"conv-{index}"))
    seen = calls([call_id for call_id, _, _ in ids])
    assert len(seen) == len(ids)  # 100 %
    for call_id, user, conversation in ids:
        call = seen[call_id]
        assert call["status"] == "success"
        assert call["end_user"] == user
        assert set(call["request_tags"]) >= {"dashboard", "page:chat"}
        assert call["requester_metadata"]["conversation_id"] == conversation


def test_a_failed_call_is_attributed_too(proxy, settings):
    failing = model(settings, "error-internal")
    with start_chat(failing, [{"role": "user", "content": "x"}], ChatParams(), settings,
                    attribution=Attribution(BEN, "chat", "conv-failed")) as stream:
        list(stream)
    assert stream.reply.error is not None
    deadline, found = time.monotonic() + 60, []
    while not found and time.monotonic() < deadline:
        found = [c for c in recorded_calls(proxy)
                 if (c["requester_metadata"] or {}).get("conversation_id") == "conv-failed"]
        time.sleep(0.05)
    assert found and found[-1]["status"] == "failure" and found[-1]["end_user"] == BEN


def test_every_compare_and_repeat_call_names_its_analyst(settings, calls):
    models = [model(settings, name) for name in ("demo-fast", "upstream-echo", "claude-3-5-sonnet")]
    comparison = Conversation("compare")
    params = {m.key: ChatParams() for m in models}
    run = CompareRun(jobs_for(comparison, models, "Which is best?", params, repeats=3,
                              attribution=Attribution(BEN, "compare", comparison.id)), settings).start()
    assert run.wait(30)
    replies = [reply for runs in run.runs().values() for reply in runs]
    assert len(replies) == 9 and all(r.metrics.call_id for r in replies)
    seen = calls([r.metrics.call_id for r in replies])
    assert len(seen) == 9  # 100 %
    for reply in replies:
        call = seen[reply.metrics.call_id]
        assert call["end_user"] == BEN
        assert set(call["request_tags"]) >= {"dashboard", "page:compare"}
        assert call["requester_metadata"]["conversation_id"] == comparison.id
        assert call["requester_metadata"]["run"] == reply.run


def test_the_pages_attribute_every_call_to_the_signed_in_analyst(app_env, monkeypatch, proxy):
    """Through the chat and compare pages (AppTest, signed in with OIDC as Ana): every call the proxy saw for her
    conversations names her, with the page's tag."""
    monkeypatch.setenv("AUTH_MODE", "oidc")

    def visit(path: str, **query: str):
        return open_signed_in(path, "Ana@Example.com", name="Ana", **query)

    chat = visit("pages/chat.py", model="demo-fast")
    for prompt in ("one", "two"):
        chat.chat_input(key="chat_prompt").set_value(prompt).run()
    compare = visit("pages/compare.py", models="demo-fast,upstream-echo")
    compare.number_input(key="compare_repeats").set_value(2).run()
    compare.chat_input(key="compare_prompt").set_value("both, twice").run()

    replies = [(r, "chat", chat.session_state["chat_conversation"].id)
               for round_ in chat.session_state["chat_conversation"].rounds for r in round_.replies.values()]
    comparison = compare.session_state["comparison"]
    replies += [(r, "compare", comparison.id) for round_ in comparison.rounds for runs in round_.runs.values()
                for r in runs]
    assert len(replies) == 2 + 4 and all(r.metrics.call_id for r, _, _ in replies)
    deadline, seen = time.monotonic() + 60, {}
    while len(seen) < len(replies) and time.monotonic() < deadline:
        seen = {c["call_id"]: c for c in recorded_calls(proxy)}
        seen = {r.metrics.call_id: seen[r.metrics.call_id] for r, _, _ in replies if r.metrics.call_id in seen}
        time.sleep(0.05)
    assert len(seen) == len(replies)  # 100 % of the pages' calls
    for reply, page, conversation_id in replies:
        call = seen[reply.metrics.call_id]
        assert call["end_user"] == ANA
        assert f"page:{page}" in call["request_tags"]
        assert call["requester_metadata"]["conversation_id"] == conversation_id
