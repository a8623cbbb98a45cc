"""The health page's tables: probes, deployments, and the configuration with versions."""

from __future__ import annotations

import pandas as pd

import gateway
from gateway.config import VARIABLES, Settings
from gateway.health.deployments import Deployment
from gateway.health.probes import HealthReport


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


_UNITS = {"MODELS_CACHE_TTL": " s", "CONNECT_TIMEOUT": " s", "REQUEST_TIMEOUT": " s", "MAX_REPLY_CHARS": " characters"}


def configuration(settings: Settings, report: HealthReport | None = None) -> list[tuple[str, str]]:
    """Every setting (from `config.VARIABLES`, keys masked) and the versions, as (name, value) rows."""
    shown = settings.public()
    rows = [(v.label, _value(v.name, shown[v.name])) for v in VARIABLES]
    return rows + [("App version", gateway.__version__),
                   ("Proxy version", (report.proxy_version if report else None) or "unknown")]


def _value(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "enabled" if value else "off"
    if isinstance(value, float):
        value = f"{value:g}"
    return f"{value}{_UNITS.get(name, '')}"
