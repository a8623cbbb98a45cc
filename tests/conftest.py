"""Shared fixtures: real LiteLLM proxies (one per release, started once) and their local upstream, for the whole
test session.

`proxy` is the pinned release. In a module marked `litellm_versions` it is every release of the tested range
(tests/support/litellm_versions.py): each test there runs once per release, `[litellm-1.108.7]`, `[litellm-1.53.1]`.
Every test that uses `proxy` (directly or through `settings` / `app_env`) is marked `proxy`. A test that starts another
process (the app's server, a child Python, a command) is marked `processes`, one that waits seconds of real time on
purpose `realtime`. `make test-pure` runs the rest, the pure tests, which are held to starting no process.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import streamlit as st
from streamlit.components.v2 import manifest_scanner

from gateway import cache, catalogue, config
from gateway.config import Settings
from tests.support import litellm_versions, properties  # noqa: F401 - registers the Hypothesis profile `quick`
from tests.support.app import app  # noqa: F401 - fixture: one app server for the session
from tests.support.postgres import database_url, migrated_sqlite, postgres_server, store  # noqa: F401 - fixtures
from tests.support.proxy import Proxy, settings_for
from tests.support.upstream import upstream_server

ROOT = Path(__file__).resolve().parent.parent
APP_ENV = config.NAMES  # every setting the app reads
pytest_plugins = [
    "tests.support.proxy_watch",  # `litellm_proxies`: kept alive; a test a proxy's death failed runs again
    "pytester",  # a pytest run inside a test, for tests/test_proxy_watch.py
]

STARTS_PROCESSES = ("proxy", "browser", "postgres", "processes")  # the markers of tests that may start processes


@pytest.fixture(scope="session")
def upstream() -> Iterator[str]:
    """The local OpenAI-compatible server (base URL ending in /v1)."""
    with upstream_server() as base:
        yield base


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `litellm_versions` that use the proxy run against every release of the tested range (or
    against the releases the closest mark names: `@pytest.mark.litellm_versions(litellm_versions.CURRENT)`)."""
    mark = metafunc.definition.get_closest_marker("litellm_versions")
    if "proxy" in metafunc.fixturenames and mark:
        versions = mark.args or litellm_versions.VERSIONS
        metafunc.parametrize("proxy", versions, indirect=True, scope="session",
                             ids=[f"litellm-{v}" for v in versions])


@pytest.fixture(scope="session")
def proxy(request: pytest.FixtureRequest, litellm_proxies: Callable[[str], Proxy]) -> Proxy:
    """A real LiteLLM proxy: the pinned release, or the one this test is parametrised with."""
    return litellm_proxies(getattr(request, "param", litellm_versions.CURRENT))


def settle(proxy: Proxy) -> None:
    """Wait until the proxy has finished what a test left it doing. After a client closes a stream early the proxy
    answers nothing for a while: upstream-long (3,000 fast pieces) keeps 1.108.7 busy ~20 s on a loaded machine
    (1.53.1 ~5 s), longer than discovery's 10 s or the health probes' 3 s. Keyed endpoints come back last (the
    liveness probe answers sooner), so a keyed one is asked."""
    httpx.get(f"{proxy.base_url}/v1/models", headers={"Authorization": f"Bearer {proxy.master_key}"}, timeout=120)


@pytest.fixture
def settings(proxy: Proxy) -> Iterator[Settings]:
    """Settings pointing at the test proxy."""
    yield settings_for(proxy)
    settle(proxy)


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, proxy: Proxy) -> Iterator[Proxy]:
    """The process environment an app run (AppTest) reads, pointing at the test proxy."""
    for name in APP_ENV:
        if name != "DATABASE_URL":  # each test keeps its own database (fresh_state)
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LITELLM_ENABLED", "true")
    monkeypatch.setenv("LITELLM_BASE_URL", proxy.base_url)
    monkeypatch.setenv("LITELLM_API_KEY", proxy.master_key)
    yield proxy
    settle(proxy)


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                migrated_sqlite: Path) -> Iterator[None]:  # noqa: F811 - the fixture imported above
    """Each test starts with empty caches, no last good list, no .env from the working directory, and a database of
    its own (empty, migrated: a copy of the session's)."""
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(migrated_sqlite, tmp_path / "dashboard.db")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/dashboard.db")  # saved work stays in the test
    st.cache_data.clear()  # the pages' (ui/)
    cache.clear_all()  # the gateway's (gateway/cache.py)
    catalogue.reset()
    yield
    st.cache_data.clear()
    cache.clear_all()
    catalogue.reset()


@pytest.fixture
def api(server) -> Iterator[httpx.Client]:
    """An HTTP client for the app's API, on the `server` fixture of the module that asks (each starts its own app)."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="session", autouse=True)
def components_scanned_once() -> Iterator[None]:
    """AppTest looks for installed Streamlit components on every new AppTest, reading the metadata of every installed
    package (~0.3 s here, 35 times in the pure tests; a running app does it once at start). The installed packages do
    not change during a test session: the first answer is kept."""
    scan = functools.cache(manifest_scanner.scan_component_manifests)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(manifest_scanner, "scan_component_manifests", lambda max_workers=None: list(scan()))
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs the proxy (directly or through `settings`, `app_env`, `app`…) is marked `proxy`, so
    `make test-pure` (`-m "not proxy and not browser and not postgres and not processes and not realtime"`) runs
    the pure tests alone."""
    for item in items:
        if "proxy" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.proxy)


def _no_process(*args: object, **kwargs: object) -> None:
    raise AssertionError("a pure test started another process: mark it `processes` (pytest.ini), or keep it pure")


def _guarded(item: pytest.Item) -> Iterator[object]:
    if any(item.get_closest_marker(name) for name in STARTS_PROCESSES):
        return (yield)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess.Popen, "__init__", _no_process)
        patch.setattr(os, "fork", _no_process)
        patch.setattr(os, "posix_spawn", _no_process)
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[object]:
    """A test marked none of STARTS_PROCESSES starts no other process, in its fixtures neither: the markers say
    honestly what `make test-pure` leaves out. (Not at teardown: that is also where a session's fixtures end, such
    as the PostgreSQL server stopped after whichever test ran last.)"""
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[object]:
    return (yield from _guarded(item))
