"""The gateway's cache (gateway/cache.py): bounded in size and time, safe across threads, computing a missing value
once however many ask at once, never keeping a failure. Pure: a fake clock, no sleeps."""

import threading

import pytest

from gateway import cache
from gateway.cache import Cache, cached


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_least_recently_used_entry_goes_first_and_is_handed_to_on_evict():
    gone = []
    kept: Cache[str, int] = Cache(2, on_evict=gone.append)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # a is now the most recently used
    kept.put("c", 3)
    assert "b" not in kept and kept.get("a") == 1 and kept.get("c") == 3
    assert gone == [2] and len(kept) == 2


def test_an_entry_expires_after_its_ttl():
    clock = Clock()
    kept: Cache[str, int] = Cache(8, ttl=10, clock=clock)
    kept.put("a", 1)
    kept.put("short", 2, ttl=1)
    clock.now = 5
    assert kept.get("a") == 1 and kept.get("short") is None
    clock.now = 10
    assert kept.get("a") is None and kept.get("a", -1) == -1
    assert list(kept.items()) == []


def test_a_ttl_of_zero_keeps_nothing():
    kept: Cache[str, int] = Cache(8, ttl=0)
    assert kept.get_or_compute("a", lambda: 1) == 1
    assert kept.get("a") is None


def test_a_missing_value_is_computed_once_for_every_thread_asking_at_once():
    kept: Cache[str, int] = Cache(8)
    calls, release = [], threading.Event()

    def compute() -> int:
        calls.append(1)
        release.wait(5)
        return 42

    results = []
    threads = [threading.Thread(target=lambda: results.append(kept.get_or_compute("k", compute))) for _ in range(8)]
    for thread in threads:
        thread.start()
    while not calls:  # the first one is computing; the others queue behind it
        threading.Event().wait(0.001)
    release.set()
    for thread in threads:
        thread.join(5)
    assert results == [42] * 8 and len(calls) == 1


def test_an_exception_is_not_kept():
    kept: Cache[str, int] = Cache(8)
    with pytest.raises(ZeroDivisionError):
        kept.get_or_compute("k", lambda: 1 // 0)
    assert "k" not in kept and kept.get_or_compute("k", lambda: 7) == 7


def test_cached_memoizes_by_arguments_keeps_none_and_can_be_cleared():
    calls = []

    @cached(4, name="tests.probe")
    def probe(url: str, *, timeout: float = 1.0) -> None:
        calls.append((url, timeout))

    probe("a")
    probe("a")
    probe("a", timeout=2.0)
    assert calls == [("a", 1.0), ("a", 2.0)]  # None is a result too (e.g. "the counter did not answer")
    assert cache.named()["tests.probe"] is probe.cache  # type: ignore[attr-defined]
    cache.clear_all()
    probe("a")
    assert len(calls) == 3
