"""Records to rows and back: a conversation's header, its rounds and every reply run.

Snapshots (`Header`, `RoundRows`) are taken on the page's script thread when a turn is saved: plain immutable values,
so the writer thread never reads a record the page is still changing. Turning rows back into records is `build`.

Text the databases cannot hold is replaced, the same way on both so SQLite and PostgreSQL return the same thing:
NUL characters (PostgreSQL text and jsonb refuse them) and lone UTF-16 surrogates (not encodable as UTF-8) become
U+FFFD, the Unicode replacement character.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from gateway.attachments import Attachment
from gateway.conversation import Conversation, Round, diff_pair
from gateway.params import ChatParams
from gateway.reply import Metrics, Outcome, Reply, ReplyError

METRIC_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Metrics))
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def clean(text: str) -> str:
    """`text` as both databases can store it (see the module docstring)."""
    return _UNSTORABLE.sub(REPLACEMENT, text) if _UNSTORABLE.search(text) else text


def clean_json(value: Any) -> Any:
    """A JSON value with every string cleaned."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, Mapping):
        return {clean(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    return value


# --- Snapshots: what a write job carries -------------------------------------------------------------------------

@dataclass(frozen=True)
class Header:
    """The conversation row, as of the snapshot."""

    id: str
    owner: str
    kind: str
    title: str
    auto_title: str
    pinned: bool
    models: tuple[str, ...]
    params: Mapping[str, Any]
    created_at: float
    updated_at: float  # when the snapshot was taken (the stored one is the latest of these)


@dataclass(frozen=True)
class RoundRows:
    """One round and every run of every model in it."""

    key: str  # Round.key: the round is saved again by it
    position: int  # its place in the saving tab's record (where a round new to the store goes, if free)
    prompt: str
    params: Mapping[str, Any]  # {model key: ChatParams.to_dict()}
    created_at: float
    replies: tuple[Mapping[str, Any], ...] = ()  # reply column values, without the keys of the round
    attachments: tuple[Attachment, ...] = ()  # the files sent with the prompt (immutable records)
    blind: bool = False  # Round.blind


@dataclass(frozen=True)
class Snapshot:
    """What to write for one conversation: its header, some rounds by key (`whole`: all the record has, and its
    title and pin), the keys of rounds to delete (`drop`: those the record let go of), the view when it changed
    (None: as saved), and the usage ledger rows of replies that just ended (kept whatever later snapshots do to the
    rounds)."""

    header: Header
    rounds: Mapping[str, RoundRows] = field(default_factory=dict)
    whole: bool = False
    usage: tuple[Mapping[str, Any], ...] = ()
    drop: frozenset[str] = frozenset()
    view: Mapping[str, Any] | None = None

    def then(self, newer: Snapshot) -> Snapshot:
        """This snapshot followed by a newer one of the same conversation, as one write. Rounds of both are kept
        (the newer one's version of a round wins) except those the newer one drops: two tabs in one process share
        a queue entry, and one tab's Clear must not take away the other tab's rounds."""
        rounds = {**{key: r for key, r in self.rounds.items() if key not in newer.drop}, **newer.rounds}
        head = replace(newer.header, updated_at=max(self.header.updated_at, newer.header.updated_at))
        return Snapshot(head, rounds, self.whole or newer.whole, self.usage + newer.usage,
                        frozenset((self.drop | newer.drop) - rounds.keys()),
                        self.view if newer.view is None else newer.view)


def view(conversation: Conversation) -> dict[str, Any]:
    """The conversation's view column: what the analyst chose to look at ({} when nothing)."""
    return {"diff": list(conversation.diff)} if conversation.diff else {}


def header(conversation: Conversation, owner: str, now: float) -> Header:
    return Header(id=conversation.id, owner=owner, kind=conversation.kind, title=conversation.title,
                  auto_title=replace(conversation, title="").display_title if conversation.rounds else "",
                  pinned=conversation.pinned, models=tuple(conversation.models),
                  params=conversation.params.to_dict(), created_at=conversation.created_at, updated_at=now)


def round_rows(round_: Round, position: int, now: float) -> RoundRows:
    replies = tuple(reply_values(reply, place, now)
                    for place, runs in enumerate(round_.runs.values()) for reply in runs)
    return RoundRows(key=round_.key, position=position, prompt=round_.prompt,
                     params={key: p.to_dict() for key, p in round_.params.items()},
                     created_at=round_.created_at, replies=replies, attachments=tuple(round_.attachments),
                     blind=round_.blind)


_ATTACHMENT_COLUMNS = ("name", "kind", "mime", "size", "text", "data")


def attachment_values(attachment: Attachment, position: int) -> dict[str, Any]:
    facts = {k: v for k, v in attachment.to_dict().items() if k not in _ATTACHMENT_COLUMNS}
    return {"position": position, "name": clean(attachment.name), "kind": attachment.kind, "mime": attachment.mime,
            "size": attachment.size, "facts": facts, "text": clean(attachment.text), "data": attachment.data}


def attachment_from(row: Mapping[str, Any]) -> Attachment:
    values = {**row["facts"], **{k: row[k] for k in _ATTACHMENT_COLUMNS if k != "data"}}
    return replace(Attachment.from_dict(values), data=bytes(row["data"]))


def reply_values(reply: Reply, position: int, now: float) -> dict[str, Any]:
    metrics = reply.metrics
    error = reply.error
    return {"model": reply.model, "run": reply.run, "position": position, "outcome": reply.outcome.value,
            "text": reply.text, "thinking": clean(reply.thinking),
            **{name: getattr(metrics, name) for name in METRIC_COLUMNS},
            "error_message": error.message if error else None, "error_hint": error.hint if error else None,
            "error_kind": error.kind if error else None, "created_at": now}


def usage_rows(conversation: Conversation, round_: Round, now: float) -> tuple[dict[str, Any], ...]:
    """Ledger rows (gateway/store/usage.py) for every run of every reply of a round that was sent (has a total time).
    `reply_key` tells one reply from another: a regenerated reply in the same place is a new one."""
    found = []
    for runs in round_.runs.values():
        for reply in runs:
            metrics = reply.metrics
            if metrics.total is None:  # never sent (refused before sending): nothing was used
                continue
            identity = f"{conversation.id}|{round_.created_at!r}|{reply.model}|{reply.run}|{metrics.total!r}|" \
                       f"{metrics.call_id}"
            found.append({"at": now, "kind": conversation.kind, "conversation_id": conversation.id,
                          "model": reply.model, "run": reply.run, "outcome": reply.outcome.value,
                          "prompt_tokens": metrics.prompt_tokens, "completion_tokens": metrics.completion_tokens,
                          "cost": metrics.cost, "cost_source": metrics.cost_source, "ttft": metrics.ttft,
                          "total": metrics.total, "call_id": metrics.call_id,
                          "reply_key": hashlib.sha256(identity.encode("utf-8", "replace")).hexdigest()})
    return tuple(found)


# --- Rows to records ---------------------------------------------------------------------------------------------

def build(conversation: Mapping[Any, Any], rounds: Sequence[Mapping[Any, Any]],
          replies: Iterable[Mapping[Any, Any]], attachments: Iterable[Mapping[Any, Any]] = ()) -> Conversation:
    """The record from its rows (rounds in position order, replies in (round, position, run) order, attachments in
    (round, position) order)."""
    params = _ParamsCache()
    files: dict[int, list[Attachment]] = {}
    for row in attachments:
        files.setdefault(row["round_pk"], []).append(attachment_from(row))
    by_round: dict[int, list[Reply]] = {}
    for row in replies:
        by_round.setdefault(row["round_pk"], []).append(reply_from(row))
    built: list[Round] = []
    for row in rounds:
        runs: dict[str, list[Reply]] = {}
        for reply in by_round.get(row["pk"], ()):
            runs.setdefault(reply.model, []).append(reply)
        built.append(Round(prompt=row["prompt"], params={k: params(v) for k, v in row["params"].items()},
                           runs=runs, created_at=row["created_at"], attachments=files.get(row["pk"], []),
                           key=row["key"], blind=bool(row["blind"])))
    chosen = conversation["view"] or {}
    return Conversation(kind=conversation["kind"], rounds=built, params=ChatParams.from_dict(conversation["params"]),
                        models=list(conversation["models"]), id=conversation["id"], title=conversation["title"],
                        pinned=bool(conversation["pinned"]), created_at=conversation["created_at"],
                        diff=diff_pair(chosen.get("diff")))


class _ParamsCache:
    """ChatParams from stored dicts, one (frozen, shareable) record per distinct value: the rounds of a conversation
    mostly repeat the same parameters, and building each anew was most of the time of opening a long one."""

    def __init__(self) -> None:
        self._seen: dict[str, ChatParams] = {}

    def __call__(self, value: Mapping[str, Any]) -> ChatParams:
        key = repr(sorted(value.items()))
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = ChatParams.from_dict(value)
        return found


def reply_from(row: Mapping[str, Any]) -> Reply:
    error = None
    if row["error_message"] is not None:
        error = ReplyError(row["error_message"], row["error_hint"] or "", row["error_kind"] or "error")
    return Reply(model=row["model"], text=row["text"], thinking=row["thinking"] or "", outcome=Outcome(row["outcome"]),
                 metrics=Metrics(**{name: row[name] for name in METRIC_COLUMNS}), error=error, run=row["run"])
