"""Token counting: how much of a model's context window a conversation takes, before it is sent.

Models on the LiteLLM route are counted by the proxy (`POST /utils/token_counter`, the model's own tokenizer where
LiteLLM has one) with a short timeout; everything else, and any failure, falls back to an estimate. After a reply the
proxy has already said how many tokens the request took and the reply added (its usage): `remember_reply()` keeps
that count for the conversation as it now stands, so showing how full the window is costs no second round trip.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace
from typing import Any, Literal

import httpx

from gateway.attachments import Attachment, content_tokens
from gateway.cache import Cache, cached
from gateway.config import Settings
from gateway.errors import GatewayError
from gateway.http import shared_client
from gateway.models import ModelRecord
from gateway.reply import Outcome, Reply

CountSource = Literal["proxy", "estimate"]
COUNT_TIMEOUT = 1.5  # seconds: a count must never hold up the page
COUNT_MAX_BYTES = 1024 * 1024  # the counter answers a few hundred bytes
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4  # role and separators
WARN_FRACTION = 0.9
SURE_FRACTION = 0.5  # below this share of the window an estimate is good enough to send without asking the proxy
KNOWN_COUNTS = 4096  # counts taken from replies' usage, kept for the whole process (the least recently used go)

_known: Cache[str, int] = Cache(KNOWN_COUNTS, name="gateway.tokens.known")


@dataclass(frozen=True)
class TokenCount:
    """A conversation's size in tokens, and who counted it."""

    tokens: int
    source: CountSource


@dataclass(frozen=True)
class ContextFit:
    """A conversation's size against a model's context window (plus the room asked for the reply)."""

    used: int
    limit: int | None  # the context window; None when unknown
    source: CountSource
    reserve: int = 0  # max_tokens asked for the reply

    @property
    def fraction(self) -> float | None:
        """How full the window is, 0..1 (more when it overflows); None when the window is unknown."""
        return (self.used + self.reserve) / self.limit if self.limit else None

    @property
    def fits(self) -> bool:
        """The request can fit (always True when the window is unknown)."""
        return self.limit is None or self.used + self.reserve <= self.limit

    @property
    def nearly_full(self) -> bool:
        return self.fraction is not None and self.fraction >= WARN_FRACTION


def estimate_tokens(messages: list[dict[str, str]]) -> int:
    """About four characters per token, plus a few per message (none for no messages); attached images by their
    size (gateway.attachments.content_tokens)."""
    if not messages:
        return 0
    return 3 + sum(TOKENS_PER_MESSAGE + content_tokens(m.get("content") or "") for m in messages)


def count_tokens(model: ModelRecord, messages: list[dict[str, str]], settings: Settings, *,
                 timeout: float = COUNT_TIMEOUT) -> TokenCount:
    """The proxy's count for a LiteLLM model, else (or when the proxy does not answer within `timeout`) an estimate."""
    if model.route == "litellm" and settings.litellm_usable and messages:
        messages_json = json.dumps(messages, sort_keys=True)
        known = _known.get(_known_slot(settings, model, messages_json))
        counted = known if known is not None else _proxy_count(settings.litellm_base_url, settings.litellm_api_key,
                                                               model.id, messages_json, timeout)
        if counted is not None:
            return TokenCount(counted, "proxy")
    return TokenCount(estimate_tokens(messages), "estimate")


def remember_reply(model: ModelRecord, sent: list[dict[str, Any]], reply: Reply, settings: Settings) -> None:
    """After a whole reply from the proxy, the conversation's size is what its usage says: the request's prompt
    tokens plus the reply's answer (a reasoning model's thinking is not sent back: it takes no room in the next
    request). Kept so that `count_tokens` on the messages sent plus this reply needs no round trip."""
    metrics = reply.metrics
    prompt = metrics.prompt_tokens  # only from usage
    completion = metrics.answer_tokens if metrics.answer_tokens is not None else metrics.completion_tokens
    if (model.route != "litellm" or not settings.litellm_usable or reply.outcome is not Outcome.COMPLETE
            or not reply.text or not prompt or completion is None):
        return
    after = [*sent, {"role": "assistant", "content": reply.text}]
    slot = _known_slot(settings, model, json.dumps(after, sort_keys=True))
    _known.put(slot, prompt + completion + TOKENS_PER_MESSAGE)


def _known_slot(settings: Settings, model: ModelRecord, messages_json: str) -> str:
    """Where a known count lives: the proxy, its key and the model, and the messages (hashed: the texts stay out)."""
    digest = hashlib.sha256(f"{settings.litellm_base_url}\0{settings.litellm_api_key}\0{model.id}\0".encode())
    digest.update(messages_json.encode())
    return digest.hexdigest()


def context_fit(model: ModelRecord, messages: list[dict[str, str]], settings: Settings, *,
                max_tokens: int | None = None) -> ContextFit:
    """How full the model's context window is with these messages (and `max_tokens` reserved for the reply)."""
    count = count_tokens(model, messages, settings)
    return ContextFit(count.tokens, model.context_window, count.source, max_tokens or 0)


def count_attachments(model: ModelRecord, attachments: list[Attachment], settings: Settings, *,
                      budget: float = 2 * COUNT_TIMEOUT) -> list[Attachment]:
    """The files with `counted_tokens` from the proxy's token counter for `model`: each text-bearing file's text as
    a user message, less that message empty. Images keep OpenAI's tile formula, which is how the proxy counts them
    too. A file the proxy does not count (it does not answer within COUNT_TIMEOUT, or `budget` seconds have gone on
    the files before it) keeps its estimate."""
    if model.route != "litellm" or not settings.litellm_usable or not any(a.ok and a.kind != "image"
                                                                          for a in attachments):
        return list(attachments)
    deadline = time.monotonic() + budget

    def counted(content: str) -> int | None:
        if time.monotonic() > deadline:
            return None
        count = count_tokens(model, [{"role": "user", "content": content}], settings)  # cached by content
        return count.tokens if count.source == "proxy" else None

    if (empty := counted("")) is None:
        return list(attachments)
    out = []
    for attachment in attachments:
        if attachment.ok and attachment.kind != "image" and (total := counted(attachment.message_text())) is not None:
            attachment = replace(attachment, counted_tokens=max(0, total - empty))
        out.append(attachment)
    return out


def fit_before_sending(model: ModelRecord, messages: list[dict[str, str]], settings: Settings, *,
                       max_tokens: int | None = None) -> ContextFit:
    """The fit check at send time: the estimate when it is far from the limit (no round trip before the request),
    else the proxy's count."""
    estimate = ContextFit(estimate_tokens(messages), model.context_window, "estimate", max_tokens or 0)
    if estimate.fraction is None or estimate.fraction < SURE_FRACTION:
        return estimate
    return context_fit(model, messages, settings, max_tokens=max_tokens)


@cached(size=512, ttl=600)
def _proxy_count(base_url: str, api_key: str | None, model: str, messages_json: str,
                 timeout: float = COUNT_TIMEOUT) -> int | None:
    """`total_tokens` from the proxy's token counter, or None. Cached by content (None results too: fast fallback)."""
    client = shared_client(base_url, api_key, connect=min(COUNT_TIMEOUT, timeout), read=timeout,
                           max_bytes=COUNT_MAX_BYTES)
    try:
        response = client.post("/utils/token_counter", json={"model": model, "messages": json.loads(messages_json)})
        response.raise_for_status()
        total = response.json().get("total_tokens")
    except (httpx.HTTPError, GatewayError, ValueError, RecursionError, AttributeError):
        return None
    return total if isinstance(total, int) and total >= 0 else None

