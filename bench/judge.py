"""Judge benchmark: a pairwise judge pass over an evaluation run — 200 rows × 2 models, each pair asked in both
orders (400 calls) — through a real LiteLLM proxy to the offline demo-judge, at the run's concurrency, against the
ideal (the sum of the calls' own times ÷ the concurrency) and the raw `openai` SDK making the same 400 calls in as
many threads.

Run by hand: `python -m bench.judge [--rows 200] [--concurrency 4]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import sqlalchemy as sa  # noqa: E402

from bench.eval import sdk_threads  # noqa: E402
from gateway.catalogue import fetch_models  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from gateway.evaluation import judge_run  # noqa: E402
from gateway.evaluation.judge import TEMPLATES, Mode  # noqa: E402
from gateway.evaluation.prompt_sets import PromptRow, PromptSet  # noqa: E402
from gateway.evaluation.runs import Cell, EvalRun  # noqa: E402
from gateway.reply import Metrics, Outcome, Reply  # noqa: E402
from gateway.sending import Sender  # noqa: E402
from gateway.store import Store  # noqa: E402
from gateway.store.evaluation import Evaluations  # noqa: E402
from gateway.store.schema import usage  # noqa: E402
from tests.support.proxy import start_proxy  # noqa: E402
from tests.support.upstream import upstream_server  # noqa: E402

CONFIG = """model_list:
  - model_name: bench-judge
    litellm_params: {model: openai/demo-judge, api_base: os.environ/UPSTREAM_API_BASE, api_key: fake}
    model_info: {input_cost_per_token: 0.0000004, output_cost_per_token: 0.0000016, mode: chat}
router_settings:
  num_retries: 0
litellm_settings:
  num_retries: 0
  request_timeout: 60
"""


def run_with_cells(evaluations: Evaluations, rows: int) -> EvalRun:
    """A finished run of `rows` sums: model a right on every row, model b off by one on every third."""
    prompts = tuple(PromptRow(f"What is {i} + {i + 7}?", expected=str(2 * i + 7)) for i in range(rows))
    run = EvalRun.of(PromptSet("bench", prompts), ["a", "b"])
    evaluations.create_run(run, "bench")
    for i in range(rows):
        for model, value in (("a", 2 * i + 7), ("b", 2 * i + 7 + (i % 3 == 0))):
            reply = Reply(model, f"{i} + {i + 7} = {value}.", Outcome.COMPLETE, Metrics(ttft=0.1, total=0.5))
            evaluations.save_cell(run.id, "bench", Cell(i, reply, None))
    return run


def sdk_baseline(settings, todo: list[judge_run.Pair], concurrency: int) -> tuple[float, float]:
    """The same requests with the raw openai SDK in `concurrency` threads: (wall, sum of call times)."""
    return sdk_threads(settings, [{"model": "bench-judge", "messages": messages, "max_tokens": 300, "temperature": 0}
                                  for pair in todo for messages in pair.messages(TEMPLATES[Mode.PAIRWISE])],
                       concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    print(f"== Judge pass: {args.rows} rows × 2 models, both orders ({2 * args.rows} calls), concurrency "
          f"{args.concurrency}, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder, upstream_server() as upstream:
        config = Path(folder) / "bench_judge.yaml"
        config.write_text(CONFIG)
        proxy = start_proxy(config, env={"UPSTREAM_API_BASE": upstream})
        try:
            settings = load_settings({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": proxy.base_url,
                                      "LITELLM_API_KEY": proxy.master_key}, secrets={}, dotenv_path=None)
            judge_model = next(m for m in fetch_models(settings).models if m.key == "bench-judge")
            store = Store.open(f"sqlite:///{folder}/judge.db")
            evaluations = Evaluations(store)
            run = run_with_cells(evaluations, args.rows)
            todo = judge_run.pairs(run, evaluations.cells(run.id, "bench"), "a", "b")
            sdk_wall, sdk_sum = sdk_baseline(settings, todo, args.concurrency)
            print(f"raw SDK: wall {sdk_wall:.1f} s, ideal {sdk_sum / args.concurrency:.1f} s → "
                  f"{sdk_wall / (sdk_sum / args.concurrency):.3f}×")
            started = time.perf_counter()
            found = judge_run.run_pass(run, "bench", todo, judge_model, TEMPLATES[Mode.PAIRWISE], evaluations,
                                       settings, Sender("bench", "judge", run.id), args.concurrency)
            wall = time.perf_counter() - started
            with store._engine.connect() as connection:
                totals = [float(t) for (t,) in connection.execute(
                    sa.select(usage.c.total).where(usage.c.kind == "judge"))]
            ideal = sum(totals) / args.concurrency
            print(f"judge pass: {found.done} pairs ({len(totals)} calls, median {statistics.median(totals):.2f} s), "
                  f"{found.flagged} flagged, {found.unreadable} unreadable; wall {wall:.1f} s, ideal {ideal:.1f} s → "
                  f"{wall / ideal:.3f}× (target ≤ 1.1×); against the SDK's wall {wall / sdk_wall:.3f}×")
            store.close()
        finally:
            proxy.stop()


if __name__ == "__main__":
    main()
