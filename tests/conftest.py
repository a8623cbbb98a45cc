"""Shared fixtures: one real LiteLLM proxy (and its local upstream) for the whole test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from gateway import catalogue, config
from gateway.config import Settings, load_settings
from tests.support.proxy import Proxy, start_proxy
from tests.support.upstream import upstream_server

ROOT = Path(__file__).resolve().parent.parent
APP_ENV = config.NAMES  # every setting the app reads


@pytest.fixture(scope="session")
def upstream() -> Iterator[str]:
    """The local OpenAI-compatible server (base URL ending in /v1)."""
    with upstream_server() as base:
        yield base


@pytest.fixture(scope="session")
def proxy(upstream: str) -> Iterator[Proxy]:
    """A real LiteLLM proxy serving tests/proxy_config.yaml on a free loopback port."""
    running = start_proxy(ROOT / "tests" / "proxy_config.yaml", env={"UPSTREAM_API_BASE": upstream})
    yield running
    running.stop()


@pytest.fixture
def settings(proxy: Proxy) -> Settings:
    """Settings pointing at the test proxy."""
    return load_settings({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": proxy.base_url,
                          "LITELLM_API_KEY": proxy.master_key}, secrets={}, dotenv_path=None)


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, proxy: Proxy) -> Proxy:
    """The process environment an app run (AppTest) reads, pointing at the test proxy."""
    for name in APP_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LITELLM_ENABLED", "true")
    monkeypatch.setenv("LITELLM_BASE_URL", proxy.base_url)
    monkeypatch.setenv("LITELLM_API_KEY", proxy.master_key)
    return proxy


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test starts with empty caches, no last good list, and no .env from the working directory."""
    monkeypatch.chdir(tmp_path)
    st.cache_data.clear()
    catalogue.reset()
    yield
    st.cache_data.clear()
    catalogue.reset()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs the proxy (directly or through `settings`, `app_env`, `app`…) is marked `proxy`, so
    `pytest -m "not proxy and not browser and not postgres"` runs the pure tests alone."""
    for item in items:
        if "proxy" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.proxy)
