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
from tests.attribution_callback import callback_log, read_calls

ANA, BEN = "ana@example.com", "ben@example.com"


@pytest.fixture
def calls(proxy):
    """The calls the proxy's callback recorded, looked up by call id (waiting briefly: callbacks run after the
    response)."""
    path = callback_log(proxy.process.pid)

    def seen(call_ids: list[str], timeout: float = 10.0) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = {c["call_id"]: c for c in read_calls(path) if c["call_id"] in call_ids}
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
    assert who.request_fields("openai") == {"user": ANA}
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
    deadline, found = time.monotonic() + 10, []
    while not found and time.monotonic() < deadline:
        found = [c for c in read_calls(callback_log(proxy.process.pid))
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
