"""Reasoning benchmark: a 5,000-token thought, then a 1,000-token answer (`upstream-think-long`, ~2,000 tokens/s
from the local upstream; the proxy's own pace, ~650 tokens/s on one core here, sets the real one), the gateway
against the raw `openai` SDK on the same proxy, in the same run.

- engine: `start_chat` + `ChatStream.batched()` as the chat page reads it (the thinking gathered and yielded as
  updates too) against the SDK's stream read to the end: median totals and their ratio;
- `--browser`: the chat page in headless Chromium (bench/chat.py's `run_browser`: Enter → the answer's last token
  visible, each page run paired with an SDK run just before it): the thinking streams into its box, then folds
  away as the answer streams; the ratio is the answer complete on the page over the SDK's total. Then the first
  thought: Enter → the first thinking token visible on the page, against the SDK's first reasoning delta (the
  issue's bound: within 0.3 s), with `upstream-think` (60 thoughts at 40/s).

Run by hand: `python -m bench.reasoning [--repeat 5] [--browser] [--pin]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import openai  # noqa: E402

from bench import chat as chat_bench  # noqa: E402
from gateway.chat import RESEND_RATE, start_chat  # noqa: E402
from gateway.config import Settings, load_settings  # noqa: E402
from gateway.models import ModelRecord  # noqa: E402
from gateway.params import ChatParams  # noqa: E402
from tests.support.proxy import Proxy, start_proxy  # noqa: E402
from tests.support.upstream import upstream_server  # noqa: E402

MODEL = "upstream-think-long"
MESSAGES = [{"role": "user", "content": "Think it through"}]


def raw_sdk(client: openai.OpenAI) -> float:
    """The floor: the SDK's own stream read to the end (thinking deltas and all)."""
    start = time.perf_counter()
    for _ in client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True,  # type: ignore[arg-type]
                                            stream_options={"include_usage": True}):
        pass
    return time.perf_counter() - start


def gateway(settings: Settings) -> float:
    """What the chat page does with the stream, to its end."""
    record = ModelRecord(id=MODEL, route="litellm", providers=("openai",))
    start = time.perf_counter()
    stream = start_chat(record, MESSAGES, ChatParams(), settings)
    for _ in stream.batched(resend_rate=RESEND_RATE):
        pass
    assert stream.error is None and stream.reply.thinking.count("t") == 5000, stream.reply.error
    assert stream.text.endswith("w999 "), "the whole answer"
    return time.perf_counter() - start


def sdk_first_thought(client: openai.OpenAI, model: str) -> float:
    """Seconds from sending to the SDK's first reasoning delta."""
    start = time.perf_counter()
    found = float("nan")
    for chunk in client.chat.completions.create(model=model, messages=MESSAGES, stream=True,  # type: ignore[arg-type]
                                                stream_options={"include_usage": True}):
        if found != found and chunk.choices and (chunk.choices[0].delta.model_extra or {}).get("reasoning_content"):
            found = time.perf_counter() - start
    return found


def run_first_thought(proxy: Proxy, repeat: int, model: str = "upstream-think") -> None:
    """Enter → the first thought visible on /chat, against the SDK's first reasoning delta run just before."""
    from playwright.sync_api import sync_playwright

    from tests.support.app import proxy_env, start_app
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, wait_idle

    client = openai.OpenAI(base_url=f"{proxy.base_url}/v1", api_key=proxy.master_key, max_retries=0)
    app = start_app(proxy_env(proxy))
    lags = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for index in range(repeat + 1):  # the first round warms the app and the page
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"{app.url}/chat?model={model}")
                wait_idle(page)
                sdk = sdk_first_thought(client, model)
                t = chat_bench.send_and_time(page, "t0 ", "w0 ")
                if index:
                    lags.append((t["first"] - t["press"]) / 1000 - sdk)
                wait_idle(page)
                page.close()
            browser.close()
    finally:
        app.stop()
    print(f"\nFirst thought visible on /chat: SDK's first reasoning delta +{statistics.median(lags) * 1000:.0f} ms "
          f"(median of {repeat} pairs; {min(lags) * 1000:.0f}–{max(lags) * 1000:.0f} ms)")


def run_engine(settings: Settings, proxy: Proxy, repeat: int) -> None:
    client = openai.OpenAI(base_url=settings.api_base, api_key=proxy.master_key, max_retries=0)
    raw_sdk(client), gateway(settings)  # warm both paths
    raws, ours = [], []
    for _ in range(repeat):
        raws.append(raw_sdk(client))
        ours.append(gateway(settings))
    ratios = [o / r for o, r in zip(ours, raws, strict=True)]
    print(f"\nEngine, median of {repeat} alternating pairs: SDK {statistics.median(raws):.2f} s, gateway "
          f"{statistics.median(ours):.2f} s: {statistics.median(ratios):.3f}× (pairs {min(ratios):.3f}–"
          f"{max(ratios):.3f}×)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--browser", action="store_true", help="also time the chat page in headless Chromium")
    parser.add_argument("--first-thought", action="store_true", help="only the first thought on the page")
    parser.add_argument("--pin", action="store_true", help="the proxy on core 0, everything else on the others")
    args = parser.parse_args()
    with upstream_server() as upstream:
        print("starting the proxy ...", flush=True)
        proxy = start_proxy(chat_bench.ROOT / "tests" / "proxy_config.yaml", env={"UPSTREAM_API_BASE": upstream})
        if args.pin:
            chat_bench.pin(proxy)
        try:
            settings = load_settings({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": proxy.base_url,
                                      "LITELLM_API_KEY": proxy.master_key}, secrets={}, dotenv_path=None)
            if args.first_thought:
                run_first_thought(proxy, args.repeat)
                return
            run_engine(settings, proxy, args.repeat)
            if args.browser:
                chat_bench.CASES = {"reason": (MODEL, "w999", "w0 ")}  # the answer's first and last tokens
                chat_bench.run_browser(proxy, args.repeat)
                run_first_thought(proxy, args.repeat)
        finally:
            proxy.stop()


if __name__ == "__main__":
    main()
