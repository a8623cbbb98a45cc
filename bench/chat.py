"""Chat streaming benchmark: the gateway against the raw `openai` SDK on the same proxy, in the same run.

- short reply: `demo-fast` (a LiteLLM mock, 3-character chunks, ~40 ms whole);
- swift reply: `swift-alpha` (55 words at ~90/s from the local upstream server, ~0.6 s: issue 23's "one short chat
  reply", whose whole reply visible should be within 1.1× the SDK's);
- long reply: `upstream-long` (3,000 tokens at ~2,000 tokens/s from the local upstream server, one endless paragraph:
  the worst case for the page, which can only re-send it whole);
- essay: `upstream-essay` (the same 3,000 tokens at the same rate, shaped like a real long reply: headings,
  paragraphs, lists, code blocks; the page draws finished blocks once).
For each, N alternating repetitions of: the raw SDK (stream with include_usage, read to the end) and the gateway
(`start_chat` + `ChatStream.batched()` as the page calls it, read to the end). Medians of time to first token and total, and the ratios.

With `--browser`, also the page: headless Chromium on /chat, from pressing Enter to the first and the last token
visible (timed in the page with a MutationObserver), against the SDK's numbers measured just before.

With `--pin` (a machine with at least 2 cores), the proxy gets core 0 to itself and everything else (this process,
the SDK client, the app, Chromium) the other cores, as when the proxy runs on its own server: on a 2-core machine
the CPU-bound proxy otherwise competes with the browser for the same cores, and that, not the page, sets the pace.

Run by hand: `python -m bench.chat [--repeat 7] [--browser] [--pin]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import openai  # noqa: E402

from gateway.chat import RESEND_RATE, start_chat  # noqa: E402
from gateway.config import Settings, load_settings  # noqa: E402
from gateway.models import ModelRecord  # noqa: E402
from gateway.params import ChatParams  # noqa: E402
from tests.support.proxy import Proxy, start_proxy  # noqa: E402
from tests.support.upstream import upstream_server  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = [{"role": "user", "content": "Hello"}]
CASES = {"short": ("demo-fast", "Hello! I am the fast demo model.", "Hel"),  # model, text seen last, the first token
         "swift": ("swift-alpha", "w54", "w0 "),
         "long": ("upstream-long", "w2999", "w0 "),
         "essay": ("upstream-essay", "w2999", "w0 ")}


@dataclass
class Timing:
    ttft: float
    total: float


def raw_sdk(client: openai.OpenAI, model: str) -> Timing:
    """The floor: the SDK's own stream, read to the end."""
    start = time.perf_counter()
    ttft = None
    stream = client.chat.completions.create(model=model, messages=MESSAGES, stream=True,
                                            stream_options={"include_usage": True})
    for chunk in stream:
        if ttft is None and chunk.choices and chunk.choices[0].delta.content:
            ttft = time.perf_counter() - start
    return Timing(ttft or float("nan"), time.perf_counter() - start)


def gateway(model: str, settings: Settings) -> Timing:
    """What the chat page does: start_chat, then the batched pieces."""
    record = ModelRecord(id=model, route="litellm", providers=("openai",))
    start = time.perf_counter()
    ttft = None
    stream = start_chat(record, MESSAGES, ChatParams(), settings)
    for _ in stream.batched(resend_rate=RESEND_RATE):
        if ttft is None:
            ttft = time.perf_counter() - start
    assert stream.error is None, stream.error
    return Timing(ttft or float("nan"), time.perf_counter() - start)


def median(timings: list[Timing]) -> Timing:
    return Timing(statistics.median(t.ttft for t in timings), statistics.median(t.total for t in timings))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms"


def run_sdk_vs_gateway(settings: Settings, proxy: Proxy, repeat: int) -> None:
    """The gateway as the page calls it against the raw SDK, alternating: medians and ratios."""
    client = openai.OpenAI(base_url=settings.api_base, api_key=proxy.master_key, max_retries=0)
    print(f"\nGateway against the raw SDK, median of {repeat}:")
    print(f"{'case':6} {'':8} {'TTFT':>10} {'total':>10}")
    for case, (model, _, _) in CASES.items():
        raw_sdk(client, model), gateway(model, settings)  # warm both paths
        raws, ours = [], []
        for _ in range(repeat):
            raws.append(raw_sdk(client, model))
            ours.append(gateway(model, settings))
        raw, our = median(raws), median(ours)
        print(f"{case:6} {'sdk':8} {ms(raw.ttft):>10} {ms(raw.total):>10}")
        print(f"{case:6} {'gateway':8} {ms(our.ttft):>10} {ms(our.total):>10}   "
              f"ratio TTFT {our.ttft / raw.ttft:.2f}×  total {our.total / raw.total:.2f}×  "
              f"(TTFT +{(our.ttft - raw.ttft) * 1000:.0f} ms)")


_OBSERVE = """([first, last]) => {
  window.__t = {};
  document.addEventListener('keydown', e => { if (e.key === 'Enter' && !window.__t.press) window.__t.press = performance.now(); }, true);
  new MutationObserver(() => {
    const replies = document.querySelectorAll("[data-testid='stChatMessage']");
    if (!window.__t.press) return;
    if (!window.__t.echo && replies.length >= 1 && replies[0].textContent.includes('Hello')) window.__t.echo = performance.now();
    if (replies.length < 2) return;
    const text = replies[replies.length - 1].textContent;
    if (!window.__t.first && text.includes(first)) window.__t.first = performance.now();
    if (!window.__t.last && text.includes(last)) window.__t.last = performance.now();
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def send_and_time(page: Page, first: str, last: str) -> dict[str, float]:
    """Send "Hello" from /chat's box with Enter; when the page showed it, `first` and `last` (`window.__t`: press,
    echo, first and last, in ms of the page's clock)."""
    page.evaluate(_OBSERVE, [first, last])
    box = page.locator("[data-testid='stChatInput'] textarea")
    box.fill("Hello")
    box.press("Enter")
    page.wait_for_function("window.__t.last", timeout=60_000)
    return page.evaluate("window.__t")


def run_browser(proxy: Proxy, repeat: int) -> None:
    """Pressing Enter to first and last token visible on /chat, in headless Chromium, on a warm app.

    Each page run is paired with a raw SDK stream of the same model run just before it (with the page loaded and
    idle), so a drift in the proxy's speed between runs does not skew the ratios: medians of the pairs.
    """
    from playwright.sync_api import sync_playwright

    from tests.support.app import proxy_env, start_app
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, wait_idle

    client = openai.OpenAI(base_url=f"{proxy.base_url}/v1", api_key=proxy.master_key, max_retries=0)
    app = start_app(proxy_env(proxy))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            print(f"\nBrowser (Enter → visible) against the raw SDK run just before, median of {repeat} pairs:")
            for case, (model, last, first) in CASES.items():
                firsts, lasts, echoes, sdk_ttfts, sdk_totals = [], [], [], [], []
                for index in range(repeat + 1):  # the first round warms the app and the page
                    context = browser.new_context(viewport={"width": 1400, "height": 900})
                    page = context.new_page()
                    page.goto(f"{app.url}/chat?model={model}")
                    wait_idle(page)
                    sdk = raw_sdk(client, model)
                    t = send_and_time(page, first, last)
                    if index:
                        firsts.append((t["first"] - t["press"]) / 1000 - sdk.ttft)
                        lasts.append((t["last"] - t["press"]) / 1000 / sdk.total)
                        echoes.append((t["echo"] - t["press"]) / 1000)
                        sdk_ttfts.append(sdk.ttft)
                        sdk_totals.append(sdk.total)
                    wait_idle(page)
                    context.close()
                print(f"{case:6} first token visible SDK TTFT +{statistics.median(firsts) * 1000:.0f} ms "
                      f"(SDK TTFT {ms(statistics.median(sdk_ttfts)).strip()})   "
                      f"last visible {statistics.median(lasts):.2f}× SDK total "
                      f"(SDK total {ms(statistics.median(sdk_totals)).strip()}; pairs {min(lasts):.2f}–{max(lasts):.2f}×)"
                      f"   [own prompt echoed {ms(statistics.median(echoes)).strip()}]")
            browser.close()
    finally:
        app.stop()


def pin(proxy: Proxy) -> None:
    """The proxy (and its children) on core 0; this process, and so all it starts later, on the other cores."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise SystemExit("--pin needs at least 2 cores")
    for pid in [proxy.process.pid, *_children(proxy.process.pid)]:
        pin_all_threads(pid, {cores[0]})
    os.sched_setaffinity(0, set(cores[1:]))
    print(f"pinned: proxy on core {cores[0]}, the rest on {cores[1:]}")


def pin_all_threads(pid: int, cores: set[int]) -> None:
    """Every thread of process `pid` on `cores` (sched_setaffinity(pid) alone moves only its main thread)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), cores)
        except ProcessLookupError:  # a thread that ended meanwhile
            pass


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in map(int, children):
            found += [child, *_children(child)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--browser", action="store_true", help="also time the page in headless Chromium")
    parser.add_argument("--pin", action="store_true", help="the proxy on core 0, everything else on the others")
    args = parser.parse_args()
    with upstream_server() as upstream:
        print("starting the proxy ...", flush=True)
        proxy = start_proxy(ROOT / "tests" / "proxy_config.yaml", env={"UPSTREAM_API_BASE": upstream})
        if args.pin:
            pin(proxy)
        try:
            settings = load_settings({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": proxy.base_url,
                                      "LITELLM_API_KEY": proxy.master_key}, secrets={}, dotenv_path=None)
            run_sdk_vs_gateway(settings, proxy, args.repeat)
            if args.browser:
                run_browser(proxy, args.repeat)
        finally:
            proxy.stop()


if __name__ == "__main__":
    main()
