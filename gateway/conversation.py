"""A conversation: the rounds of a chat or a comparison, each a prompt and what every model replied.

One record serves both pages. A chat is a conversation whose rounds have one model each (the analyst may switch
models between turns); a comparison sends each prompt to 2–6 models, and each model's *thread* is its own replies
to the same prompts. Replies are `gateway.reply.Reply` records; a round keeps every run of every model (Run ×N),
the last one being the one the conversation continues from.

Each round has a `key`, made with it and kept while it is the same round (more runs, a regenerated reply, a stop, an
edited prompt): the store saves a round by its key, so a round another tab or replica added to the same conversation
meanwhile is never mistaken for it (gateway/store/queries.py).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.attachments import Attachment, user_content
from gateway.params import ChatParams
from gateway.reply import Reply

Kind = Literal["chat", "compare"]
TITLE_LENGTH = 80
FORMAT = "llm-dashboard.conversation/1"  # the "format" of a JSON export; imports check it
_KEY = re.compile(r"[0-9a-f]{32}")  # a round key as new_id() makes them


def new_id() -> str:
    """An unguessable id: a conversation's (it goes into URLs), a round's key."""
    return uuid.uuid4().hex


@dataclass
class Round:
    """One prompt, the parameters each model got, and every run of every model's reply."""

    prompt: str
    params: dict[str, ChatParams] = field(default_factory=dict)  # per model key
    runs: dict[str, list[Reply]] = field(default_factory=dict)  # per model key, in run order
    created_at: float = field(default_factory=time.time)
    attachments: list[Attachment] = field(default_factory=list)  # files sent with the prompt (gateway.attachments)
    key: str = field(default_factory=new_id)  # this round's identity in its conversation (see the module docstring)
    blind: bool = False  # sent in blind mode: which model wrote which reply is withheld until the analyst votes on it

    def content(self, *, images: bool = True) -> str | list[dict[str, Any]]:
        """The prompt as a user message's content: with its files as content parts (images only with `images`)."""
        return user_content(self.prompt, self.attachments, images=images)

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
        data = {"key": self.key, "prompt": self.prompt, "created_at": self.created_at,
                "params": {key: p.to_dict() for key, p in self.params.items()},
                "runs": {key: [r.to_dict() for r in runs] for key, runs in self.runs.items()}}
        if self.attachments:
            data["attachments"] = [a.to_dict() for a in self.attachments]  # bytes as base64
        if self.blind:
            data["blind"] = True
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Round:
        return cls(prompt=str(data["prompt"]),
                   params={k: ChatParams.from_dict(v) for k, v in (data.get("params") or {}).items()},
                   runs={k: [Reply.from_dict(r) for r in v] for k, v in (data.get("runs") or {}).items()},
                   created_at=float(data.get("created_at") or time.time()),
                   attachments=[Attachment.from_dict(a) for a in data.get("attachments") or ()],
                   key=_key(data.get("key")), blind=data.get("blind") is True)


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
    diff: tuple[str, str] | None = None  # compare: the two models whose replies the diff shows (None: the first two)
    # Keys of the rounds taken out of this record (`clear`): saving it whole deletes those from the store too, and
    # only those (a round another tab added meanwhile is kept). Not part of the record's value.
    removed: set[str] = field(default_factory=set, repr=False, compare=False)

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

    def history(self, *, images: bool = True) -> list[dict[str, Any]]:
        """A chat's turns to send: every prompt (with its files), and every reply with text (partial ones included).
        Without `images`, attached images are named in the text instead of sent (for a model without vision)."""
        messages: list[dict[str, Any]] = []
        for round_ in self.rounds:
            messages.append({"role": "user", "content": round_.content(images=images)})
            reply = round_.reply()
            if reply is not None and reply.text:
                messages.append({"role": "assistant", "content": reply.text})
        return messages

    def thread(self, key: str, *, images: bool = True, best: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """One model's own conversation: the prompts it answered (with their files), with its (maybe partial)
        replies. `best` (round key → model key, "continue from the best"): a round with a best reply continues from
        that reply, the same for every model; the others from the model's own."""
        messages: list[dict[str, Any]] = []
        for round_ in self.rounds:
            reply = round_.reply((best or {}).get(round_.key, key))
            if reply is not None and reply.text:
                messages += [{"role": "user", "content": round_.content(images=images)},
                             {"role": "assistant", "content": reply.text}]
        return messages

    # --- changing it -----------------------------------------------------------------------------------------

    @property
    def attachment_bytes(self) -> int:
        """What this conversation's files take to store (for MAX_CONVERSATION_ATTACHMENTS_MB)."""
        return sum(a.stored_bytes for round_ in self.rounds for a in round_.attachments)

    def add_prompt(self, prompt: str, attachments: Sequence[Attachment] = ()) -> Round:
        round_ = Round(prompt, attachments=list(attachments))
        self.rounds.append(round_)
        return round_

    def regenerate(self) -> bool:
        """Forget the last round's replies so its prompt can be answered again. False when there is no prompt."""
        if not self.rounds:
            return False
        self.rounds[-1].runs.clear()
        return True

    def edit_last_prompt(self, prompt: str) -> Round:
        """Replace the last prompt (and its replies) with `prompt`, keeping its files. It stays the same round (its
        key): saving it replaces the saved one."""
        if not self.rounds:
            return self.add_prompt(prompt)
        edited = self.rounds.pop()
        round_ = self.add_prompt(prompt, edited.attachments)
        round_.key = edited.key
        return round_

    def clear(self) -> None:
        self.removed.update(round_.key for round_ in self.rounds)
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
                                         round_.created_at, list(round_.attachments)))
        return chat

    def to_dict(self) -> dict[str, Any]:
        data = {"format": FORMAT, "id": self.id, "kind": self.kind, "title": self.title, "pinned": self.pinned,
                "created_at": self.created_at, "models": self.models, "params": self.params.to_dict(),
                "rounds": [r.to_dict() for r in self.rounds]}
        if self.diff is not None:
            data["diff"] = list(self.diff)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Conversation:
        """The record from `to_dict()` (also what a JSON export holds). Raises ValueError on another format."""
        if data.get("format") != FORMAT:
            raise ValueError(f"not a conversation export (format {data.get('format')!r}, expected {FORMAT!r})")
        kind = data.get("kind")
        if kind not in ("chat", "compare"):
            raise ValueError(f"unknown conversation kind {kind!r}")
        rounds = [Round.from_dict(r) for r in data.get("rounds") or ()]
        seen: set[str] = set()
        for round_ in rounds:  # one key per round (a hand-edited export may repeat one)
            if round_.key in seen:
                round_.key = new_id()
            seen.add(round_.key)
        return cls(kind=kind, rounds=rounds,
                   params=ChatParams.from_dict(data.get("params")), models=list(data.get("models") or ()),
                   id=str(data.get("id") or new_id()), title=str(data.get("title") or ""),
                   pinned=bool(data.get("pinned")), created_at=float(data.get("created_at") or time.time()),
                   diff=diff_pair(data.get("diff")))


def _key(value: Any) -> str:
    """A round's key from an export; a new one when it has none (older exports) or not one of ours."""
    return value if isinstance(value, str) and _KEY.fullmatch(value) else new_id()


def diff_pair(value: Any) -> tuple[str, str] | None:
    """A saved diff selection: two different model keys, else None (nothing chosen, or not a pair)."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, str) and v for v in value) \
            and value[0] != value[1]:
        return value[0], value[1]
    return None


def messages_for(history: Sequence[dict[str, Any]], params: ChatParams) -> list[dict[str, Any]]:
    """The messages to send: the system prompt (if any) then the turns (content: text, or content parts)."""
    system = [{"role": "system", "content": params.system_prompt}] if params.system_prompt.strip() else []
    return system + [{"role": m["role"], "content": m["content"]} for m in history]
