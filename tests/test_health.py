"""Proxy health probes: against the real proxy, a refused port, a socket that never answers, and what no real
proxy sends (httpx mocks)."""

import json
import time

import httpx
import pytest

from gateway import catalogue, health
from gateway.config import load_settings
from gateway.errors import ProxyTimeout, ProxyUnreachable
from tests.support import litellm_versions
from tests.support.proxy import MASTER_KEY, free_port
from tests.support.upstream import silent_server

pytestmark = pytest.mark.litellm_versions  # every test using the proxy runs against each release


@pytest.fixture(autouse=True)
def empty_history():
    health.clear_history()
    yield
    health.clear_history()


def settings_for(url: str, key: str | None = MASTER_KEY, **more: str):
    values = {"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": url, **more}
    if key:
        values["LITELLM_API_KEY"] = key
    return load_settings(values, secrets={}, dotenv_path=None)


def mocked(handler, key: str | None = MASTER_KEY):
    """Settings and a client whose every request is answered by `handler`."""
    settings = settings_for("http://proxy.test:4000", key)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return settings, httpx.Client(base_url=settings.litellm_base_url, headers=headers,
                                  transport=httpx.MockTransport(handler))


def litellm_like(request: httpx.Request) -> httpx.Response:
    """What a healthy LiteLLM proxy answers on the public probes."""
    answers = {"/health/liveliness": "I'm alive!", "/health/readiness": {"status": "healthy", "db": "Not connected"},
               "/public/model_hub/info": {"litellm_version": "9.9.9"}}
    if request.url.path in answers:
        return httpx.Response(200, json=answers[request.url.path])
    return httpx.Response(200, json={"data": []})


def warm_up_refusals(base_url: str) -> None:
    """A freshly started proxy takes ~2 s (more on a busy machine) to refuse its first wrong key; probes give up
    after 2.5 s. Tests about what a refusal means refuse once first, so they are not about that cold start."""
    httpx.get(f"{base_url}/v1/models", headers={"Authorization": "Bearer sk-warm-up-0000000000"}, timeout=30)


def everything_said(report, advice) -> str:
    return json.dumps([report.summary, [p.detail for p in report.probes], [a.__dict__ for a in advice]])


# --- A live proxy -----------------------------------------------------------------------------------------------------

def test_a_live_proxy_is_healthy_and_says_its_version(settings, proxy):
    report = health.run_probes(settings)
    assert report.overall == "healthy" and report.label == "Healthy", report.summary
    assert report.proxy_version == proxy.version  # 1.53.1 says it only on /health/readiness
    assert [p.path for p in report.probes] == ["/health/liveliness", "/health/readiness", "/v1/models", "/model/info"]
    assert all(p.ok and p.status == 200 and p.latency_ms > 0 for p in report.probes)
    assert report.model_count >= 10 and report.deployment_count == report.model_count + 3  # gpt-4o 2, balanced-3 3
    assert report.database == "Not connected"
    assert health.troubleshooting(report, settings) == []


def test_the_home_pages_glance_skips_the_heavy_model_info(settings, proxy):
    report = health.run_probes(settings, checks=health.GLANCE_CHECKS)
    assert report.overall == "healthy" and report.proxy_version == proxy.version
    assert [p.path for p in report.probes] == ["/health/liveliness", "/health/readiness", "/v1/models"]


def test_a_wrong_key_is_degraded_and_no_connected_db_is_explained(proxy):
    settings = settings_for(proxy.base_url, "sk-wrong-key-0000000000")
    warm_up_refusals(proxy.base_url)
    report = health.run_probes(settings)
    assert report.overall == "degraded", report.summary
    assert [p.name for p in report.failures] == ["Models", "Model info"], report.summary
    advice = health.troubleshooting(report, settings)
    assert len(advice) == 1  # one cause, said once
    assert "'No connected db.' means the key sk-…0000 is wrong" in advice[0].fix
    assert "sk-wrong-key-0000000000" not in everything_said(report, advice)


def test_no_key_at_all_says_to_set_one(proxy):
    settings = settings_for(proxy.base_url, key=None)
    warm_up_refusals(proxy.base_url)
    report = health.run_probes(settings)
    assert report.overall == "degraded"
    assert "No key is set" in health.troubleshooting(report, settings)[0].fix


# --- Nothing there, or nothing answering ------------------------------------------------------------------------------

def test_a_refused_port_is_unreachable_with_the_fix():
    port = free_port()
    settings = settings_for(f"http://127.0.0.1:{port}")
    report = health.run_probes(settings)
    assert report.overall == "unreachable" and report.proxy_version is None
    assert all(isinstance(p.error, ProxyUnreachable) and "refused" in p.detail for p in report.probes)
    [advice] = health.troubleshooting(report, settings)
    assert f"Nothing is listening on 127.0.0.1:{port}" in advice.fix
    assert advice.curl == f"curl -sS --max-time 5 http://127.0.0.1:{port}/health/liveliness"


def test_localhost_refused_suggests_127_0_0_1():
    port = free_port()
    settings = settings_for(f"http://localhost:{port}")
    [advice] = health.troubleshooting(health.run_probes(settings), settings)
    assert f"try http://127.0.0.1:{port}" in advice.fix


@pytest.mark.realtime  # the probes' own timeout
def test_a_server_that_never_answers_is_unreachable_within_the_deadline():
    with silent_server() as url:
        settings = settings_for(url)
        started = time.perf_counter()
        report = health.run_probes(settings)
        took = time.perf_counter() - started
    assert took < health.DEADLINE + 0.5 < 5  # all probes wait at the same time, not one after another
    assert report.overall == "unreachable"
    assert all(isinstance(p.error, ProxyTimeout) for p in report.probes)
    [advice] = health.troubleshooting(report, settings)
    assert "accepts connections but does not answer" in advice.fix


def test_the_hard_deadline_holds_whatever_the_http_timeouts():
    with silent_server() as url:
        started = time.perf_counter()
        report = health.run_probes(settings_for(url), deadline=0.3)
        took = time.perf_counter() - started
    assert took < 1.0
    assert report.overall == "unreachable"
    assert all(p.detail.startswith("No answer within 0.3 s") for p in report.probes)


@pytest.mark.realtime  # the probes' own timeout, before the point
def test_a_proxy_found_down_is_not_waited_on_again_by_discovery_when_the_page_says_so():
    with silent_server() as url:
        settings = settings_for(url)
        report = health.run_probes(settings)
        started = time.perf_counter()
        found = catalogue.fetch_models(settings, proxy_down=report.down)
        assert time.perf_counter() - started < 0.5  # instead of discovery's own 10 s read timeout
    assert found.status == "unavailable" and isinstance(found.error, ProxyTimeout)


def test_an_unknown_host_says_so():
    def unknown_host(request):
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    settings, client = mocked(unknown_host)
    report = health.run_probes(settings, client=client)
    assert report.overall == "unreachable"
    [advice] = health.troubleshooting(report, settings)
    assert "The host name `proxy.test` does not resolve" in advice.fix


# --- Something answers, but not a LiteLLM proxy -----------------------------------------------------------------------

def test_an_html_server_does_not_look_like_a_litellm_proxy():
    settings, client = mocked(lambda request: httpx.Response(200, html="<html><body>Welcome to nginx</body></html>"))
    report = health.run_probes(settings, client=client)
    assert report.overall == "unreachable"
    assert all("answered an HTML page: this does not look like a LiteLLM proxy" in p.detail for p in report.probes)
    [advice] = health.troubleshooting(report, settings)
    assert "points at another web server or the wrong port" in advice.fix


def test_json_that_is_not_litellms_does_not_look_like_a_litellm_proxy():
    settings, client = mocked(lambda request: httpx.Response(200, json={"hello": "world"}))
    report = health.run_probes(settings, client=client)
    assert report.overall == "unreachable"
    assert all("does not look like a LiteLLM proxy" in p.detail for p in report.probes)


def test_401_on_the_keyed_probes_blames_the_key_without_showing_it():
    def refuses_keys(request):
        if request.url.path in ("/v1/models", "/model/info"):
            echoed = request.headers["authorization"]  # some proxies echo what they were sent
            return httpx.Response(401, json={"error": {"message": f"Invalid token: {echoed}"}})
        return litellm_like(request)

    settings, client = mocked(refuses_keys)
    report = health.run_probes(settings, client=client)
    assert report.overall == "degraded" and report.proxy_version == "9.9.9"
    assert {p.status for p in report.failures} == {401}
    [advice] = health.troubleshooting(report, settings)
    assert "The proxy refused the key sk-…6789" in advice.fix
    assert MASTER_KEY not in everything_said(report, [advice])


def test_a_proxy_that_is_not_ready_is_degraded():
    def not_ready(request):
        if request.url.path == "/health/readiness":
            return httpx.Response(200, json={"status": "unhealthy", "db": "disconnected"})
        return litellm_like(request)

    settings, client = mocked(not_ready)
    report = health.run_probes(settings, client=client)
    assert report.overall == "degraded"
    assert "not ready" in report.failures[0].detail and "disconnected" in report.failures[0].detail


def test_one_slow_endpoint_on_a_live_proxy_is_degraded_not_unreachable():
    def slow_model_info(request):
        if request.url.path == "/model/info":
            raise httpx.ReadTimeout("timed out", request=request)
        return litellm_like(request)

    settings, client = mocked(slow_model_info)
    report = health.run_probes(settings, client=client)
    assert report.overall == "degraded"
    [advice] = health.troubleshooting(report, settings)
    assert "answers other checks, but not this one" in advice.fix


# --- Not configured ---------------------------------------------------------------------------------------------------

def test_litellm_off_is_not_configured_and_probes_nothing():
    settings = load_settings({}, secrets={}, dotenv_path=None)
    report = health.run_probes(settings)
    assert (report.overall, report.probes) == ("not_configured", ())
    assert "LITELLM_ENABLED=true" in health.troubleshooting(report, settings)[0].fix


def test_a_malformed_url_is_not_configured_and_names_the_variable():
    settings = settings_for("htp:/nope")
    report = health.run_probes(settings)
    assert report.overall == "not_configured" and "LITELLM_BASE_URL" in report.summary


# --- What the page shows ----------------------------------------------------------------------------------------------

def test_curl_commands_keep_the_key_in_a_shell_variable(settings):
    commands = health.curl_commands(settings)
    assert f'-H "Authorization: Bearer $LITELLM_API_KEY" {settings.litellm_base_url}/v1/models' in commands
    assert f"curl -sS --max-time 5 {settings.litellm_base_url}/health/liveliness" in commands
    assert MASTER_KEY not in commands


def test_configuration_masks_every_key():
    settings = settings_for("http://127.0.0.1:4000", OPENAI_API_KEY="sk-openai-secret-abcdefgh")
    shown = dict(health.configuration(settings))
    assert shown["LiteLLM key"] == "sk-…6789" and shown["OpenAI key (direct)"] == "sk-…efgh"
    assert shown["Anthropic key (direct)"] == "not set"
    assert shown["App version"] == "0.1.0" and shown["Proxy version"] == "unknown"


def test_latency_history_is_kept_per_proxy(settings):
    health.run_probes(settings)
    health.run_probes(settings)
    frame = health.history_frame(settings.litellm_base_url)
    assert list(frame.columns) == ["Time", "Probe", "Latency (ms)", "Result"]
    assert len(frame) == 2 * len(health.CHECKS) and set(frame["Result"]) == {"ok"}
    assert health.history_frame("http://elsewhere:1").empty


def test_latency_history_is_bounded_and_skips_unconfigured_runs():
    health.run_probes(settings_for("htp:/off"))
    assert health.history() == []
    settings, client = mocked(litellm_like)
    for _ in range(health.HISTORY_SIZE // len(health.CHECKS) + 5):
        health.run_probes(settings, client=client)
    assert len(health.history()) == health.HISTORY_SIZE


# --- Per-deployment health (on demand) --------------------------------------------------------------------------------

@pytest.mark.litellm_versions(litellm_versions.CURRENT)  # 1.53.1's /health ignores `mock_response` for OpenAI
# deployments and calls api.openai.com for real: no test may reach the internet
def test_deployment_health_lists_healthy_and_unhealthy_deployments_with_errors(settings):
    result = health.deployment_health(settings)
    assert result.error is None
    healthy = {d.model_name for d in result.healthy}
    unhealthy = {d.model_name: d for d in result.unhealthy}
    assert {"gpt-4o", "demo-fast", "upstream-echo"} <= healthy
    assert {"no-credentials", "error-rate-limit", "error-internal"} <= set(unhealthy)
    missing = unhealthy["no-credentials"]
    assert missing.status == 401 and "Missing Anthropic API Key" in missing.error
    assert all("Traceback" not in d.error and "stack trace" not in d.error for d in result.unhealthy)
    advice = health.deployment_troubleshooting(result, settings)
    assert any("`ANTHROPIC_API_KEY`" in a.fix and "no-credentials" in a.problem for a in advice)


def test_deployment_health_against_a_refused_port_is_an_error_not_an_exception():
    result = health.deployment_health(settings_for(f"http://127.0.0.1:{free_port()}"))
    assert isinstance(result.error, ProxyUnreachable) and result.deployments == ()
