"""Saved-work benchmark: the store against the database's own client, on SQLite and PostgreSQL.

For each database: fill it with `--conversations` conversations and `--messages` messages (prompts + replies; one
conversation has 200 turns, the rest share the others; all of one analyst: the worst case for their history and
search), then, in a fresh process, time:
- saving a turn: `save_round` as the page sees it (it queues), and until it is written (`flush`), against the raw
  client writing the same rows (upsert conversation, round and reply, update the totals) in one transaction;
- the history list (50 newest, warm), search (a rare word, a common word, two words), opening the 200-turn
  conversation, each against the raw client running the equivalent SQL and fetching every row;
- the process's RSS before and after, once at a tenth of the size and once at full size (memory must not grow
  with the database).
The PostgreSQL server is a throwaway one (tests/support/postgres.py) with durable settings (fsync on).

Run by hand: `python -m bench.store [--conversations 10000] [--messages 200000] [--only sqlite|postgres]`.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

OWNER = "bench@example.com"
LONG_ID = "long-conversation"
LONG_TURNS = 200
ROOT = Path(__file__).resolve().parent.parent
RARE, COMMON = "zyxwvut", "lorem"  # one reply in 5,000 has the rare word; one in three the common one


# --- filling the database ----------------------------------------------------------------------------------------

def words(rng: random.Random, n: int, vocabulary: list[str]) -> str:
    return " ".join(rng.choice(vocabulary) for _ in range(n))


def fill(url: str, conversations: int, messages: int, *, start: int = 0) -> None:
    """Add conversations start..conversations-1 (bulk inserts with explicit keys; the triggers and generated
    columns keep the full-text indexes, as they do for the app's own writes)."""
    from gateway.store import Store
    from gateway.store.schema import conversations as conv_t
    from gateway.store.schema import replies as reply_t
    from gateway.store.schema import rounds as round_t

    Store.open(url).close()  # migrated
    rng = random.Random(start)
    vocabulary = [f"w{i}{chr(97 + i % 26)}" for i in range(5000)]
    base, extra = divmod(max(0, messages // 2 - LONG_TURNS), max(1, conversations - 1))
    engine = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg")
                              if url.startswith("postgres") else url)
    now = time.time()
    with engine.begin() as connection:
        round_pk = connection.execute(sa.select(sa.func.coalesce(sa.func.max(round_t.c.pk), 0))).scalar_one()
        reply_pk = connection.execute(sa.select(sa.func.coalesce(sa.func.max(reply_t.c.pk), 0))).scalar_one()
        conv_pk = connection.execute(sa.select(sa.func.coalesce(sa.func.max(conv_t.c.pk), 0))).scalar_one()
    batch = 500
    for first in range(start, conversations, batch):
        conv_rows, round_rows, reply_rows = [], [], []
        for i in range(first, min(first + batch, conversations)):
            turns = LONG_TURNS if i == 0 else max(1, base + (i - 1 < extra))
            created = now - (conversations - i) * 60
            prompt0 = words(rng, 12, vocabulary)
            conv_pk += 1
            conv_rows.append({"pk": conv_pk, "id": LONG_ID if i == 0 else f"conv-{i}", "owner": OWNER,
                              "kind": "compare" if i % 5 == 0 else "chat", "title": "", "auto_title": prompt0[:80],
                              "pinned": i % 500 == 1, "models": ["gpt-x"], "params": {"system_prompt": ""},
                              "turns": turns, "cost": turns * 0.001, "created_at": created, "updated_at": created})
            for position in range(turns):
                round_pk += 1
                reply_pk += 1
                text = words(rng, 110, vocabulary)
                if rng.random() < 1 / 3:
                    text += f" {COMMON}"
                if rng.random() < 1 / 5000:
                    text += f" {RARE}"
                round_rows.append({"pk": round_pk, "conversation_pk": conv_pk, "position": position,
                                   "key": f"{round_pk:032x}",
                                   "prompt": prompt0 if position == 0 else words(rng, 15, vocabulary),
                                   "params": {"gpt-x": {"system_prompt": ""}}, "created_at": created})
                reply_rows.append({"pk": reply_pk, "round_pk": round_pk, "conversation_pk": conv_pk, "model": "gpt-x",
                                   "run": 1, "position": 0, "outcome": "complete", "text": text, "ttft": 0.3,
                                   "total": 2.0, "prompt_tokens": 30, "completion_tokens": 150, "cost": 0.001,
                                   "cost_source": "proxy", "overhead_ms": 2.0, "finish_reason": "stop",
                                   "call_id": None, "error_message": None, "error_hint": None, "error_kind": None,
                                   "created_at": created})
        with engine.begin() as connection:
            connection.execute(sa.insert(conv_t), conv_rows)
            connection.execute(sa.insert(round_t), round_rows)
            connection.execute(sa.insert(reply_t), reply_rows)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for table in ("conversations", "rounds", "replies"):
                connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'pk'), "
                                           f"(SELECT max(pk) FROM {table}))")
            connection.exec_driver_sql("ANALYZE")
        else:
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()


# --- the raw client ----------------------------------------------------------------------------------------------

class Raw:
    """The database's own client (sqlite3 / psycopg) running the same SQL by hand."""

    def __init__(self, url: str) -> None:
        parsed = sa.make_url(url)
        self.postgres = parsed.get_backend_name() == "postgresql"
        if self.postgres:
            import psycopg

            self.connection: Any = psycopg.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                                                   dbname=parsed.database, autocommit=True)
        else:
            self.connection = sqlite3.connect(parsed.database, isolation_level=None)
            self.connection.execute("PRAGMA busy_timeout = 5000")
            self.connection.execute("PRAGMA synchronous = NORMAL")
            self.connection.execute("PRAGMA foreign_keys = ON")
        self.p = "%s" if self.postgres else "?"

    def sql(self, text: str) -> str:
        return text.replace("?", self.p)

    def fetch(self, text: str, params: tuple = ()) -> list:
        if self.postgres:
            with self.connection.transaction():
                return self.connection.execute(self.sql(text), params).fetchall()
        return self.connection.execute(text, params).fetchall()

    def history(self) -> list:
        return self.fetch("SELECT id, kind, title, auto_title, models, created_at, updated_at, cost, pinned, turns "
                          "FROM conversations WHERE owner = ? AND deleted_at IS NULL "
                          "ORDER BY pinned DESC, updated_at DESC, pk DESC LIMIT 50", (OWNER,))

    def search(self, text: str) -> list:
        terms = text.split()
        if self.postgres:
            query = " & ".join(f"{t}:*" for t in terms)
            match = ("SELECT pk FROM conversations WHERE search @@ to_tsquery('simple', %s) "
                     "UNION SELECT conversation_pk FROM rounds WHERE search @@ to_tsquery('simple', %s) "
                     "UNION SELECT conversation_pk FROM replies WHERE search @@ to_tsquery('simple', %s)")
            params: tuple = (query, query, query)
        else:
            query = " ".join(f'"{t}"*' for t in terms)
            match = ("SELECT rowid FROM conversations_fts WHERE conversations_fts MATCH ? "
                     "UNION SELECT conversation_pk FROM rounds WHERE pk IN "
                     "(SELECT rowid FROM rounds_fts WHERE rounds_fts MATCH ?) "
                     "UNION SELECT conversation_pk FROM replies WHERE pk IN "
                     "(SELECT rowid FROM replies_fts WHERE replies_fts MATCH ?)")
            params = (query, query, query)
        return self.fetch("SELECT id, kind, title, auto_title, models, created_at, updated_at, cost, pinned, turns "
                          f"FROM conversations WHERE owner = {self.p} AND deleted_at IS NULL AND pk IN ({match}) "
                          f"ORDER BY pinned DESC, updated_at DESC, pk DESC LIMIT 50", (OWNER, *params))

    def open(self, conversation_id: str) -> list:
        if self.postgres:
            self.connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        else:
            self.connection.execute("BEGIN")
        head = self.connection.execute(self.sql("SELECT * FROM conversations WHERE owner = ? AND id = ? "
                                                "AND deleted_at IS NULL"), (OWNER, conversation_id)).fetchone()
        rounds_sql = self.sql("SELECT pk, prompt, params, created_at FROM rounds WHERE conversation_pk = ? "
                              "ORDER BY position")
        found = [head, self.connection.execute(rounds_sql, (head[0],)).fetchall(),
                 self.connection.execute(self.sql("SELECT * FROM replies WHERE conversation_pk = ? "
                                                  "ORDER BY round_pk, position, run"), (head[0],)).fetchall()]
        self.connection.execute("COMMIT")
        return found

    def save_turn(self, conversation_id: str, position: int, prompt: str, text: str, key: str) -> None:
        """What the store writes for one chat turn, by hand (the round found by its key, else inserted at its
        place: a new turn, so nothing moves)."""
        now = time.time()
        models, params = json.dumps(["gpt-x"]), json.dumps({"system_prompt": ""})
        greatest = "greatest" if self.postgres else "max"
        self.connection.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")
        c = self.connection.execute(self.sql(
            "INSERT INTO conversations (id, owner, kind, title, auto_title, pinned, models, params, created_at, "
            "updated_at) VALUES (?, ?, 'chat', '', ?, false, ?, ?, ?, ?) ON CONFLICT (owner, id) DO UPDATE SET "
            f"models = excluded.models, params = excluded.params, updated_at = {greatest}(conversations.updated_at, "
            "excluded.updated_at) RETURNING pk"),
            (conversation_id, OWNER, prompt, models, params, now, now)).fetchone()[0]
        self.connection.execute(self.sql(
            'SELECT pk, "key", position, created_at FROM rounds WHERE conversation_pk = ? AND ("key" = ? OR '
            "position >= ?) ORDER BY position"), (c, key, position)).fetchall()
        r = self.connection.execute(self.sql(
            'INSERT INTO rounds (conversation_pk, "key", position, prompt, params, created_at) VALUES (?, ?, ?, ?, ?, '
            "?) RETURNING pk"), (c, key, position, prompt, json.dumps({"gpt-x": {}}), now)).fetchone()[0]
        self.connection.execute(self.sql("SELECT pk, model, run FROM replies WHERE round_pk = ?"), (r,)).fetchall()
        self.connection.execute(self.sql(
            "INSERT INTO replies (round_pk, conversation_pk, model, run, position, outcome, text, ttft, total, "
            "completion_tokens, cost, cost_source, created_at) VALUES (?, ?, 'gpt-x', 1, 0, 'complete', ?, 0.3, 2.0, "
            "150, 0.001, 'proxy', ?) ON CONFLICT (round_pk, model, run) DO UPDATE SET text = excluded.text"),
            (r, c, text, now))
        self.connection.execute(self.sql(
            "UPDATE conversations SET turns = (SELECT count(*) FROM rounds WHERE conversation_pk = ?), "
            "cost = (SELECT coalesce(sum(cost), 0) FROM replies WHERE conversation_pk = ?) WHERE pk = ?"), (c, c, c))
        self.connection.execute("COMMIT")


# --- the workload (a fresh process) --------------------------------------------------------------------------------

def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def pct(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def workload(url: str, repeat: int, turns: int) -> dict[str, Any]:
    from gateway.conversation import Conversation
    from gateway.reply import Metrics, Outcome, Reply
    from gateway.store import Store

    result: dict[str, Any] = {"rss_start_mb": rss_mb()}
    store = Store.open(url)
    raw = Raw(url)
    result["rss_open_mb"] = rss_mb()
    rng = random.Random(7)
    vocabulary = [f"w{i}{chr(97 + i % 26)}" for i in range(5000)]

    # saving a turn
    conv = Conversation("chat", models=["gpt-x"])
    queued, durable, raw_times = [], [], []
    for i in range(turns):
        conv.add_prompt(words(rng, 15, vocabulary)).add(
            Reply("gpt-x", words(rng, 110, vocabulary), Outcome.COMPLETE, Metrics(0.3, 2.0, 30, 150, 0.001, "proxy")))
        started = time.perf_counter()
        store.save_round(conv, i, OWNER)
        queued.append((time.perf_counter() - started) * 1000)
        store.flush(30)
        durable.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        raw.save_turn(f"raw-{conv.id}", i, conv.rounds[i].prompt, conv.rounds[i].reply().text, uuid.uuid4().hex)
        raw_times.append((time.perf_counter() - started) * 1000)
    assert store.status().ok, store.status()
    result["save_queued"] = (pct(queued, .5), pct(queued, .95))
    result["save_written"] = (pct(durable, .5), pct(durable, .95))
    result["save_raw"] = (pct(raw_times, .5), pct(raw_times, .95))

    def check(found: Any) -> Any:
        assert not hasattr(found, "message"), found
        return found

    result["history"] = (timed(lambda: check(store.history(OWNER)), repeat), timed(raw.history, repeat))
    assert [s.id for s in store.history(OWNER)] == [row[0] for row in raw.history()]
    for name, text in (("search_rare", RARE), ("search_common", COMMON), ("search_two_words", "w12m w345h")):
        assert [s.id for s in check(store.history(OWNER, search=text))] == [row[0] for row in raw.search(text)], text
        result[name] = (timed(lambda t=text: check(store.history(OWNER, search=t)), repeat),
                        timed(lambda t=text: raw.search(t), repeat))
    assert len(check(store.load(LONG_ID, OWNER)).rounds) == LONG_TURNS
    result["open_200_turns"] = (timed(lambda: check(store.load(LONG_ID, OWNER)), repeat),
                                timed(lambda: raw.open(LONG_ID), repeat))
    # many different conversations opened and searched (what would grow if the store kept things)
    for i in range(1, 400):
        check(store.load(f"conv-{i * 7}", OWNER))
    for word in vocabulary[:50]:
        check(store.history(OWNER, search=word))
    result["rss_end_mb"] = rss_mb()
    result["rows"] = raw.fetch("SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM rounds), "
                               "(SELECT count(*) FROM replies)")[0]
    store.close()
    return result


# --- the run -------------------------------------------------------------------------------------------------------

def run_workload(url: str, repeat: int, turns: int) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.store", "--workload", url, "--repeat", str(repeat),
                           "--turns", str(turns)], cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(name: str, small: dict[str, Any], full: dict[str, Any], fill_s: float) -> None:
    conversations, rounds, replies = full["rows"]
    print(f"\n== {name}: {conversations:,} conversations, {rounds + replies:,} messages ({rounds:,} prompts, "
          f"{replies:,} replies; filled in {fill_s:.0f} s) ==")
    print("saving a turn (ms, p50 / p95):")
    print(f"  save_round as the page sees it   {full['save_queued'][0]:7.3f} / {full['save_queued'][1]:7.3f}")
    print(f"  until written (queue + write)    {full['save_written'][0]:7.2f} / {full['save_written'][1]:7.2f}")
    print(f"  raw client, same rows            {full['save_raw'][0]:7.2f} / {full['save_raw'][1]:7.2f}"
          f"   (written/raw p50 {full['save_written'][0] / full['save_raw'][0]:.2f}x)")
    print(f"{'query (ms, warm)':34} {'store p50':>9} {'p95':>7} {'raw p50':>8} {'ratio':>6}")
    for key, label in (("history", "history list (50)"), ("search_rare", "search, a rare word"),
                       ("search_common", "search, a common word"), ("search_two_words", "search, two words"),
                       ("open_200_turns", "open a 200-turn conversation")):
        ours, raw = full[key]
        print(f"  {label:32} {statistics.median(ours):9.2f} {pct(ours, .95):7.2f} {statistics.median(raw):8.2f} "
              f"{statistics.median(ours) / statistics.median(raw):5.2f}x")
    print(f"RSS (MB): at a tenth of the size start {small['rss_start_mb']:.0f}, after the workload "
          f"{small['rss_end_mb']:.0f}; at full size start {full['rss_start_mb']:.0f}, after {full['rss_end_mb']:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--turns", type=int, default=200, help="turns saved in the save-a-turn measurement")
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--workload", help=argparse.SUPPRESS)  # internal: run the workload on this URL
    args = parser.parse_args()
    if args.workload:
        print(json.dumps(workload(args.workload, args.repeat, args.turns)))
        return

    from tests.support.postgres import start_postgres

    backends = [args.only] if args.only else ["sqlite", "postgres"]
    for backend in backends:
        folder = Path(tempfile.mkdtemp(prefix="bench-store-"))
        server = None
        if backend == "sqlite":
            url = f"sqlite:///{folder / 'bench.db'}"
        else:
            server = start_postgres(durable=True)
            url = server.create_database("bench")
        try:
            tenth = args.conversations // 10
            started = time.perf_counter()
            fill(url, tenth, args.messages // 10)
            small = run_workload(url, args.repeat, 20)
            fill(url, args.conversations, args.messages, start=tenth)
            fill_s = time.perf_counter() - started
            full = run_workload(url, args.repeat, args.turns)
            report(backend, small, full, fill_s)
        finally:
            if server is not None:
                server.destroy()
            for path in folder.glob("*"):
                path.unlink()
            folder.rmdir()


if __name__ == "__main__":
    main()
