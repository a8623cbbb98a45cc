"""API benchmark: `GET /api/models` on a real proxy with 1,000 deployments, and what API traffic costs the pages.

Measures, in one run against the same proxy and the same app server (`streamlit run streamlit_app.py`):
- `GET /api/models/catalogue` (every field) and `GET /api/models` (the guide's array), warm (the catalogue cached),
  over HTTP keep-alive: median and p95, plain and gzip, back to back (GETs within a second share a catalogue read and
  an answer) and one a second (each reads and answers alone);
  beside the same server's own `/_stcore/health` (the HTTP floor of this server) and the proxy's own
  `GET /v1/models` (LiteLLM's list of the same 1,000 deployments), for ratios;
- a Models page rerun in headless Chromium (filter change → the new count shown, the script idle): alone, while 50
  `GET /api/models` are sent at once from another process, and (the floor) while 50 `GET /_stcore/health` are; in
  rotating order, the median of each and its ratio to the rerun alone.

Run by hand: `python -m bench.api [--deployments 1000] [--repeat 200] [--rounds 9] [--proxy URL]`.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import httpx  # noqa: E402
import yaml  # noqa: E402

from bench.catalogue import bench_config  # noqa: E402
from tests.support.app import start_app  # noqa: E402
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, IDLE  # noqa: E402
from tests.support.proxy import Proxy, start_proxy  # noqa: E402

CAPTION = """() => [...document.querySelectorAll("[data-testid='stCaptionContainer']")]
    .map(e => e.innerText).find(text => / models match/.test(text)) || null"""  # "N of M models match."
SHOWN = f"""([before, idle]) => {{
    const caption = ({CAPTION})();
    return caption !== null && caption !== before && document.querySelector(idle) !== null;
}}"""


def timings(client: httpx.Client, path: str, repeat: int, **kwargs) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path, **kwargs)
        response.read()
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text[:300]
    return times


def static_file_like(size: int) -> str:
    """The URL of the file Streamlit serves whose size is nearest `size` (the HTTP floor for an answer that big)."""
    import streamlit

    media = Path(streamlit.__file__).parent / "static" / "static" / "media"
    nearest = min(media.iterdir(), key=lambda f: abs(f.stat().st_size - size))
    return f"/static/media/{nearest.name}"


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    return (f"median {statistics.median(times) * 1000:7.2f} ms   p95 {ordered[int(0.95 * (len(ordered) - 1))] * 1000:7.2f}"
            f" ms   ({len(times)} requests)")


# --- 50 GETs at once, from another process ------------------------------------------------------------------------


def burst_worker(url: str, count: int, conn) -> None:
    """Wait for a path, send `count` GETs of it at once, answer with the seconds until the last one ended."""

    async def burst(client: httpx.AsyncClient, path: str) -> float:
        start = time.perf_counter()
        answers = await asyncio.gather(*(client.get(path) for _ in range(count)))
        assert all(a.status_code == 200 for a in answers)
        return time.perf_counter() - start

    async def serve() -> None:
        # idle connections are dropped before the server's own keep-alive timeout (5 s) closes them under us
        limits = httpx.Limits(max_connections=count, max_keepalive_connections=count, keepalive_expiry=1.0)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
            await burst(client, "/api/models/catalogue")  # the first answer is made before anything is measured
            conn.send("ready")
            while (path := conn.recv()) is not None:
                conn.send(await burst(client, path))

    asyncio.run(serve())


BURSTS = (None, "/_stcore/health", "/api/models/catalogue")  # alone; Streamlit's own cheapest answer (the floor); the API


def page_reruns(url: str, rounds: int, concurrency: int) -> tuple[dict, dict]:
    """Models page reruns in Chromium: alone, and with `concurrency` GETs of /_stcore/health or /api/models sent
    as the rerun starts, in rotating order; every rerun's seconds by burst, and how long each burst took."""
    from playwright.sync_api import sync_playwright

    parent, child = mp.Pipe()
    worker = mp.get_context("spawn").Process(target=burst_worker, args=(url, concurrency, child), daemon=True)
    worker.start()
    assert parent.recv() == "ready"
    reruns: dict = {burst: [] for burst in BURSTS}
    bursts: dict = {burst: [] for burst in BURSTS[1:]}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url + "/models")
            page.wait_for_selector(IDLE, timeout=60_000)
            search = page.get_by_placeholder("name, provider or mode")

            def rerun(i: int, burst: str | None) -> float:
                """Change the search and press Enter; done when the new count is shown and the script is idle
                (a short run can end before its "running" state could be seen)."""
                before = page.evaluate(CAPTION)
                assert before, "the Models page shows no count"
                search.fill("gpt" if i % 2 == 0 else "")
                start = time.perf_counter()
                search.press("Enter")
                if burst:
                    parent.send(burst)
                page.wait_for_function(SHOWN, arg=[before, IDLE], timeout=60_000)
                took = time.perf_counter() - start
                if burst:
                    bursts[burst].append(parent.recv())
                return took

            for i in range(2):  # warm up: the page, the filter's cache entries
                rerun(i, None)
            for i in range(rounds):
                shift = i % len(BURSTS)
                for j, burst in enumerate(BURSTS[shift:] + BURSTS[:shift]):
                    reruns[burst].append(rerun(len(BURSTS) * i + j, burst))
            browser.close()
    finally:
        parent.send(None)
        worker.join(5)
        if worker.is_alive():
            worker.kill()
    return reruns, bursts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=9, help="reruns of each kind (alone, floor, API)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--spaced", type=int, default=20, help="GETs sent one a second")
    parser.add_argument("--proxy", help="the URL of a bench proxy already running (tests' master key)")
    args = parser.parse_args()

    config, expected = bench_config(args.deployments)
    path = Path(tempfile.mkstemp(suffix=".yaml")[1])
    path.write_text(yaml.safe_dump(config))
    started = time.perf_counter()
    proxy = Proxy("litellm", args.proxy, None, path) if args.proxy else start_proxy(path, timeout=600)  # type: ignore[arg-type]
    print(f"proxy with {len(config['model_list'])} deployments / {len(expected)} names "
          f"started in {time.perf_counter() - started:.1f} s")
    app = None
    try:
        app = start_app({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": proxy.base_url,
                         "LITELLM_API_KEY": proxy.master_key, "MODELS_CACHE_TTL": "3600"})
        with httpx.Client(base_url=app.url, timeout=60) as client, \
                httpx.Client(base_url=proxy.base_url, timeout=60,
                             headers={"Authorization": f"Bearer {proxy.master_key}"}) as raw:
            start = time.perf_counter()
            first = client.get("/api/models/catalogue")
            cold = time.perf_counter() - start
            body = first.json()
            assert body["proxyModels"] == len(expected), (body["proxyModels"], len(expected))
            guide = client.get("/api/models")
            print(f"GET /api/models/catalogue cold (fetches /model/info)  {cold * 1000:8.1f} ms; {body['total']} "
                  f"models, {len(first.content) / 1e3:.0f} kB of JSON (the guide's array: {len(guide.json())} "
                  f"models, {len(guide.content) / 1e3:.0f} kB)")
            plain = timings(client, "/api/models/catalogue", args.repeat, headers={"Accept-Encoding": "identity"})
            gzip = timings(client, "/api/models/catalogue", args.repeat, headers={"Accept-Encoding": "gzip"})
            guide_plain = timings(client, "/api/models", args.repeat, headers={"Accept-Encoding": "identity"})
            filtered = timings(client, "/api/models/catalogue?provider=openai&min_context=100000", args.repeat)
            spaced = []  # one GET a second: each reads the catalogue's cache itself and makes its answer
            for _ in range(args.spaced):
                time.sleep(1.1)
                spaced += timings(client, "/api/models/catalogue", 1, headers={"Accept-Encoding": "identity"})
            floor = timings(client, "/_stcore/health", args.repeat)
            static = static_file_like(len(first.content))
            same_size = timings(client, static, args.repeat)
            litellm = timings(raw, "/v1/models", max(20, args.repeat // 10))
        print(f"GET /api/models/catalogue warm, identity   {summary(plain)}   (target ≤ 20 ms median)")
        print(f"GET /api/models/catalogue warm, gzip       {summary(gzip)}")
        print(f"GET /api/models (the guide's array) warm   {summary(guide_plain)}")
        print(f"GET /api/models/catalogue?provider&min_context {summary(filtered)}")
        print(f"GET /api/models/catalogue warm, one a second {summary(spaced)}   (no read or answer shared)")
        print(f"GET /_stcore/health (same server) {summary(floor)}")
        print(f"GET {static} (a static file of about the same size, same server) {summary(same_size)}")
        print(f"proxy GET /v1/models (LiteLLM)   {summary(litellm)}")
        median = statistics.median(plain)
        print(f"ratios: /api/models/catalogue is {median / statistics.median(floor):.1f}× the server's own health check, "
              f"{median / statistics.median(same_size):.1f}× its static file of the same size, "
              f"{median / statistics.median(litellm):.3f}× LiteLLM's own /v1/models")

        reruns, bursts = page_reruns(app.url, args.rounds, args.concurrency)
        alone = statistics.median(reruns[None])
        print(f"Models page rerun (Chromium, Enter → new count shown, idle), median of {args.rounds}:")
        for burst in BURSTS:
            took = statistics.median(reruns[burst])
            during = f"with {args.concurrency} GET {burst} at once" if burst else "alone"
            answered = f"; the GETs all answered in {statistics.median(bursts[burst]) * 1000:.0f} ms" if burst else ""
            print(f"  {during:42s} {took * 1000:7.1f} ms  {took / alone:.2f}×{answered}  "
                  f"{[round(t * 1000) for t in reruns[burst]]}")
        print("  (target: ≤ 1.10× with /api/models; /_stcore/health is Streamlit's own floor for a burst of requests)")
    finally:
        if app is not None:
            app.stop()
        if not args.proxy:
            proxy.stop()
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
