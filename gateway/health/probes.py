"""Quick probes of a LiteLLM proxy: four cheap endpoints at once, and what they add up to.

`run_probes()` always returns within `DEADLINE` seconds, even against a server that accepts connections and never
answers, and never raises. It adds each run's latencies to the latency history (`gateway.health.latency`); it does
not touch the model catalogue: a page that wants discovery to skip a proxy the probes found down passes
`report.down` to `page_setup`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from gateway.config import Settings, load_settings
from gateway.discovery import http_client, parse_model_info, parse_models_list, read_json
from gateway.errors import BadResponse, GatewayError, ProxyTimeout, ProxyUnreachable, error_text, from_status, map_error
from gateway.health import latency

Overall = Literal["healthy", "degraded", "unreachable", "not_configured"]

PROBE_TIMEOUT = 2.5  # seconds a probe may wait for the proxy to connect or to answer
DEADLINE = 3.0  # seconds after which run_probes returns whatever has answered; well under the page's 5 s
LABELS: dict[Overall, str] = {"healthy": "Healthy", "degraded": "Degraded", "unreachable": "Unreachable",
                              "not_configured": "Not configured"}

@dataclass(frozen=True)
class ProbeResult:
    """One check of the proxy: what was asked, whether it worked, how long it took, and why it failed."""

    name: str
    path: str
    ok: bool
    status: int | None = None  # the HTTP status, when there was an answer
    latency_ms: float | None = None  # until the answer, or until the failure
    detail: str = ""  # what the answer said, or why it failed (safe to show)
    error: GatewayError | None = field(default=None, compare=False)
    needs_key: bool = False


@dataclass(frozen=True)
class HealthReport:
    """Every probe of one run, and what they add up to."""

    overall: Overall
    base_url: str
    probes: tuple[ProbeResult, ...] = ()
    proxy_version: str | None = None
    model_count: int | None = None  # from /v1/models
    deployment_count: int | None = None  # from /model/info
    database: str | None = None  # from /health/readiness
    checked_at: float = 0.0  # epoch seconds
    elapsed_ms: float = 0.0
    problem: str = ""  # why the proxy is not configured

    @property
    def label(self) -> str:
        """`Healthy`, `Degraded`, `Unreachable` or `Not configured`."""
        return LABELS[self.overall]

    @property
    def failures(self) -> tuple[ProbeResult, ...]:
        return tuple(p for p in self.probes if not p.ok)

    @property
    def summary(self) -> str:
        """One sentence saying what the probes found."""
        if self.overall == "not_configured":
            return self.problem
        if self.overall == "healthy":
            version = f"LiteLLM {self.proxy_version}" if self.proxy_version else "LiteLLM (version unknown)"
            deployments = f"{self.deployment_count} deployments, " if self.deployment_count is not None else ""
            return (f"{version} at {self.base_url} answers every check: {self.model_count} models, "
                    f"{deployments}database {self.database or 'unknown'}.")
        first = self.failures[0]
        if self.overall == "unreachable":
            return f"No LiteLLM proxy answered at {self.base_url}: {first.detail}"
        names = ", ".join(p.name for p in self.failures)
        return f"The proxy at {self.base_url} answers, but {len(self.failures)} of {len(self.probes)} checks " \
               f"failed ({names}): {first.detail}"


    @property
    def down(self) -> GatewayError | None:
        """Why no probe got through, when none did: discovery need not wait on this proxy again."""
        if self.overall != "unreachable":
            return None
        return self.failures[0].error or ProxyUnreachable(self.summary)


# --- The probes -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Check:
    name: str
    path: str
    needs_key: bool
    read: Callable[[httpx.Response], tuple[str, dict[str, object]]]  # detail, facts for the report


def _read_liveliness(response: httpx.Response) -> tuple[str, dict[str, object]]:
    body = read_json(response)
    if not isinstance(body, str) or "alive" not in body.lower():
        raise BadResponse(f"/health/liveliness answered {str(body)[:60]!r}: this does not look like a LiteLLM proxy.")
    return "alive", {}


def _read_readiness(response: httpx.Response) -> tuple[str, dict[str, object]]:
    body = read_json(response)
    if not isinstance(body, dict) or "status" not in body:
        raise BadResponse("/health/readiness has no 'status': this does not look like a LiteLLM proxy.")
    database = str(body.get("db") or "unknown")
    if body["status"] != "healthy":
        raise GatewayError(f"The proxy says it is not ready (status {body['status']!r}, database {database!r}).",
                           hint="A database or cache the proxy depends on is down: check the proxy's logs.")
    return f"ready; database: {database}", {"database": database}


def _read_models(response: httpx.Response) -> tuple[str, dict[str, object]]:
    count = len(parse_models_list(read_json(response)))
    return f"{count} models", {"model_count": count}


def _read_model_info(response: httpx.Response) -> tuple[str, dict[str, object]]:
    payload = read_json(response)
    names = len(parse_model_info(payload))  # raises unless the payload has a "data" list
    deployments = sum(isinstance(e, dict) for e in payload["data"]) if isinstance(payload, dict) else 0
    return f"{deployments} deployments of {names} models", {"deployment_count": deployments}


def _read_version(response: httpx.Response) -> tuple[str, dict[str, object]]:
    body = read_json(response)
    version = body.get("litellm_version") if isinstance(body, dict) else None
    if not isinstance(version, str) or not version:
        raise BadResponse(f"{response.request.url.path} did not say which LiteLLM version it is.")
    return version, {"proxy_version": version}


CHECKS = (
    _Check("Liveliness", "/health/liveliness", False, _read_liveliness),
    _Check("Readiness", "/health/readiness", False, _read_readiness),
    _Check("Models", "/v1/models", True, _read_models),
    _Check("Model info", "/model/info", True, _read_model_info),
)
GLANCE_CHECKS = CHECKS[:3]  # for the home page: /model/info is ~8 KB per deployment, too heavy for every rerun
VERSION_CHECKS = (  # every place a release says it, public first (1.53.1 and 1.55.10: only /health/readiness)
    _Check("Version", "/public/model_hub/info", False, _read_version),
    _Check("Version", "/health/readiness", False, _read_version),
    _Check("Version", "/health/readiness/details", True, _read_version),
)


def run_probes(settings: Settings | None = None, *, client: httpx.Client | None = None,
               deadline: float = DEADLINE, checks: tuple[_Check, ...] = CHECKS) -> HealthReport:
    """Probe the proxy, all checks at once; returns within `deadline` seconds and never raises."""
    settings = settings or load_settings()
    started, now = time.perf_counter(), time.time()
    if not settings.litellm_usable:
        return HealthReport("not_configured", settings.litellm_base_url, problem=not_configured(settings),
                            checked_at=now)
    client = client or http_client(settings, read_timeout=PROBE_TIMEOUT,  # shared: never closed here
                                   connect_timeout=min(settings.connect_timeout, PROBE_TIMEOUT))
    pool = ThreadPoolExecutor(max_workers=len(checks) + 1, thread_name_prefix="health-probe")
    futures = [pool.submit(_probe, client, check, settings) for check in checks]
    version = pool.submit(_version, client, settings)
    every: list[Future] = [*futures, version]
    _, pending = wait(every, timeout=deadline)
    pool.shutdown(wait=False, cancel_futures=True)

    results = [_outcome(future, check, deadline) for future, check in zip(futures, checks)]
    probes = tuple(result for result, _ in results)
    facts: dict[str, Any] = {k: v for _, found in results for k, v in found.items()}
    if version.done() and not version.cancelled():
        facts.update(version.result())  # _version never raises
    report = HealthReport(_overall(probes), settings.litellm_base_url, probes, checked_at=now,
                          elapsed_ms=(time.perf_counter() - started) * 1000, **facts)
    latency.record(report)
    return report


def _probe(client: httpx.Client, check: _Check, settings: Settings) -> tuple[ProbeResult, dict[str, object]]:
    """Run one check; failures become a ProbeResult with the mapped error, never an exception."""
    started = time.perf_counter()
    status = None
    try:
        response = client.get(check.path)
        status = response.status_code
        if not response.is_success:
            raise from_status(status, error_text(response))
        detail, facts = check.read(response)
    except Exception as exc:
        error = map_error(exc, secrets=settings.secrets)
        return ProbeResult(check.name, check.path, False, status, _ms(started), error.message, error,
                           check.needs_key), {}
    return ProbeResult(check.name, check.path, True, status, _ms(started), detail, None, check.needs_key), facts


def _version(client: httpx.Client, settings: Settings) -> dict[str, object]:
    for check in VERSION_CHECKS:
        if check.needs_key and not settings.litellm_api_key:
            continue
        result, facts = _probe(client, check, settings)
        if result.ok:
            return facts
        if isinstance(result.error, (ProxyUnreachable, ProxyTimeout)):
            break
    return {}


def _outcome(future: Future, check: _Check, deadline: float) -> tuple[ProbeResult, dict[str, object]]:
    if future.done() and not future.cancelled():
        return future.result()  # _probe never raises
    error = ProxyTimeout(f"No answer within {deadline:g} s: the server accepted the request but did not answer.")
    return ProbeResult(check.name, check.path, False, None, deadline * 1000, error.message, error, check.needs_key), {}


def _overall(probes: tuple[ProbeResult, ...]) -> Overall:
    if all(p.ok for p in probes):
        return "healthy"
    if not any(p.ok for p in probes):
        return "unreachable"
    return "degraded"


def not_configured(settings: Settings) -> str:
    """Why LiteLLM cannot be probed: switched off, or its URL is not a URL."""
    if not settings.litellm_enabled:
        return "LiteLLM is switched off (LITELLM_ENABLED is not true): only the built-in direct models are used."
    problem = next(p for p in settings.problems if p.variable == "LITELLM_BASE_URL")
    return f"LiteLLM is on but its URL cannot be used: {problem}."


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)

