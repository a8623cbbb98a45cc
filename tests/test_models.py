"""Context-window estimates, the built-in models, and looking a model up."""

import pytest

from gateway.models import ModelRecord, builtin_models, estimate_context_window, find_model, infer_provider


@pytest.mark.parametrize("name, window", [
    # the seed's table
    ("gpt-4-turbo", 128_000), ("claude-3-opus-20240229", 200_000), ("gemini-1.5-pro", 1_000_000),
    ("llama-2-70b-chat", 4_096), ("replicate/meta/llama-2-70b-chat", 4_096),
    # current families
    ("gpt-4o-mini", 128_000), ("gpt-4", 8_192), ("gpt-3.5-turbo", 16_385), ("claude-sonnet-4-20250514", 200_000),
    ("mistral-medium", 32_000), ("mistral-large-latest", 128_000), ("llama-3.1-8b-instant", 128_000),
    # sizes spelled in the name win
    ("groq/llama3-70b-8192", 8_192), ("mixtral-8x7b-32768", 32_768), ("gpt-4-32k", 32_768),
    ("my-finetune-16k", 16_384), ("claude-100k", 100_000),
])
def test_estimates(name, window):
    assert estimate_context_window(name) == window


def test_dates_are_not_sizes():
    assert estimate_context_window("acme-20241022") is None
    assert estimate_context_window("my-custom-model") is None
    assert estimate_context_window("gpt-4-0613") == 8_192  # a gpt-4, not a 613-token model


def test_providers_from_bare_names():
    assert infer_provider("gpt-4o") == "openai"
    assert infer_provider("claude-3-haiku") == "anthropic"
    assert infer_provider("o1-mini") == "openai"
    assert infer_provider("something-else") is None


def test_builtins_are_always_listed_and_usable_only_with_their_key():
    models = builtin_models(openai_key=True, anthropic_key=False)
    assert {m.route for m in models} == {"openai", "anthropic"}
    assert all(m.available for m in models if m.route == "openai")
    blocked = [m for m in models if m.route == "anthropic"]
    assert blocked and not any(m.available for m in blocked)
    assert "ANTHROPIC_API_KEY" in blocked[0].unavailable_reason


def test_find_model_prefers_the_proxy_for_a_bare_name():
    proxy = ModelRecord(id="gpt-4o", route="litellm", providers=("openai",))
    direct = ModelRecord(id="gpt-4o", route="openai", providers=("openai",))
    assert find_model([direct, proxy], "gpt-4o") is proxy
    assert find_model([direct, proxy], "openai:gpt-4o") is direct
    assert find_model([direct, proxy], "nope") is None


def test_cost_from_prices():
    model = ModelRecord(id="m", route="litellm", providers=(), input_price=2.0, output_price=10.0)
    assert model.cost(1_000_000, 100_000) == pytest.approx(3.0)
    assert ModelRecord(id="m", route="litellm", providers=()).cost(10, 10) is None
