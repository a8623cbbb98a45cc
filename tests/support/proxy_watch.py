"""The suite's LiteLLM proxies, kept alive: a pytest plugin (tests/conftest.py loads it) with the session's
`litellm_proxies` fixture.

A proxy can die under the suite through no fault of a test. In CI on 2026-12-07 the 1.108.7 proxy was killed by
SIGSEGV inside CPython itself (the kernel's log: `litellm[2089]: segfault at 0 … in libpython3.11.so`; its own log
simply stops) and every one of the ~380 proxy tests after it failed or errored within two minutes. So:

- every test that uses a proxy starts with the session's proxies alive: a dead one is started again on its own port,
  so the settings, URLs and app servers the tests hold stay right (`SessionProxies.revive`);
- a test that failed while a proxy died under it runs once more, its first attempt reported as `rerun`;
- the run's summary says which proxy died, how, during which test, and the last lines of its log (the proxy runs
  with PYTHONFAULTHANDLER, so a crash in C leaves the Python stack of every thread there).

Nothing else changes: a test that fails again, or fails while every proxy stayed alive, fails as usual.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from _pytest.runner import runtestprotocol

from tests.support.proxy import Proxy, restart_proxy, start_proxy

CONFIG = Path(__file__).resolve().parents[1] / "proxy_config.yaml"
WATCH = pytest.StashKey["SessionProxies"]()


@dataclass(frozen=True)
class Death:
    """A session proxy found dead."""

    version: str
    returncode: int | None
    during: str  # the test it died under, or "between tests, before …"
    log_tail: str

    @property
    def how(self) -> str:
        if self.returncode is not None and self.returncode < 0:
            return f"killed by {signal.Signals(-self.returncode).name}"
        return f"exited with {self.returncode}"


class SessionProxies:
    """Each LiteLLM release's proxy, started the first time it is asked for, kept until `stop()`."""

    def __init__(self, start: Callable[[str], Proxy]) -> None:
        self._start = start
        self.running: dict[str, Proxy] = {}
        self.deaths: list[Death] = []

    def get(self, version: str) -> Proxy:
        if version not in self.running:
            self.running[version] = warmed(self._start(version))
        return self.running[version]

    def revive(self, during: str) -> list[Death]:
        """Start again every proxy that has exited; what was found."""
        found = []
        for version, proxy in self.running.items():
            if proxy.running():
                continue
            found.append(Death(version, proxy.process.returncode, during, last_words(proxy)))
            restart_proxy(proxy)
            warmed(proxy)
        self.deaths += found
        return found

    def stop(self) -> None:
        """Stop them all, for good: nothing is revived after this (the session's end, which pytest may reach in the
        last test's teardown)."""
        while self.running:
            self.running.popitem()[1].stop()


def last_words(proxy: Proxy, lines: int = 40, most: int = 400) -> str:
    """The end of a dead proxy's log: from faulthandler's report when it crashed in C (every thread's stack, however
    many threads), else its last lines."""
    log = proxy.log_path.read_text(errors="replace").splitlines()
    crash = next((i for i in range(len(log) - 1, -1, -1) if log[i].startswith("Fatal Python error")), None)
    return "\n".join(log[crash:crash + most] if crash is not None else log[-lines:])


def warmed(proxy: Proxy) -> Proxy:
    """A proxy's first token count loads its tokenizer (~1.8 s here), longer than the app waits for a count
    (tokens.COUNT_TIMEOUT): load it now, so tests about counting are not about that cold start."""
    httpx.post(f"{proxy.base_url}/utils/token_counter", timeout=60,
               headers={"Authorization": f"Bearer {proxy.master_key}"},
               json={"model": "gpt-4o", "messages": [{"role": "user", "content": "warm up"}]})
    return proxy


def watch(config: pytest.Config, proxies: SessionProxies) -> None:
    """Keep these proxies alive for the rest of the run (the hooks below), and report their deaths at its end,
    with those of any proxies watched before them (a rerun may have set the session up again)."""
    if (before := config.stash.get(WATCH, None)) is not None:
        proxies.deaths[:0] = before.deaths
    config.stash[WATCH] = proxies


@pytest.fixture(scope="session")
def litellm_proxies(pytestconfig: pytest.Config, upstream: str) -> Iterator[Callable[[str], Proxy]]:
    """Each release's proxy serving tests/proxy_config.yaml on a free loopback port, started the first time it is
    asked for and kept until the session ends (a start takes 20-45 s; pytest may set `proxy` up several times),
    started again on its own port if it dies. (Not `request`: a session fixture that asks for it is torn down with
    the test that first asked for it.)"""
    proxies = SessionProxies(lambda version: start_proxy(CONFIG, version=version, env={"UPSTREAM_API_BASE": upstream}))
    watch(pytestconfig, proxies)
    yield proxies.get
    proxies.stop()


def _uses_proxy(item: pytest.Item) -> bool:
    return "proxy" in getattr(item, "fixturenames", ())


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """Run a proxy test with its proxies alive, and once more when one died under it and it failed."""
    if not _uses_proxy(item):
        return None
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    if (proxies := item.config.stash.get(WATCH, None)) is not None:
        proxies.revive(f"between tests, before {item.nodeid}")
    reports = runtestprotocol(item, nextitem=nextitem, log=False)
    proxies = item.config.stash.get(WATCH, None)  # set up by this test, if it was the first
    if proxies is not None and proxies.revive(item.nodeid) and (failed := [r for r in reports if r.failed]):
        failed[0].outcome = "rerun"  # type: ignore[assignment]  # once: what failed after it (the teardown's
        # wait for the proxy, say) followed from the same death
        for report in reports:
            if report.passed or report is failed[0]:
                item.ihook.pytest_runtest_logreport(report=report)
        if failed[0].when == "setup":
            # A fixture that failed to set up is kept failed (module and session ones for the tests after it):
            # tear everything down so the second attempt sets it up again.
            item.session._setupstate.teardown_exact(None)
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
    if report.outcome == "rerun":
        return "rerun", "R", ("RERUN", {"yellow": True})
    return None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    proxies = config.stash.get(WATCH, None)
    for death in proxies.deaths if proxies is not None else ():
        terminalreporter.write_sep("!", f"LiteLLM {death.version}'s proxy died ({death.how}) and was started again")
        terminalreporter.write_line(f"during: {death.during}")
        terminalreporter.write_line(death.log_tail)
