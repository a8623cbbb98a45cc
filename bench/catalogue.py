"""Catalogue benchmark: a real proxy with 1,000 deployments.

Measures, in one run against the same proxy:
- raw: `httpx.get("/model/info").json()` (the floor: fetch + JSON parse);
- first load: `gateway.fetch_models()` with empty caches (fetch + parse + records);
- cached: `gateway.fetch_models()` again (what every rerun pays);
- page rerun: the Models page re-run with AppTest on a warm cache, and in headless Chromium (rerun after a
  filter change, to the script's idle state).
Also checks the catalogue is right: every name once, exact windows where the proxy knows them, estimates marked.

Run by hand: `python -m bench.catalogue [--deployments 1000] [--repeat 7]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import httpx  # noqa: E402
import yaml  # noqa: E402

from gateway import cache, catalogue  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from tests.support.proxy import start_proxy  # noqa: E402

PROVIDERS = ("openai", "anthropic", "mistral", "gemini", "groq", "deepinfra", "together_ai", "fireworks_ai",
             "xai", "deepseek", "perplexity", "cohere_chat")
ROOT = Path(__file__).resolve().parent.parent


def bench_config(deployments: int, per_name: int = 4) -> tuple[dict, dict[str, str]]:
    """A proxy config of `deployments` offline deployments, `per_name` per model name; and name → provider."""
    import litellm

    known = [(name, info["litellm_provider"]) for name, info in litellm.model_cost.items()
             if info.get("mode") == "chat" and info.get("litellm_provider") in PROVIDERS]
    names = deployments // per_name
    custom = max(1, names // 10)  # a tenth unknown to the price map: their windows must be estimated
    chosen = known[: names - custom] + [(f"team-finetune-{i}-32k", "openai") for i in range(custom)]
    model_list, expected = [], {}
    for name, provider in chosen:
        model = name if name.startswith(f"{provider}/") else f"{provider}/{name}"
        expected[name] = provider
        for i in range(per_name):
            model_list.append({"model_name": name, "litellm_params": {
                "model": model, "api_key": "fake", "mock_response": f"deployment {i}"}})
    return {"model_list": model_list, "router_settings": {"num_retries": 0}}, expected


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time of `fn()` in seconds, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def cold_load(settings):
    cache.clear_all()
    catalogue.clear_cache()
    return catalogue.fetch_models(settings)


def page_rerun_apptest(settings, repeat: int) -> float:
    from streamlit.testing.v1 import AppTest

    os.environ.update({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": settings.litellm_base_url,
                       "LITELLM_API_KEY": settings.litellm_api_key})
    at = AppTest.from_file(str(ROOT / "home.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/models.py").run()
    assert not at.exception, at.exception
    seconds, _ = timed(at.run, repeat)
    return seconds


def page_rerun_browser(settings, repeat: int) -> float | None:
    try:
        from playwright.sync_api import sync_playwright

        from tests.support.app import start_app
        from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, IDLE
    except ImportError:
        return None
    server = start_app({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": settings.litellm_base_url,
                        "LITELLM_API_KEY": settings.litellm_api_key})
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(server.url + "/models")
            page.wait_for_selector(IDLE, timeout=60_000)
            search = page.get_by_placeholder("name, provider or mode")
            times = []
            for i in range(repeat):
                start = time.perf_counter()
                search.fill("gpt" if i % 2 == 0 else "")
                search.press("Enter")
                page.wait_for_selector("[data-testid='stApp'][data-test-script-state='running']", timeout=10_000)
                page.wait_for_selector(IDLE, timeout=60_000)
                times.append(time.perf_counter() - start)
            browser.close()
        return statistics.median(times)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()

    config, expected = bench_config(args.deployments)
    path = Path(tempfile.mkstemp(suffix=".yaml")[1])
    path.write_text(yaml.safe_dump(config))
    started = time.perf_counter()
    proxy = start_proxy(path, timeout=600)
    print(f"proxy with {len(config['model_list'])} deployments / {len(expected)} names "
          f"started in {time.perf_counter() - started:.1f} s")
    try:
        settings = load_settings({"LITELLM_ENABLED": "1", "LITELLM_BASE_URL": proxy.base_url,
                                  "LITELLM_API_KEY": proxy.master_key}, secrets={}, dotenv_path=None)
        headers = {"Authorization": f"Bearer {proxy.master_key}"}
        with httpx.Client(base_url=proxy.base_url, headers=headers, timeout=60) as client:
            size = len(client.get("/model/info").content)
            raw, _ = timed(lambda: client.get("/model/info").json(), args.repeat)
        first, result = timed(lambda: cold_load(settings), args.repeat)
        cached, _ = timed(lambda: catalogue.fetch_models(settings), args.repeat * 3)

        models = {m.id: m for m in result.litellm_models}
        assert result.status == "live" and len(result.litellm_models) == len(models) == len(expected), \
            (len(result.litellm_models), len(expected))
        wrong = [n for n, p in expected.items() if p not in models[n].providers]
        sources = {s: sum(1 for m in models.values() if m.context_source == s) for s in ("proxy", "estimated", "unknown")}
        custom_ok = all(models[n].context_source == "estimated" for n in expected if n.startswith("team-finetune"))
        print(f"/model/info: {size / 1e6:.2f} MB; {len(models)} names listed once; providers wrong: {len(wrong)}; "
              f"context sources {sources}; unknown custom models estimated: {custom_ok}")
        print(f"raw httpx fetch+parse   {raw * 1000:8.1f} ms")
        print(f"first catalogue load    {first * 1000:8.1f} ms   ({first / raw:.2f}× raw; target ≤ 1.5×)")
        print(f"cached fetch_models()   {cached * 1000:8.3f} ms")
        apptest = page_rerun_apptest(settings, args.repeat)
        print(f"Models page rerun, warm cache (AppTest)   {apptest * 1000:8.1f} ms (target < 150 ms)")
        if not args.no_browser:
            browser = page_rerun_browser(settings, args.repeat)
            if browser is not None:
                print(f"Models page rerun, warm cache (Chromium, input → idle)   {browser * 1000:8.1f} ms")
    finally:
        proxy.stop()
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
