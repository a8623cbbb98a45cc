"""The sample litellm_config.yaml starts a real proxy, and its demo models, served by the demo upstream as `make run`
serves them, answer with no provider keys: each prompt its own answer, each model its own way, pace and price,
images described, and demo-flaky's failures coming through as proper errors."""

from __future__ import annotations

import base64
import csv
import io
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
from PIL import Image

from demo.models import flaky_outcome
from demo.upstream import serve
from gateway.catalogue import fetch_models
from tests.conftest import ROOT
from tests.support.proxy import settings_for, start_proxy

pytestmark = pytest.mark.proxy
DEMO_MODELS = ("demo-quick", "demo-thorough", "demo-creative", "demo-flaky", "demo-vision", "demo-judge")
ORIGINAL_MODELS = ("gpt-4", "gpt-3.5-turbo", "claude-3-5-sonnet-20241022", "gemini-pro", "llama-2-70b",
                   "mistral-medium")


@pytest.fixture(scope="module")
def sample_proxy():
    provider_keys = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "REPLICATE_API_KEY", "MISTRAL_API_KEY")
    saved = {k: os.environ.pop(k) for k in provider_keys if k in os.environ}
    with serve(speed=4) as demo_api_base:  # four times faster than `make run`'s, same replies
        running = start_proxy(ROOT / "litellm_config.yaml", env={"DEMO_API_BASE": demo_api_base})
        try:
            client(running).chat.completions.create(model="demo-quick", messages=ask("hi"))  # the proxy's first call
            yield running                                                                    # is slow: not timed
        finally:
            running.stop()
            os.environ.update(saved)


def client(proxy) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{proxy.base_url}/v1", api_key=proxy.master_key, max_retries=0)


def ask(prompt: str | list, system: str = "") -> list[dict]:
    return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]


def stream(proxy, model: str, prompt: str) -> dict:
    """A streamed reply through the proxy: its text, time to first token, and the usage of its last chunk."""
    started, first, text, usage = time.perf_counter(), None, "", None
    for chunk in client(proxy).chat.completions.create(model=model, messages=ask(prompt), stream=True,
                                                       stream_options={"include_usage": True}):
        if chunk.choices and chunk.choices[0].delta.content:
            first = first or time.perf_counter() - started
            text += chunk.choices[0].delta.content
        if chunk.usage:
            usage = chunk.usage
    return {"text": text, "ttft": first, "usage": usage}


def prompt_where(outcome: str) -> str:
    return next(f"Question {n}" for n in range(200) if flaky_outcome(f"Question {n}") == outcome)


def test_sample_config_starts_and_lists_every_model_with_prices(sample_proxy):
    settings = settings_for(sample_proxy)
    result = fetch_models(settings)
    assert result.status == "live"
    models = {m.id: m for m in result.litellm_models}
    assert {*DEMO_MODELS, *ORIGINAL_MODELS} <= set(models)
    assert all(models[name].input_price and models[name].output_price for name in DEMO_MODELS)
    assert [name for name in DEMO_MODELS if models[name].supports_vision] == ["demo-vision"]


def test_chat_answers_the_prompt_it_was_given(sample_proxy):
    answers = {prompt: client(sample_proxy).chat.completions.create(model="demo-quick", messages=ask(prompt))
               .choices[0].message.content for prompt in ("What is the capital of Kenya?", "What is 1234 + 5678?",
                                                          "Make a table of three fruits")}
    assert answers["What is the capital of Kenya?"].startswith("Nairobi.")
    assert answers["What is 1234 + 5678?"].startswith("1234 + 5678 = 6912.")
    assert "| Apple | red or green |" in answers["Make a table of three fruits"]
    assert all("demo-quick · offline demo model" in answer for answer in answers.values())


def test_three_models_give_three_different_replies_with_different_numbers(sample_proxy):
    prompt = "Make a table of three fruits"
    with ThreadPoolExecutor(3) as pool:  # side by side, as the compare page asks them
        replies = dict(zip(("quick", "thorough", "creative"), pool.map(
            lambda model: stream(sample_proxy, model, prompt), ("demo-quick", "demo-thorough", "demo-creative"))))
    quick, thorough, creative = replies.values()
    assert len({r["text"] for r in replies.values()}) == 3
    assert all("Fruit" in r["text"] for r in replies.values())
    assert "## Answer" in thorough["text"] and "```python" in thorough["text"]
    tokens = [r["usage"].completion_tokens for r in (quick, creative, thorough)]
    assert tokens == sorted(tokens) and len(set(tokens)) == 3
    costs = [r["usage"].cost for r in (quick, creative, thorough)]  # prices from model_info
    assert all(cost > 0 for cost in costs) and costs == sorted(costs) and len(set(costs)) == 3
    # Their pace (demo/models.py: quick 0.15 s to the first token, thorough 1.2 s) is not compared here: through a
    # proxy on a loaded 2-core machine the order of first tokens is not theirs to keep (seen: 6.2 s against 3.1 s).
    assert all(r["ttft"] > 0 for r in replies.values())


def test_an_image_to_demo_vision_gets_a_description_of_that_image(sample_proxy):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 32), (0, 128, 128)).save(buffer, "PNG")
    url = f"data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}"
    reply = client(sample_proxy).chat.completions.create(model="demo-vision", messages=ask(
        [{"type": "text", "text": "What is in this picture?"}, {"type": "image_url", "image_url": {"url": url}}]))
    text = reply.choices[0].message.content
    assert "64×32 pixels (landscape), PNG" in text and "**teal** (`#008080`, 100%)" in text
    assert reply.usage.prompt_tokens > 85 + 170  # the image counted, so it arrived whole


def test_demo_flaky_failures_come_through_as_proper_errors(sample_proxy):
    flaky = client(sample_proxy)
    with pytest.raises(openai.RateLimitError, match="Rate limit reached for demo-flaky") as limited:
        flaky.chat.completions.create(model="demo-flaky", messages=ask(prompt_where("rate-limited")))
    assert limited.value.status_code == 429
    with pytest.raises(openai.InternalServerError, match="demo-flaky failed on purpose") as failed:
        flaky.chat.completions.create(model="demo-flaky", messages=ask(prompt_where("error")), stream=True)
    assert failed.value.status_code == 500
    partial = []
    with pytest.raises(openai.APIError, match="lost its connection part-way"):
        for chunk in flaky.chat.completions.create(model="demo-flaky", messages=ask(prompt_where("broken")),
                                                   stream=True):
            partial.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
    assert "".join(partial).strip(), "the part of the reply that came before the error"
    ok = flaky.chat.completions.create(model="demo-flaky", messages=ask(prompt_where("ok")))
    assert "demo-flaky · offline demo model" in ok.choices[0].message.content, "no cooldown after its failures"


def test_usage_and_cost_of_a_whole_answer(sample_proxy):
    raw = client(sample_proxy).chat.completions.with_raw_response.create(
        model="demo-thorough", messages=ask("What is 17 * 23?"))
    reply = raw.parse()
    assert "**391**" in reply.choices[0].message.content
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 100
    expected = reply.usage.prompt_tokens * 3e-6 + reply.usage.completion_tokens * 15e-6
    assert float(raw.headers["x-litellm-response-cost"]) == pytest.approx(expected)


def test_the_sample_prompt_set_gives_different_pass_rates_through_the_proxy(sample_proxy):
    with (ROOT / "examples" / "prompt-set.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))

    def passes(job: tuple[str, dict]) -> bool:
        model, row = job
        reply = client(sample_proxy).chat.completions.create(model=model, messages=ask(row["prompt"],
                                                                                       row["system_prompt"]))
        return re.search(row["expected"], reply.choices[0].message.content, re.I) is not None

    models = ("demo-quick", "demo-thorough", "demo-creative")
    jobs = [(model, row) for model in models for row in rows]
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(passes, jobs))
    rates = {model: sum(ok for (m, _), ok in zip(jobs, results) if m == model) for model in models}
    assert rates == {"demo-quick": 14, "demo-thorough": 20, "demo-creative": 16}
