"""A conversation: the rounds of a chat or a comparison, each a prompt and what every model replied.

One record serves both pages. A chat is a conversation whose rounds have one model each (the analyst may switch
models between turns); a comparison sends each prompt to 2–6 models, and each model's *thread* is its own replies
to the same prompts. Replies are `gateway.reply.Reply` records; a round keeps every run of every model (Run ×N),
the last one being the one the conversation continues from.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.params import ChatParams
from gateway.reply import Reply

Kind = Literal["chat", "compare"]
TITLE_LENGTH = 80
FORMAT = "llm-dashboard.conversation/1"  # the "format" of a JSON export; imports check it


def new_id() -> str:
    """An unguessable id for a conversation (it goes into URLs)."""
    return uuid.uuid4().hex


@dataclass
class Round:
    """One prompt, the parameters each model got, and every run of every model's reply."""

    prompt: str
    params: dict[str, ChatParams] = field(default_factory=dict)  # per model key
    runs: dict[str, list[Reply]] = field(default_factory=dict)  # per model key, in run order
    created_at: float = field(default_factory=time.time)

    @property
    def models(self) -> list[str]:
        return list(self.runs)

    @property
    def replies(self) -> dict[str, Reply]:
        """Each model's latest reply."""
        return {key: runs[-1] for key, runs in self.runs.items() if runs}

    def reply(self, key: str | None = None) -> Reply | None:
        """One model's latest reply (the first model's when none is named: a chat round has one)."""
        replies = self.replies
        if key is None:
            return next(iter(replies.values()), None)
        return replies.get(key)

    def add(self, reply: Reply, params: ChatParams | None = None) -> Reply:
        """Add a reply (the next run of its model)."""
        self.runs.setdefault(reply.model, []).append(reply)
        if params is not None:
            self.params[reply.model] = params
        return reply

    def to_dict(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "created_at": self.created_at,
                "params": {key: p.to_dict() for key, p in self.params.items()},
                "runs": {key: [r.to_dict() for r in runs] for key, runs in self.runs.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Round:
        return cls(prompt=str(data["prompt"]),
                   params={k: ChatParams.from_dict(v) for k, v in (data.get("params") or {}).items()},
                   runs={k: [Reply.from_dict(r) for r in v] for k, v in (data.get("runs") or {}).items()},
                   created_at=float(data.get("created_at") or time.time()))


@dataclass
class Conversation:
    """A chat or a comparison: its rounds, the parameters last used, and what the history list shows."""

    kind: Kind = "chat"
    rounds: list[Round] = field(default_factory=list)
    params: ChatParams = field(default_factory=ChatParams)  # the shared parameters last used
    models: list[str] = field(default_factory=list)  # compare: the models chosen; chat: the models used
    id: str = field(default_factory=new_id)
    title: str = ""  # empty: the first prompt stands for it
    pinned: bool = False
    created_at: float = field(default_factory=time.time)

    # --- what it is ------------------------------------------------------------------------------------------

    @property
    def display_title(self) -> str:
        if self.title:
            return self.title
        first = self.rounds[0].prompt if self.rounds else ""
        line = " ".join(first.split())
        return (line[:TITLE_LENGTH - 1] + "…" if len(line) > TITLE_LENGTH else line) or "New conversation"

    @property
    def latest(self) -> Round | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def awaiting_reply(self) -> bool:
        """The last round is a prompt no model has answered yet."""
        return bool(self.rounds) and not self.rounds[-1].runs

    @property
    def last_prompt(self) -> str | None:
        return self.rounds[-1].prompt if self.rounds else None

    @property
    def cost(self) -> float:
        """What every reply cost, every run included (USD; unknown costs count as 0)."""
        return sum(r.metrics.cost or 0.0 for round_ in self.rounds for runs in round_.runs.values() for r in runs)

    def used_models(self) -> list[str]:
        return list(dict.fromkeys(key for round_ in self.rounds for key in round_.runs))

    # --- what to send ----------------------------------------------------------------------------------------

    def history(self) -> list[dict[str, str]]:
        """A chat's turns to send: every prompt, and every reply with text (partial ones included)."""
        messages: list[dict[str, str]] = []
        for round_ in self.rounds:
            messages.append({"role": "user", "content": round_.prompt})
            reply = round_.reply()
            if reply is not None and reply.text:
                messages.append({"role": "assistant", "content": reply.text})
        return messages

    def thread(self, key: str) -> list[dict[str, str]]:
        """One model's own conversation: the prompts it answered, with its (maybe partial) replies."""
        messages: list[dict[str, str]] = []
        for round_ in self.rounds:
            reply = round_.reply(key)
            if reply is not None and reply.text:
                messages += [{"role": "user", "content": round_.prompt}, {"role": "assistant", "content": reply.text}]
        return messages

    # --- changing it -----------------------------------------------------------------------------------------

    def add_prompt(self, prompt: str) -> Round:
        round_ = Round(prompt)
        self.rounds.append(round_)
        return round_

    def regenerate(self) -> bool:
        """Forget the last round's replies so its prompt can be answered again. False when there is no prompt."""
        if not self.rounds:
            return False
        self.rounds[-1].runs.clear()
        return True

    def edit_last_prompt(self, prompt: str) -> Round:
        """Replace the last prompt (and its replies) with `prompt`."""
        if self.rounds:
            self.rounds.pop()
        return self.add_prompt(prompt)

    def clear(self) -> None:
        self.rounds.clear()

    # --- moving it ---------------------------------------------------------------------------------------------

    def handoff(self, key: str) -> Conversation:
        """One model's thread as a new chat, keeping each reply and its numbers ("Continue in chat")."""
        chat = Conversation("chat", params=self.latest.params.get(key, self.params) if self.latest else self.params,
                            models=[key])
        for round_ in self.rounds:
            reply = round_.reply(key)
            if reply is not None and reply.text:
                chat.rounds.append(Round(round_.prompt, {key: round_.params.get(key, self.params)}, {key: [reply]},
                                         round_.created_at))
        return chat

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "id": self.id, "kind": self.kind, "title": self.title, "pinned": self.pinned,
                "created_at": self.created_at, "models": self.models, "params": self.params.to_dict(),
                "rounds": [r.to_dict() for r in self.rounds]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Conversation:
        """The record from `to_dict()` (also what a JSON export holds). Raises ValueError on another format."""
        if data.get("format") != FORMAT:
            raise ValueError(f"not a conversation export (format {data.get('format')!r}, expected {FORMAT!r})")
        kind = data.get("kind")
        if kind not in ("chat", "compare"):
            raise ValueError(f"unknown conversation kind {kind!r}")
        return cls(kind=kind, rounds=[Round.from_dict(r) for r in data.get("rounds") or ()],
                   params=ChatParams.from_dict(data.get("params")), models=list(data.get("models") or ()),
                   id=str(data.get("id") or new_id()), title=str(data.get("title") or ""),
                   pinned=bool(data.get("pinned")), created_at=float(data.get("created_at") or time.time()))


def messages_for(history: Sequence[dict[str, str]], params: ChatParams) -> list[dict[str, str]]:
    """The messages to send: the system prompt (if any) then the turns."""
    system = [{"role": "system", "content": params.system_prompt}] if params.system_prompt.strip() else []
    return system + [{"role": m["role"], "content": m["content"]} for m in history]
