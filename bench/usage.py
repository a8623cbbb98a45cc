"""Usage ledger benchmark: the store's usage reads against the database's own client, on SQLite.

Fill a fresh SQLite database with `--rows` ledger rows (one per reply sent) spread over `--analysts` analysts, 12
models and 90 days, then time (median of `--repeat` runs, warm):
- `spent`: one analyst's month (the budget check before every send, and the chat page's budget note);
- `usage(owner)`: one analyst's groups per model and day over 90 days (the usage page's "mine" query);
- `usage(None)`: the whole team's groups over 30 days (an admin's team view);
each against sqlite3 running the same SQL and fetching every row. Also the page-side shaping of the team's groups
(gateway/usage.py: frame, per-analyst and per-model tables, CSV).

Run by hand: `python -m bench.usage [--rows 200000] [--analysts 50] [--repeat 9]`.

Measured here (2 cores shared with other test runs, load average 7-14, so absolute times are inflated several-fold;
the ratios are the numbers to watch), three runs: spent 1.19-1.61x sqlite3 (15-52 ms); one analyst's 90 days
1.84-2.12x (135-397 ms, ~1,000 groups); the team's 30 days 0.93-2.31x (2.7-4.4 s, 18,000 groups), shaping them
0.3 s on a quiet moment, 1.3-2.5 s under that load. Hence the team table is cached for a minute (ui/usage.py).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

DAY = 86_400


def fill(url: str, rows: int, analysts: int) -> None:
    from gateway.store import Store
    from gateway.store.schema import usage

    Store.open(url).close()  # migrated
    rng = random.Random(7)
    now = time.time()
    models = [f"model-{i}" for i in range(12)]
    engine = sa.create_engine(url)
    batch: list[dict[str, Any]] = []
    with engine.begin() as connection:
        for i in range(rows):
            cost = None if i % 17 == 0 else rng.random() / 100
            batch.append({"owner": f"analyst{i % analysts}@example.com", "at": now - rng.random() * 90 * DAY,
                          "kind": "chat", "conversation_id": f"c{i // 20}", "model": rng.choice(models), "run": 1,
                          "outcome": "failed" if i % 31 == 0 else "complete", "prompt_tokens": rng.randint(10, 4000),
                          "completion_tokens": rng.randint(10, 1500), "cost": cost,
                          "cost_source": None if cost is None else "proxy", "ttft": rng.random(),
                          "total": rng.random() * 10, "call_id": None, "reply_key": f"k{i}"})
            if len(batch) == 5000:
                connection.execute(sa.insert(usage), batch)
                batch.clear()
        if batch:
            connection.execute(sa.insert(usage), batch)
    engine.dispose()


def timed(action: Callable[[], object], repeat: int) -> float:
    action()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


GROUPS_SQL = (
    "SELECT owner, model, CAST((at + 0) / 86400 AS INTEGER) AS day, count(*), "
    "sum(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END), coalesce(sum(cost), 0), "
    "coalesce(sum(CASE WHEN cost_source = 'catalogue' THEN cost ELSE 0 END), 0), "
    "sum(CASE WHEN cost IS NULL THEN 1 ELSE 0 END), coalesce(sum(prompt_tokens), 0), "
    "coalesce(sum(completion_tokens), 0), coalesce(sum(ttft), 0), count(ttft), coalesce(sum(total), 0), count(total) "
    "FROM usage WHERE at >= ? AND at < ? {owner} GROUP BY owner, model, day ORDER BY day, owner, model")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--analysts", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()

    from gateway import usage as report
    from gateway.store import Store

    path = Path(tempfile.mkdtemp(prefix="bench-usage-")) / "usage.db"
    url = f"sqlite:///{path}"
    started = time.perf_counter()
    fill(url, args.rows, args.analysts)
    print(f"filled {args.rows:,} ledger rows for {args.analysts} analysts in {time.perf_counter() - started:.1f} s "
          f"({path.stat().st_size / 1e6:.1f} MB)")

    store = Store.open(url)
    raw = sqlite3.connect(path)
    now = time.time()
    me = "analyst3@example.com"
    month, quarter, thirty = now - 30 * DAY, now - 90 * DAY, now - 30 * DAY
    cases = {
        "spent (my month)": (
            lambda: store.spent(me, since=month, until=now),
            lambda: raw.execute("SELECT coalesce(sum(cost), 0) FROM usage WHERE owner = ? AND at >= ? AND at < ?",
                                (me, month, now)).fetchall()),
        "usage(me, 90 days)": (
            lambda: store.usage(me, since=quarter, until=now),
            lambda: raw.execute(GROUPS_SQL.format(owner="AND owner = ?"), (quarter, now, me)).fetchall()),
        "usage(team, 30 days)": (
            lambda: store.usage(None, since=thirty, until=now),
            lambda: raw.execute(GROUPS_SQL.format(owner=""), (thirty, now)).fetchall()),
    }
    print(f"{'query':24} {'store':>10} {'sqlite3':>10} {'ratio':>7}")
    for name, (ours, theirs) in cases.items():
        a, b = timed(ours, args.repeat), timed(theirs, args.repeat)
        print(f"{name:24} {a * 1000:8.2f} ms {b * 1000:8.2f} ms {a / b:6.2f}×")
    team = store.usage(None, since=thirty, until=now)
    assert isinstance(team, list)

    def shape() -> None:
        rows = report.frame(team)
        report.table(rows, [report.Col.ANALYST])
        report.table(rows, [report.Col.MODEL])
        report.csv(rows)

    print(f"team groups: {len(team):,}; shaping them for the page (frame, two tables, CSV): "
          f"{timed(shape, args.repeat) * 1000:.1f} ms")
    store.close()
    raw.close()


if __name__ == "__main__":
    main()
