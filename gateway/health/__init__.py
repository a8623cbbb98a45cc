"""Proxy health, one concern a module: `probes` (is it up, how fast), `deployments` (LiteLLM's per-deployment
check, on demand), `latency` (probe latencies over time), `advice` (what to do, with curl) and `tables` (what the
health page shows). The names pages use are re-exported here.
"""

from gateway.health.advice import Advice, curl_command, curl_commands, deployment_troubleshooting, troubleshooting
from gateway.health.deployments import Deployment, DeploymentHealth, deployment_health
from gateway.health.latency import HISTORY_SIZE, LatencySample, clear_history, history, history_frame, samples
from gateway.health.probes import CHECKS, DEADLINE, GLANCE_CHECKS, PROBE_TIMEOUT, HealthReport, ProbeResult, run_probes
from gateway.health.tables import configuration, deployments_frame, probes_frame

__all__ = [
    "CHECKS", "DEADLINE", "GLANCE_CHECKS", "HISTORY_SIZE", "PROBE_TIMEOUT",
    "Advice", "Deployment", "DeploymentHealth", "HealthReport", "LatencySample", "ProbeResult",
    "clear_history", "configuration", "curl_command", "curl_commands", "deployment_health",
    "deployment_troubleshooting", "deployments_frame", "history", "history_frame", "probes_frame", "run_probes",
    "samples", "troubleshooting",
]
