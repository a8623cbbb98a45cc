"""Exports of a conversation (a chat or a comparison): JSON (which imports back), CSV and a Markdown report.

Every text in them comes from the records, whose error messages the gateway has already redacted: no key can reach
an export. Replies, prompts and model names are untrusted, and each format is made safe for the program that opens it:
- JSON is the exact record (data, for re-import): nothing in it is rewritten;
- CSV goes through gateway/safe_csv.py: no text cell can be a spreadsheet formula, numbers stay numbers;
- Markdown goes through gateway/markdown.py `inert_markdown` as a whole document: any image becomes the text
  `[image: alt](address)`, raw HTML is escaped, so no Markdown viewer loads or runs anything from it. A reasoning
  model's thinking is a collapsed `<details>` block: the document is made inert with a marker (unguessable, made for
  this export) where each tag goes, and only then are the markers turned into the tags, so no text of the model can
  open or close one.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from gateway.compare.stats import results_frame
from gateway.conversation import Conversation, Round
from gateway.markdown import code_span, inert_markdown
from gateway.params import ChatParams
from gateway.reply import Metrics, Outcome, Reply
from gateway.safe_csv import frame_csv

MetricsLine = Callable[[Metrics], str]


def to_json(conversation: Conversation, *, share_url: str | None = None) -> str:
    """The whole record, every run of every reply with its numbers; `import_json` reads it back."""
    data = {**conversation.to_dict(), "exported_at": _now(), "share_url": share_url,
            "title": conversation.title or (conversation.display_title if conversation.rounds else ""),
            "models": conversation.models or conversation.used_models()}  # a chat's record lists neither
    return json.dumps(data, indent=2, ensure_ascii=False)


def import_json(text: str | bytes) -> Conversation:
    """A conversation from a JSON export, with a new id (so importing twice keeps both). Raises ValueError."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("not a conversation export: the file holds no JSON object")
    try:
        conversation = Conversation.from_dict(data)
    except KeyError as exc:
        raise ValueError(f"not a conversation export: a required field, {exc.args[0]!r}, is missing") from None
    except (TypeError, AttributeError):
        raise ValueError("not a conversation export: a field holds the wrong kind of value (a list where a text "
                         "should be, or the like)") from None
    conversation.id = Conversation().id
    return conversation


def rows(conversation: Conversation) -> list[dict[str, object]]:
    """One flat row per round, model and run: prompt, parameters, reply, outcome and numbers."""
    found = []
    for number, round_ in enumerate(conversation.rounds, start=1):
        for key, replies in round_.runs.items():
            params = round_.params.get(key, conversation.params)
            for reply in replies:
                found.append({"round": number, "prompt": round_.prompt, "model": key, "run": reply.run,
                              **{f"param_{name}": value for name, value in params.to_dict().items()},
                              "outcome": reply.outcome.value, "reply": reply.text, "thinking": reply.thinking,
                              "error": reply.error.message if reply.error else "", **reply.metrics.to_dict()})
    return found


def to_csv(conversation: Conversation) -> str:
    """The conversation as CSV, one row per round, model and run."""
    return frame_csv(pd.DataFrame(rows(conversation)))


def to_markdown(conversation: Conversation, *, metrics_line: MetricsLine | None = None,
                share_url: str | None = None) -> str:
    """A readable report: a chat as a transcript, a comparison round by round with a table of numbers. Inert: no
    image, no raw HTML (the whole document is rewritten at once, so a reference defined in one reply and used in
    another is found too)."""
    marker = f"THINKING{uuid.uuid4().hex}"
    if conversation.kind == "chat":
        document = inert_markdown(_chat_markdown(conversation, metrics_line, marker))
    else:
        document = inert_markdown(_compare_markdown(conversation, metrics_line, share_url, marker))
    return document.replace(f"{marker}OPEN", "<details><summary>Thinking</summary>").replace(
        f"{marker}CLOSE", "</details>")


def _chat_markdown(conversation: Conversation, metrics_line: MetricsLine | None, marker: str) -> str:
    models = conversation.used_models()
    lines = [f"# Chat with {', '.join(models)}" if models else "# Chat", "", f"_Exported {_now()}_", ""]
    params = conversation.latest.params.get(models[-1], conversation.params) if models and conversation.latest \
        else conversation.params
    settings = [f"{name.replace('_', ' ')}: {value}" for name, value in params.to_dict().items()
                if value not in (None, "") and name != "system_prompt"]
    if settings:
        lines += ["Parameters: " + ", ".join(settings), ""]
    if params.system_prompt.strip():
        lines += ["## System prompt", "", params.system_prompt, ""]
    for round_ in conversation.rounds:
        lines += ["## You", "", round_.prompt, "", *_files(round_)]
        for key, reply in round_.replies.items():
            lines += [f"## {key}", ""] + _reply_lines(reply, metrics_line, marker, quote=False)
    return "\n".join(lines)


def _compare_markdown(conversation: Conversation, metrics_line: MetricsLine | None, share_url: str | None,
                      marker: str) -> str:
    lines = ["# Model comparison", ""]
    if share_url:
        lines += [f"Share link: <{share_url}>", ""]
    for number, round_ in enumerate(conversation.rounds, start=1):
        lines += [f"## Round {number}", "", "**Prompt**", "", _quote(round_.prompt), "", *_files(round_)]
        for key, reply in round_.replies.items():
            lines += [f"### {key}", "", f"Parameters: {_params_text(round_.params.get(key, ChatParams()))}", ""]
            lines += _reply_lines(reply, metrics_line, marker, quote=True)
        lines += _table(round_) + [""]
    return "\n".join(lines)


def _reply_lines(reply: Reply, metrics_line: MetricsLine | None, marker: str, *, quote: bool) -> list[str]:
    lines = []
    if reply.thinking:  # closed by default; its fences closed too, so the block ends where it should
        thinking = reply.thinking + ("\n```" if reply.thinking.count("```") % 2 else "")
        lines += [f"{marker}OPEN", "", thinking, "", f"{marker}CLOSE", ""]
    if reply.text:
        lines += [_quote(reply.text) if quote else reply.text, ""]
    elif quote:
        lines += ["_(no reply)_", ""]
    if reply.outcome in (Outcome.STOPPED, Outcome.CUT):
        lines += [f"_({reply.outcome.label})_", ""]
    if reply.error:
        lines += [f"**Error:** {reply.error.message}" + (f"  \n{reply.error.hint}" if reply.error.hint else ""), ""]
    if metrics_line and reply.text:
        lines += [f"_{metrics_line(reply.metrics)}_", ""]
    return lines


def _table(round_: Round) -> list[str]:
    table = results_frame(round_.replies)
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in table.itertuples(index=False)]
    return lines


def _params_text(params: ChatParams) -> str:
    shown = [f"system prompt “{params.system_prompt}”" if params.system_prompt else "no system prompt"]
    shown += [f"{name} {value}" for name, value in params.sampling().items()]
    if params.reasoning_text():
        shown.append(params.reasoning_text())
    return ", ".join(shown)


def _files(round_: Round) -> list[str]:
    """The files sent with a prompt, named (their content is in the JSON export)."""
    return [f"Attached: {', '.join(code_span(a.facts) for a in round_.attachments)}", ""] if round_.attachments else []


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines() or [""])


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value).replace("|", "\\|")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
