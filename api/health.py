"""`GET /api/health`: the health page's probes (status, version, latencies) for a monitor to poll.

200 when the proxy is healthy, 503 otherwise (degraded, unreachable, not configured). The probes are
`gateway.health.run_probes` (bounded by its DEADLINE) and their latencies join the health page's history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from api.http import Call, json_response
from gateway.health import HealthReport, ProbeResult, run_probes, samples
from gateway.store import get_store


def probe_json(probe: ProbeResult) -> dict[str, Any]:
    error = probe.error
    return {"name": probe.name, "path": probe.path, "ok": probe.ok, "httpStatus": probe.status,
            "latencyMs": probe.latency_ms, "detail": probe.detail, "needsKey": probe.needs_key,
            "kind": error.kind if error is not None else None, "hint": error.hint if error is not None else None}


def report_json(report: HealthReport) -> dict[str, Any]:
    return {
        "status": report.overall,
        "label": report.label,
        "healthy": report.overall == "healthy",
        "summary": report.summary,
        "version": report.proxy_version,
        "models": report.model_count,
        "deployments": report.deployment_count,
        "database": report.database,
        "checkedAt": datetime.fromtimestamp(report.checked_at, UTC).isoformat(timespec="seconds"),
        "elapsedMs": round(report.elapsed_ms, 1),
        "latenciesMs": {p.name: p.latency_ms for p in report.probes},
        "probes": [probe_json(p) for p in report.probes],
    }


def health(call: Call) -> Response:
    """GET /api/health"""
    report = run_probes(call.settings)
    if report.probes:
        get_store(call.settings).record_probes(samples(report))  # queued, like the health page's
    return json_response(report_json(report), 200 if report.overall == "healthy" else 503, settings=call.settings)
