"""The model catalogue: built-in models plus what the proxy serves, cached, and still there when the proxy is not.

Discovery results are cached (gateway/cache.py) for MODELS_CACHE_TTL seconds (compact records, not raw JSON); many
sessions asking at once for a list that is not cached wait for one discovery.
The last good list is also kept for the whole process, so a failed refresh, in any session, shows it with its age.
A failure is remembered for a short while so that reruns do not hammer (or wait on) a proxy that is down;
`refresh()` always tries again.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from gateway.cache import Cache
from gateway.config import Settings, load_settings
from gateway.discovery import discover
from gateway.errors import ConfigurationError, GatewayError, map_error
from gateway.models import ModelRecord, builtin_models

Status = Literal["live", "stale", "unavailable", "disabled", "misconfigured"]
FAILURE_BACKOFF = 15.0  # seconds during which a failed discovery is not retried on its own


@dataclass(frozen=True)
class Catalogue:
    """The models on offer right now, and how fresh the LiteLLM part of that list is."""

    models: tuple[ModelRecord, ...]
    status: Status
    fetched_at: float | None = None  # when the LiteLLM list was fetched from the proxy (epoch seconds)
    endpoint: str | None = None
    error: GatewayError | None = field(default=None, compare=False)

    @property
    def litellm_models(self) -> tuple[ModelRecord, ...]:
        return tuple(m for m in self.models if m.route == "litellm")

    @property
    def age(self) -> float | None:
        """Seconds since the LiteLLM list was fetched."""
        return None if self.fetched_at is None else max(0.0, time.time() - self.fetched_at)


@dataclass
class _LastGood:
    models: tuple[ModelRecord, ...]
    fetched_at: float
    endpoint: str


_lock = threading.Lock()
_last_good: dict[str, _LastGood] = {}
_last_failure: dict[str, tuple[float, GatewayError]] = {}
# (proxy, key, connect timeout, TTL) → (models, fetched at, endpoint): discovery results while fresh
_discovered: Cache[tuple, tuple[tuple[ModelRecord, ...], float, str]] = Cache(16, name="gateway.catalogue.discovered")


def is_configured(settings: Settings | None = None) -> bool:
    """LiteLLM is switched on with a usable base URL."""
    return (settings or load_settings()).litellm_usable


def get_config(settings: Settings | None = None) -> dict[str, object]:
    """The settings as they may be shown (keys masked)."""
    return (settings or load_settings()).public()


def clear_cache() -> None:
    """Forget cached discovery results (the last good list stays)."""
    _discovered.clear()
    with _lock:
        _last_failure.clear()


def reset() -> None:
    """Forget everything, the last good lists included (for tests and benchmarks)."""
    clear_cache()
    with _lock:
        _last_good.clear()


def refresh(settings: Settings | None = None) -> Catalogue:
    """Clear the cache and fetch again now."""
    clear_cache()
    return fetch_models(settings)


def fetch_models(settings: Settings | None = None, *, proxy_down: GatewayError | None = None) -> Catalogue:
    """The catalogue: from the cache when fresh, else from the proxy, else the last good list, else built-ins.

    `proxy_down`: another check (the health probes) has just found the proxy down. Discovery then backs off as if it
    had failed itself, instead of waiting on the proxy again.
    """
    settings = settings or load_settings()
    builtins = builtin_models(openai_key=bool(settings.openai_api_key), anthropic_key=bool(settings.anthropic_api_key))
    if not settings.litellm_enabled:
        return Catalogue(builtins, "disabled")
    if not settings.litellm_usable:
        problem = next(p for p in settings.problems if p.variable == "LITELLM_BASE_URL")
        return Catalogue(builtins, "misconfigured", error=ConfigurationError(str(problem)))

    slot = _slot(settings)
    if proxy_down is not None:
        with _lock:
            _last_failure[slot] = (time.monotonic(), proxy_down)
    try:
        models, fetched_at, endpoint = _fetch(settings, slot)
    except GatewayError as error:
        with _lock:
            last = _last_good.get(slot)
        if last is None:
            return Catalogue(builtins, "unavailable", error=error)
        return Catalogue(last.models + builtins, "stale", last.fetched_at, last.endpoint, error)
    return Catalogue(models + builtins, "live", fetched_at, endpoint)


def _fetch(settings: Settings, slot: str) -> tuple[tuple[ModelRecord, ...], float, str]:
    with _lock:
        failure = _last_failure.get(slot)
    if failure and time.monotonic() - failure[0] < FAILURE_BACKOFF:
        raise failure[1]
    try:
        result = _discovered.get_or_compute(
            (settings.litellm_base_url, settings.litellm_api_key, settings.connect_timeout, settings.models_cache_ttl),
            lambda: _discover(settings), ttl=settings.models_cache_ttl)
    except Exception as exc:
        error = map_error(exc, secrets=settings.secrets)
        with _lock:
            _last_failure[slot] = (time.monotonic(), error)
        raise error from None
    with _lock:
        _last_failure.pop(slot, None)
        known = _last_good.get(slot)
        if known is None or known.fetched_at < result[1]:
            _last_good[slot] = _LastGood(*result)
    return result


def _discover(settings: Settings) -> tuple[tuple[ModelRecord, ...], float, str]:
    found = discover(settings)
    return found.models, time.time(), found.endpoint


def _slot(settings: Settings) -> str:
    """Where the last good list of one proxy-and-key lives (the key is hashed, never stored)."""
    key_hash = hashlib.sha256((settings.litellm_api_key or "").encode()).hexdigest()[:16]
    return f"{settings.litellm_base_url}|{key_hash}"
