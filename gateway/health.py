"""Proxy health: quick probes of a LiteLLM proxy, the on-demand per-deployment check, and what to do when it fails.

`run_probes()` asks four cheap endpoints at the same time and always returns within `DEADLINE` seconds, even
against a server that accepts connections and never answers. `deployment_health()` is LiteLLM's `/health`, which
makes a real call to every deployment: slow, and it costs money, so pages only call it when asked.
Probe latencies are kept in a small process-wide history, shared by every session.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

import httpx
import pandas as pd

import gateway
from gateway import catalogue
from gateway.config import Settings
from gateway.discovery import http_client, parse_model_info, parse_models_list, read_json
from gateway.errors import (AuthenticationFailed, BadResponse, ConfigurationError, GatewayError, ProxyTimeout,
                            ProxyUnreachable, error_text, from_status, map_error, mask_key, redact)

Overall = Literal["healthy", "degraded", "unreachable", "not_configured"]

PROBE_TIMEOUT = 2.5  # seconds a probe may wait for the proxy to connect or to answer
DEADLINE = 3.0  # seconds after which run_probes returns whatever has answered; well under the page's 5 s
HISTORY_SIZE = 600  # latency samples kept for the whole process (150 runs of 4 probes)
LABELS: dict[Overall, str] = {"healthy": "Healthy", "degraded": "Degraded", "unreachable": "Unreachable",
                              "not_configured": "Not configured"}


# --- Records ----------------------------------------------------------------------------------------------------------

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
            return (f"{version} at {self.base_url} answers every check: {self.model_count} models, "
                    f"{self.deployment_count} deployments, database {self.database or 'unknown'}.")
        first = self.failures[0]
        if self.overall == "unreachable":
            return f"No LiteLLM proxy answered at {self.base_url}: {first.detail}"
        names = ", ".join(p.name for p in self.failures)
        return f"The proxy at {self.base_url} answers, but {len(self.failures)} of {len(self.probes)} checks " \
               f"failed ({names}): {first.detail}"


@dataclass(frozen=True)
class Advice:
    """One failure in plain words, what to do about it, and the curl command that repeats the check."""

    problem: str
    fix: str
    curl: str = ""


@dataclass(frozen=True)
class Deployment:
    """One deployment as LiteLLM's `/health` saw it."""

    model_name: str  # the name clients ask for ("" when /model/info did not say)
    model: str  # provider/model as the proxy calls it
    healthy: bool
    api_base: str = ""
    error: str = ""  # first line of the proxy's error, without its stack trace
    status: int | None = None


@dataclass(frozen=True)
class DeploymentHealth:
    """The answer of one per-deployment check."""

    deployments: tuple[Deployment, ...] = ()
    elapsed_s: float = 0.0
    error: GatewayError | None = field(default=None, compare=False)

    @property
    def healthy(self) -> tuple[Deployment, ...]:
        return tuple(d for d in self.deployments if d.healthy)

    @property
    def unhealthy(self) -> tuple[Deployment, ...]:
        return tuple(d for d in self.deployments if not d.healthy)


@dataclass(frozen=True)
class LatencySample:
    """One probe's latency at one moment (`ok` False: `latency_ms` is the time until it failed)."""

    at: float  # epoch seconds
    base_url: str
    probe: str
    latency_ms: float | None
    ok: bool


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
    names = len(parse_model_info(payload))
    deployments = len([e for e in payload["data"] if isinstance(e, dict)])  # parse_model_info checked the shape
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
    settings = settings or gateway.load_settings()
    started, now = time.perf_counter(), time.time()
    if not settings.litellm_usable:
        return HealthReport("not_configured", settings.litellm_base_url, problem=_not_configured(settings),
                            checked_at=now)
    own = client is None
    client = client or http_client(settings, read_timeout=PROBE_TIMEOUT)
    if own:
        client.timeout = httpx.Timeout(PROBE_TIMEOUT, connect=min(settings.connect_timeout, PROBE_TIMEOUT))
    pool = ThreadPoolExecutor(max_workers=len(checks) + 1, thread_name_prefix="health-probe")
    futures = [pool.submit(_probe, client, check, settings) for check in checks]
    futures.append(pool.submit(_version, client, settings))
    _, pending = wait(futures, timeout=deadline)
    pool.shutdown(wait=False, cancel_futures=True)
    if own:
        _close_when_done(client, pending)

    results = [_outcome(future, check, deadline) for future, check in zip(futures, checks)]
    probes = tuple(result for result, _ in results)
    facts: dict[str, object] = {k: v for _, found in results for k, v in found.items()}
    if futures[-1].done():
        facts.update(futures[-1].result())  # _version never raises
    report = HealthReport(_overall(probes), settings.litellm_base_url, probes, checked_at=now,
                          elapsed_ms=(time.perf_counter() - started) * 1000, **facts)  # type: ignore[arg-type]
    _record(report)
    if report.overall == "unreachable":
        catalogue.remember_failure(settings, report.failures[0].error or ProxyUnreachable(report.summary))
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
        error = _safe(map_error(exc, secrets=settings.secrets), settings)
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


def _close_when_done(client: httpx.Client, pending: set[Future]) -> None:
    """Close the client now, or once the probes still waiting on a silent server have timed out."""
    if not pending:
        client.close()
        return
    threading.Thread(target=lambda: (wait(pending), client.close()), daemon=True, name="health-close").start()


def _not_configured(settings: Settings) -> str:
    if not settings.litellm_enabled:
        return "LiteLLM is switched off (LITELLM_ENABLED is not true): only the built-in direct models are used."
    problem = next(p for p in settings.problems if p.variable == "LITELLM_BASE_URL")
    return f"LiteLLM is on but its URL cannot be used: {problem}."


def _safe(error: GatewayError, settings: Settings) -> GatewayError:
    """The error with every key redacted from its message (proxies sometimes echo what they were sent)."""
    error.message = redact(error.message, settings.secrets)
    error.args = (error.message,)
    return error


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


# --- Per-deployment health (on demand: real calls, costs money) -------------------------------------------------------

def deployment_health(settings: Settings | None = None, *, client: httpx.Client | None = None) -> DeploymentHealth:
    """Ask LiteLLM's `/health` to call every deployment. Slow (up to REQUEST_TIMEOUT) and it costs money."""
    settings = settings or gateway.load_settings()
    started = time.perf_counter()
    if not settings.litellm_usable:
        return DeploymentHealth(error=ConfigurationError(_not_configured(settings)))
    own = client is None
    client = client or http_client(settings, read_timeout=settings.request_timeout)
    try:
        names = _deployment_names(client)
        response = client.get("/health")
        if not response.is_success:
            raise from_status(response.status_code, error_text(response))
        deployments = _parse_deployments(read_json(response), names, settings)
    except Exception as exc:
        return DeploymentHealth(elapsed_s=time.perf_counter() - started,
                                error=_safe(map_error(exc, secrets=settings.secrets), settings))
    finally:
        if own:
            client.close()
    return DeploymentHealth(deployments, time.perf_counter() - started)


def _deployment_names(client: httpx.Client) -> dict[str, str]:
    """model_id → the name clients use, from /model/info (best effort: /health only gives provider names)."""
    try:
        data = client.get("/model/info").json()["data"]
        return {e["model_info"]["id"]: e["model_name"] for e in data if isinstance(e, dict) and "model_info" in e}
    except Exception:
        return {}


def _parse_deployments(payload: object, names: dict[str, str], settings: Settings) -> tuple[Deployment, ...]:
    if not isinstance(payload, dict) or not isinstance(payload.get("healthy_endpoints"), list):
        raise BadResponse("/health has no 'healthy_endpoints': this does not look like a LiteLLM proxy.")
    found = []
    for healthy, key in ((True, "healthy_endpoints"), (False, "unhealthy_endpoints")):
        for entry in payload.get(key) or ():
            if not isinstance(entry, dict):
                continue
            status = entry.get("exception_status")
            found.append(Deployment(
                model_name=names.get(str(entry.get("model_id")), ""), model=str(entry.get("model") or "unknown"),
                healthy=healthy, api_base=str(entry.get("api_base") or ""),
                error=_first_line(redact(str(entry.get("error") or ""), settings.secrets)),
                status=status if isinstance(status, int) else None))
    return tuple(found)


def _first_line(error: str) -> str:
    """The proxy's error without the stack trace LiteLLM appends to it."""
    text = error.split("stack trace:", 1)[0].strip()
    return text.splitlines()[0][:400] if text else ""


# --- Latency history (process-wide, shared by sessions) ---------------------------------------------------------------

_history: deque[LatencySample] = deque(maxlen=HISTORY_SIZE)
_history_lock = threading.Lock()


def _record(report: HealthReport) -> None:
    samples = [LatencySample(report.checked_at, report.base_url, p.name, p.latency_ms, p.ok) for p in report.probes]
    with _history_lock:
        _history.extend(samples)


def history(base_url: str | None = None) -> list[LatencySample]:
    """The recorded probe latencies, oldest first (of one proxy, when given)."""
    with _history_lock:
        return [s for s in _history if base_url is None or s.base_url == base_url]


def clear_history() -> None:
    with _history_lock:
        _history.clear()


def history_frame(base_url: str) -> pd.DataFrame:
    """The latency history of one proxy as rows for a chart: Time, Probe, Latency (ms), Result."""
    rows = [{"Time": pd.Timestamp(s.at, unit="s", tz="UTC"), "Probe": s.probe, "Latency (ms)": s.latency_ms,
             "Result": "ok" if s.ok else "failed"} for s in history(base_url)]
    return pd.DataFrame(rows, columns=("Time", "Probe", "Latency (ms)", "Result"))


# --- What the page shows ----------------------------------------------------------------------------------------------

def probes_frame(report: HealthReport) -> pd.DataFrame:
    """One row per probe: Check, Endpoint, Result, HTTP, Latency (ms), Detail."""
    rows = [{"Check": p.name, "Endpoint": p.path, "Result": "OK" if p.ok else "Failed",
             "HTTP": p.status, "Latency (ms)": p.latency_ms, "Detail": p.detail} for p in report.probes]
    frame = pd.DataFrame(rows, columns=("Check", "Endpoint", "Result", "HTTP", "Latency (ms)", "Detail"))
    return frame.astype({"HTTP": "Int64", "Latency (ms)": "Float64"})


def deployments_frame(deployments: tuple[Deployment, ...]) -> pd.DataFrame:
    """One row per deployment: Model, Deployment, API base, HTTP, Error."""
    rows = [{"Model": d.model_name or "—", "Deployment": d.model, "API base": d.api_base or "—", "HTTP": d.status,
             "Error": d.error} for d in deployments]
    frame = pd.DataFrame(rows, columns=("Model", "Deployment", "API base", "HTTP", "Error"))
    return frame.astype({"HTTP": "Int64"})


def configuration(settings: Settings, report: HealthReport | None = None) -> list[tuple[str, str]]:
    """The settings and versions as (name, value) rows; keys masked."""
    shown = settings.public()
    return [
        ("LiteLLM", "enabled" if settings.litellm_enabled else "off"),
        ("Base URL", settings.litellm_base_url),
        ("LiteLLM key", str(shown["LITELLM_API_KEY"])),
        ("OpenAI key (direct)", str(shown["OPENAI_API_KEY"])),
        ("Anthropic key (direct)", str(shown["ANTHROPIC_API_KEY"])),
        ("Model cache TTL", f"{settings.models_cache_ttl} s"),
        ("Connect / request timeout", f"{settings.connect_timeout:g} s / {settings.request_timeout:g} s"),
        ("App version", gateway.__version__),
        ("Proxy version", (report.proxy_version if report else None) or "unknown"),
    ]


def curl_command(settings: Settings, path: str, *, needs_key: bool = True) -> str:
    """The curl command for one check; the key stays in $LITELLM_API_KEY, never in the text."""
    auth = ' -H "Authorization: Bearer $LITELLM_API_KEY"' if needs_key else ""
    return redact(f"curl -sS --max-time 5{auth} {settings.litellm_base_url}{path}", settings.secrets)


def curl_commands(settings: Settings) -> str:
    """Every probe as a curl command, ready to paste into a shell."""
    lines = [f"# {check.name}\n{curl_command(settings, check.path, needs_key=check.needs_key)}" for check in CHECKS]
    lines.append(f"# Version\n{curl_command(settings, '/public/model_hub/info', needs_key=False)}")
    return "\n".join(lines)


# --- Troubleshooting --------------------------------------------------------------------------------------------------

def troubleshooting(report: HealthReport, settings: Settings) -> list[Advice]:
    """For each distinct failure: the problem, the fix in plain words, and a curl command to check again."""
    if report.overall == "not_configured":
        return [Advice("LiteLLM is not configured.", _configuration_fix(settings))]
    advice: list[Advice] = []
    seen: set[str] = set()
    answering = any(p.ok for p in report.probes)
    for probe in report.failures:
        problem, fix = _diagnose(probe, settings, answering)
        if fix in seen:
            continue
        seen.add(fix)
        advice.append(Advice(problem, fix, curl_command(settings, probe.path, needs_key=probe.needs_key)))
    return advice


def _diagnose(probe: ProbeResult, settings: Settings, answering: bool) -> tuple[str, str]:
    error, url = probe.error, settings.litellm_base_url
    host, port = _host_port(url)
    problem = f"{probe.name} ({probe.path}) failed: {probe.detail}"
    if isinstance(error, ProxyUnreachable) and "unknown host" in error.message:
        return problem, (f"The host name `{host}` does not resolve. Check its spelling in LITELLM_BASE_URL, or use "
                         f"an IP address such as 127.0.0.1.")
    if isinstance(error, ProxyUnreachable):
        fix = (f"Nothing is listening on {host}:{port}. Start the proxy there (`litellm --config config.yaml "
               f"--port {port}`), or put the port it really uses in LITELLM_BASE_URL.")
        if host == "localhost":
            fix += (f" `localhost` may resolve to the IPv6 address ::1 while the proxy listens on 127.0.0.1 only: "
                    f"try http://127.0.0.1:{port}.")
        return problem, fix + " From inside a container, localhost is the container itself: use the host's name."
    if isinstance(error, ProxyTimeout) and answering:
        return problem, (f"The proxy answers other checks, but not this one within {PROBE_TIMEOUT:g} s. It may be "
                         f"busy, or slow on its first request after starting; if it stays slow, check its logs.")
    if isinstance(error, ProxyTimeout):
        return problem, (f"Something at {host}:{port} accepts connections but does not answer within "
                         f"{PROBE_TIMEOUT:g} s. The proxy may be stuck or still starting, or another program holds "
                         f"that port (`lsof -i :{port}`): check the proxy's logs and restart it, or fix the port in "
                         f"LITELLM_BASE_URL.")
    if isinstance(error, BadResponse):
        return problem, (f"A server answers at {url}, but it does not look like a LiteLLM proxy. LITELLM_BASE_URL "
                         f"probably points at another web server or the wrong port; it should be the proxy's root "
                         f"URL, e.g. http://127.0.0.1:4000.")
    if probe.needs_key and not settings.litellm_api_key and probe.status in (400, 401, 403, 500):
        return problem, ("No key is set, and this endpoint needs one. Set LITELLM_API_KEY to the proxy's master key "
                         "(LITELLM_MASTER_KEY where the proxy runs) or a virtual key.")
    if isinstance(error, AuthenticationFailed) and "no connected db" in error.message.lower():
        return problem, (f"'No connected db.' means the key {mask_key(settings.litellm_api_key)} is wrong: a proxy "
                         f"without a database knows only its master key. Set LITELLM_API_KEY to the master key "
                         f"(LITELLM_MASTER_KEY where the proxy runs) or a virtual key.")
    if isinstance(error, AuthenticationFailed):
        return problem, (f"The proxy refused the key {mask_key(settings.litellm_api_key)}. Check LITELLM_API_KEY: "
                         "the key may be wrong, expired, blocked, or not allowed to list models.")
    return problem, (error.hint if error and error.hint else "Check the proxy's logs.")


def _configuration_fix(settings: Settings) -> str:
    if not settings.litellm_enabled:
        return ("Set LITELLM_ENABLED=true and LITELLM_BASE_URL (e.g. http://127.0.0.1:4000) in the environment, "
                ".env or .streamlit/secrets.toml, then reload.")
    return (f"LITELLM_BASE_URL is {settings.litellm_base_url!r}, which is not a URL. Use the proxy's root URL, "
            f"e.g. http://127.0.0.1:4000, then reload.")


def deployment_troubleshooting(result: DeploymentHealth, settings: Settings) -> list[Advice]:
    """For unhealthy deployments: missing provider credentials and unreachable upstreams, in plain words."""
    curl = curl_command(settings, "/health")
    advice: list[Advice] = []
    if result.error is not None:
        return [Advice(f"The per-model check failed: {result.error}", result.error.hint or "Check the proxy's logs.",
                       curl)]
    missing = [d for d in result.unhealthy if re.search(r"(?i)missing .*(key|credential)|api[_ ]key", d.error)]
    if missing:
        variables = sorted({v for d in missing for v in re.findall(r"\b[A-Z][A-Z0-9_]*_(?:API_KEY|AUTH_TOKEN)\b",
                                                                   d.error)})
        names = ", ".join(sorted({d.model_name or d.model for d in missing}))
        where = f"set {' or '.join(f'`{v}`' for v in variables)}" if variables else "set the provider's key"
        advice.append(Advice(f"The proxy has no working provider credentials for {names}.",
                             f"Provider credentials are missing (or wrong) on the proxy: {where} in the environment where the "
                             f"proxy runs (its config reads it with `os.environ/...`), then restart the proxy.",
                             curl_command(settings, f"/health?model={(missing[0].model_name or missing[0].model)}")))
    unreachable = [d for d in result.unhealthy if "connection error" in d.error.lower() and d.api_base]
    if unreachable:
        bases = ", ".join(sorted({d.api_base for d in unreachable}))
        advice.append(Advice(f"The proxy cannot reach {bases}.",
                             "An upstream server the proxy forwards to is down or at a wrong address: check the "
                             "`api_base` of those deployments in the proxy's config.",
                             curl_command(settings, f"/health?model={unreachable[0].model_name or unreachable[0].model}")))
    return advice


def _host_port(url: str) -> tuple[str, int | str]:
    try:
        parts = urlsplit(url)
        return parts.hostname or url, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return url, "?"
