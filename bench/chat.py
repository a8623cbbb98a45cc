"""Chat streaming benchmark: the gateway against the raw `openai` SDK on the same proxy, in the same run.

- short reply: `demo-fast` (a LiteLLM mock, 3-character chunks);
- long reply: `upstream-long` (3,000 tokens at ~2,000 tokens/s from the local upstream server).
For each, N alternating repetitions of: the raw SDK (stream with include_usage, read to the end) and the gateway
(`start_chat` + `ChatStream.batched()` as the page calls it, read to the end). Medians of time to first token and total, and the ratios.

With `--browser`, also the page: headless Chromium on /chat, from pressing Enter to the first and the last token
visible (timed in the page with a MutationObserver), against the SDK's numbers measured just before.

Run by hand: `python -m bench.chat [--repeat 7] [--browser]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import openai  # noqa: E402

from gateway.chat import RESEND_RATE, ChatParams, start_chat  # noqa: E402
from gateway.config import Settings, load_settings  # noqa: E402
from gateway.models import ModelRecord  # noqa: E402
from tests.support.proxy import Proxy, start_proxy  # noqa: E402
from tests.support.upstream import upstream_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = [{"role": "user", "content": "Hello"}]
CASES = {"short": ("demo-fast", "Hello! I am the fast demo model.", "Hello!"),
         "long": ("upstream-long", "w2999", "w0 ")}  # model, text seen last, text seen first


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


def run_sdk_vs_gateway(settings: Settings, proxy: Proxy, repeat: int) -> dict[str, Timing]:
    client = openai.OpenAI(base_url=settings.api_base, api_key=proxy.master_key, max_retries=0)
    sdk_medians = {}
    print(f"\nGateway against the raw SDK, median of {repeat}:")
    print(f"{'case':6} {'':8} {'TTFT':>10} {'total':>10}")
    for case, (model, _, _) in CASES.items():
        raw_sdk(client, model), gateway(model, settings)  # warm both paths
        raws, ours = [], []
        for _ in range(repeat):
            raws.append(raw_sdk(client, model))
            ours.append(gateway(model, settings))
        raw, our = median(raws), median(ours)
        sdk_medians[case] = raw
        print(f"{case:6} {'sdk':8} {ms(raw.ttft):>10} {ms(raw.total):>10}")
        print(f"{case:6} {'gateway':8} {ms(our.ttft):>10} {ms(our.total):>10}   "
              f"ratio TTFT {our.ttft / raw.ttft:.2f}×  total {our.total / raw.total:.2f}×  "
              f"(TTFT +{(our.ttft - raw.ttft) * 1000:.0f} ms)")
    return sdk_medians


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


def run_browser(proxy: Proxy, sdk: dict[str, Timing], repeat: int) -> None:
    """Pressing Enter to first and last token visible on /chat, in headless Chromium, on a warm app."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, proxy_env, start_app, wait_idle

    app = start_app(proxy_env(proxy))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            print(f"\nBrowser (Enter → visible), median of {repeat}, against the SDK medians above:")
            for case, (model, last, first) in CASES.items():
                firsts, lasts, echoes = [], [], []
                for index in range(repeat + 1):  # the first round warms the app and the page
                    context = browser.new_context(viewport={"width": 1400, "height": 900})
                    page = context.new_page()
                    page.goto(f"{app.url}/chat?model={model}")
                    wait_idle(page)
                    page.evaluate(_OBSERVE, [first, last])
                    box = page.locator("[data-testid='stChatInput'] textarea")
                    box.fill("Hello")
                    box.press("Enter")
                    page.wait_for_function("window.__t.last", timeout=60_000)
                    t = page.evaluate("window.__t")
                    if index:
                        firsts.append((t["first"] - t["press"]) / 1000)
                        lasts.append((t["last"] - t["press"]) / 1000)
                        echoes.append((t["echo"] - t["press"]) / 1000)
                    context.close()
                first_s, last_s = statistics.median(firsts), statistics.median(lasts)
                print(f"{case:6} first visible {ms(first_s)} (SDK TTFT {ms(sdk[case].ttft).strip()}, "
                      f"+{(first_s - sdk[case].ttft) * 1000:.0f} ms)   last visible {ms(last_s)} "
                      f"(SDK total {ms(sdk[case].total).strip()}, {last_s / sdk[case].total:.2f}×)"
                      f"   [own prompt echoed {ms(statistics.median(echoes)).strip()}: the page's floor]")
            browser.close()
    finally:
        app.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--browser", action="store_true", help="also time the page in headless Chromium")
    args = parser.parse_args()
    with upstream_server() as upstream:
        print("starting the proxy ...", flush=True)
        proxy = start_proxy(ROOT / "tests" / "proxy_config.yaml", env={"UPSTREAM_API_BASE": upstream})
        try:
            settings = load_settings({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": proxy.base_url,
                                      "LITELLM_API_KEY": proxy.master_key}, secrets={}, dotenv_path=None)
            sdk = run_sdk_vs_gateway(settings, proxy, args.repeat)
            if args.browser:
                run_browser(proxy, sdk, args.repeat)
        finally:
            proxy.stop()


if __name__ == "__main__":
    main()
