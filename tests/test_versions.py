"""What the dashboard says about the LiteLLM it is connected to: its release on the home and health pages (each
release puts it somewhere else), and the features it lacks on the catalogue and health pages."""

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from gateway import features, health
from gateway.catalogue import fetch_models
from gateway.chat import start_chat
from gateway.config import load_settings
from gateway.errors import AuthenticationFailed
from gateway.health.probes import VERSION_CHECKS
from gateway.models import ModelRecord
from gateway.params import ChatParams
from tests.conftest import APP_ENV
from tests.support.pages import open_page
from tests.support.proxy import settings_for
from tests.support.text import shown

pytestmark = pytest.mark.litellm_versions  # every test using the proxy runs against each release



def captions(at: AppTest) -> str:
    return "\n".join(shown(c.value) for c in at.caption)


# --- The release --------------------------------------------------------------------------------------------------

def test_the_release_says_its_version_in_at_least_one_place(proxy):
    """1.108.7: /public/model_hub/info; 1.53.1: only /health/readiness (the others answer 404)."""
    headers = {"Authorization": f"Bearer {proxy.master_key}"}
    said = {check.path: httpx.get(f"{proxy.base_url}{check.path}", headers=headers).json().get("litellm_version")
            for check in VERSION_CHECKS}
    assert proxy.version in said.values()


def test_the_health_page_shows_the_release(app_env, proxy):
    at = open_page("pages/health.py")
    assert {m.label: m.value for m in at.metric}["Proxy version"] == proxy.version


def test_the_home_page_shows_the_release_under_the_proxys_status(app_env, proxy):
    at = open_page()
    assert {m.label: m.value for m in at.metric}["Proxy"] == "Healthy"
    assert f"LiteLLM {proxy.version}" in captions(at)


def test_a_key_the_release_echoes_never_reaches_a_message(proxy):
    """1.53.1 refuses a key that does not start with `sk-` with `... Received=<the key>, expected to start with
    'sk-'.`; 1.108.7 says `No connected db.`. Whatever it says, no 8 characters of the key are shown (before the
    redaction boundary in GatewayError, discovery raised 1.53.1's text as it was: the catalogue's banner)."""
    key = "team-key-not-sk-12345678"
    settings = settings_for(proxy, key)
    catalogue = fetch_models(settings)
    stream = start_chat(ModelRecord(id="demo-fast", route="litellm", providers=("openai",)),
                        [{"role": "user", "content": "Hello"}], ChatParams(), settings)
    list(stream)
    report = health.run_probes(settings)
    assert isinstance(catalogue.error, AuthenticationFailed) and isinstance(stream.error, AuthenticationFailed)
    shown = [str(catalogue.error), catalogue.error.hint, str(stream.error), stream.error.hint, report.summary,
             *(p.detail for p in report.probes), *(a.problem + a.fix for a in health.troubleshooting(report, settings))]
    pieces = {key[i:i + 8] for i in range(len(key) - 7)}
    assert not [text for text in shown if any(piece in text for piece in pieces)]


# --- Features it lacks --------------------------------------------------------------------------------------------

def test_every_tested_release_has_the_features_the_dashboard_uses(settings, app_env):
    assert features.has_token_counter(settings.litellm_base_url) is True  # asked without a key
    assert features.lacking(fetch_models(settings), settings) == ()
    assert "lacks" not in captions(open_page("pages/models.py"))


@pytest.fixture
def plain_openai_server(upstream, monkeypatch):
    """The suite's small OpenAI-compatible server, set up as if it were the proxy: it has `/v1/models` and chat,
    but no `/model/info` and no `/utils/token_counter`."""
    values = {"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": upstream, "LITELLM_API_KEY": "sk-local-0000"}
    for name in APP_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return load_settings(values, secrets={}, dotenv_path=None)


def test_a_server_without_model_info_or_a_token_counter_is_said_to_lack_them(plain_openai_server):
    catalogue = fetch_models(plain_openai_server)
    assert catalogue.status == "live" and catalogue.endpoint == "/v1/models"
    missing = features.lacking(catalogue, plain_openai_server)
    assert missing == (features.MODEL_INFO, features.TOKEN_COUNTER)
    assert features.caption(missing) == (
        "The proxy lacks `/model/info` (names only: no prices, context windows estimated from the names) and "
        "`/utils/token_counter` (token counts are estimates, marked as such).")


def test_the_catalogue_and_health_pages_say_what_is_lacking(plain_openai_server):
    for path in ("pages/models.py", "pages/health.py"):
        shown = captions(open_page(path))
        assert "The proxy lacks `/model/info`" in shown and "`/utils/token_counter`" in shown, path


def test_nothing_is_claimed_about_a_proxy_that_does_not_answer():
    settings = load_settings({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": "http://127.0.0.1:9"},
                             secrets={}, dotenv_path=None)
    assert features.lacking(fetch_models(settings), settings) == ()
