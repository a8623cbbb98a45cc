"""Load benchmark: many analysts chatting at once on one app process, against the raw `openai` SDK in the same run.

Sessions are driven without browsers through Streamlit's agent API (`--server.enableAgentApi true`, switched on here
only: the shipped config leaves it off). `POST /_stcore/agent/interact` with `{"page": "chat", "query_params":
{"model": [...]}}` opens a session on /chat; `{"session_id", "trigger": {"key": "chat_prompt", "value": prompt}}`
sends a prompt exactly as the chat box does (it reruns the conversation fragment) and returns when that run, and
so the streamed reply and everything the page does after it, has finished. The time of that call is the session's
whole-reply time. The app's own time to first token is read from the reply's caption (measured in the app process,
from sending the request to the first text); the browser adds its own delivery on top.

The app, the LiteLLM proxy (tests/proxy_config.yaml plus one bench model) and the local upstream server are
started with the test suite's helpers. Two models:
- slow: `stream-1`, 35 words at 10 words/s from the upstream (~3.5 s): the page's cost shows as added time;
- fast long: `load-long`, 600 tokens at ~600/s shaped as Markdown (headings, lists, code): many updates per reply.
For each model and each N, in the same run: N sessions opened (idle), then all send at once (per-session
whole-reply time; the slowest against one session alone), and N threads of the raw SDK streaming the same model at
once (TTFT and total; the slowest against one alone). App CPU seconds per reply come from /proc (utime + stime of
the app process over the sending phase, divided by the replies); the proxy's too.

Memory: RSS of the app process per idle session (opening the largest N), per 20-turn conversation (`--turns`
turns in each of 10 sessions with `demo-fast`), and in one session across `--long-turns` turns (200), against
the conversation's own text.

`--profile` samples the app with py-spy (`pip install py-spy`) during the 40-session run and prints where the time
goes (our own frames, inclusive). Take final numbers with the machine otherwise idle (`uptime` load below ~2).

Run by hand: `python -m bench.load [--counts 1,10,40,100] [--long-counts 1,10] [--profile]`.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import httpx  # noqa: E402
import openai  # noqa: E402
import yaml  # noqa: E402

from scripts.services import Service, app_healthy, free_port, launch, wait_until_ready  # noqa: E402
from tests.support.proxy import Proxy, start_proxy  # noqa: E402
from tests.support.upstream import upstream_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
INTERACT = "/_stcore/agent/interact"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BENCH_MODELS = [  # added to tests/proxy_config.yaml for this run only
    {"model_name": "load-long",
     "litellm_params": {"model": "openai/essay-600-600", "api_base": "os.environ/UPSTREAM_API_BASE", "api_key": "fake"},
     "model_info": {"max_input_tokens": 128000, "mode": "chat"}},
]
MODELS = {"slow": ("stream-1", 35), "long": ("load-long", 600)}  # name, words in a whole reply
SHORT = ("demo-fast", "Hello! I am the fast demo model.")  # the memory runs' model (a LiteLLM mock: instant)
WORD = re.compile(r"\bw\d+\b")


# --- the processes --------------------------------------------------------------------------------------------------

def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far, its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def bench_config() -> Path:
    """tests/proxy_config.yaml with the bench's own models added, beside it (its callback modules are found there);
    the caller deletes it."""
    config = yaml.safe_load((ROOT / "tests" / "proxy_config.yaml").read_text())
    config["model_list"] += BENCH_MODELS
    path = ROOT / "tests" / f".bench-load-{os.getpid()}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def start_app(proxy: Proxy, directory: Path, script: str = "streamlit_app.py", cwd: Path = ROOT) -> Service:
    """The app as `streamlit run streamlit_app.py` (or `script`: bench/floor_app.py for the floor), with the agent
    API on (here only) and room for every session. `cwd`: another checkout of the app (a baseline) to run."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LITELLM_", "OPENAI_", "ANTHROPIC_"))}
    env.update(LITELLM_ENABLED="true", LITELLM_BASE_URL=proxy.base_url, LITELLM_API_KEY=proxy.master_key,
               DATABASE_URL=f"sqlite:///{directory}/dashboard.db")
    argv = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
            "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
            "--server.enableAgentApi", "true", "--server.agentMaxSessions", "2000",
            "--server.agentWaitTimeout", "300", "--server.agentSessionTTL", "3600"]
    app = launch("streamlit", argv, f"http://127.0.0.1:{port}", env=env, cwd=cwd, log_path=directory / "app.log")
    wait_until_ready(app, app_healthy, 90)
    return app


# --- sessions through the agent API ---------------------------------------------------------------------------------

class Failed(RuntimeError):
    pass


@dataclass
class Turn:
    seconds: float  # the trigger call: the run, the streamed reply and everything after it
    words: int  # `w<n>` words in the reply
    ttft: float | None  # the app's own, from the reply's caption
    text_chars: int


def _nodes(tree: object) -> Iterator[dict]:
    if isinstance(tree, dict):
        yield tree
        for child in tree.get("children") or ():
            yield from _nodes(child)
    elif isinstance(tree, list):
        for child in tree:
            yield from _nodes(child)


def replies(snapshot: dict) -> list[str]:
    """The text of every assistant message on the page, in order."""
    return ["".join((n.get("props") or {}).get("body", "") for n in _nodes(message) if n.get("type") == "markdown")
            for message in _nodes(snapshot["tree"]) if message.get("type") == "chat_message"
            and (message.get("props") or {}).get("name") == "assistant"]


def last_reply(snapshot: dict) -> tuple[str, str]:
    """The last assistant message of the page: its text and its caption (or the error it shows)."""
    messages = [n for n in _nodes(snapshot["tree"]) if n.get("type") == "chat_message"
                and (n.get("props") or {}).get("name") == "assistant"]
    if not messages:
        return "", ""
    inside = list(_nodes(messages[-1]))
    text = "".join((n.get("props") or {}).get("body", "") for n in inside if n.get("type") == "markdown")
    notes = " ".join(str((n.get("props") or {}).get("body", "")) for n in inside
                     if n.get("type") in ("caption", "error", "warning"))
    return text, notes


class Session:
    """One analyst's browser tab on /chat (or `page`, with `query_params`; prompts go to the chat box `key`),
    without the browser."""

    def __init__(self, client: httpx.Client, model: str, page: str | None = "chat", *,
                 query_params: dict[str, list[str]] | None = None, key: str = "chat_prompt") -> None:
        self.client, self.model, self.key = client, model, key
        snapshot = self._post({**({"page": page} if page else {}),
                               "query_params": query_params or {"model": [model]}})
        self.id = snapshot["session_id"]

    def _post(self, body: dict) -> dict:
        response = self.client.post(INTERACT, json=body)
        if response.status_code != 200:
            raise Failed(f"{response.status_code}: {response.text[:300]}")
        snapshot = response.json()
        if snapshot.get("status") != "ready":
            raise Failed(f"status {snapshot.get('status')}: {json.dumps(snapshot)[:300]}")
        return snapshot

    def trigger(self, prompt: str) -> tuple[dict, float]:
        """Send a prompt; the page after the run it started, and the seconds until then."""
        started = time.perf_counter()
        snapshot = self._post({"session_id": self.id, "trigger": {"key": self.key, "value": prompt}})
        return snapshot, time.perf_counter() - started

    def send(self, prompt: str, *, words: int | None = None, text: str | None = None) -> Turn:
        snapshot, seconds = self.trigger(prompt)
        reply, notes = last_reply(snapshot)
        count = len(WORD.findall(reply))
        if (words is not None and count != words) or (text is not None and text not in reply):
            raise Failed(f"{self.model}: incomplete reply ({count} words): {reply[-120:]!r} {notes[:200]!r}")
        ttft = re.search(r"TTFT ([\d.]+) (m?s)", notes)
        return Turn(seconds, count, float(ttft.group(1)) / (1000 if ttft.group(2) == "ms" else 1) if ttft else None,
                    len(reply) + len(prompt))


def open_sessions(client: httpx.Client, model: str, n: int, workers: int = 4, page: str | None = "chat"
                  ) -> list[Session]:
    """n sessions on /chat (or `page`; None: the app's only page) with `model` picked, opened a few at a time
    (opening is not what is measured)."""
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda _: Session(client, model, page), range(n)))


def at_once(jobs: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    """Run every job in its own thread, all released together; results and failures."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)
    failures: list[BaseException] = []

    def run(index: int, job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[index] = job()
        except BaseException as exc:  # noqa: BLE001 - counted and reported
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None], failures


# --- the raw SDK ----------------------------------------------------------------------------------------------------

@dataclass
class Raw:
    ttft: float
    seconds: float


def raw_reply(client: openai.OpenAI, model: str, words: int, prompt: str) -> Raw:
    started = time.perf_counter()
    ttft, text = None, []
    stream = client.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}],
                                            stream=True, stream_options={"include_usage": True})
    for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                if ttft is None:
                    ttft = time.perf_counter() - started
                text.append(choice.delta.content)
    seconds = time.perf_counter() - started
    if len(WORD.findall("".join(text))) != words:
        raise Failed(f"raw {model}: incomplete reply")
    return Raw(ttft or seconds, seconds)


# --- measuring ------------------------------------------------------------------------------------------------------

@dataclass
class Row:
    model: str
    n: int
    app: list[float]
    app_ttft: list[float]
    raw: list[float]
    raw_ttft: list[float]
    cpu_per_reply: float
    proxy_cpu_per_reply: float
    failed: int
    raw_failed: int
    notes: list[str] = field(default_factory=list)


def p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


class Profiler:
    """py-spy sampling the app process while a phase runs (raw collapsed stacks)."""

    def __init__(self, pid: int, out: Path) -> None:
        self.pid, self.out, self.process = pid, out, None

    def __enter__(self) -> Profiler:
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.process = subprocess.Popen([spy, "record", "-p", str(self.pid), "-f", "raw", "-r", "100", "--gil",
                                         "-o", str(self.out)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # attached
        return self

    def __exit__(self, *_: object) -> None:
        assert self.process is not None
        self.process.send_signal(2)  # SIGINT: py-spy writes what it has
        self.process.wait(timeout=60)


def summarise_profile(path: Path, top: int = 30) -> str:
    """Inclusive share of samples per function of this repository (and a few of Streamlit's), busy threads only."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        if any(idle in frames[-1] for idle in ("wait (threading.py", "select (selectors.py", "_worker (concurrent",
                                                 "get (queue.py", "sleep", "(socket.py", "recv_into", "_wait_for")):
            continue  # idle threads
        total += int(count)
        seen = set()
        for frame in frames:
            name = re.sub(r":\d+\)$", ")", frame)
            if name in seen:
                continue
            seen.add(name)
            if any(part in name for part in ("/work/", "gateway/", "ui/", "pages/", "streamlit_app", "streamlit/")):
                inclusive[name] += int(count)
    lines = [f"{total} busy samples; inclusive share of our frames and Streamlit's:"]
    for name, count in inclusive.most_common(top):
        lines.append(f"  {count / max(total, 1):6.1%}  {name.replace(str(ROOT) + '/', '')}")
    return "\n".join(lines)


def measure(app: Service, proxy: Proxy, client: httpx.Client, sdk: openai.OpenAI, kind: str, n: int,
            profile: Path | None = None, page: str | None = "chat") -> Row:
    model, words = MODELS[kind]
    sessions = open_sessions(client, model, n, page=page)
    raw_results, raw_failures = at_once([lambda i=i: raw_reply(sdk, model, words, f"Count for me, analyst {i}.")
                                         for i in range(n)])
    cpu, proxy_cpu = proc_cpu(app.process.pid), proc_cpu(proxy.process.pid)
    jobs = [lambda s=s, i=i: s.send(f"Count for me, analyst {i}.", words=words) for i, s in enumerate(sessions)]
    if profile is not None:
        with Profiler(app.process.pid, profile):
            cpu = proc_cpu(app.process.pid)
            results, failures = at_once(jobs)  # type: ignore[arg-type]
    else:
        results, failures = at_once(jobs)  # type: ignore[arg-type]
    cpu, proxy_cpu = proc_cpu(app.process.pid) - cpu, proc_cpu(proxy.process.pid) - proxy_cpu
    turns = [r for r in results if isinstance(r, Turn)]
    raws = [r for r in raw_results if isinstance(r, Raw)]
    return Row(model, n, [t.seconds for t in turns], [t.ttft for t in turns if t.ttft is not None],
               [r.seconds for r in raws], [r.ttft for r in raws], cpu / max(1, len(turns)),
               proxy_cpu / max(1, len(turns)), len(failures), len(raw_failures),
               [str(f)[:200] for f in failures[:3] + raw_failures[:3]])


def alone(app: Service, proxy: Proxy, client: httpx.Client, sdk: openai.OpenAI, kind: str, repeat: int,
          page: str | None = "chat") -> Row:
    """One session at a time, `repeat` times: medians are the 'one alone' the others are compared with."""
    rows = [measure(app, proxy, client, sdk, kind, 1, page=page) for _ in range(repeat)]
    return Row(rows[0].model, 1, [statistics.median(x for r in rows for x in r.app)],
               [statistics.median(x for r in rows for x in r.app_ttft)] if rows[0].app_ttft else [],
               [statistics.median(x for r in rows for x in r.raw)],
               [statistics.median(x for r in rows for x in r.raw_ttft)],
               statistics.median(r.cpu_per_reply for r in rows), statistics.median(r.proxy_cpu_per_reply for r in rows),
               sum(r.failed for r in rows), sum(r.raw_failed for r in rows))


def memory(app: Service, client: httpx.Client, turns: int, sessions: int, long_turns: int) -> dict[str, object]:
    pid = app.process.pid
    model, text = SHORT
    # 20-turn conversations: `sessions` sessions, each `turns` turns (the sessions run side by side)
    opened = open_sessions(client, model, sessions)
    before = proc_rss_mb(pid)
    chars = [0] * sessions
    cpu = proc_cpu(pid)

    def converse(index: int) -> None:
        for turn in range(turns):
            chars[index] += opened[index].send(f"Question {turn} from analyst {index}: hello?", text=text).text_chars

    with ThreadPoolExecutor(sessions) as pool:
        list(pool.map(converse, range(sessions)))
    cpu = (proc_cpu(pid) - cpu) / (sessions * turns)
    per_conversation = (proc_rss_mb(pid) - before) / sessions
    # one long conversation
    session = Session(client, model)
    samples: list[tuple[int, float, int]] = []
    written = 0
    times: list[float] = []
    for turn in range(1, long_turns + 1):
        result = session.send(f"Long conversation, question {turn}: hello?", text=text)
        written += result.text_chars
        times.append(result.seconds)
        if turn in (10, 25, 50, 100, 150, 200) or turn == long_turns:
            samples.append((turn, proc_rss_mb(pid), written))
    return {"per_conversation": per_conversation, "chars": statistics.mean(chars), "cpu_short": cpu,
            "samples": samples, "turn_first": statistics.median(times[:10]), "turn_last": statistics.median(times[-10:])}


def short_cpu(app: Service, client: httpx.Client, sessions: int, turns: int, page: str | None = "chat") -> float:
    """App CPU seconds per short reply (demo-fast: instant, one line), `sessions` sessions side by side."""
    return short_replies(app, warmed_sessions(client, sessions, page), turns)


def warmed_sessions(client: httpx.Client, sessions: int, page: str | None = "chat") -> list[Session]:
    """Sessions with `SHORT`'s model picked, each past its first reply (a new chat's first reply is not a short
    reply's usual cost)."""
    opened = open_sessions(client, SHORT[0], sessions, page=page)
    for session in opened:
        session.send("Warm up: hello?", text=SHORT[1])
    return opened


def short_replies(app: Service, opened: list[Session], turns: int) -> float:
    """`turns` short replies in each session, the sessions side by side: the app's CPU seconds per reply."""
    cpu = proc_cpu(app.process.pid)
    with ThreadPoolExecutor(len(opened)) as pool:
        list(pool.map(lambda i: [opened[i].send(f"Question {t} from analyst {i}: hello?", text=SHORT[1])
                                 for t in range(turns)], range(len(opened))))
    return (proc_cpu(app.process.pid) - cpu) / (len(opened) * turns)


def floor(app: Service, proxy: Proxy, client: httpx.Client, sdk: openai.OpenAI, counts: list[int],
          repeat: int, tabs: int = 0) -> None:
    """The same measurements on bench/floor_app.py, the least a Streamlit chat page does per prompt: what remains
    there is Streamlit's, the SDK's and the agent API's own cost, which no page code can remove."""
    print("\nThe floor: bench/floor_app.py (a fragment with a prompt box; the SDK's reply drawn once)")
    measure(app, proxy, client, sdk, "slow", 2, page=None)  # warm
    base = alone(app, proxy, client, sdk, "slow", repeat, page=None)
    rows = [base] + [measure(app, proxy, client, sdk, "slow", n, page=None) for n in counts if n != 1]
    print_rows(rows, base)
    print(f"floor: app CPU per short reply ({SHORT[0]}, 10 sessions side by side) "
          f"{short_cpu(app, client, 10, 10, page=None) * 1000:.0f} ms")
    if tabs:
        cpu, turn = browser_tabs(app, tabs, 10, "", "Message")
        print(f"floor in Chromium: CPU per short reply ({tabs} tabs side by side, 10 turns each) "
              f"{cpu * 1000:.0f} ms; turn median {turn:.2f} s")


REPLY_SHOWN = """([prompt, reply]) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute("data-test-script-state") !== "notRunning") return false;
  const messages = [...document.querySelectorAll("[data-testid='stChatMessage']")];
  const asked = messages.findIndex(m => m.innerText.includes(prompt));
  return asked >= 0 && messages.slice(asked + 1).some(m => m.innerText.includes(reply));
}"""


def browser_tabs(app: Service, tabs: int, turns: int, path: str, placeholder: str,
                 model_reply: tuple[str, str] = SHORT) -> tuple[float, float]:
    """App CPU seconds per reply and the median turn time with `tabs` real Chromium tabs side by side, each
    sending `turns` prompts to `model_reply`'s model (all tabs send, then each waits for its reply's end on screen).
    No agent API here: what the app spends is what a browser session costs it (websocket deltas, no snapshots)."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

    model, reply = model_reply
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pages = [browser.new_context(viewport={"width": 1280, "height": 900}).new_page() for _ in range(tabs)]
            for page in pages:
                page.goto(f"{app.base_url}/{path}?model={model}")
                page.get_by_placeholder(placeholder).wait_for(timeout=90_000)
            times: list[float] = []
            cpu = proc_cpu(app.process.pid)
            for turn in range(-1, turns):  # turn -1 warms each tab up, unmeasured
                if turn == 0:
                    cpu = proc_cpu(app.process.pid)
                started = time.perf_counter()
                prompts = [f"Question {turn} from tab {i}: hello?" for i in range(tabs)]
                for page, prompt in zip(pages, prompts):
                    box = page.get_by_placeholder(placeholder)
                    box.fill(prompt)
                    box.press("Enter")
                for page, prompt in zip(pages, prompts):
                    page.wait_for_function(REPLY_SHOWN, arg=[prompt, reply], timeout=120_000, polling=20)
                    if turn >= 0:
                        times.append(time.perf_counter() - started)
            return (proc_cpu(app.process.pid) - cpu) / (tabs * turns), statistics.median(times)
        finally:
            browser.close()


def client_for(app: Service, limits: httpx.Limits) -> httpx.Client:
    return httpx.Client(base_url=app.base_url, timeout=httpx.Timeout(300, connect=30), limits=limits)


# --- the report -----------------------------------------------------------------------------------------------------

def print_rows(rows: list[Row], base: Row) -> None:
    print(f"\n{base.model}: one alone — app {base.app[0]:.2f} s (app TTFT "
          f"{base.app_ttft[0] if base.app_ttft else float('nan'):.2f} s), raw SDK {base.raw[0]:.2f} s "
          f"(TTFT {base.raw_ttft[0]:.2f} s); app CPU {base.cpu_per_reply * 1000:.0f} ms/reply, "
          f"proxy CPU {base.proxy_cpu_per_reply * 1000:.0f} ms/reply")
    print("    N  app median  p90     slowest (×alone)   app TTFT p50/max  |  raw median  slowest (×alone)  "
          "raw TTFT max  |  app/raw slowest  app CPU/reply  proxy CPU/reply  failed")
    for row in rows:
        slow, raw_slow = max(row.app, default=float("nan")), max(row.raw, default=float("nan"))
        print(f"  {row.n:3d}  {statistics.median(row.app) if row.app else float('nan'):7.2f} s  {p(row.app, .9):5.2f} s"
              f"  {slow:6.2f} s ({slow / base.app[0]:.2f}×)    {p(row.app_ttft, .5):5.2f} / {max(row.app_ttft, default=float('nan')):5.2f} s"
              f"  |  {statistics.median(row.raw) if row.raw else float('nan'):6.2f} s  {raw_slow:6.2f} s ({raw_slow / base.raw[0]:.2f}×)"
              f"      {max(row.raw_ttft, default=float('nan')):5.2f} s   |  {slow / raw_slow:5.2f}×"
              f"          {row.cpu_per_reply * 1000:6.0f} ms      {row.proxy_cpu_per_reply * 1000:6.0f} ms"
              f"        {row.failed} (raw {row.raw_failed})")
        for note in row.notes:
            print(f"        ! {note}")


TAB_MODEL = ("stream-1", "w33 w34")  # issue 23's tab load: 35 words at 10 words/s (~3.5 s alone)


def tabs_against_one(app: Service, tabs: int, rounds: int = 2, turns: int = 3) -> None:
    """Issue 23's browser measure: `tabs` Chromium tabs sending `stream-1` at once against one tab alone, alternated
    `rounds` times, `turns` turns each: the median turn of each, and their ratio (target ≤ 1.15× for 8 tabs)."""
    browser_tabs(app, 1, 1, "chat", f"Message {TAB_MODEL[0]}", TAB_MODEL)  # the page's first runs, unmeasured
    medians: dict[int, list[float]] = {1: [], tabs: []}
    for _ in range(rounds):
        for n in (1, tabs):
            cpu, turn = browser_tabs(app, n, turns, "chat", f"Message {TAB_MODEL[0]}", TAB_MODEL)
            medians[n].append(turn)
            print(f"  {n} tab(s): median turn {turn:.3f} s; app CPU per reply {cpu * 1000:.0f} ms; "
                  f"load average {load_average()}", flush=True)
    one, many = statistics.median(medians[1]), statistics.median(medians[tabs])
    print(f"{tabs} tabs at once / one tab ({TAB_MODEL[0]}, median turn): {many:.2f} s / {one:.2f} s = "
          f"{many / one:.3f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1,10,40,100", help="sessions at once, slow model")
    parser.add_argument("--long-counts", default="1,10", help="sessions at once, fast long model")
    parser.add_argument("--repeat", type=int, default=3, help="runs of one session alone (median)")
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--long-turns", type=int, default=200)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--tabs", type=int, default=0, help="also N real Chromium tabs (short replies, CPU/reply)")
    parser.add_argument("--tabs-vs-one", type=int, default=0, metavar="N",
                        help="only N Chromium tabs sending stream-1 at once against one tab (issue 23's 8-tab measure)")
    parser.add_argument("--floor", action="store_true",
                        help="then the same on bench/floor_app.py: Streamlit's own floor per session")
    parser.add_argument("--profile", action="store_true", help="py-spy the app during the 40-session run")
    args = parser.parse_args()
    counts = {"slow": [int(x) for x in args.counts.split(",") if x], "long": [int(x) for x in args.long_counts.split(",") if x]}

    directory = Path(tempfile.mkdtemp(prefix="bench-load-"))
    print(f"{os.cpu_count()} CPUs; load average {load_average()} at start; work files in {directory}")
    config = bench_config()
    with upstream_server() as upstream:
        try:
            proxy = start_proxy(config, env={"UPSTREAM_API_BASE": upstream}, timeout=300)
        finally:
            config.unlink()
        app = None
        try:
            app = start_app(proxy, directory)
            limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
            client = client_for(app, limits)
            sdk = openai.OpenAI(base_url=f"{proxy.base_url}/v1", api_key=proxy.master_key, max_retries=0,
                                http_client=httpx.Client(limits=limits, timeout=300))
            if args.tabs_vs_one:
                tabs_against_one(app, args.tabs_vs_one)
                return
            for kind in MODELS:  # warm: the pages' first runs, the proxy's first calls to each model
                measure(app, proxy, client, sdk, kind, 2)
            print(f"app RSS after warm-up {proc_rss_mb(app.process.pid):.0f} MB")
            for kind in MODELS:
                base = alone(app, proxy, client, sdk, kind, args.repeat)
                rows = [base]
                for n in counts[kind]:
                    if n == 1:
                        continue
                    idle_before = proc_rss_mb(app.process.pid)
                    profile = directory / f"profile-{kind}-{n}.txt" if args.profile and n == 40 else None
                    print(f"  [{kind} × {n}: load average {load_average()}]", flush=True)
                    row = measure(app, proxy, client, sdk, kind, n, profile)
                    rows.append(row)
                    if kind == "slow" and n == max(counts[kind]):
                        print(f"  RSS while {n} sessions sat idle: +{(proc_rss_mb(app.process.pid) - idle_before):.1f}"
                              " MB after their reply (see the memory part for idle sessions alone)")
                    if profile is not None and profile.exists():
                        print(summarise_profile(profile))
                print_rows(rows, base)
            if not args.no_memory:
                before = proc_rss_mb(app.process.pid)
                idle = open_sessions(client, SHORT[0], 50)
                per_idle = (proc_rss_mb(app.process.pid) - before) / len(idle)
                result = memory(app, client, args.turns, 10, args.long_turns)
                print(f"\nMemory (app RSS): {per_idle:.2f} MB per idle session (50 opened); "
                      f"{result['per_conversation']:.2f} MB per {args.turns}-turn conversation "
                      f"({result['chars']:,.0f} characters of text each); app CPU per short reply "
                      f"({SHORT[0]}, 10 sessions side by side) {result['cpu_short'] * 1000:.0f} ms")  # type: ignore[operator]
                samples = result["samples"]
                print(f"One conversation, {args.long_turns} turns: turn time median of the first 10 "
                      f"{result['turn_first']:.3f} s, of the last 10 {result['turn_last']:.3f} s")  # type: ignore[index]
                for turn, rss, written in samples:  # type: ignore[attr-defined]
                    print(f"  after turn {turn:3d}: RSS {rss:7.1f} MB   text so far {written / 1024:6.1f} KB")
                first, last = samples[0], samples[-1]  # type: ignore[index]
                print(f"  growth from turn {first[0]} to {last[0]}: {last[1] - first[1]:+.1f} MB for "
                      f"{(last[2] - first[2]) / 1024:.1f} KB more text")
            print(f"\napp RSS at the end {proc_rss_mb(app.process.pid):.0f} MB; load average {load_average()}")
            if args.floor:
                print(f"app: CPU per short reply ({SHORT[0]}, 10 sessions side by side) "
                      f"{short_cpu(app, client, 10, 10) * 1000:.0f} ms")
            if args.tabs:
                cpu, turn = browser_tabs(app, args.tabs, 10, "chat", f"Message {SHORT[0]}")
                print(f"app in Chromium: CPU per short reply ({args.tabs} tabs side by side, 10 turns each) "
                      f"{cpu * 1000:.0f} ms; turn (all tabs sent → each reply shown) median {turn:.2f} s")
            if args.floor:
                app.stop()
                app = start_app(proxy, Path(tempfile.mkdtemp(prefix="floor-", dir=directory)), "bench/floor_app.py")
                floor(app, proxy, client_for(app, limits), sdk, counts["slow"], args.repeat, args.tabs)
        finally:
            if app is not None:
                app.stop()
            proxy.stop()


if __name__ == "__main__":
    main()
