"""App CPU per short chat reply against the floor page, in one run: the figure issue 23 asks for (goal ≤ 1.6×).

The app (`streamlit_app.py`, /chat) and the floor page (bench/floor_app.py) run side by side in front of one LiteLLM
proxy; each round, the app and then the floor take the gate's `cpu` load (bench/gate.py: 10 sessions through the
agent API, each past its first reply, then 6 short `demo-fast` follow-ups each, side by side, one whole cycle of
/chat's hand-over), and the CPU seconds each process spent per reply are read from /proc. Rounds alternate app and
floor, so a busy shared machine weighs on both; the figure is the median of the rounds' ratios.

The agent API builds a JSON snapshot of the whole page after every interaction (Streamlit 1.67,
`streamlit/runtime/agent/snapshot.py`), which browser sessions never pay (`agent_spec`: descriptions are built only
for agent sessions). `--tabs N` measures the same in N real Chromium tabs instead (no agent API; what a browser
session costs the app). `--profile` samples the app with py-spy during its rounds and prints where the time goes.
`--baseline REV` also runs the app as it was at git revision REV (exported to a temporary directory), in the same
rounds: before and after a change, measured in one run.

Run: `python -m bench.reply_cpu [--rounds 5] [--baseline main] [--profile] [--tabs 4]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import httpx

from bench.load import (
    SHORT,
    Profiler,
    browser_tabs,
    client_for,
    load_average,
    short_replies,
    start_app,
    summarise_profile,
    warmed_sessions,
)
from tests.support.proxy import start_proxy
from tests.support.upstream import upstream_server

ROOT = Path(__file__).resolve().parent.parent
SESSIONS, TURNS = 10, 6  # as bench/gate.py's `cpu` load
LISTED = 32  # chats saved before the rounds: the history sidebar lists its most (ui.history.LISTED, 30) throughout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="py-spy the app during its rounds")
    parser.add_argument("--tabs", type=int, default=0, help="also N Chromium tabs, 10 turns each (no agent API)")
    parser.add_argument("--baseline", help="a git revision of the app to measure beside this one")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="bench-reply-cpu-"))
    print(f"App CPU per short reply against the floor page; load average {load_average()}; logs in {directory}",
          flush=True)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    with upstream_server() as upstream:
        proxy = start_proxy(ROOT / "tests" / "proxy_config.yaml", env={"UPSTREAM_API_BASE": upstream}, timeout=300)
        services = []
        try:
            app = start_app(proxy, directory / "app")
            services.append(app)
            floor = start_app(proxy, directory / "floor", "bench/floor_app.py")
            services.append(floor)
            pages = {"app": (app, "chat"), "floor": (floor, None)}
            if args.baseline:
                checkout = directory / "baseline-src"
                checkout.mkdir()
                archive = subprocess.run(["git", "archive", args.baseline], cwd=ROOT, check=True, capture_output=True)
                subprocess.run(["tar", "-x", "-C", str(checkout)], input=archive.stdout, check=True)
                base = start_app(proxy, directory / "baseline", cwd=checkout)
                services.append(base)
                pages = {"baseline": (base, "chat"), **pages}
            clients = {name: client_for(service, limits) for name, (service, _) in pages.items()}
            for name, (service, page) in pages.items():  # warm: first runs, the proxy's first calls, and a full
                short_replies(service, warmed_sessions(clients[name], LISTED, page), 1)  # history list

            figures: dict[str, list[float]] = {name: [] for name in pages}
            for round_ in range(args.rounds):
                for name, (service, page) in pages.items():
                    opened = warmed_sessions(clients[name], SESSIONS, page)
                    if args.profile and name == "app":
                        with Profiler(service.process.pid, directory / f"profile-{round_}.txt"):
                            figures[name].append(short_replies(service, opened, TURNS))
                    else:
                        figures[name].append(short_replies(service, opened, TURNS))
                print(f"  round {round_ + 1}: " + ", ".join(
                    f"{name} {figures[name][-1] * 1000:.1f} ms ({figures[name][-1] / figures['floor'][-1]:.2f}×)"
                    for name in pages) + f" per reply  [load average {load_average()}]", flush=True)
            for name in pages:
                ratios = [a / f for a, f in zip(figures[name], figures["floor"])]
                print(f"agent API: {name} {statistics.median(figures[name]) * 1000:.1f} ms per short reply; "
                      f"against the floor, median {statistics.median(ratios):.2f}× "
                      f"(rounds {' '.join(f'{r:.2f}' for r in ratios)})", flush=True)
            if args.profile:
                merged = directory / "profile.txt"
                merged.write_text("".join(p.read_text() for p in sorted(directory.glob("profile-[0-9]*.txt"))))
                print(summarise_profile(merged, top=45))
            if args.tabs:
                tab_figures: dict[str, list[float]] = {name: [] for name in pages}
                for round_ in range(max(1, args.rounds // 2)):
                    for name, (service, page) in pages.items():
                        tabs = partial(browser_tabs, service, args.tabs, 10, page or "",
                                       f"Message {SHORT[0]}" if page else "Message")
                        if args.profile and name == "app":
                            with Profiler(service.process.pid, directory / f"tabs-profile-{round_}.txt"):
                                tab_figures[name].append(tabs()[0])
                        else:
                            tab_figures[name].append(tabs()[0])
                    print(f"  Chromium round {round_ + 1}: " + ", ".join(
                        f"{name} {tab_figures[name][-1] * 1000:.1f} ms "
                        f"({tab_figures[name][-1] / tab_figures['floor'][-1]:.2f}×)" for name in pages)
                        + f" per reply  [load average {load_average()}]", flush=True)
                for name in pages:
                    ratios = [a / f for a, f in zip(tab_figures[name], tab_figures["floor"])]
                    print(f"Chromium ({args.tabs} tabs): {name} {statistics.median(tab_figures[name]) * 1000:.1f} ms "
                          f"per short reply; against the floor, median {statistics.median(ratios):.2f}× "
                          f"(rounds {' '.join(f'{r:.2f}' for r in ratios)})", flush=True)
                if args.profile:
                    merged = directory / "tabs-profile.txt"
                    merged.write_text("".join(p.read_text() for p in sorted(directory.glob("tabs-profile-*.txt"))))
                    print("Chromium: " + summarise_profile(merged, top=45))
        finally:
            for service in services:
                service.stop()
            proxy.stop()
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"took {time.perf_counter() - started:.0f} s")
    sys.exit(code)
