"""The demo upstream over HTTP (demo/upstream.py), spoken to with the openai SDK as LiteLLM speaks to it: streams at
each model's pace with usage at the end when asked, whole answers, and errors in OpenAI's shape."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from demo import upstream as demo_upstream
from demo.models import MODELS, flaky_outcome, respond
from scripts.services import demo_alive, free_port, port_in_use
from tests.conftest import ROOT

FRUITS = [{"role": "user", "content": "Make a table of three fruits"}]


@pytest.fixture(scope="module")
def fast() -> Iterator[str]:
    """The demo models, ten times faster than life."""
    with demo_upstream.serve(speed=10) as base_url:
        yield base_url


def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="not-needed", max_retries=0)


def prompt_where(outcome: str) -> str:
    return next(f"Question {n}" for n in range(200) if flaky_outcome(f"Question {n}") == outcome)


def test_a_stream_carries_the_whole_reply_in_many_chunks_and_usage_last(fast):
    chunks = list(client(fast).chat.completions.create(model="demo-thorough", messages=FRUITS, stream=True,
                                                       stream_options={"include_usage": True}))
    expected = respond("demo-thorough", {"messages": FRUITS})
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == expected.text
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) == expected.completion_tokens
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == expected.completion_tokens
    assert chunks[-1].usage.prompt_tokens == expected.prompt_tokens > 0


def test_usage_only_when_asked_for_as_openai_does(fast):
    chunks = list(client(fast).chat.completions.create(model="demo-quick", messages=FRUITS, stream=True))
    assert all(c.usage is None for c in chunks) and chunks[-1].choices[0].finish_reason == "stop"


def test_a_whole_answer_without_streaming(fast):
    reply = client(fast).chat.completions.create(model="demo-creative", messages=FRUITS)
    expected = respond("demo-creative", {"messages": FRUITS})
    assert reply.choices[0].message.content == expected.text
    assert reply.usage.total_tokens == expected.prompt_tokens + expected.completion_tokens


def test_max_tokens_ends_the_stream_with_length(fast):
    chunks = list(client(fast).chat.completions.create(model="demo-thorough", messages=FRUITS, stream=True,
                                                       max_tokens=5))
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) == 5
    assert chunks[-1].choices[0].finish_reason == "length"


@pytest.mark.realtime  # ~5 s of the models' own pace
def test_each_model_keeps_its_pace():
    """Waits are lower bounds (sleeps), so this holds on a busy machine too: the first token comes no sooner than
    the model's time to first token, and the stream no sooner than its tokens at its rate."""
    with demo_upstream.serve(speed=2) as base_url:
        timings = {}
        for model in ("demo-quick", "demo-thorough"):
            expected = respond(model, {"messages": FRUITS})
            started, first = time.perf_counter(), None
            for chunk in client(base_url).chat.completions.create(model=model, messages=FRUITS, stream=True):
                if first is None and chunk.choices and chunk.choices[0].delta.content:
                    first = time.perf_counter() - started
            total = time.perf_counter() - started
            assert first >= expected.ttft / 2
            assert total >= (expected.ttft + (expected.completion_tokens - 1) / expected.rate) / 2
            timings[model] = first, total
    assert timings["demo-quick"][0] < timings["demo-thorough"][0]
    assert timings["demo-quick"][1] < timings["demo-thorough"][1]


def test_a_rate_limit_is_a_429_with_retry_after(fast):
    with pytest.raises(openai.RateLimitError) as caught:
        client(fast).chat.completions.create(model="demo-flaky", messages=[
            {"role": "user", "content": prompt_where("rate-limited")}])
    assert caught.value.status_code == 429 and caught.value.response.headers["retry-after"] == "1"
    assert caught.value.body["code"] == "rate_limit_exceeded" and "demo-flaky" in caught.value.message


def test_a_failure_is_a_500(fast):
    with pytest.raises(openai.InternalServerError, match="failed on purpose"):
        client(fast).chat.completions.create(model="demo-flaky", messages=[
            {"role": "user", "content": prompt_where("error")}], stream=True)


def test_a_broken_stream_delivers_part_of_the_reply_then_an_error_event(fast):
    prompt = prompt_where("broken")
    expected = respond("demo-flaky", {"messages": [{"role": "user", "content": prompt}], "stream": True})
    received = []
    with pytest.raises(openai.APIError, match="lost its connection"):
        for chunk in client(fast).chat.completions.create(model="demo-flaky", stream=True, messages=[
                {"role": "user", "content": prompt}]):
            received.append(chunk.choices[0].delta.content)
    assert "".join(received) == "".join(expected.pieces[:expected.break_after]) != ""


def test_models_health_and_mistakes(fast):
    base = fast.removesuffix("/v1")
    assert [m.id for m in client(fast).models.list()] == list(MODELS)
    assert demo_alive(base)
    with pytest.raises(openai.NotFoundError, match="does not exist on the demo upstream"):
        client(fast).chat.completions.create(model="gpt-4", messages=FRUITS)
    bad = httpx.post(f"{fast}/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_json"
    assert httpx.post(f"{fast}/chat/completions", json={"messages": []}).json()["error"]["code"] == "missing_model"
    assert httpx.post(f"{fast}/embeddings", json={"model": "demo-quick"}).status_code == 404


def test_an_oversized_request_is_refused(fast, monkeypatch):
    monkeypatch.setattr(demo_upstream, "MAX_BODY", 1000)
    answer = httpx.post(f"{fast}/chat/completions", json={"model": "demo-quick", "messages": FRUITS * 50})
    assert answer.status_code == 413 and "at most" in answer.json()["error"]["message"]


@pytest.mark.processes  # `python -m demo.upstream`, twice
def test_the_command_serves_until_sigterm_and_names_a_busy_port():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "demo.upstream", "--port", str(port)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first_line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/v1" in first_line and "demo-vision" in first_line
        reply = client(f"http://127.0.0.1:{port}/v1").chat.completions.create(model="demo-quick", messages=FRUITS)
        assert "Apple" in reply.choices[0].message.content
        busy = subprocess.run([sys.executable, "-m", "demo.upstream", "--port", str(port)], cwd=ROOT,
                              capture_output=True, text=True, timeout=30)
        assert busy.returncode == 1 and f"Cannot listen on 127.0.0.1:{port}" in busy.stderr
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        log = process.stdout.read()
        assert "demo-quick batch 200" in log and json.dumps(FRUITS) not in log  # a line per request, no prompt
    finally:
        process.kill()
        process.wait()
    assert not port_in_use(port)
