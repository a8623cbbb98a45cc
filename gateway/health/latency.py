"""The latency history of the probes: a small process-wide record shared by every session."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from gateway.health.probes import HealthReport

HISTORY_SIZE = 600  # latency samples kept for the whole process (150 runs of 4 probes)


@dataclass(frozen=True)
class LatencySample:
    """One probe's latency at one moment (`ok` False: `latency_ms` is the time until it failed)."""

    at: float  # epoch seconds
    base_url: str
    probe: str
    latency_ms: float | None
    ok: bool


_history: deque[LatencySample] = deque(maxlen=HISTORY_SIZE)
_history_lock = threading.Lock()


def record(report: HealthReport) -> None:
    """Add one probe run's latencies."""
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

