"""The conversation record: the turns of a chat with their numbers and outcome, and its exports.

A reply is `complete`, `stopped` (the user stopped it: the partial text is kept) or `error` (the error's plain message
and hint are kept, with any partial text). The user's prompt always stays, whatever happened to its reply.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Literal

from gateway.chat import ChatParams, ChatStream, ReplyMetrics

Role = Literal["user", "assistant"]
Status = Literal["complete", "stopped", "error"]


@dataclass
class Message:
    """One turn: what was said, by which model, with its numbers and how it ended."""

    role: Role
    content: str
    model: str | None = None  # catalogue key of the model that replied
    metrics: ReplyMetrics | None = None
    status: Status = "complete"
    error: str | None = None  # plain-words message, safe to show
    hint: str | None = None
    error_kind: str | None = None  # GatewayError.kind, e.g. "model_not_found"

    def as_dict(self) -> dict[str, object]:
        record: dict[str, object] = {"role": self.role, "content": self.content}
        if self.role == "assistant":
            record.update(model=self.model, status=self.status,
                          metrics=self.metrics.as_dict() if self.metrics else None)
            if self.error:
                record.update(error=self.error, hint=self.hint, error_kind=self.error_kind)
        return record


@dataclass
class Conversation:
    """The turns of one chat and the parameters last used."""

    messages: list[Message] = field(default_factory=list)
    params: ChatParams = field(default_factory=ChatParams)

    @classmethod
    def from_handoff(cls, handoff: dict) -> Conversation:
        """A conversation started elsewhere (the compare page's "Continue in chat")."""
        params = handoff.get("params") or {}
        model = handoff.get("model")
        messages = [Message(m["role"], str(m["content"]), model=model if m["role"] == "assistant" else None)
                    for m in handoff.get("messages", ()) if m.get("role") in ("user", "assistant")]
        return cls(messages, ChatParams(**{k: v for k, v in params.items() if k in ChatParams.__dataclass_fields__}))

    @property
    def awaiting_reply(self) -> bool:
        """The last turn is a prompt with no reply yet."""
        return bool(self.messages) and self.messages[-1].role == "user"

    @property
    def last_prompt(self) -> str | None:
        return next((m.content for m in reversed(self.messages) if m.role == "user"), None)

    def history(self) -> list[dict[str, str]]:
        """The turns to send: every prompt, and every reply that has text (partial ones included)."""
        return [{"role": m.role, "content": m.content} for m in self.messages if m.role == "user" or m.content]

    def add_prompt(self, text: str) -> Message:
        message = Message("user", text)
        self.messages.append(message)
        return message

    def add_reply(self, stream: ChatStream) -> Message:
        """Record a finished (or stopped, or failed) stream as the reply."""
        error = stream.error
        status: Status = "error" if error else "stopped" if stream.stopped else "complete"
        message = Message("assistant", stream.text, model=stream.model.key, metrics=stream.metrics, status=status,
                          error=str(error) if error else None, hint=error.hint if error else None,
                          error_kind=error.kind if error else None)
        self.messages.append(message)
        return message

    def add_error(self, model: str, error: Exception, hint: str = "", kind: str = "error") -> Message:
        """Record a reply that was never asked for (e.g. the request could not fit)."""
        message = Message("assistant", "", model=model, status="error", error=str(error), hint=hint, error_kind=kind)
        self.messages.append(message)
        return message

    def regenerate(self) -> bool:
        """Drop the last reply so the last prompt can be answered again. False when there is no prompt."""
        if self.messages and self.messages[-1].role == "assistant":
            self.messages.pop()
        return self.awaiting_reply

    def edit_last_prompt(self, text: str) -> None:
        """Replace the last prompt (and drop its reply) with `text`."""
        for index in range(len(self.messages) - 1, -1, -1):
            if self.messages[index].role == "user":
                del self.messages[index:]
                break
        self.add_prompt(text)

    def clear(self) -> None:
        self.messages.clear()

    def to_json(self, model: str | None = None) -> str:
        """The whole record: messages, model, parameters and each reply's numbers."""
        return json.dumps({"model": model, "parameters": asdict(self.params), "exported_at": _now(),
                           "messages": [m.as_dict() for m in self.messages]}, indent=2, ensure_ascii=False)

    def to_markdown(self, model: str | None = None,
                    metrics_line: Callable[[ReplyMetrics], str] | None = None) -> str:
        """A readable transcript; `metrics_line` formats each reply's numbers (omitted when not given)."""
        lines = [f"# Chat with {model}" if model else "# Chat", "", f"_Exported {_now()}_", ""]
        settings = [f"{name.replace('_', ' ')}: {value}" for name, value in asdict(self.params).items()
                    if value not in (None, "") and name != "system_prompt"]
        if settings:
            lines += ["Parameters: " + ", ".join(settings), ""]
        if self.params.system_prompt.strip():
            lines += ["## System prompt", "", self.params.system_prompt, ""]
        for message in self.messages:
            who = "You" if message.role == "user" else message.model or "assistant"
            lines += [f"## {who}", ""]
            if message.content:
                lines += [message.content, ""]
            if message.status == "stopped":
                lines += ["_(stopped: partial reply)_", ""]
            if message.error:
                lines += [f"> **Error:** {message.error}" + (f"  \n> {message.hint}" if message.hint else ""), ""]
            if message.metrics and metrics_line and message.content:
                lines += [f"_{metrics_line(message.metrics)}_", ""]
        return "\n".join(lines)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
