"""Bounded reading of proxy answers and the shared pooled client (gateway/http.py), against a hostile local server:
200 MB answers (with and without a length), a gzip bomb, JSON nested 100,000 deep, random bytes, an HTML page."""

from __future__ import annotations

import threading
import time
import tracemalloc

import pytest

from gateway import health, http
from gateway.config import load_settings
from gateway.discovery import discover, http_client
from gateway.errors import BadResponse, GatewayError
from gateway.models import ModelRecord
from gateway.tokens import count_tokens, estimate_tokens
from tests.support.hostile import hostile_server

MB = 1024 * 1024


def settings_for(url: str, **more: str):
    return load_settings({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": url, "LITELLM_API_KEY": "sk-hostile-0000",
                          **more}, secrets={}, dotenv_path=None)


def discovery_error(settings) -> tuple[GatewayError, float, int]:
    """The error discovery raises, the seconds it took, and the peak memory it allocated meanwhile."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(GatewayError) as caught:
            discover(settings)
        return caught.value, time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("mode", ["huge", "huge-chunked", "gzip-bomb"])
def test_an_enormous_answer_is_refused_at_the_limit_with_memory_bounded(mode):
    with hostile_server(mode) as server:
        error, took, peak = discovery_error(settings_for(server.url))
    assert isinstance(error, BadResponse)
    assert "/model/info answered more than 50 MB" in str(error) and "stopped reading there" in str(error)
    assert "MAX_RESPONSE_MB" in error.hint
    assert peak < 3 * 50 * MB, f"peak {peak / MB:.0f} MB while the server sent 200 MB"
    assert took < 30


def test_a_length_over_the_limit_is_refused_before_reading_anything():
    with hostile_server("huge") as server:
        error, _, peak = discovery_error(settings_for(server.url))
    assert "(200 MB)" in str(error)
    assert peak < 5 * MB  # (no timing: the in-process server slows down under tracemalloc on a busy machine)


def test_the_limit_is_a_setting():
    with hostile_server("huge-chunked") as server:
        error, _, peak = discovery_error(settings_for(server.url, MAX_RESPONSE_MB="2"))
    assert "answered more than 2 MB" in str(error) and peak < 10 * MB


@pytest.mark.parametrize("mode, words", [
    ("deep", "nested too deeply"),
    ("garbage", "not JSON"),
    ("html", "HTML page"),
])
def test_answers_that_are_not_usable_json_say_so(mode, words):
    with hostile_server(mode) as server, pytest.raises(BadResponse, match=words) as caught:
        discover(settings_for(server.url))
    assert "does not look like a LiteLLM proxy" in str(caught.value)


def test_health_probes_report_an_enormous_answer_within_their_deadline():
    with hostile_server("huge") as server:
        report = health.run_probes(settings_for(server.url))
    assert report.overall == "unreachable"
    assert report.elapsed_ms < health.DEADLINE * 1000 + 500
    details = [probe.detail for probe in report.probes]
    assert any("answered more than 50 MB" in detail for detail in details), details
    assert all("answered more than 50 MB" in detail or "No answer within" in detail for detail in details), details


def test_token_counting_falls_back_to_an_estimate_on_an_enormous_answer():
    messages = [{"role": "user", "content": "Hello there"}]
    with hostile_server("huge") as server:
        count = count_tokens(ModelRecord("m", "litellm", ("openai",)), messages, settings_for(server.url))
    assert count.source == "estimate" and count.tokens == estimate_tokens(messages)


# --- The shared client ------------------------------------------------------------------------------------------------

def test_one_client_per_url_key_timeouts_and_limit():
    settings = settings_for("http://127.0.0.1:9")
    assert http_client(settings) is http_client(settings)
    assert http_client(settings, read_timeout=1.0) is not http_client(settings)
    assert http_client(settings_for("http://127.0.0.1:9", MAX_RESPONSE_MB="1")) is not http_client(settings)
    assert http_client(settings).headers["authorization"] == "Bearer sk-hostile-0000"


def test_discovery_reuses_one_connection_across_calls_and_threads():
    with hostile_server("echo-calls") as server:
        settings = settings_for(server.url)
        for _ in range(3):
            discover(settings)  # /model/info refused, then /v1/models: two requests each
        threads = [threading.Thread(target=discover, args=(settings,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(server.requests) == 10
    assert server.connections <= 3  # a client per call would have opened 5


def test_a_closed_client_is_replaced_and_every_client_is_closed_at_exit():
    settings = settings_for("http://127.0.0.1:9")
    first = http_client(settings)
    first.close()
    second = http_client(settings)
    assert second is not first and not second.is_closed
    http.close_all()
    assert second.is_closed and http_client(settings) is not second
