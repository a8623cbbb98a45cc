"""Untrusted Markdown (model replies, prompts) made safe to hand to `st.markdown`: nothing in it loads by itself.

A reply is still drawn as Markdown, but:
- every image (inline `![](…)`, reference-style `![x][ref]`, inside a link or a table, a `data:` image) becomes a
  visible placeholder naming its host, e.g. "🖼 image from attacker.example — not loaded", unless its host is on the
  `REPLY_IMAGE_HOSTS` allow-list (empty by default). A poisoned document can no longer make the browser send
  conversation data to an address in an image URL;
- a link stays clickable, but when its text does not already show where it goes, its real host follows it:
  `[docs](https://attacker.example/x)` is drawn as "docs (attacker.example)";
- a `![` that is not an image here (an unresolved `![x][ref]`, whose definition may arrive in a later block of a
  streaming reply) is escaped, so no renderer can ever turn it into one;
- dollar signs outside code are escaped, so prices do not turn into LaTeX.
Raw HTML (`<img src=…>`) is left as it is: Streamlit never renders it without `unsafe_allow_html`, which the app does
not use (checked in Chromium: tests/browser/test_replies_load_nothing.py).

The images and links are found with a CommonMark parser and rewritten at their exact place in the source
(gateway/markdown.py, which the Markdown exports use too), so code blocks and inline code are left untouched. Safe on
any piece of a reply, so a reply drawn block by block while it streams (ui/live.py) is as safe as the whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gateway.blocks import settled_length
from gateway.cache import Cache
from gateway.markdown import (
    INVISIBLE,
    PLACEHOLDER,
    code_span,
    escape_punctuation,
    host_allowed,
    image_placeholder,
    normalized,
    safe_markdown,
)

__all__ = ["PLACEHOLDER", "displayable", "escape_dollars", "escape_punctuation", "host_allowed",
           "image_placeholder", "inline_code", "plain", "safe_markdown"]

GROWING = 4000  # characters from which a text without reference definitions is made safe block by block
_DEFINITION = re.compile(r"^ {0,3}\[(?:[^\]\\\n]|\\.)+\]:", re.MULTILINE)  # `[label]: url`
_heads: Cache[tuple[str, frozenset[str]], str] = Cache(32)  # settled parts made safe, to extend (not to look up)
_CODE = re.compile(r"(```.*?(?:```|$)|~~~.*?(?:~~~|$)|`[^`\n]*`)", re.DOTALL)
# What makes plain text markup: emphasis, code, links and images (`[`), HTML and autolinks (`<`), LaTeX (`$`),
# Streamlit's directives (`:red[…]`, `:material/…:`), tables, headings, entities (`&copy;`); at the start, a list.
_PLAIN_SPECIAL = re.compile(r"([\\`*_\[\]<>$:|~&#])")
_PLAIN_LIST = re.compile(r"^(\d{0,9})([-+=.)])")


def displayable(text: str, image_hosts: Iterable[str] = ()) -> str:
    """Model or prompt text for `st.markdown`: images only from `image_hosts`, links showing their host, `$` as `$`."""
    return escape_dollars(_safe_growing(normalized(text), frozenset(image_hosts)))


def _safe_growing(text: str, image_hosts: frozenset[str]) -> str:
    """`safe_markdown`, block by block for a long text that keeps growing (the compare page draws each streaming
    reply whole, every 50 ms): the settled blocks (gateway.blocks) are made safe once, then only what follows.
    Blocks affect each other only through reference definitions, so a text with none comes out exactly as whole."""
    if len(text) < GROWING or "[" not in text or _DEFINITION.search(text):
        return safe_markdown(text, image_hosts)
    cut = settled_length(text)
    return _safe_head(text[:cut], image_hosts) + safe_markdown(text[cut:], image_hosts)


def _safe_head(head: str, image_hosts: frozenset[str]) -> str:
    """The settled part made safe, from the longest settled part made safe before that it extends."""
    if not head:
        return ""
    if (found := _heads.get((head, image_hosts))) is not None:
        return found
    base, safe = "", ""
    for (known, hosts), known_safe in _heads.items():
        if hosts == image_hosts and len(known) > len(base) and head.startswith(known):
            base, safe = known, known_safe
    safe += safe_markdown(head[len(base):], image_hosts)  # whole blocks: both ends are settled cuts
    return _heads.put((head, image_hosts), safe)


def escape_dollars(text: str) -> str:
    """Dollar signs outside code escaped, so `$5 or $10` is not LaTeX."""
    parts = _CODE.split(text)
    return "".join(part if index % 2 else part.replace("$", r"\$") for index, part in enumerate(parts))


def plain(text: object) -> str:
    """Untrusted text that is not Markdown (a title, a file name, a model name, an error message from the proxy) as
    Markdown that shows exactly that text: the characters that make markup escaped, so nothing becomes an image, a
    link, raw HTML, a colour or an icon (`:red[…]`, `:material/…:`), and invisible control characters shown as
    escapes. For every label, caption, alert and toast that holds such text."""
    shown = INVISIBLE.sub(lambda m: " " if m.group() in "\n\t" else repr(m.group())[1:-1]
                           if m.group() < " " else f"\\u{ord(m.group()):04x}", str(text))
    escaped = _PLAIN_SPECIAL.sub(r"\\\1", shown.lstrip())  # leading spaces would make a code block
    return _PLAIN_LIST.sub(r"\1\\\2", escaped)  # `- x`, `1. x`: a list, `=`: a heading underline


def inline_code(text: str, limit: int = 80) -> str:
    """Any text (a link's parameter, a name) as one Markdown code span that nothing in it can break out of, cut at
    `limit` characters (gateway/markdown.py `code_span`)."""
    return code_span(text, limit)
