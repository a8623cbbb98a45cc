"""The per-deployment check: LiteLLM's `/health` makes a real call to every deployment (slow, and it costs money),
so pages only run it when asked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx

from gateway.config import Settings, load_settings
from gateway.discovery import http_client, read_json
from gateway.errors import BadResponse, ConfigurationError, GatewayError, error_text, from_status, map_error, redact
from gateway.health.probes import not_configured


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


def deployment_health(settings: Settings | None = None, *, client: httpx.Client | None = None) -> DeploymentHealth:
    """Ask LiteLLM's `/health` to call every deployment. Slow (up to REQUEST_TIMEOUT) and it costs money."""
    settings = settings or load_settings()
    started = time.perf_counter()
    if not settings.litellm_usable:
        return DeploymentHealth(error=ConfigurationError(not_configured(settings)))
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
                                error=map_error(exc, secrets=settings.secrets))
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

