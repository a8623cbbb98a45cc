"""Compare benchmark: 1, 2, 4 and 6 models streaming at once through the gateway, against the real proxy.

The models are `stream-1`…`stream-6` of tests/proxy_config.yaml: 34–36 words at 10 words/s from the local upstream
server (~3.5 s each). For each N, in the same run against the same proxy:
- slowest alone: each of the N models run alone, one after another; the longest wall time;
- gateway: `CompareRun` with the N models (a worker thread per model), wall time and the ratio to the slowest alone
  (1.00 = perfectly concurrent, N = sequential); its tracemalloc peak in a second, traced run; RSS after;
- raw SDK: the `openai` SDK streaming the N models in N plain threads: the floor to compare the gateway with.
With the browser part (default), also the page: headless Chromium on /compare with compare-a/b/c (mock_delay 3.5 s),
from pressing Enter to all three replies visible, against compare-a with demo-fast (an instant model: the page needs
two) — "one alone" — and against compare-a alone through the SDK.

Isolation (issue 30, first by default): does a model's TTFT and total on /compare depend on its neighbour?
`swift-alpha` (55 words at ~90/s) beside `slow-bravo` (30 words at 10/s), beside `firehose-golf` (3,000 words at
~2,000/s), and in a six-model round (swift, firehose, stream-1…4). Each case, alternated in the same run:
- raw SDK: the `openai` SDK streaming the same models at once, one plain thread each, timing each chunk as it is
  parsed (the reference the issue names);
- engine: `CompareRun` (no drawing);
- page: headless Chromium on /compare, the numbers the page saved for the round (read back from the app's store).
The upstream server runs in its own process, so that the bench's own upstream threads do not share the GIL with
the streams measured. The load average is printed beside the figures: this machine is shared.

`--pin` puts the proxy and the upstream on core 0 and everything else (this process, the SDK client, the app,
Chromium) on the other cores: on a 2-core machine the CPU-bound proxy otherwise shares its cores with Chromium
redrawing a 3,000-token reply, and then a neighbour's bytes leave the proxy later for everybody (see bench.chat).

Run by hand: `python -m bench.compare [--repeat 3] [--no-browser] [--part isolation|throughput|all] [--pin]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import openai  # noqa: E402

from bench import chat as chat_bench  # noqa: E402
from gateway.catalogue import fetch_models  # noqa: E402
from gateway.compare import CompareRun, jobs_for, run_all  # noqa: E402
from gateway.config import Settings, load_settings  # noqa: E402
from gateway.conversation import Conversation  # noqa: E402
from gateway.models import ModelRecord, find_model  # noqa: E402
from gateway.params import ChatParams  # noqa: E402
from gateway.reply import Outcome, Reply  # noqa: E402
from gateway.store import LOCAL_OWNER, Store  # noqa: E402
from tests.support.proxy import Proxy, start_proxy  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COUNTS = (1, 2, 4, 6)
PROMPT = "Count for me."
BROWSER_REPLIES = {
    "compare-a": "Paris is the capital of France, on the Seine.",
    "compare-b": "The capital of France is Paris, on the river Seine.",
    "compare-c": "Paris is the capital of France, on the Seine.",
    "demo-fast": "Hello! I am the fast demo model.",
}


def wall(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def gateway_run(models: list[ModelRecord], settings: Settings) -> None:
    """Every model at once through the gateway; fails loudly unless every reply is whole."""
    jobs = jobs_for(Conversation("compare"), models, PROMPT, {m.key: ChatParams() for m in models})
    runs = run_all(jobs, settings, timeout=60)
    for key, replies in runs.items():
        reply = replies[-1]
        if reply.outcome is not Outcome.COMPLETE or len(reply.text.split()) < 34:
            raise RuntimeError(f"{key}: {reply.outcome} {reply.error or ''} ({len(reply.text.split())} words)")


def raw_run(names: list[str], proxy: Proxy) -> None:
    """Every model at once with the openai SDK, one plain thread each."""
    client = openai.OpenAI(base_url=f"{proxy.base_url}/v1", api_key=proxy.master_key, max_retries=0)
    words: dict[str, int] = {}

    def one(name: str) -> None:
        stream = client.chat.completions.create(model=name, messages=[{"role": "user", "content": PROMPT}],
                                                stream=True, stream_options={"include_usage": True})
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        words[name] = len(text.split())

    threads = [threading.Thread(target=one, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(words) != len(names) or min(words.values()) < 34:
        raise RuntimeError(f"raw SDK replies incomplete: {words}")


def traced_peak(fn: Callable[[], object]) -> float:
    """Peak Python memory allocated while `fn` runs, in MB."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def bench_gateway(settings: Settings, proxy: Proxy) -> list[dict[str, float]]:
    catalogue = fetch_models(settings)
    streams = [find_model(catalogue.models, f"stream-{i}") for i in range(1, 7)]
    if None in streams:
        raise RuntimeError("stream-1…6 are missing from the proxy: is tests/proxy_config.yaml up to date?")
    gateway_run(streams[:1], settings)  # warm the proxy and the connection pool
    alone = {m.key: wall(lambda m=m: gateway_run([m], settings)) for m in streams}
    rows = []
    for n in COUNTS:
        chosen = streams[:n]
        slowest = max(alone[m.key] for m in chosen)
        gateway = wall(lambda chosen=chosen: gateway_run(chosen, settings))
        peak = traced_peak(lambda chosen=chosen: gateway_run(chosen, settings))
        raw = wall(lambda chosen=chosen: raw_run([m.key for m in chosen], proxy))
        rows.append({"n": n, "slowest": slowest, "gateway": gateway, "raw": raw, "peak": peak, "rss": rss_mb()})
    return rows


def bench_browser(proxy: Proxy, settings: Settings, repeat: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    from tests.support.app import proxy_env, start_app
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, wait_idle

    catalogue = fetch_models(settings)
    sdk_alone = statistics.median(
        wall(lambda: run_all(jobs_for(Conversation("compare"), [find_model(catalogue.models, "compare-a")], PROMPT,
                                      {"compare-a": ChatParams()}), settings)) for _ in range(repeat))
    app = start_app(proxy_env(proxy))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1600})

            def send(keys: list[str]) -> float:
                page.goto(f"{app.url}/compare?models={','.join(keys)}")
                wait_idle(page)
                box = page.locator("[data-testid='stChatInput'] textarea")
                box.fill("What is the capital of France?")
                started = time.perf_counter()
                box.press("Enter")
                for key in keys:
                    same = sum(BROWSER_REPLIES[k] == BROWSER_REPLIES[key] for k in keys)
                    page.get_by_text(BROWSER_REPLIES[key]).nth(same - 1).wait_for(timeout=30_000)
                elapsed = time.perf_counter() - started
                wait_idle(page)
                return elapsed

            send(["compare-a", "demo-fast"])  # warm up
            one = [send(["compare-a", "demo-fast"]) for _ in range(repeat)]
            three = [send(["compare-a", "compare-b", "compare-c"]) for _ in range(repeat)]
            browser.close()
    finally:
        app.stop()
    return {"sdk_alone": sdk_alone, "one": statistics.median(one), "three": statistics.median(three),
            "one_all": one, "three_all": three}


# --- Isolation: a model's numbers beside a slow model, a firehose, and in a six-model round ------------------------

SWIFT, FIREHOSE = "swift-alpha", "firehose-golf"
CASES = {"beside slow-bravo": [SWIFT, "slow-bravo"], "beside firehose-golf": [SWIFT, FIREHOSE],
         "six-model round": [SWIFT, FIREHOSE, "stream-1", "stream-2", "stream-3", "stream-4"]}
Timing = dict[str, tuple[float | None, float | None]]  # model -> (TTFT, total) in seconds


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


@contextmanager
def upstream_process() -> Iterator[tuple[str, int]]:
    """The test upstream server in a child process; yields its base URL and the child's pid."""
    code = ("import sys\nfrom tests.support.upstream import upstream_server\n"
            "with upstream_server() as url:\n    print(url, flush=True)\n    sys.stdin.read()\n")
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip(), child.pid
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=10)


def sdk_round(names: list[str], proxy: Proxy) -> Timing:
    """The raw SDK streaming every model at once, one plain thread each: (TTFT, total) per model."""
    client = openai.OpenAI(base_url=f"{proxy.base_url}/v1", api_key=proxy.master_key, max_retries=0)
    timings: Timing = {}

    def one(name: str) -> None:
        started = time.perf_counter()
        first = None
        stream = client.chat.completions.create(model=name, messages=[{"role": "user", "content": PROMPT}],
                                                stream=True, stream_options={"include_usage": True})
        for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter() - started
        timings[name] = (first, time.perf_counter() - started)

    threads = [threading.Thread(target=one, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings


def of(replies: dict[str, Reply]) -> Timing:
    for key, reply in replies.items():
        if reply.outcome is not Outcome.COMPLETE:
            raise RuntimeError(f"{key}: {reply.outcome} {reply.error or ''}")
    return {key: (reply.metrics.ttft, reply.metrics.total) for key, reply in replies.items()}


def engine_round(names: list[str], settings: Settings, catalogue: Sequence[ModelRecord]) -> Timing:
    """`CompareRun` with the models, nothing drawn."""
    models = [model for model in (find_model(catalogue, name) for name in names) if model is not None]
    jobs = jobs_for(Conversation("compare"), models, PROMPT, {m.key: ChatParams() for m in models})
    run = CompareRun(jobs, settings).start()
    run.wait(120)
    run.stop()
    return of({key: runs[-1] for key, runs in run.runs().items()})


def ratio(value: float | None, reference: float | None) -> str:
    return "   —  " if value is None or not reference else f"{value / reference:5.2f}×"


def median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def report(results: dict[str, dict[str, list[Timing]]]) -> None:
    print(f"\n{'case':22s} {'model':14s} {'method':7s} {'TTFT':>7s} {'total':>7s}   TTFT/SDK  total/SDK")
    for case, methods in results.items():
        for name in CASES[case][:2]:
            sdk = methods["SDK"]
            sdk_ttft = median([t[name][0] for t in sdk])
            sdk_total = median([t[name][1] for t in sdk])
            for method, timings in methods.items():
                ttft, total = median([t[name][0] for t in timings]), median([t[name][1] for t in timings])
                print(f"{case:22s} {name:14s} {method:7s} {ttft or 0:6.3f}s {total or 0:6.3f}s   "
                      f"{ratio(ttft, sdk_ttft)}    {ratio(total, sdk_total)}")
    swift = {case: median([t[SWIFT][1] for t in methods.get("page", methods["engine"])])
             for case, methods in results.items()}
    slow = swift["beside slow-bravo"]
    print("\nswift-alpha's total on the page beside a firehose / beside slow-bravo: "
          + ", ".join(f"{case} {ratio(value, slow)}" for case, value in swift.items()))


def bench_isolation(proxy: Proxy, settings: Settings, repeat: int, browser: bool) -> None:
    catalogue = fetch_models(settings).models
    missing = [name for names in CASES.values() for name in names if find_model(catalogue, name) is None]
    if missing:
        raise RuntimeError(f"{missing} are missing from the proxy: is tests/proxy_config.yaml up to date?")
    sdk_round([SWIFT, FIREHOSE], proxy)  # warm the proxy and the upstream
    results: dict[str, dict[str, list[Timing]]] = {case: {"SDK": [], "engine": []} for case in CASES}
    page_round = None
    with ExitStack() as stack:
        if browser:
            page_round = stack.enter_context(browser_rounds(proxy))
            for methods in results.values():
                methods["page"] = []
        print(f"before: {load()}")
        for _ in range(repeat):
            for case, names in CASES.items():  # alternated: SDK, engine, SDK, page
                results[case]["SDK"].append(sdk_round(names, proxy))
                results[case]["engine"].append(engine_round(names, settings, catalogue))
                if page_round is not None:
                    results[case]["SDK"].append(sdk_round(names, proxy))
                    results[case]["page"].append(page_round(names))
        print(f"after:  {load()}")
    report(results)


@contextmanager
def browser_rounds(proxy: Proxy) -> Iterator[Callable[[list[str]], Timing]]:
    """A function that sends one round on /compare in Chromium and returns the numbers the page saved for it."""
    from playwright.sync_api import sync_playwright

    from tests.support.app import proxy_env, start_app
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, wait_idle

    database = f"sqlite:///{tempfile.mkdtemp(prefix='bench-compare-')}/dashboard.db"
    app = start_app({**proxy_env(proxy), "DATABASE_URL": database})
    store = Store.open(database)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1600})

            def send(names: list[str]) -> Timing:
                page.goto(f"{app.url}/compare?models={','.join(names)}")
                wait_idle(page)
                page.get_by_placeholder("Send to every model…").wait_for()
                box = page.locator("[data-testid='stChatInput'] textarea")
                box.fill(PROMPT)
                box.press("Enter")
                page.wait_for_url("**c=*", timeout=120_000)
                wait_idle(page, 120_000)
                conversation_id = page.url.split("c=")[1].split("&")[0]
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:  # the round is saved by the app's writer thread
                    found = store.load(conversation_id, LOCAL_OWNER)
                    if isinstance(found, Conversation) and found.rounds:
                        return of({key: runs[-1] for key, runs in found.rounds[-1].runs.items()})
                    time.sleep(0.1)
                raise RuntimeError(f"the round of {names} was not saved")

            send([SWIFT, "slow-bravo"])  # warm up
            yield send
            browser.close()
    finally:
        store.close()
        app.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="measurements per case (median)")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--part", choices=("isolation", "throughput", "all"), default="all")
    parser.add_argument("--pin", action="store_true",
                        help="the proxy and the upstream on core 0, everything else (the app, Chromium, the SDK) on the "
                             "others: the two sides of the network on their own CPUs, as in production")
    args = parser.parse_args()

    with upstream_process() as (upstream, upstream_pid):
        proxy = start_proxy(ROOT / "tests" / "proxy_config.yaml", env={"UPSTREAM_API_BASE": upstream}, timeout=300)
        if args.pin:
            chat_bench.pin(proxy)
            chat_bench.pin_all_threads(upstream_pid, os.sched_getaffinity(proxy.process.pid))
            print("pinned: the upstream beside the proxy")
        try:
            settings = load_settings({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": proxy.base_url,
                                      "LITELLM_API_KEY": proxy.master_key}, secrets={}, dotenv_path=None)
            if args.part in ("isolation", "all"):
                print(f"{os.cpu_count()} CPUs; isolation, median of {args.repeat} per case and method")
                bench_isolation(proxy, settings, args.repeat, not args.no_browser)
            if args.part == "isolation":
                return
            print(f"\n{os.cpu_count()} CPUs; models stream-1…6: 34–36 words at 10 words/s each (~3.5 s); {load()}\n")
            print(" N   slowest alone   gateway (ratio)    raw SDK threads (ratio)   tracemalloc peak   RSS")
            for row in bench_gateway(settings, proxy):
                slowest = row["slowest"]
                print(f"{row['n']:2d}   {slowest:9.2f} s   {row['gateway']:6.2f} s ({row['gateway'] / slowest:.2f}×)"
                      f"   {row['raw']:6.2f} s ({row['raw'] / slowest:.2f}×)          "
                      f"{row['peak']:6.2f} MB        {row['rss']:.0f} MB")
            if not args.no_browser:
                result = bench_browser(proxy, settings, args.repeat)
                print(f"\nBrowser (Chromium, Enter → every reply visible, median of {args.repeat}):")
                print(f"  compare-a alone through the SDK          {result['sdk_alone']:.2f} s")
                print(f"  compare-a + demo-fast on /compare (one)  {result['one']:.2f} s  "
                      f"{[round(t, 2) for t in result['one_all']]}")
                print(f"  compare-a, b, c on /compare (three)      {result['three']:.2f} s  "
                      f"{[round(t, 2) for t in result['three_all']]}")
                print(f"  three / one = {result['three'] / result['one']:.2f}×   "
                      f"three / SDK alone = {result['three'] / result['sdk_alone']:.2f}×   (target ≤ 1.15×)")
        finally:
            proxy.stop()


if __name__ == "__main__":
    main()
