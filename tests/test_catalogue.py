"""The catalogue: cached, refreshable, and still there when the proxy is not."""

import time

import pytest

from gateway import catalogue
from gateway.catalogue import fetch_models, refresh
from gateway.config import load_settings
from gateway.errors import ProxyUnreachable
from tests.support.proxy import free_port, settings_for, start_proxy

pytestmark = pytest.mark.litellm_versions  # every test using the proxy runs against each release


def test_litellm_off_gives_the_builtin_models():
    result = fetch_models(load_settings({}, secrets={}, dotenv_path=None))
    assert result.status == "disabled"
    assert result.models and all(m.route in ("openai", "anthropic") for m in result.models)


def test_a_malformed_url_is_reported_with_its_variable():
    result = fetch_models(load_settings({"LITELLM_ENABLED": "1", "LITELLM_BASE_URL": "not a url"},
                                        secrets={}, dotenv_path=None))
    assert result.status == "misconfigured"
    assert "LITELLM_BASE_URL" in str(result.error)
    assert result.models  # the built-ins still work


def test_live_list_joins_builtins(settings):
    result = fetch_models(settings)
    assert result.status == "live" and result.endpoint == "/model/info"
    routes = {m.route for m in result.models}
    assert routes == {"litellm", "openai", "anthropic"}
    assert result.age is not None and result.age < 5


def test_second_call_is_served_from_the_cache(settings, monkeypatch):
    first = fetch_models(settings)
    monkeypatch.setattr(catalogue, "discover", lambda s: pytest.fail("should not fetch again"))
    second = fetch_models(settings)
    assert second.fetched_at == first.fetched_at and second.models == first.models


def test_refresh_fetches_again(settings):
    first = fetch_models(settings)
    time.sleep(0.01)
    again = refresh(settings)
    assert again.fetched_at > first.fetched_at
    assert again.models == first.models


def test_never_reached_gives_builtins_and_the_reason():
    settings = load_settings({"LITELLM_ENABLED": "1", "LITELLM_BASE_URL": f"http://127.0.0.1:{free_port()}"},
                             secrets={}, dotenv_path=None)
    result = fetch_models(settings)
    assert result.status == "unavailable"
    assert isinstance(result.error, ProxyUnreachable)
    assert not result.litellm_models and result.models


@pytest.mark.proxy  # its own, to kill
def test_a_proxy_killed_after_a_good_fetch_leaves_the_last_good_list(tmp_path):
    """Kill a real proxy, refresh: the same list stays, with its age and the error, in any session."""
    config = tmp_path / "one.yaml"
    config.write_text("model_list:\n  - model_name: lonely\n    litellm_params: {model: openai/lonely, "
                      "api_key: fake, mock_response: hi}\n")
    own = start_proxy(config)
    try:
        settings = settings_for(own)
        good = fetch_models(settings)
        assert [m.id for m in good.litellm_models] == ["lonely"]
    finally:
        own.stop()
    stale = refresh(settings)
    assert stale.status == "stale"
    assert stale.litellm_models == good.litellm_models
    assert stale.fetched_at == good.fetched_at
    assert isinstance(stale.error, ProxyUnreachable)
    # a new session: nothing cached, the last good list is process-wide
    catalogue.clear_cache()
    assert fetch_models(settings).status == "stale"


def test_a_failure_is_not_retried_on_every_rerun(monkeypatch):
    calls = []

    def failing(settings):
        calls.append(1)
        raise ProxyUnreachable("down")

    monkeypatch.setattr(catalogue, "discover", failing)
    settings = load_settings({"LITELLM_ENABLED": "1"}, secrets={}, dotenv_path=None)
    for _ in range(5):
        assert fetch_models(settings).status == "unavailable"
    assert len(calls) == 1
    refresh(settings)  # a manual refresh always tries again
    assert len(calls) == 2
