"""Evaluation benchmark: the leaderboard's fit, and a prompt set run by the background worker through a real proxy.

1. Leaderboard: 100,000 simulated votes over 20 models (known strengths, 10 % ties), Bradley–Terry with
   95 % intervals: the fit alone, the whole read (votes counted by kind in SQLite through the store + fit) against
   the database's own client running the same query, and the cached read (`st.cache_data`, keyed by the vote count and last vote).
2. A run of 100 prompts × 3 models whose replies take ~1.5 s (the local upstream's `long-<n>-10` models: 14–16 words
   at 10 words/s, streamed through a real LiteLLM proxy), at concurrency 6: wall time against the ideal (sum of the
   calls' own times ÷ 6), the same calls made with the raw `openai` SDK in 6 threads for comparison, the process's
   RSS and tracemalloc peak sampled during the run, how long a page's progress read takes while it runs, and a stop
   half-way then a resume by a new worker on a newly opened store: cells sent again must be 0.

Run by hand: `python -m bench.eval [--votes 100000] [--prompts 100] [--skip-run]`.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import numpy as np  # noqa: E402
import openai  # noqa: E402
import pandas as pd  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from gateway.catalogue import fetch_models  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from gateway.evaluation import ratings, worker  # noqa: E402
from gateway.evaluation.prompt_sets import PromptRow, PromptSet  # noqa: E402
from gateway.evaluation.runs import EvalRun  # noqa: E402
from gateway.store import Store  # noqa: E402
from gateway.store.evaluation import Evaluations, VoteFilter  # noqa: E402
from gateway.store.schema import votes as votes_table  # noqa: E402
from tests.support.proxy import start_proxy  # noqa: E402
from tests.support.upstream import upstream_server  # noqa: E402

MODELS = {"bench-a": "long-14-10", "bench-b": "long-15-10", "bench-c": "long-16-10"}  # ~1.4, 1.5, 1.6 s
CONCURRENCY = 6


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- 1. Leaderboard ------------------------------------------------------------------------------------------------

def simulated_votes(count: int, models: int = 20, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    names = [f"model-{i:02d}" for i in range(models)]
    strength = np.linspace(-1.5, 1.5, models)
    a = rng.integers(0, models, count)
    b = (a + rng.integers(1, models, count)) % models
    tie = rng.random(count) < 0.1
    first_wins = rng.random(count) < 1 / (1 + np.exp(strength[b] - strength[a]))
    frame = pd.DataFrame({"models": [(names[x], names[y]) for x, y in zip(a, b)],
                          "verdict": np.where(tie, "tie", "best"),
                          "winner": [None if t else names[x] if w else names[y] for t, w, x, y in
                                     zip(tie, first_wins, a, b)]})
    return frame, strength


def bench_leaderboard(count: int) -> None:
    print(f"\n== Leaderboard: {count:,} votes, 20 models, ratings with 95 % intervals")
    frame, strength = simulated_votes(count)
    fits = []
    for _ in range(3):
        started = time.perf_counter()
        board = ratings.leaderboard(frame)
        fits.append(time.perf_counter() - started)
    order = [int(name.split("-")[1]) for name in board.table[ratings.Col.MODEL]]
    print(f"fit + intervals (votes in memory): best {min(fits):.3f} s, median {statistics.median(fits):.3f} s; "
          f"ranking recovered: {order == sorted(range(20), reverse=True)}; "
          f"median interval width {float((board.table[ratings.Col.UPPER] - board.table[ratings.Col.LOWER]).median()):.1f} "
          f"points")

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        store = Store.open(url)
        now = time.time()
        rows = [{"owner": f"analyst-{i % 7}", "subject": f"compare:{i}:0", "models": list(m),
                 "models_key": "\n".join(sorted(m)), "verdict": v,
                 "winner": w, "tag": "", "comment": "", "blind": True, "created_at": now, "updated_at": now}
                for i, (m, v, w) in enumerate(zip(frame["models"], frame["verdict"], frame["winner"]))]
        with store._engine.begin() as connection:
            connection.execute(sa.insert(votes_table), rows)
        evaluations = Evaluations(store)
        reads, raws = [], []
        for _ in range(3):
            started = time.perf_counter()
            found = evaluations.votes(VoteFilter())
            ratings.leaderboard(found)
            reads.append(time.perf_counter() - started)
            started = time.perf_counter()
            with sqlite3.connect(f"{folder}/bench.db") as raw:
                raw.execute("SELECT models_key, verdict, winner, count(*) FROM votes "
                            "GROUP BY models_key, verdict, winner ORDER BY models_key, verdict, winner").fetchall()
            raws.append(time.perf_counter() - started)
        print(f"read from SQLite + fit: median {statistics.median(reads):.3f} s (the sqlite3 module alone running "
              f"the same grouped query: {statistics.median(raws):.3f} s)")

        from ui.leaderboard import _board
        stamp = evaluations.vote_stamp()
        started = time.perf_counter()
        _board(store.database, VoteFilter(), stamp, store)
        first = time.perf_counter() - started
        hits = []
        for _ in range(5):
            started = time.perf_counter()
            _board(store.database, VoteFilter(), evaluations.vote_stamp(), store)
            hits.append(time.perf_counter() - started)
        print(f"cached read (st.cache_data, stamp query included): first {first:.3f} s, then median "
              f"{statistics.median(hits) * 1000:.1f} ms")
        store.close()


# --- 2. A run --------------------------------------------------------------------------------------------------------

def proxy_config(folder: str) -> Path:
    path = Path(folder) / "bench_eval.yaml"
    entries = "\n".join(f"  - model_name: {name}\n    litellm_params: {{model: openai/{upstream}, api_base: "
                        f"os.environ/UPSTREAM_API_BASE, api_key: fake}}\n    model_info: {{input_cost_per_token: "
                        f"0.000001, output_cost_per_token: 0.000002, mode: chat}}"
                        for name, upstream in MODELS.items())
    path.write_text(f"model_list:\n{entries}\nrouter_settings:\n  num_retries: 0\nlitellm_settings:\n"
                    "  num_retries: 0\n  request_timeout: 60\n")
    return path


def prompt_set(count: int) -> PromptSet:
    return PromptSet("bench", tuple(PromptRow(f"Prompt number {i}: count words.", expected="w3") for i in range(count)))


def sdk_threads(settings, requests: list[dict], concurrency: int) -> tuple[float, float]:
    """The raw openai SDK streaming each of `requests` (keyword arguments of `chat.completions.create`) from
    `concurrency` threads: (wall, sum of the calls' own times)."""
    client = openai.OpenAI(base_url=settings.api_base, api_key=settings.litellm_api_key, max_retries=0)
    jobs = list(requests)
    lock, times = threading.Lock(), []

    def work() -> None:
        while True:
            with lock:
                if not jobs:
                    return
                request = jobs.pop(0)
            started = time.perf_counter()
            for _ in client.chat.completions.create(stream=True, **request):
                pass
            with lock:
                times.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, sum(times)


def sdk_baseline(settings, prompts: int) -> tuple[float, float]:
    """The same calls as the run with the raw openai SDK in CONCURRENCY threads: (wall, sum of call times)."""
    return sdk_threads(settings, [{"model": name, "messages": [
        {"role": "user", "content": f"Prompt number {i}: count words."}]} for i in range(prompts) for name in MODELS],
        CONCURRENCY)


def bench_run(prompts: int) -> None:
    print(f"\n== Run: {prompts} prompts × {len(MODELS)} models (~1.5 s replies), concurrency {CONCURRENCY}")
    with tempfile.TemporaryDirectory() as folder, upstream_server() as upstream:
        proxy = start_proxy(proxy_config(folder), env={"UPSTREAM_API_BASE": upstream})
        try:
            settings = load_settings({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": proxy.base_url,
                                      "LITELLM_API_KEY": proxy.master_key,
                                      "EVAL_CONCURRENCY": str(CONCURRENCY)}, secrets={}, dotenv_path=None)
            models = {m.key: m for m in fetch_models(settings).models}
            sdk_wall, sdk_sum = sdk_baseline(settings, prompts)
            print(f"raw SDK, {CONCURRENCY} threads: wall {sdk_wall:.1f} s, ideal {sdk_sum / CONCURRENCY:.1f} s → "
                  f"{sdk_wall / (sdk_sum / CONCURRENCY):.3f}×")

            url = f"sqlite:///{folder}/run.db"
            evaluations = Evaluations(Store.open(url))
            run = EvalRun.of(prompt_set(prompts), list(MODELS))
            evaluations.create_run(run, "bench")
            tracemalloc.start()
            rss: list[float] = []
            reads: list[float] = []
            started = time.perf_counter()
            working = worker.start(run, "bench", evaluations, settings, models)
            assert isinstance(working, worker.EvalWorker)
            while not working.wait(0.5):
                rss.append(rss_mb())
                read = time.perf_counter()
                working.progress()
                evaluations.load_run(run.id, "bench")
                reads.append(time.perf_counter() - read)
            wall = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            cells = evaluations.cells(run.id, "bench")
            total = sum(c.reply.metrics.total or 0 for c in cells)
            ideal = total / CONCURRENCY
            print(f"gateway worker: {len(cells)} cells, wall {wall:.1f} s, ideal {ideal:.1f} s → {wall / ideal:.3f}× "
                  f"(target ≤ 1.15×); median call {statistics.median(c.reply.metrics.total or 0 for c in cells):.2f} s")
            print(f"memory: RSS {rss[0]:.0f} → max {max(rss):.0f} → end {rss[-1]:.0f} MB over the run; tracemalloc "
                  f"peak {peak:.1f} MB")
            print(f"a page's progress read while it runs: median {statistics.median(reads) * 1000:.1f} ms, max "
                  f"{max(reads) * 1000:.1f} ms")

            # stop half-way, then resume with a new worker on a newly opened store (as after a restart)
            again = EvalRun.of(prompt_set(prompts), list(MODELS))
            evaluations.create_run(again, "bench")
            first = worker.start(again, "bench", evaluations, settings, models)
            assert isinstance(first, worker.EvalWorker)
            while first.progress().done < again.cells_total // 2:
                time.sleep(0.05)
            first.stop()
            first.wait(30)
            saved = {(c.row, c.model): c.reply.metrics.call_id for c in evaluations.cells(again.id, "bench")}
            reopened = Evaluations(Store.open(url))
            second = worker.start(reopened.load_run(again.id, "bench"), "bench", reopened, settings, models)
            assert isinstance(second, worker.EvalWorker)
            second.wait(600)
            final = reopened.cells(again.id, "bench")
            kept = sum(saved.get((c.row, c.model)) == c.reply.metrics.call_id for c in final if (c.row, c.model)
                       in saved)
            print(f"resume: {len(saved)} cells saved before the stop, {second._done_now} sent after the restart, "
                  f"{len(final)} in all; cells sent again: {len(saved) - kept + (second._done_now + len(saved) - len(final))}")
        finally:
            proxy.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--prompts", type=int, default=100)
    parser.add_argument("--skip-run", action="store_true")
    args = parser.parse_args()
    bench_leaderboard(args.votes)
    if not args.skip_run:
        bench_run(args.prompts)


if __name__ == "__main__":
    main()
