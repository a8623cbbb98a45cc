"""Discovery against the real proxy, and against what a real proxy cannot produce (httpx mocks)."""

import httpx
import pytest

from gateway.config import load_settings
from gateway.discovery import discover, http_client, parse_model_info
from gateway.errors import AuthenticationFailed, BadResponse, ProxyTimeout, ProxyUnreachable
from tests.support.litellm_versions import CURRENT
from tests.support.proxy import settings_for
from tests.support.upstream import silent_server

pytestmark = pytest.mark.litellm_versions  # every test using the proxy runs against each release


def by_id(models):
    return {m.id: m for m in models}


def test_every_proxy_model_once_with_the_proxys_numbers(settings):
    found = discover(settings)
    assert found.endpoint == "/model/info"
    models = by_id(found.models)
    assert len(found.models) == len(models)  # gpt-4o has two deployments but appears once
    assert models["gpt-4o"].deployments == 2
    gpt = models["gpt-4o"]
    assert (gpt.context_window, gpt.context_source) == (128_000, "proxy")
    assert gpt.providers == ("openai",)
    assert gpt.input_price == pytest.approx(2.5) and gpt.output_price == pytest.approx(10.0)
    assert gpt.supports_vision is True and gpt.mode == "chat"


def test_config_model_info_overrides_and_providers(settings):
    models = by_id(discover(settings).models)
    demo = models["demo-fast"]
    assert (demo.context_window, demo.context_source, demo.max_output_tokens) == (8192, "proxy", 1024)
    assert demo.input_price == pytest.approx(1.0) and demo.output_price == pytest.approx(2.0)
    assert models["claude-3-5-sonnet"].providers == ("anthropic",)
    assert models["claude-3-5-sonnet"].context_window == 200_000


def test_models_the_price_map_does_not_know_get_marked_estimates(settings, proxy):
    models = by_id(discover(settings).models)
    llama = models["llama3-70b"]
    assert llama.providers == ("groq",)
    # 1.53.1's price map still lists groq/llama3-70b-8192; newer ones dropped it: estimated from the name
    assert (llama.context_window, llama.context_source) == (8192, "estimated" if proxy.version == CURRENT else "proxy")
    gemini = models["gemini-1.5-pro"]
    assert gemini.providers == ("vertex_ai",)
    assert (gemini.context_window, gemini.context_source) == (1_000_000, "estimated")
    assert gemini.input_price is None  # missing, not zero


def test_a_wrong_key_is_an_authentication_error_even_without_a_database(proxy):
    settings = settings_for(proxy, "sk-wrong-key-abcdefgh")
    with pytest.raises(AuthenticationFailed) as caught:
        discover(settings)
    assert "No connected db." in str(caught.value)
    assert "abcdefgh" not in str(caught.value)


def mocked(handler, **env):
    settings = load_settings({"LITELLM_ENABLED": "1", "LITELLM_BASE_URL": "http://proxy.test",
                              "LITELLM_API_KEY": "sk-secret-key-0000", **env}, secrets={}, dotenv_path=None)
    client = httpx.Client(base_url=settings.litellm_base_url, transport=httpx.MockTransport(handler))
    return settings, client


def test_falls_back_to_v1_models_when_model_info_is_forbidden():
    def handler(request):
        if request.url.path == "/model/info":
            return httpx.Response(403, json={"error": {"message": "not allowed"}})
        return httpx.Response(200, json={"data": [
            {"id": "gpt-4o", "owned_by": "openai", "max_input_tokens": 128000},
            {"id": "groq/llama3-8b-8192", "owned_by": "openai"},
            {"id": "team-model", "owned_by": "acme"}]})
    found = discover(*mocked(handler))
    assert found.endpoint == "/v1/models"
    models = by_id(found.models)
    assert (models["gpt-4o"].context_window, models["gpt-4o"].context_source) == (128_000, "proxy")
    assert models["groq/llama3-8b-8192"].providers == ("groq",)
    assert models["groq/llama3-8b-8192"].context_source == "estimated"
    assert models["team-model"].providers == ("acme",) and models["team-model"].context_source == "unknown"


def test_html_instead_of_json_does_not_look_like_litellm():
    def handler(request):
        return httpx.Response(200, text="<html><body>Welcome to nginx</body></html>",
                              headers={"content-type": "text/html"})
    with pytest.raises(BadResponse, match="HTML page"):
        discover(*mocked(handler))


def test_malformed_json_is_a_bad_response():
    def handler(request):
        return httpx.Response(200, text='{"data": [', headers={"content-type": "application/json"})
    with pytest.raises(BadResponse):
        discover(*mocked(handler))


def test_json_of_another_shape_is_a_bad_response():
    def handler(request):
        return httpx.Response(200, json={"models": []})
    with pytest.raises(BadResponse, match="does not look like a LiteLLM proxy"):
        discover(*mocked(handler))


def test_a_zero_price_is_free_only_when_the_proxy_knows_the_model():
    """1.53.1 answers 0 for the prices of a model it does not know; a known free model has its window too."""
    models = by_id(parse_model_info({"data": [
        {"model_name": "unknown", "model_info": {"input_cost_per_token": 0, "output_cost_per_token": 0,
                                                 "max_tokens": None, "max_input_tokens": None}},
        {"model_name": "free", "model_info": {"input_cost_per_token": 0, "output_cost_per_token": 0,
                                              "max_input_tokens": 8192}}]}))
    assert models["unknown"].input_price is None and models["unknown"].output_price is None
    assert models["free"].input_price == 0 and models["free"].output_price == 0


def test_junk_entries_are_skipped():
    models = parse_model_info({"data": [None, {"model_name": ""}, {"model_name": "ok", "model_info": "junk"}]})
    assert [m.id for m in models] == ["ok"]


def test_a_refused_port_is_unreachable():
    settings = load_settings({"LITELLM_ENABLED": "1", "LITELLM_BASE_URL": "http://127.0.0.1:9"},
                             secrets={}, dotenv_path=None)
    with pytest.raises(ProxyUnreachable, match="refused"):
        discover(settings)


def test_a_server_that_never_answers_times_out_quickly():
    with silent_server() as url:
        settings = load_settings({"LITELLM_ENABLED": "1", "LITELLM_BASE_URL": url, "CONNECT_TIMEOUT": "0.5"},
                                 secrets={}, dotenv_path=None)
        with http_client(settings, read_timeout=0.5) as client, pytest.raises(ProxyTimeout):
            discover(settings, client)
