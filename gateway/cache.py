"""Caches: a small map that forgets, for the whole process, safe across threads and sessions; no Streamlit.

`Cache(size, ttl)` keeps at most `size` entries (the least recently used go first) and each for at most `ttl`
seconds (None: until pushed out). `get_or_compute()` computes a missing value once, however many threads ask for it
at the same moment (the others wait for it); an exception is not cached. `@cached(size, ttl)` memoizes a function of
hashable arguments the same way, with `.clear()`. A cache given a `name` is listed in `named()` and emptied by
`clear_all()` (tests and benchmarks start cold with it). `on_evict` is called, outside the lock, with each value
that is pushed out, replaced, expired or cleared (e.g. to close a client).

Values are kept as they are, not copied: cache records that nobody changes (frozen dataclasses, tuples, numbers).
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, ParamSpec, TypeVar, overload

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
P = ParamSpec("P")
R = TypeVar("R")
_MISSING = object()
_named: weakref.WeakValueDictionary[str, Cache] = weakref.WeakValueDictionary()
_named_lock = threading.Lock()


class Cache(Generic[K, V]):
    """At most `size` entries, each kept at most `ttl` seconds (None: no time limit); thread-safe."""

    def __init__(self, size: int, ttl: float | None = None, *, name: str | None = None,
                 on_evict: Callable[[V], object] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if size < 1:
            raise ValueError("a cache holds at least one entry")
        self.size, self.ttl, self.name = size, ttl, name
        self._on_evict, self._clock = on_evict, clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()  # key → (expires at, value), oldest first
        self._lock = threading.Lock()
        self._computing: dict[K, threading.Lock] = {}
        if name is not None:
            with _named_lock:
                _named[name] = self

    @overload
    def get(self, key: K) -> V | None: ...

    @overload
    def get(self, key: K, default: V) -> V: ...

    def get(self, key: K, default: V | None = None) -> V | None:
        """The value kept for `key`, or `default` when there is none (or it expired)."""
        found = self._get(key)
        return default if found is _MISSING else found  # type: ignore[return-value]

    def put(self, key: K, value: V, *, ttl: float | None = None) -> V:
        """Keep `value` for `key` (for `ttl` seconds when given, else the cache's); returns it."""
        ttl = self.ttl if ttl is None else ttl
        expires = float("inf") if ttl is None else self._clock() + ttl
        gone: list[V] = []
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None and old[1] is not value:
                gone.append(old[1])
            self._entries[key] = (expires, value)
            while len(self._entries) > self.size:
                gone.append(self._entries.popitem(last=False)[1][1])
        self._evicted(gone)
        return value

    def get_or_compute(self, key: K, compute: Callable[[], V], *, ttl: float | None = None) -> V:
        """The value kept for `key`, else `compute()` kept and returned. Threads asking for the same missing key at
        once wait for one computation; an exception reaches every caller that waited and nothing is kept."""
        found = self._get(key)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            found = self._get(key)  # computed by the thread this one waited for
            if found is not _MISSING:
                return found  # type: ignore[return-value]
            try:
                return self.put(key, compute(), ttl=ttl)
            finally:
                with self._lock:
                    if self._computing.get(key) is computing:
                        del self._computing[key]

    def pop(self, key: K) -> V | None:
        """Forget `key`; its value (not passed to `on_evict`: the caller has it), or None."""
        with self._lock:
            entry = self._entries.pop(key, None)
        return None if entry is None else entry[1]

    def clear(self) -> None:
        with self._lock:
            gone = [value for _, value in self._entries.values()]
            self._entries.clear()
        self._evicted(gone)

    def items(self) -> Iterator[tuple[K, V]]:
        """A snapshot of the live entries, least recently used first."""
        now = self._clock()
        with self._lock:
            entries = [(key, value) for key, (expires, value) in self._entries.items() if expires > now]
        return iter(entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return self._get(key) is not _MISSING  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Cache({self.name or 'unnamed'}, {len(self)}/{self.size}, ttl={self.ttl})"

    def _get(self, key: K) -> object:
        expired = None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return _MISSING
            if entry[0] <= self._clock():
                expired = self._entries.pop(key)[1]
            else:
                self._entries.move_to_end(key)
                return entry[1]
        self._evicted([expired])
        return _MISSING

    def _evicted(self, values: list[V]) -> None:
        if self._on_evict is not None:
            for value in values:
                self._on_evict(value)


def cached(size: int, ttl: float | None = None, *, name: str | None = None
           ) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Memoize a function of hashable arguments in a `Cache(size, ttl)` (named after the function unless `name`).
    The wrapper has `.cache` and `.clear()`. Exceptions are not cached; returned values are (None included)."""
    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        cache: Cache[Hashable, R] = Cache(size, ttl, name=name or f"{function.__module__}.{function.__qualname__}")

        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            key = (args, tuple(sorted(kwargs.items()))) if kwargs else args
            return cache.get_or_compute(key, lambda: function(*args, **kwargs))

        wrapper.cache = cache  # type: ignore[attr-defined]
        wrapper.clear = cache.clear  # type: ignore[attr-defined]
        return wrapper

    return decorate


def named() -> dict[str, Cache]:
    """Every named cache alive in this process, by name."""
    with _named_lock:
        return dict(_named)


def clear_all() -> None:
    """Empty every named cache (for tests and benchmarks: a cold start)."""
    for cache in named().values():
        cache.clear()
