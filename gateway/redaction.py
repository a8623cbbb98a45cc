"""The one redaction boundary: keys never leave the gateway in any text, even when a proxy echoes them back.

`register_secrets()` remembers keys for the whole process (`load_settings()` registers every key it reads);
`redact()` removes them, and the key variables of the process environment, from any text: whole, cut short, split
by quotes or JSON-escaped, with `Bearer …` tokens and anything shaped like an API key (`sk-…`, `sk-ant-…`).
`GatewayError` (gateway/errors.py) calls it whenever its message or hint is set or read, so no caller can forget.
`mask_key()` is how a key may be shown: at most its first 3 and last 4 characters.
"""

from __future__ import annotations

import functools
import os
import re
import threading

SECRET_VARIABLES = ("LITELLM_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LITELLM_MASTER_KEY")
MIN_SECRET = 4  # shorter values are never treated as secrets (they would match ordinary words)
FRAGMENT = 8  # any run of this many characters of a known secret is removed: a key cut short or cut in two

_registered: set[str] = set()
_registered_lock = threading.Lock()


def register_secrets(*values: str | None) -> None:
    """Remember keys for redaction, for the whole process (`load_settings()` registers every key it reads)."""
    with _registered_lock:
        _registered.update(v.strip() for v in values if v and len(v.strip()) >= MIN_SECRET)


def known_secrets(extra: tuple[str | None, ...] = ()) -> tuple[str, ...]:
    """The registered keys, the key variables set in the environment now, and `extra`; longest first."""
    with _registered_lock:
        found = set(_registered)
    found.update(v.strip() for v in (*(os.environ.get(n) for n in SECRET_VARIABLES), *extra)
                 if v and len(v.strip()) >= MIN_SECRET)
    return tuple(sorted(found, key=len, reverse=True))


# A character as a proxy may echo it: plain, JSON-escaped (\u002d, \/), URL-encoded (%2D); and what may split a key
# in two without changing it (quotes, whitespace, a `+` or a comma between two quoted halves, escaped quotes).
_PIECE = re.compile(r"""\\u([0-9a-fA-F]{4})|%([0-9a-fA-F]{2})|(\\["'\\nrt]|["'`\s+,])|\\([^u])|(.)""", re.DOTALL)
_BEARER = re.compile(r"""(?i)\b(bearer)((?:\s|%20|\\u0020|["'=:])+)(?!\$)[^\s"'<>,;{}()\[\]\\]+""")  # not $VAR
_KEYLIKE = re.compile(r"""(?<![A-Za-z0-9])sk(?:-|\\u002[dD]|%2[dD])[A-Za-z0-9_\-]{3,}""")
_SECRET_FIELD = re.compile(r"""(?i)((?:api[_-]?key|x-api-key|authorization|master[_-]?key)["']?\s*[:=]\s*["']?)"""
                           r"""(?!\*\*\*|bearer\b)[^\s"'<>,;{}()\[\]\\]{4,}""")


def redact(text: str, secrets: tuple[str | None, ...] = ()) -> str:
    """Remove API keys from a text: every known key (see `known_secrets`) whole or any `FRAGMENT`-long piece of
    it, also when quoted, split or escaped; `Bearer` tokens; `api_key=…` values; anything shaped like `sk-…`."""
    if not text:
        return text
    known = known_secrets(secrets)
    return _redact(text, known) if len(text) <= 10_000 else _redact.__wrapped__(text, known)


@functools.lru_cache(maxsize=2048)
def _redact(text: str, known: tuple[str, ...]) -> str:
    for secret in known:
        text = _remove_secret(text, secret)
    text = _BEARER.sub(r"\1\2***", text)
    text = _SECRET_FIELD.sub(r"\1***", text)
    return _KEYLIKE.sub("sk-***", text)


def _remove_secret(text: str, secret: str) -> str:
    if secret in text:  # the common case, at C speed
        text = text.replace(secret, mask_key(secret))
    if len(secret) < FRAGMENT:
        return text
    grams = _grams(secret)
    clean, spans = _loose(text)
    if not grams.search(clean):
        return text
    cuts: list[tuple[int, int]] = []
    position = 0
    while (match := grams.search(clean, position)) is not None:
        start, end = _extend(clean, match.start(), secret)
        cuts.append((spans[start][0], spans[end - 1][1]))
        position = end
    for start, end in reversed(cuts):
        text = text[:start] + "***" + text[end:]
    return text


@functools.lru_cache(maxsize=64)
def _grams(secret: str) -> re.Pattern[str]:
    """Every FRAGMENT-long piece of a secret, as one pattern."""
    pieces = {secret[i:i + FRAGMENT] for i in range(len(secret) - FRAGMENT + 1)}
    return re.compile("|".join(re.escape(p) for p in sorted(pieces)))


def _loose(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The text with escapes decoded and splitting characters dropped, and where each kept character came from."""
    clean: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _PIECE.finditer(text):
        if match.group(3) is not None:
            continue
        code = match.group(1) or match.group(2)
        char = chr(int(code, 16)) if code else (match.group(4) or match.group(5) or "")
        if char:
            clean.append(char)
            spans.append(match.span())
    return "".join(clean), spans


def _extend(clean: str, start: int, secret: str) -> tuple[int, int]:
    """The longest run of `secret` in `clean` that contains the piece found at `start`."""
    best = (start, start + FRAGMENT)
    piece = clean[start:start + FRAGMENT]
    offset = secret.find(piece)
    while offset >= 0:
        left, right = start, start + FRAGMENT
        before, after = offset, offset + FRAGMENT
        while left > 0 and before > 0 and clean[left - 1] == secret[before - 1]:
            left, before = left - 1, before - 1
        while right < len(clean) and after < len(secret) and clean[right] == secret[after]:
            right, after = right + 1, after + 1
        if right - left > best[1] - best[0]:
            best = (left, right)
        offset = secret.find(piece, offset + 1)
    return best


def mask_key(key: str | None) -> str:
    """A key as it may be shown: at most the first 3 and last 4 characters."""
    if not key:
        return "not set"
    if len(key) <= 10:
        return "***"
    return f"{key[:3]}…{key[-4:]}"
