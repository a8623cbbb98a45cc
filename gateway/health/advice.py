"""What to do when a check fails: each failure in plain words, the fix, and the curl command that repeats it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from gateway.config import Settings
from gateway.errors import AuthenticationFailed, BadResponse, ProxyTimeout, ProxyUnreachable, mask_key, redact
from gateway.health.deployments import DeploymentHealth
from gateway.health.probes import CHECKS, PROBE_TIMEOUT, HealthReport, ProbeResult


@dataclass(frozen=True)
class Advice:
    """One failure in plain words, what to do about it, and the curl command that repeats the check."""

    problem: str
    fix: str
    curl: str = ""


def curl_command(settings: Settings, path: str, *, needs_key: bool = True) -> str:
    """The curl command for one check; the key stays in $LITELLM_API_KEY, never in the text."""
    auth = ' -H "Authorization: Bearer $LITELLM_API_KEY"' if needs_key else ""
    return redact(f"curl -sS --max-time 5{auth} {settings.litellm_base_url}{path}", settings.secrets)


def curl_commands(settings: Settings) -> str:
    """Every probe as a curl command, ready to paste into a shell."""
    lines = [f"# {check.name}\n{curl_command(settings, check.path, needs_key=check.needs_key)}" for check in CHECKS]
    lines.append(f"# Version\n{curl_command(settings, '/public/model_hub/info', needs_key=False)}")
    return "\n".join(lines)


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
                             f"Provider credentials are missing (or wrong) on the proxy: {where} in the environment "
                             f"where the proxy runs (its config reads it with `os.environ/...`), then restart the "
                             f"proxy.",
                             curl_command(settings, f"/health?model={(missing[0].model_name or missing[0].model)}")))
    unreachable = [d for d in result.unhealthy if "connection error" in d.error.lower() and d.api_base]
    if unreachable:
        bases = ", ".join(sorted({d.api_base for d in unreachable}))
        advice.append(Advice(f"The proxy cannot reach {bases}.",
                             "An upstream server the proxy forwards to is down or at a wrong address: check the "
                             "`api_base` of those deployments in the proxy's config.",
                             curl_command(settings,
                                          f"/health?model={unreachable[0].model_name or unreachable[0].model}")))
    return advice


def _host_port(url: str) -> tuple[str, int | str]:
    try:
        parts = urlsplit(url)
        return parts.hostname or url, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return url, "?"
