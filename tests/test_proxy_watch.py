"""A session proxy that dies is started again on its own port, and the test it failed runs once more
(tests/support/proxy_watch.py): one crash of LiteLLM is one line in the summary, not 380 failures."""

from __future__ import annotations

import functools
import os
import signal
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from tests.support import proxy_watch

INNER_CONFTEST = '''
import pytest
from tests.support import proxy_watch
from tests.support.proxy_watch import Death

pytest_plugins = ["tests.support.proxy_watch"]


class Dying:
    """Stands in for the session's proxies: `kill()` makes the next revive find one dead."""

    def __init__(self):
        self.deaths, self.dead = [], False

    def kill(self):
        self.dead = True

    def revive(self, during):
        found = [Death("9.9.9", -11, during, "Fatal Python error: Segmentation fault")] if self.dead else []
        self.dead = False
        self.deaths += found
        return found


@pytest.fixture(scope="session")
def proxy(request):
    proxies = Dying()
    proxy_watch.watch(request.config, proxies)
    return proxies
'''

INNER_TESTS = '''
import pytest

attempts = []


def test_fails_as_its_proxy_dies_then_passes(proxy):
    attempts.append(1)
    if len(attempts) == 1:
        proxy.kill()
        assert False, "the proxy went away"


def test_fails_with_its_proxy_alive(proxy):
    assert False, "a real failure"


def test_passes_as_its_proxy_dies(proxy):
    proxy.kill()


def test_uses_no_proxy():
    pass


served_attempts = []


@pytest.fixture(scope="module")
def served(proxy):
    served_attempts.append(1)
    if len(served_attempts) == 1:
        proxy.kill()
        raise RuntimeError("the proxy went away as the module's server started")
    return "up"


def test_a_module_fixture_set_up_as_its_proxy_dies(served):
    assert served == "up"


def test_after_it_in_the_module(served):
    assert served == "up"
'''


def test_a_test_failed_by_a_proxys_death_runs_again_and_nothing_else_does(pytester: pytest.Pytester):
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning")
    assert result.parseoutcomes() == {"passed": 5, "failed": 1, "rerun": 2}
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*LiteLLM 9.9.9's proxy died (killed by SIGSEGV) and was started again*",
        "during: test_inner.py::test_fails_as_its_proxy_dies_then_passes",
        "Fatal Python error: Segmentation fault",
    ])
    # also under the test that passed, and the one set up again (the whole session with it): said, not hidden
    assert result.stdout.str().count("proxy died") == 3
    result.stdout.fnmatch_lines(["FAILED test_inner.py::test_fails_with_its_proxy_alive - AssertionError: a rea*"])


def test_a_proxy_that_crashes_is_started_again_on_its_own_port(request: pytest.FixtureRequest, proxy):
    proxies = request.config.stash[proxy_watch.WATCH]
    url, crashed = proxy.base_url, proxy.process.pid
    os.kill(crashed, signal.SIGSEGV)  # as in CI: killed by SIGSEGV inside the interpreter
    proxy.process.wait(timeout=30)

    deaths = proxies.revive("this test")
    assert proxies.deaths[-1] is deaths[0]
    proxies.deaths.remove(deaths[0])  # staged: not for the run's summary
    assert [(d.how, d.during) for d in deaths] == [("killed by SIGSEGV", "this test")]
    assert deaths[0].log_tail.startswith("Fatal Python error: Segmentation fault")  # PYTHONFAULTHANDLER: the stacks
    assert "Current thread" in deaths[0].log_tail and "in run_server" in deaths[0].log_tail
    assert proxy.running() and proxy.process.pid != crashed and proxy.base_url == url
    answer = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {proxy.master_key}"}, timeout=30)
    assert "upstream-echo" in {m["id"] for m in answer.raise_for_status().json()["data"]}
    assert proxies.revive("this test") == []  # alive: nothing to do



class Stand:
    """Stands in for a Proxy: alive until it dies or is stopped."""

    def __init__(self) -> None:
        self.process = SimpleNamespace(returncode=None)

    def running(self) -> bool:
        return self.process.returncode is None

    def die(self, returncode: int) -> None:
        self.process.returncode = returncode

    stop = functools.partialmethod(die, -signal.SIGTERM)

    log_path = Path(__file__)  # (its last lines)


@pytest.fixture
def restarted(monkeypatch: pytest.MonkeyPatch) -> list[Stand]:
    """What the watch starts again (without starting anything)."""
    started: list[Stand] = []
    monkeypatch.setattr(proxy_watch, "restart_proxy", lambda proxy: (started.append(proxy), proxy.die(None)))
    monkeypatch.setattr(proxy_watch, "warmed", lambda proxy: proxy)
    return started


def test_a_dead_proxy_is_started_again_and_its_death_kept_for_the_summary(restarted):
    proxies = proxy_watch.SessionProxies(lambda version: Stand())
    one, other = proxies.get("1.0"), proxies.get("2.0")
    other.die(1)
    [death] = proxies.revive("a test")
    assert restarted == [other] and proxies.deaths == [death] and one.running()
    assert (death.version, death.how, death.during) == ("2.0", "exited with 1", "a test")
    assert death.log_tail.endswith("proxies.deaths == []")  # this file's last line: no crash report in it


def test_proxies_stopped_at_the_sessions_end_stay_stopped(restarted):
    """pytest may end the session in the last test's teardown, before the watch looks: it must not start them
    again then (it did: a proxy left running after the run)."""
    proxies = proxy_watch.SessionProxies(lambda version: Stand())
    one = proxies.get("1.0")
    proxies.stop()
    assert not one.running()
    assert proxies.revive("the last test") == [] and restarted == [] and proxies.deaths == []
