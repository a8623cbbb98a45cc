"""A compare run: every model streaming at once, one worker thread each.

Workers never touch Streamlit: they write into `Reply` records under a lock, and the page's script thread waits on
`wait()` and draws `snapshot()`. A slow or failing model never holds up the others. `stop()` ends every stream at
once and keeps the partial replies.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import openai

from gateway.attachments import Attachment, user_content
from gateway.attribution import Attribution
from gateway.chat import ChatStream, client_for, start_chat
from gateway.config import Settings
from gateway.conversation import Conversation, Round, messages_for
from gateway.errors import map_error
from gateway.models import ModelRecord
from gateway.params import ChatParams
from gateway.reply import Outcome, Reply, ReplyError

MIN_MODELS, MAX_MODELS = 2, 6


@dataclass(frozen=True)
class Job:
    """What one worker sends: the model, the messages, the parameters, how many times, and for whom."""

    model: ModelRecord
    messages: list[dict[str, str]]
    params: ChatParams
    repeats: int = 1
    attribution: Attribution | None = None  # each run's request says who it is for (with the run's number)

    def attributed(self, run: int) -> Attribution | None:
        """The attribution of run `run` (numbered when the job repeats)."""
        if self.attribution is None or self.repeats == 1:
            return self.attribution
        return replace(self.attribution, run=run)


def jobs_for(comparison: Conversation, models: Sequence[ModelRecord], prompt: str,
             params: Mapping[str, ChatParams], repeats: int = 1,
             attachments: Sequence[Attachment] = (), *, attribution: Attribution | None = None,
             best: Mapping[str, str] | None = None) -> list[Job]:
    """The next round's jobs: each model's own thread so far (or, with `best`, round key → model, every model from
    the best reply of each round that has one: `Conversation.thread`), then the prompt with the same files for every
    model (a model the catalogue says has no vision gets the text, each image named instead of sent). `attribution`:
    who the runs are for (gateway/attribution.py)."""
    return [Job(model, messages_for(
        comparison.thread(model.key, images=model.supports_vision is not False, best=best)
        + [{"role": "user", "content": user_content(prompt, attachments, images=model.supports_vision is not False)}],
        params[model.key]), params[model.key], repeats, attribution)
            for model in models]


class CompareRun:
    """Every job streaming at once; read it from one thread with `wait()` and `snapshot()`.

    `on_text(model key, run, piece)`, if given, is called in the worker threads for every piece of text as it
    arrives, before the reply is settled (for a reader that wants each piece, like the API's event stream). It runs
    under the run's lock, so pieces come in order; it must be quick and must not call back into the run.
    `on_thought`, the same for a reasoning model's thinking.
    """

    def __init__(self, jobs: Sequence[Job], settings: Settings, *,
                 on_text: Callable[[str, int, str], None] | None = None,
                 on_thought: Callable[[str, int, str], None] | None = None) -> None:
        self.jobs = list(jobs)
        self.settings = settings
        self._on_text = on_text
        self._on_thought = on_thought
        self.started = 0.0
        self._changed = threading.Condition()
        self._current = {job.model.key: Reply(job.model.key) for job in self.jobs}
        self._runs: dict[str, list[Reply]] = {job.model.key: [] for job in self.jobs}
        self._streams: dict[str, ChatStream] = {}
        self._stopping = False

    def start(self) -> CompareRun:
        """Start one worker per model. Clients are looked up here, in the caller's thread."""
        clients = {job.model.key: self._client(job.model) for job in self.jobs}
        self.started = time.perf_counter()
        for job in self.jobs:
            threading.Thread(target=self._work, args=(job, clients[job.model.key]), name=f"compare-{job.model.key}",
                             daemon=True).start()
        return self

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
            return {key: copy.deepcopy(reply) for key, reply in self._current.items()}

    def runs(self) -> dict[str, list[Reply]]:
        """Every finished reply per model, in order (several when repeated)."""
        with self._changed:
            return {key: list(runs) for key, runs in self._runs.items()}

    def record(self, comparison: Conversation, prompt: str, params: Mapping[str, ChatParams],
               attachments: Sequence[Attachment] = (), *, key: str | None = None, blind: bool = False) -> Round:
        """Add this run, finished or stopped, to the comparison as its next round (with the prompt's files). `key`:
        the round's key when the page chose it before sending (the blind order of the round on screen is by it);
        `blind`: sent in blind mode (its names withheld until the vote, wherever it is opened)."""
        round_ = Round(prompt, dict(params), self.runs(), attachments=list(attachments), blind=blind)
        if key is not None:
            round_.key = key
        comparison.rounds.append(round_)
        return round_

    def stop(self) -> None:
        """End every stream now, keeping what has arrived. Safe to call twice, or after the end."""
        with self._changed:
            if self._stopping:
                return
            self._stopping = True
            streams = dict(self._streams)
        for stream in streams.values():
            stream.close()  # its reply gets its total time and the outcome "stopped"
        elapsed = time.perf_counter() - self.started
        with self._changed:
            for key, reply in self._current.items():
                if not reply.finished:
                    own = streams.get(key)
                    if own is not None:
                        reply.metrics, reply.thinking = copy.copy(own.metrics), own.reply.thinking
                    else:
                        reply.metrics.total = elapsed
                    reply.outcome = Outcome.STOPPED
                    self._runs[key].append(reply)
            self._changed.notify_all()

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
            self._changed.notify_all()
        try:
            stream = start_chat(job.model, job.messages, job.params, self.settings, client=client,
                                attribution=job.attributed(run))
        except Exception as exc:  # start_chat keeps errors in the stream; this is a last resort
            return self._settle(reply, None, ReplyError.of(map_error(exc)))
        with self._changed:
            if self._stopping:
                stream.close()
                return False
            self._streams[key] = stream
        try:
            for piece, thought in stream.parts():
                with self._changed:
                    if self._stopping:
                        break
                    reply.text += piece
                    reply.thinking += thought
                    reply.outcome = Outcome.STREAMING
                    if self._on_thought is not None and thought:
                        self._on_thought(key, run, thought)
                    if self._on_text is not None and piece:
                        self._on_text(key, run, piece)
                    self._changed.notify_all()
        except Exception as exc:
            return self._settle(reply, stream, ReplyError.of(map_error(exc)))
        finally:
            stream.close()
        return self._settle(reply, stream, None)

    def _settle(self, reply: Reply, stream: ChatStream | None, failure: ReplyError | None) -> bool:
        with self._changed:
            self._streams.pop(reply.model, None)
            if self._stopping:  # stop() records this reply as it stood
                return False
            if stream is not None:
                reply.metrics, reply.thinking = copy.copy(stream.metrics), stream.reply.thinking
                reply.outcome, reply.error = stream.reply.outcome, stream.reply.error
            if failure is not None:
                reply.outcome, reply.error = Outcome.FAILED, failure
            self._runs[reply.model].append(reply)
            self._changed.notify_all()
            return True

    def _finished(self) -> bool:
        return self._stopping or all(len(self._runs[job.model.key]) >= job.repeats for job in self.jobs)


def run_all(jobs: Sequence[Job], settings: Settings, *, timeout: float | None = None) -> dict[str, list[Reply]]:
    """Run every job at once and wait for the end (no drawing): every reply per model."""
    run = CompareRun(jobs, settings).start()
    try:
        run.wait(timeout)
    finally:
        run.stop()
    return run.runs()
