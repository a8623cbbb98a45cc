"""What a chat request says, read once: the last user message's text and images, the system prompt, the earlier
turns, and what the prompt asks for (a table, a list, code, a summary, only the answer…)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

MAX_IMAGE_BYTES = 20 * 1024 * 1024
STOPWORDS = frozenset({
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do",
    "does", "doing", "down", "during", "each", "few", "for", "from", "further", "give", "had", "has", "have",
    "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself",
    "just", "like", "make", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only",
    "or", "other", "our", "out", "over", "own", "please", "same", "she", "should", "show", "so", "some", "such",
    "tell", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through",
    "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while",
    "who", "whom", "why", "will", "with", "would", "write", "you", "your", "yours", "explain", "describe", "list",
    "table", "using", "use", "want", "need", "know", "think", "much", "many", "words", "word", "short", "long", "one",
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "summarise", "summarize", "summary",
    "thanks", "thank",
})


def stable_hash(*parts: str) -> int:
    """A number that depends only on the text (Python's own hash() changes from run to run)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class Image:
    """An image part of the last user message: its bytes (from a data URL), or a URL that is never fetched."""

    data: bytes | None = None
    url: str | None = None
    error: str | None = None  # why the data URL could not be read


@dataclass(frozen=True)
class Prompt:
    text: str  # the last user message's text
    system: str = ""  # the system (and developer) messages, joined
    images: tuple[Image, ...] = ()  # in the last user message
    earlier: tuple[str, ...] = ()  # the earlier user messages' text, oldest first
    texts: tuple[str, ...] = field(default=(), repr=False)  # every message's text, for counting tokens
    seed: int | None = None  # the request's `seed`, if any

    @property
    def turn(self) -> int:
        """Which user turn this is: 1 for the first question."""
        return len(self.earlier) + 1

    @cached_property
    def key(self) -> int:
        """A stable number for this prompt (system prompt and request seed included): what varies with it."""
        return stable_hash(self.system, self.text, "" if self.seed is None else str(self.seed))

    @cached_property
    def words(self) -> list[str]:
        """The prompt's words (not counting the insides of links)."""
        return re.findall(r"[^\W\d_][\w'-]*", re.sub(r"\w+://\S+", " ", self.text))

    @cached_property
    def key_terms(self) -> list[str]:
        """Up to five words that say what the prompt is about: the most frequent non-trivial words, first seen
        first among equals."""
        candidates = [w.lower() for w in self.words if len(w) > 3 and w.lower() not in STOPWORDS]
        counts = Counter(candidates)
        order = {word: index for index, word in reversed(list(enumerate(candidates)))}
        return sorted(counts, key=lambda w: (-counts[w], order[w]))[:5]

    @cached_property
    def sentences(self) -> list[str]:
        parts = re.split(r"(?<=[.!?])\s+|\n+", self.text.strip())
        return [part.strip() for part in parts if part.strip()]

    def asks(self, pattern: str) -> bool:
        return re.search(pattern, self.text, re.I) is not None

    @property
    def wants_table(self) -> bool:
        return self.asks(r"\btables?\b|\btabular\b|\bcolumns\b")

    @property
    def wants_list(self) -> bool:
        return self.asks(r"\blist\b|\bbullets?\b|\bbullet points\b|\bsteps\b|\benumerate\b|\bname\s+(?:\d+|two|"
                         r"three|four|five|some|a few)\b")

    @property
    def wants_code(self) -> bool:
        return self.asks(r"\bcode\b|\bfunction\b|\bscript\b|\bsnippet\b|\bprogram\b|\bregex\b|\bsql\b|\bquery\b|"
                         r"\bin python\b|\bin javascript\b|\bimplement\b")

    @property
    def wants_summary(self) -> bool:
        return self.asks(r"\bsummar(?:y|ise|ize)\b|\btl;?dr\b|\bin short\b|\bsum up\b")

    @property
    def wants_only_answer(self) -> bool:
        """The system prompt or the prompt asks for nothing but the answer ("Answer with only the number")."""
        return re.search(r"\b(?:only|just)\s+(?:the|a|one)?\s*(?:number|answer|result|value|word)\b|"
                         r"\bno explanation\b|\bnothing else\b", f"{self.system}\n{self.text}", re.I) is not None

    @property
    def wants_brief(self) -> bool:
        return re.search(r"\bbrief\b|\bconcise\b|\bshort\b|\bone sentence\b|\bterse\b", self.system, re.I) is not None

    @property
    def subject(self) -> str:
        """What the request is about, in a few words: its key terms, else its first words."""
        if self.key_terms:
            return join_words(self.key_terms[:3])
        return " ".join(self.text.split()[:6]) or "nothing at all"

    @property
    def material(self) -> str:
        """The text to work on when the prompt hands some over ("Summarise this: …"): after the first colon or
        blank line, else the whole prompt."""
        match = re.search(r":\s+|\n\s*\n", self.text)
        if match and len(self.text) - match.end() > 40:
            return self.text[match.end():].strip()
        return self.text.strip()


def quote(text: str, limit: int = 120) -> str:
    """The text on one line, cut at a word boundary with an ellipsis past `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return f"{cut}…"


def read(messages: Iterable[Mapping], seed: int | None = None) -> Prompt:
    """The Prompt of an OpenAI chat request's `messages` (malformed entries are skipped, never fatal) and `seed`."""
    users: list[tuple[str, tuple[Image, ...]]] = []
    system: list[str] = []
    texts: list[str] = []
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        text, images = _content(message.get("content"))
        texts.append(text)
        role = message.get("role")
        if role in ("system", "developer"):
            system.append(text)
        elif role == "user":
            users.append((text, images))
    last_text, last_images = users[-1] if users else ("", ())
    return Prompt(last_text, "\n".join(system), last_images, tuple(text for text, _ in users[:-1]), tuple(texts),
                  seed if isinstance(seed, int) and not isinstance(seed, bool) else None)


def _content(content: object) -> tuple[str, tuple[Image, ...]]:
    """A message's text and images: content is a string or a list of OpenAI content parts."""
    if isinstance(content, str):
        return content, ()
    if not isinstance(content, list):
        return "", ()
    texts, images = [], []
    for part in content:
        if not isinstance(part, Mapping):
            continue
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif part.get("type") == "image_url":
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, Mapping) else url
            images.append(_image(url if isinstance(url, str) else ""))
    return "\n".join(texts), tuple(images)


def _image(url: str) -> Image:
    match = re.match(r"data:([\w.+/-]*)((?:;[\w=.+-]+)*),", url)
    if not match:
        return Image(url=url) if url else Image(error="the image part has no URL")
    payload = url[match.end():]
    if ";base64" not in match.group(2):
        return Image(error="the data URL is not base64-encoded")
    if len(payload) * 3 // 4 > MAX_IMAGE_BYTES:
        return Image(error=f"the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    try:
        return Image(data=base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError):
        return Image(error="the data URL's base64 does not decode")


def join_words(words: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"

