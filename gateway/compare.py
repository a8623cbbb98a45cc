"""Compare: send one conversation to several models at once and keep each model's thread.

`CompareRun` streams every model in its own worker thread (a `ChatStream` from `start_chat` each), so a slow or
failing model never holds up the others. Workers never touch Streamlit: they write into `Reply` records under a
lock, and the page's script thread waits on `wait()` and draws `snapshot()`. `stop()` ends every stream at once and
keeps the partial replies. A `Comparison` is the conversation so far: its rounds, and each model's own thread.
"""

from __future__ import annotations

import copy
import json
import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

import openai
import pandas as pd

from gateway.chat import ChatParams, ChatStream, ReplyMetrics, build_messages, client_for, start_chat
from gateway.config import Settings
from gateway.errors import map_error
from gateway.models import ModelRecord

MIN_MODELS, MAX_MODELS = 2, 6
Status = Literal["waiting", "streaming", "done", "failed", "stopped"]


@dataclass
class Reply:
    """One model's answer to one prompt: the text so far, its numbers, and how it ended."""

    model: str  # catalogue key
    text: str = ""
    status: Status = "waiting"
    metrics: ReplyMetrics | None = None  # set when the reply ends
    error: str | None = None  # safe to show (secrets redacted)
    hint: str = ""
    run: int = 1  # which repeat this is, from 1

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "stopped")


@dataclass(frozen=True)
class Job:
    """What one worker sends: the model, the messages, the parameters, and how many times."""

    model: ModelRecord
    messages: list[dict[str, str]]
    params: ChatParams
    repeats: int = 1


class CompareRun:
    """Every job streaming at once, one worker thread each; read it from one thread with `wait()`/`snapshot()`."""

    def __init__(self, jobs: Sequence[Job], settings: Settings) -> None:
        self.jobs = list(jobs)
        self.settings = settings
        self.started = 0.0
        self._changed = threading.Condition()
        self._current = {job.model.key: Reply(job.model.key) for job in self.jobs}
        self._runs: dict[str, list[Reply]] = {job.model.key: [] for job in self.jobs}
        self._streams: dict[str, ChatStream] = {}
        self._stopping = False
        self._threads: list[threading.Thread] = []

    def start(self) -> CompareRun:
        """Start one worker per model. Clients are looked up here, in the caller's thread."""
        clients = {job.model.key: self._client(job.model) for job in self.jobs}
        self.started = time.perf_counter()
        for job in self.jobs:
            thread = threading.Thread(target=self._work, args=(job, clients[job.model.key]),
                                      name=f"compare-{job.model.key}", daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    @property
    def done(self) -> bool:
        with self._changed:
            return self._finished()

    @property
    def progress(self) -> tuple[int, int]:
        """Replies finished, out of all the replies asked for."""
        with self._changed:
            return sum(len(runs) for runs in self._runs.values()), sum(job.repeats for job in self.jobs)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every reply has ended (or `timeout` passed); True when they have."""
        with self._changed:
            return self._changed.wait_for(self._finished, timeout)

    def snapshot(self) -> dict[str, Reply]:
        """A copy of every model's latest reply (the one streaming now, or the last one)."""
        with self._changed:
            return {key: copy.copy(reply) for key, reply in self._current.items()}

    def runs(self) -> dict[str, list[Reply]]:
        """Every finished reply per model, in order (several when repeated)."""
        with self._changed:
            return {key: list(runs) for key, runs in self._runs.items()}

    def stop(self) -> None:
        """End every stream now, keeping what has arrived. Safe to call twice, or after the end."""
        with self._changed:
            if self._stopping:
                return
            self._stopping = True
            streams = dict(self._streams)
        for stream in streams.values():
            stream.stop()  # closes the response: its numbers get their total and finish reason "stopped"
        elapsed = time.perf_counter() - self.started
        with self._changed:
            for key, reply in self._current.items():
                if not reply.finished:
                    stream = streams.get(key)
                    reply.metrics = (copy.copy(stream.metrics) if stream is not None
                                     else ReplyMetrics(model=key, total=elapsed))
                    reply.metrics.finish_reason = "stopped"
                    reply.status = "stopped"
                    self._runs[key].append(reply)
            self._changed.notify_all()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the workers; True when all have ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def _client(self, model: ModelRecord) -> openai.OpenAI | None:
        return client_for(model, self.settings) if model.available else None

    def _work(self, job: Job, client: openai.OpenAI | None) -> None:
        for run in range(1, job.repeats + 1):
            if not self._stream_one(job, client, run):
                return

    def _stream_one(self, job: Job, client: openai.OpenAI | None, run: int) -> bool:
        """One reply, start to end; False once the run is stopped."""
        key = job.model.key
        reply = Reply(key, run=run)
        with self._changed:
            if self._stopping:
                return False
            self._current[key] = reply
            self._notify()
        try:
            stream = start_chat(job.model, job.messages, job.params, self.settings, client=client)
        except Exception as exc:  # start_chat keeps errors in the stream; this is a last resort
            return self._settle(reply, None, str(map_error(exc, secrets=self.settings.secrets)))
        with self._changed:
            if self._stopping:
                stream.stop()
                return False
            self._streams[key] = stream
        try:
            for piece in stream:
                with self._changed:
                    if self._stopping:
                        break
                    reply.text += piece
                    reply.status = "streaming"
                    self._notify()
        except Exception as exc:
            return self._settle(reply, stream, str(map_error(exc, secrets=self.settings.secrets)))
        finally:
            stream.stop()
        return self._settle(reply, stream, None)

    def _settle(self, reply: Reply, stream: ChatStream | None, failure: str | None) -> bool:
        with self._changed:
            self._streams.pop(reply.model, None)
            if self._stopping:  # stop() records this reply as it stood
                return False
            error = getattr(stream, "error", None)
            reply.metrics = copy.copy(stream.metrics) if stream is not None else ReplyMetrics(model=reply.model)
            if error is not None or failure is not None:
                reply.status, reply.error = "failed", failure or str(error)
                reply.hint = getattr(error, "hint", "") or ""
                reply.metrics.finish_reason = reply.metrics.finish_reason or "error"
            else:
                reply.status = "done"
            self._runs[reply.model].append(reply)
            self._notify()
            return not self._stopping

    def _finished(self) -> bool:
        return self._stopping or all(len(self._runs[job.model.key]) >= job.repeats for job in self.jobs)

    def _notify(self) -> None:
        self._changed.notify_all()


def run_all(jobs: Sequence[Job], settings: Settings, *, timeout: float | None = None) -> dict[str, list[Reply]]:
    """Run every job at once and wait for the end (no drawing): every reply per model."""
    run = CompareRun(jobs, settings).start()
    try:
        run.wait(timeout)
    finally:
        run.stop()
    return run.runs()


# --- The conversation --------------------------------------------------------------------------------------------

@dataclass
class Round:
    """One prompt sent to every model, and what each answered (the last run, plus every run when repeated)."""

    prompt: str
    params: dict[str, ChatParams]
    replies: dict[str, Reply]
    runs: dict[str, list[Reply]] = field(default_factory=dict)


@dataclass
class Comparison:
    """The rounds so far; each model's thread is its own replies to the same prompts."""

    rounds: list[Round] = field(default_factory=list)

    @property
    def latest(self) -> Round | None:
        return self.rounds[-1] if self.rounds else None

    def thread(self, key: str) -> list[dict[str, str]]:
        """A model's conversation as chat messages: the prompts it answered, with its (maybe partial) replies."""
        messages: list[dict[str, str]] = []
        for round_ in self.rounds:
            reply = round_.replies.get(key)
            if reply is not None and reply.text:
                messages += [{"role": "user", "content": round_.prompt}, {"role": "assistant", "content": reply.text}]
        return messages

    def jobs(self, models: Sequence[ModelRecord], prompt: str, params: Mapping[str, ChatParams],
             repeats: int = 1) -> list[Job]:
        """The next round's jobs: each model's own thread plus the prompt."""
        return [Job(model, build_messages(self.thread(model.key) + [{"role": "user", "content": prompt}],
                                          params[model.key]), params[model.key], repeats)
                for model in models]

    def record(self, prompt: str, params: Mapping[str, ChatParams], run: CompareRun) -> Round:
        """Add a finished (or stopped) run as the next round."""
        round_ = Round(prompt, dict(params), run.snapshot(), run.runs())
        self.rounds.append(round_)
        return round_


def effective_params(shared: ChatParams, override: Mapping[str, object] | None) -> ChatParams:
    """The shared parameters with a model's own overrides (None and blank mean: use the shared value)."""
    changes = {name: value for name, value in (override or {}).items()
               if value is not None and value != "" and name in ChatParams.__dataclass_fields__}
    return replace(shared, **changes)  # type: ignore[arg-type]


def parse_models_param(value: str | None) -> list[str]:
    """`?models=a,b,,a` → `["a", "b"]`: order kept, blanks and repeats dropped."""
    return list(dict.fromkeys(part.strip() for part in (value or "").split(",") if part.strip()))  # linear: any length


# --- Numbers ------------------------------------------------------------------------------------------------------

RESULT_COLUMNS = ("Model", "Status", "TTFT (s)", "Total (s)", "Tokens/s", "Tokens", "Cost ($)", "Finish", "Best")


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) with linear interpolation between the closest ranks; None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def results_frame(replies: Mapping[str, Reply]) -> pd.DataFrame:
    """One row per model: its numbers, and which is the fastest (total time) and the cheapest."""
    rows = []
    for key, reply in replies.items():
        m = reply.metrics or ReplyMetrics(model=key)
        rows.append({"Model": key, "Status": reply.status, "TTFT (s)": m.ttft, "Total (s)": m.total,
                     "Tokens/s": m.tokens_per_second, "Tokens": m.completion_tokens, "Cost ($)": m.cost,
                     "Finish": m.finish_reason or "", "Best": ""})
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS)).astype({"Tokens": "Int64"})
    fastest, cheapest = best(frame)
    for label, key in (("fastest", fastest), ("cheapest", cheapest)):
        if key is not None:
            row = frame["Model"] == key
            frame.loc[row, "Best"] = frame.loc[row, "Best"].map(lambda s, label=label: f"{s}, {label}" if s else label)
    return frame


def best(frame: pd.DataFrame) -> tuple[str | None, str | None]:
    """The fastest (shortest total time) and the cheapest model among the replies that completed."""
    done = frame[frame["Status"] == "done"]
    timed = done.dropna(subset=["Total (s)"])
    priced = done.dropna(subset=["Cost ($)"])
    fastest = timed.loc[timed["Total (s)"].astype(float).idxmin(), "Model"] if len(timed) else None
    cheapest = priced.loc[priced["Cost ($)"].astype(float).idxmin(), "Model"] if len(priced) else None
    return fastest, cheapest


def stats_frame(runs: Mapping[str, Sequence[Reply]]) -> pd.DataFrame:
    """Per model over repeated runs: median and p95 of TTFT and total time, mean cost, and the failures."""
    rows = []
    for key, replies in runs.items():
        done = [r.metrics for r in replies if r.status == "done" and r.metrics is not None]
        ttft = [m.ttft for m in done if m.ttft is not None]
        total = [m.total for m in done if m.total is not None]
        costs = [m.cost for m in done if m.cost is not None]
        rows.append({"Model": key, "Runs": len(replies), "Failed": sum(r.status == "failed" for r in replies),
                     "TTFT median (s)": percentile(ttft, 50), "TTFT p95 (s)": percentile(ttft, 95),
                     "Total median (s)": percentile(total, 50), "Total p95 (s)": percentile(total, 95),
                     "Mean cost ($)": sum(costs) / len(costs) if costs else None})
    return pd.DataFrame(rows)


# --- Exports ------------------------------------------------------------------------------------------------------

def export_rows(comparison: Comparison) -> list[dict[str, object]]:
    """One flat row per round, model and run: prompt, parameters, reply and numbers."""
    rows = []
    for number, round_ in enumerate(comparison.rounds, start=1):
        for key, replies in (round_.runs or {k: [r] for k, r in round_.replies.items()}).items():
            params = round_.params.get(key, ChatParams())
            for reply in replies:
                metrics = (reply.metrics or ReplyMetrics(model=key)).as_dict()
                rows.append({"round": number, "prompt": round_.prompt, "model": key, "run": reply.run,
                             **{f"param_{name}": value for name, value in asdict(params).items()},
                             "status": reply.status, "reply": reply.text, "error": reply.error or "",
                             **{name: value for name, value in metrics.items() if name != "model"}})
    return rows


def export_csv(comparison: Comparison) -> str:
    """The comparison as CSV, one row per round, model and run."""
    return pd.DataFrame(export_rows(comparison)).to_csv(index=False)


def export_json(comparison: Comparison, *, share_url: str | None = None) -> str:
    """The comparison as JSON: every round with its prompt, per-model parameters, replies and numbers."""
    rounds = []
    for round_ in comparison.rounds:
        rounds.append({
            "prompt": round_.prompt,
            "params": {key: asdict(params) for key, params in round_.params.items()},
            "replies": {key: _reply_dict(reply) for key, reply in round_.replies.items()},
            "runs": {key: [_reply_dict(r) for r in replies] for key, replies in round_.runs.items()
                     if len(replies) > 1},
        })
    models = list(dict.fromkeys(key for round_ in comparison.rounds for key in round_.replies))
    return json.dumps({"models": models, "share_url": share_url, "rounds": rounds}, indent=2, ensure_ascii=False)


def export_markdown(comparison: Comparison, *, share_url: str | None = None) -> str:
    """The comparison as a Markdown report: per round, the prompt, parameters, replies and a table of numbers."""
    lines = ["# Model comparison", ""]
    if share_url:
        lines += [f"Share link: <{share_url}>", ""]
    for number, round_ in enumerate(comparison.rounds, start=1):
        lines += [f"## Round {number}", "", "**Prompt**", "", _quote(round_.prompt), ""]
        for key, reply in round_.replies.items():
            params = round_.params.get(key, ChatParams())
            lines += [f"### {key}", "", f"Parameters: {_params_text(params)}", ""]
            lines += [_quote(reply.text) if reply.text else "_(no reply)_", ""]
            if reply.error:
                lines += [f"**Error:** {reply.error}", ""]
        table = results_frame(round_.replies)
        lines += ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
        for row in table.itertuples(index=False):
            lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
        lines.append("")
    return "\n".join(lines)


def _reply_dict(reply: Reply) -> dict[str, object]:
    return {"run": reply.run, "status": reply.status, "text": reply.text, "error": reply.error,
            "metrics": (reply.metrics or ReplyMetrics(model=reply.model)).as_dict()}


def _params_text(params: ChatParams) -> str:
    shown = [f"system prompt “{params.system_prompt}”" if params.system_prompt else "no system prompt"]
    shown += [f"{name} {value}" for name, value in (("temperature", params.temperature), ("top_p", params.top_p),
                                                     ("max_tokens", params.max_tokens)) if value is not None]
    return ", ".join(shown)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines() or [""])


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value).replace("|", "\\|")
