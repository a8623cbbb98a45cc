"""Per-analyst virtual keys: an analyst with a key in `[analyst_keys]` discovers models and chats with it (the real
proxy sees it), the key never shows, and `/key/info` is read into spend and budget (recorded answers: a proxy with a
database cannot run offline here; the real proxy without one is checked for its refusal)."""

from __future__ import annotations

import httpx
import pytest

from gateway import fetch_models, find_model
from gateway.chat import start_chat
from gateway.config import load_settings
from gateway.errors import AuthenticationFailed
from gateway.keyinfo import fetch_key_info, parse_key_info
from gateway.params import ChatParams

OWN_KEY = "sk-ana-virtual-key-not-on-this-proxy-9f3c"

# A /key/info answer as LiteLLM 1.108.7 shapes it (proxy/management_endpoints/key_management_endpoints.py,
# info_key_fn: `key` echoed as passed, `info` the key's row minus its hash, plus `status`).
RECORDED = {
    "key": OWN_KEY,
    "info": {"key_name": "sk-...9f3c", "key_alias": "ana-dashboard", "spend": 12.3456, "max_budget": 50.0,
             "expires": None, "models": ["gpt-4o", "claude-3-5-sonnet"], "aliases": {}, "config": {},
             "user_id": "ana@example.com", "team_id": None, "max_parallel_requests": None, "metadata": {},
             "tpm_limit": None, "rpm_limit": None, "budget_duration": "30d",
             "budget_reset_at": "2026-12-01T00:00:00Z", "allowed_cache_controls": [], "permissions": {},
             "model_spend": {"gpt-4o": 12.3456}, "model_max_budget": {}, "soft_budget_cooldown": False,
             "blocked": None, "litellm_budget_table": None, "org_id": None, "created_at": "2026-11-01T09:00:00Z",
             "updated_at": "2026-11-27T10:00:00Z", "last_active": "2026-11-27T10:00:00Z", "status": "active"},
}


def analyst_settings(base_url: str, shared: str):
    settings = load_settings({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": base_url, "LITELLM_API_KEY": shared},
                             secrets={"analyst_keys": {"ana@example.com": OWN_KEY}}, dotenv_path=None)
    return settings.for_analyst("ana@example.com")


def test_key_info_is_read_without_the_key():
    seen = {}

    def answer(request: httpx.Request) -> httpx.Response:
        seen["auth"] = request.headers["authorization"]
        return httpx.Response(200, json=RECORDED)

    settings = analyst_settings("http://proxy.invalid:4000", "sk-shared-master-key-1234")
    info = fetch_key_info(settings, httpx.Client(base_url=settings.litellm_base_url,
                                                 headers={"Authorization": f"Bearer {settings.litellm_api_key}"},
                                                 transport=httpx.MockTransport(answer)))
    assert seen["auth"] == f"Bearer {OWN_KEY}"  # asked with the analyst's own key
    assert info.spend == pytest.approx(12.3456) and info.max_budget == 50.0
    assert info.fraction == pytest.approx(12.3456 / 50)
    assert info.budget_duration == "30d" and info.budget_reset_at.isoformat() == "2026-12-01T00:00:00+00:00"
    assert info.models == ("gpt-4o", "claude-3-5-sonnet") and info.alias == "ana-dashboard"
    assert OWN_KEY not in repr(info)  # the echoed key is dropped


def test_key_info_without_budget_or_with_odd_values():
    info = parse_key_info({"info": {"spend": None, "max_budget": None, "budget_reset_at": "not a date",
                                    "models": "all"}})
    assert (info.spend, info.max_budget, info.fraction, info.budget_reset_at, info.models) == (0.0, None, None, None,
                                                                                               ())


def test_a_refused_key_info_is_said_in_words_and_redacted():
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"message": f"Authentication Error, invalid key {OWN_KEY}",
                                                   "type": "auth_error", "code": "401"}})

    settings = analyst_settings("http://proxy.invalid:4000", "sk-shared-master-key-1234")
    error = fetch_key_info(settings, httpx.Client(base_url=settings.litellm_base_url,
                                                  transport=httpx.MockTransport(answer)))
    assert isinstance(error, AuthenticationFailed) and OWN_KEY not in str(error)


def test_the_real_proxy_without_a_database_says_it_keeps_no_spend(proxy, settings):
    error = fetch_key_info(settings)  # 1.108.7 answers a plain-text 500
    assert "did not give this key's spend" in str(error) and "database" in error.hint
    assert proxy.master_key not in str(error)


def test_an_analyst_with_their_own_key_discovers_and_chats_with_it(proxy, settings):
    """The test proxy has no database, so it refuses any virtual key: the analyst sees that (and not the key), while
    the shared key still works for everyone else. Proof that their calls and discovery use their own key."""
    ana = analyst_settings(proxy.base_url, proxy.master_key)
    catalogue = fetch_models(ana)
    assert catalogue.status == "unavailable" and isinstance(catalogue.error, AuthenticationFailed)
    assert OWN_KEY not in str(catalogue.error) and proxy.master_key not in str(catalogue.error)
    demo = find_model(fetch_models(settings).models, "demo-fast")
    assert fetch_models(settings).status == "live"
    with start_chat(demo, [{"role": "user", "content": "hi"}], ChatParams(), ana) as stream:
        list(stream)
    assert stream.reply.error is not None and stream.reply.error.kind == "authentication"
    assert OWN_KEY not in stream.reply.error.message and proxy.master_key not in stream.reply.error.message
