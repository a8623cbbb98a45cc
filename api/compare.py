"""`POST /api/compare`: one prompt to 2–6 models at once, every reply with its numbers.

The run is the compare page's own: `gateway.compare.CompareRun` (one worker thread per model), recorded as a round
of a `Conversation` of kind "compare" and saved with `gateway.store` for the caller, so it opens on the Compare
page at `/compare?c=<id>` and lists in its history. Replies are `gateway.reply.Reply.to_dict()`.

With `stream=true` (in the body or the query) the answer is Server-Sent Events: `start`, one `chunk` per piece of
text a model sends, one `reply` as each reply ends, and `done` with the whole result. A client that goes away
stops every model; what had arrived is saved, as when Stop is pressed on the page.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from api.errors import answer_for
from api.http import ApiError, Call, dumps, guard, json_response, waiting
from api.models import shared_fetch
from gateway import ModelRecord, Settings, find_model, sending
from gateway.budget import Budget, BudgetExceeded
from gateway.compare import MAX_MODELS, MIN_MODELS, CompareRun
from gateway.conversation import Conversation
from gateway.errors import GatewayError, PromptTooLong
from gateway.params import EFFORTS, MIN_THINKING_BUDGET, ChatParams
from gateway.store import Store, get_store

MAX_REPEATS = 20  # as the page's Run ×N
POLL = 0.05  # seconds between checks for the end of the run (and for a client that went away)
KEEP_ALIVE = 15.0  # seconds of silence after which the event stream sends a comment, so proxies keep it open
FIELDS = {"models", "prompt", "system_prompt", "temperature", "top_p", "max_tokens", "reasoning_effort",
          "thinking_budget", "repeats", "stream"}


@dataclass(frozen=True)
class Asked:
    """A valid compare request."""

    models: list[ModelRecord]
    prompt: str
    params: ChatParams
    repeats: int
    stream: bool

    @property
    def per_model(self) -> dict[str, ChatParams]:
        """The parameters by model key: every model gets the same."""
        return {m.key: self.params for m in self.models}


def parse(body: Mapping[str, Any], models: tuple[ModelRecord, ...], stream_query: str | None = None) -> Asked:
    """Check a request body against the catalogue; ApiError (400) saying what is wrong."""
    if unknown := sorted(set(body) - FIELDS):
        raise ApiError(400, f"Unknown field {', '.join(map(repr, unknown))}.",
                       hint=f"The fields are: {', '.join(sorted(FIELDS))} (see /api/openapi.json).")
    refs = body.get("models")
    if not isinstance(refs, list) or not all(isinstance(r, str) and r for r in refs):
        raise ApiError(400, "'models' must be a list of model keys.", hint=_MODELS_HINT)
    refs = list(dict.fromkeys(refs))
    if not MIN_MODELS <= len(refs) <= MAX_MODELS:
        raise ApiError(400, f"Compare takes {MIN_MODELS} to {MAX_MODELS} different models, not {len(refs)}.",
                       hint=_MODELS_HINT)
    found = {ref: find_model(models, ref) for ref in refs}
    if missing := [ref for ref, model in found.items() if model is None]:
        raise ApiError(400, f"Not in the catalogue: {', '.join(missing)}.", kind="model_not_found",
                       hint=f"{_MODELS_HINT} If the proxy has just added it, refresh with POST /api/models.")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ApiError(400, "'prompt' must be a non-empty string.")
    stream = body.get("stream", False)
    if stream_query is not None:
        stream = stream_query.strip().lower() in ("1", "true", "yes", "on")
    if not isinstance(stream, bool):
        raise ApiError(400, "'stream' must be true or false.")
    return Asked([m for m in found.values() if m is not None], prompt.strip(), _params(body),
                 _number(body, "repeats", int, 1, MAX_REPEATS) or 1, stream)


_MODELS_HINT = 'e.g. {"models": ["gpt-4o", "claude-3-5-sonnet"], ...}: the keys GET /api/models lists.'


def _params(body: Mapping[str, Any]) -> ChatParams:
    system = body.get("system_prompt", "")
    if not isinstance(system, str):
        raise ApiError(400, "'system_prompt' must be a string.")
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in EFFORTS:
        raise ApiError(400, f"'reasoning_effort' must be one of {', '.join(EFFORTS)} (or left out: the model's "
                            "default).")
    return ChatParams(system_prompt=system, temperature=_number(body, "temperature", float, 0, 2),
                      top_p=_number(body, "top_p", float, 0, 1), max_tokens=_number(body, "max_tokens", int, 1, None),
                      reasoning_effort=effort,
                      thinking_budget=_number(body, "thinking_budget", int, MIN_THINKING_BUDGET, None))


def _number(body: Mapping[str, Any], name: str, kind: type, low: float, high: float | None) -> Any:
    value = body.get(name)
    if value is None:
        return None
    whole = isinstance(value, int) or isinstance(value, float) and value.is_integer()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or kind is int and not whole \
            or not low <= value <= (high if high is not None else value):
        span = f"{low:g} to {high:g}" if high is not None else f"at least {low:g}"
        raise ApiError(400, f"'{name}' must be {'a whole number' if kind is int else 'a number'} from {span}.")
    return kind(value)


@dataclass
class Comparison:
    """One API comparison: its run, and its saving (once, however the request ends)."""

    asked: Asked
    conversation: Conversation
    sending: sending.Comparing  # the run, and the budget it holds until the round is saved
    store: Store
    analyst: str  # the owner of the saved comparison
    saved: bool = False
    _settling: threading.Lock = field(default_factory=threading.Lock)

    def settle(self) -> None:
        """Stop what is still streaming, keep every reply as a round of the comparison, and save it. Once: the
        end of the answer, a client that went away and the response's last task may each call it."""
        with self._settling:
            if self.saved:
                return
            self.saved = True
        self.run.stop()
        self.run.record(self.conversation, self.asked.prompt, self.asked.per_model)
        self.store.save_round(self.conversation, len(self.conversation.rounds) - 1, self.analyst)  # queued
        self.sending.settle()  # after the save: the round's cost is in the ledger (queued) before its hold goes

    @property
    def run(self) -> CompareRun:
        return self.sending.run

    def started_json(self) -> dict[str, Any]:
        return {"id": self.conversation.id, "url": f"/compare?c={self.conversation.id}",
                "models": [m.key for m in self.asked.models], "prompt": self.asked.prompt,
                "params": self.asked.params.to_dict(), "repeats": self.asked.repeats}

    def result_json(self) -> dict[str, Any]:
        latest = self.conversation.latest
        runs = latest.runs if latest is not None else {}
        return {**self.started_json(), "replies": [r.to_dict() for key in runs for r in runs[key]]}


def refusal_answer(refused: GatewayError, call: Call, store: Store) -> Response:
    """The answer to a request the sending door refused (nothing was sent): 400 for the prompt, 402 for the budget,
    with the door's own words. A 402 also says where the caller's month stands and how unpriced models count."""
    if isinstance(refused, PromptTooLong):
        raise ApiError(400, refused.message, kind=refused.kind,
                       hint="Nothing was sent: shorten the prompt or send it in parts. MAX_PROMPT_CHARS, where the "
                            "app runs, sets the limit.")
    if not isinstance(refused, BudgetExceeded):
        raise ApiError(400, refused.message, kind=refused.kind, hint=refused.hint)
    error = ApiError(402, refused.message, hint=refused.hint, kind=refused.kind)
    sender = sending.Sender(call.analyst.id, "api", admin=call.analyst.admin)
    found = sending.budget(sender, call.settings, store)
    return json_response({**error.body(), "budget": budget_json(found, call.settings)}, 402, settings=call.settings)


def budget_json(found: Budget | None, settings: Settings) -> dict[str, Any]:
    """The caller's month as a 402 body carries it: the limit, what is spent (unpriced replies at the assumed
    rate), what requests on their way hold, and the policy for models without a price."""
    policy = {"usdPer1kTokens": settings.unpriced_usd_per_1k_tokens,
              "rule": "Replies from models without a price count against the budget at this rate (prompt and reply "
                      "tokens; UNPRICED_USD_PER_1K_TOKENS where the app runs)."}
    if found is None:
        return {"limit": None, "spent": None, "reserved": None, "unpriced": policy}
    return {"limit": found.limit, "spent": found.spent, "reserved": found.reserved, "left": found.left,
            "unpricedSpent": found.unpriced, "unpriced": policy}


async def compare(call: Call) -> Response:
    """POST /api/compare[?stream=true]"""
    body = call.body  # already checked against the document's CompareRequest (api/validation.py)
    catalogue = await shared_fetch(call.settings)
    asked = parse(body, catalogue.models, call.request.query_params.get("stream"))
    store = await waiting(get_store, call.settings)
    conversation = Conversation("compare", params=asked.params, models=[m.key for m in asked.models])
    pieces: queue.SimpleQueue[tuple[str, str, int, str]] = queue.SimpleQueue()
    loop, arrived = asyncio.get_running_loop(), asyncio.Event()

    def on_text(key: str, run: int, piece: str) -> None:  # in a worker thread
        pieces.put(("chunk", key, run, piece))
        loop.call_soon_threadsafe(arrived.set)

    def on_thought(key: str, run: int, piece: str) -> None:  # a reasoning model's thinking, the same way
        pieces.put(("thinking", key, run, piece))
        loop.call_soon_threadsafe(arrived.set)

    # The one door (gateway/sending.py), as the pages: the prompt's limits, the budget for every call, and who the
    # proxy bills. Nothing is sent when it refuses.
    sender = sending.Sender(call.analyst.id, "api", conversation.id, admin=call.analyst.admin)
    started = await waiting(functools.partial(
        sending.start_compare, conversation, asked.models, asked.prompt, asked.per_model, asked.repeats,
        call.settings, store, sender, on_text=on_text if asked.stream else None,
        on_thought=on_thought if asked.stream else None))
    if isinstance(started, GatewayError):
        return await waiting(refusal_answer, started, call, store)
    comparison = Comparison(asked, conversation, started, store, call.analyst.owner())
    call.sent.note(f"the prompt was sent to {', '.join(m.key for m in asked.models)}; what arrives is saved as "
                   f"comparison {conversation.id} (/compare?c={conversation.id}) and counted in usage")
    run = started.run
    if asked.stream:
        return StreamingResponse(_events(comparison, pieces, arrived, call), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
                                 background=BackgroundTask(comparison.settle))  # if the stream never started
    try:
        while not run.wait(0):
            if await call.request.is_disconnected():
                break  # nobody is waiting: stop the models, keep what arrived
            await asyncio.sleep(POLL)
    finally:
        comparison.settle()
    return json_response(comparison.result_json(), settings=call.settings)


async def _events(comparison: Comparison, pieces: queue.SimpleQueue[tuple[str, str, int, str]],
                  arrived: asyncio.Event, call: Call) -> AsyncIterator[str]:
    """The event stream. A reasoning model's thinking comes as `thinking` events (`{model, run, text}`, like a
    `chunk`), before its answer's chunks. Each reply's `reply` event comes after its last `chunk`: the replies that
    have ended are read before the pieces are drained, and a worker queues every piece of a reply before it ends
    it."""
    run, settings = comparison.run, call.settings
    announced: dict[str, int] = {}
    try:
        yield _event("start", comparison.started_json(), settings)
        quiet_since = time.monotonic()
        while True:
            done = run.wait(0)
            ended = run.runs()
            sent = False
            while True:
                try:
                    kind, key, number, piece = pieces.get_nowait()
                except queue.Empty:
                    break
                sent = True
                yield _event(kind, {"model": key, "run": number, "text": piece}, settings)
            for key, replies in ended.items():
                for reply in replies[announced.get(key, 0):]:
                    sent = True
                    yield _event("reply", reply.to_dict(), settings)
                announced[key] = len(replies)
            if done:
                break
            if sent:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > KEEP_ALIVE:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            arrived.clear()
            if pieces.empty():
                try:
                    await asyncio.wait_for(arrived.wait(), POLL)
                except TimeoutError:
                    pass
        comparison.settle()
        yield _event("done", comparison.result_json(), settings)
    except Exception as exc:  # noqa: BLE001 - the 200 is sent: the failure, and what was recorded, as an event
        error = answer_for(exc, settings.secrets, call.sent, "POST /api/compare (stream)")
        yield _event("error", error.body(), settings)
    finally:  # also when the client went away (the stream is cancelled): stop the models, keep what arrived
        comparison.settle()


def _event(name: str, data: Any, settings: Settings) -> str:
    return f"event: {name}\ndata: {guard(dumps(data), settings)}\n\n"

