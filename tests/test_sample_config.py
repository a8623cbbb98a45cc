"""The sample litellm_config.yaml starts a real proxy, and its demo models answer with no provider keys."""

import os

import openai
import pytest

from gateway.catalogue import fetch_models
from gateway.config import load_settings
from tests.conftest import ROOT
from tests.support.proxy import start_proxy

pytestmark = pytest.mark.proxy  # every test here uses the sample config's own proxy


@pytest.fixture(scope="module")
def sample_proxy():
    provider_keys = {k: "" for k in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY",
                                     "REPLICATE_API_KEY", "MISTRAL_API_KEY")}
    saved = {k: os.environ.pop(k) for k in provider_keys if k in os.environ}
    running = start_proxy(ROOT / "litellm_config.yaml")
    yield running
    running.stop()
    os.environ.update(saved)


def test_sample_config_starts_and_lists_every_model(sample_proxy):
    settings = load_settings({"LITELLM_ENABLED": "on", "LITELLM_BASE_URL": sample_proxy.base_url,
                              "LITELLM_API_KEY": sample_proxy.master_key}, secrets={}, dotenv_path=None)
    result = fetch_models(settings)
    assert result.status == "live"
    names = {m.id for m in result.litellm_models}
    assert {"demo-fast", "demo-slow", "gpt-4", "gpt-3.5-turbo", "claude-3-5-sonnet-20241022", "gemini-pro",
            "llama-2-70b", "mistral-medium"} <= names


def test_demo_model_answers_offline(sample_proxy):
    client = openai.OpenAI(base_url=f"{sample_proxy.base_url}/v1", api_key=sample_proxy.master_key, max_retries=0)
    reply = client.chat.completions.create(model="demo-fast", messages=[{"role": "user", "content": "hi"}])
    assert "demo-fast" in reply.choices[0].message.content
