"""The latency history of the probes: a small process-wide record shared by every session."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
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


def samples(report: HealthReport) -> list[LatencySample]:
    """One probe run's latencies."""
    return [LatencySample(report.checked_at, report.base_url, p.name, p.latency_ms, p.ok) for p in report.probes]


def record(report: HealthReport) -> None:
    """Add one probe run's latencies to this process's history."""
    with _history_lock:
        _history.extend(samples(report))


def history(base_url: str | None = None) -> list[LatencySample]:
    """The recorded probe latencies, oldest first (of one proxy, when given)."""
    with _history_lock:
        return [s for s in _history if base_url is None or s.base_url == base_url]


def clear_history() -> None:
    with _history_lock:
        _history.clear()


def history_frame(base_url: str, saved: Iterable[LatencySample] = ()) -> pd.DataFrame:
    """The latency history of one proxy as rows for a chart: Time, Probe, Latency (ms), Result.

    `saved`: samples from the database (every process's, surviving restarts), merged with this process's own
    (which may not be written yet); each sample once, oldest first.
    """
    merged = {(s.at, s.probe): s for s in (*saved, *history(base_url)) if s.base_url == base_url}
    rows = [{"Time": pd.Timestamp(s.at, unit="s", tz="UTC"), "Probe": s.probe, "Latency (ms)": s.latency_ms,
             "Result": "ok" if s.ok else "failed"} for _, s in sorted(merged.items(), key=lambda item: item[0])]
    return pd.DataFrame(rows, columns=("Time", "Probe", "Latency (ms)", "Result"))

