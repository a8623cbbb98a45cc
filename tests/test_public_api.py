"""The public API a script or notebook uses, as the integration guide documents it: is_configured(), get_config(),
clear_cache() and fetch_models(), against the real proxy."""

import gateway


def test_a_script_lists_the_proxy_models_with_four_calls(app_env):
    assert gateway.is_configured()
    shown = gateway.get_config()
    assert shown["LITELLM_ENABLED"] is True and shown["LITELLM_BASE_URL"] == app_env.base_url
    assert app_env.master_key not in str(shown)  # keys are masked
    gateway.clear_cache()
    catalogue = gateway.fetch_models()
    assert catalogue.status == "live"
    names = {m.id for m in catalogue.litellm_models}
    assert {"demo-fast", "upstream-echo"} <= names
    assert gateway.find_model(catalogue.models, "demo-fast").provider


def test_without_litellm_only_the_built_in_models_are_listed(monkeypatch):
    monkeypatch.setenv("LITELLM_ENABLED", "false")
    assert not gateway.is_configured()
    catalogue = gateway.fetch_models()
    assert catalogue.status == "disabled" and catalogue.litellm_models == ()
    assert all(m.route in ("openai", "anthropic") for m in catalogue.models)
