"""The Proxy health page, run with AppTest: against the real proxy, a refused port, and a socket that never answers."""

import time

import pytest
from streamlit.testing.v1 import AppTest

from gateway import health
from tests.support.pages import RUN_TIMEOUT
from tests.support.proxy import free_port
from tests.support.text import shown
from tests.support.upstream import silent_server

APP = "../home.py"


@pytest.fixture(autouse=True)
def empty_history():
    health.clear_history()
    yield
    health.clear_history()


@pytest.fixture
def proxy_at(app_env, monkeypatch):
    """Point the app at another base URL (the key stays the test proxy's)."""
    def point(url: str) -> None:
        monkeypatch.setenv("LITELLM_BASE_URL", url)
    return point


def health_page() -> tuple[AppTest, float]:
    """The home page, then the health page; returns the app and the seconds the health page took."""
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.run()
    started = time.perf_counter()
    at.switch_page("pages/health.py").run()
    took = time.perf_counter() - started
    assert not at.exception, at.exception
    return at, took


def page_text(at: AppTest) -> str:
    """Everything the page says in text: banners, markdown, code, metrics and tables."""
    parts = [e.value for kind in ("success", "warning", "error", "info", "markdown", "caption", "code")
             for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [frame.value.to_csv() for frame in [*at.table, *at.dataframe]]
    return "\n".join(str(p) for p in parts)


def test_a_live_proxy_is_healthy_with_its_version(app_env):
    at, _ = health_page()
    [banner] = at.success
    assert banner.value.startswith("**Healthy**")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Proxy version"] == "1.108.7"
    probes = at.table[0].value
    assert list(probes["Endpoint"]) == ["/health/liveliness", "/health/readiness", "/v1/models", "/model/info"]
    assert set(probes["Result"]) == {"OK"}
    configuration = at.table[1].value["Value"]
    assert configuration["Proxy version"] == "1.108.7" and configuration["LiteLLM key"] == "sk-…6789"
    assert app_env.master_key not in page_text(at)


def test_the_home_page_status_comes_from_the_same_probes(app_env):
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.run()
    assert not at.exception
    proxy = next(m for m in at.metric if m.label == "Proxy")
    assert proxy.value == "Healthy"
    assert shown(proxy.proto.help).startswith(f"LiteLLM 1.108.7 at {app_env.base_url} answers every check")
    # the health page's own probes, recorded in its history: the glance (no /model/info), once
    assert [s.probe for s in health.history(app_env.base_url)] == ["Liveliness", "Readiness", "Models"]


@pytest.mark.proxy
def test_the_home_page_says_unreachable_when_the_probes_find_nothing(proxy_at):
    port = free_port()
    proxy_at(f"http://127.0.0.1:{port}")
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.run()
    proxy = next(m for m in at.metric if m.label == "Proxy")
    assert proxy.value == "Unreachable" and f"No LiteLLM proxy answered at http://127.0.0.1:{port}" in shown(proxy.proto.help)
    assert [s.ok for s in health.history()] == [False, False, False]


def test_a_proxy_that_never_answers_is_unreachable_within_5_s_with_the_fix(proxy_at):
    with silent_server() as url:
        proxy_at(url)
        at, took = health_page()
    assert took < 5
    [banner] = at.error
    assert banner.value.startswith("**Unreachable**")
    assert "accepts connections but does not answer" in page_text(at)
    assert f"curl -sS --max-time 5 {url}/health/liveliness" in [c.value for c in at.code]


def test_a_refused_port_is_unreachable_with_the_fix(proxy_at):
    port = free_port()
    proxy_at(f"http://127.0.0.1:{port}")
    at, took = health_page()
    assert took < 5
    assert at.error[0].value.startswith("**Unreachable**")
    assert f"Nothing is listening on 127.0.0.1:{port}" in page_text(at)


def test_litellm_off_says_not_configured(monkeypatch):
    monkeypatch.delenv("LITELLM_ENABLED", raising=False)
    at, _ = health_page()
    assert any(i.value.startswith("**Not configured**") for i in at.info)
    assert "LITELLM_ENABLED=true" in page_text(at)


def test_per_model_health_runs_only_when_asked(app_env):
    at, _ = health_page()
    button = at.button(key="health_deployments_run")
    assert "costs money" in button.label
    assert "Healthy deployments" not in page_text(at)  # nothing called yet
    button.click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Healthy deployments"]) >= 5 and int(metrics["Unhealthy deployments"]) >= 3
    assert "Missing Anthropic API Key" in page_text(at)
    assert "`ANTHROPIC_API_KEY`" in page_text(at)
    assert "Traceback" not in page_text(at)
