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

The images and links are found with a CommonMark parser (markdown-it-py) and rewritten at their exact place in the
source, so code blocks and inline code are left untouched. The result is parsed again: if any image were left, every
`![` outside code blocks is escaped instead. Safe on any piece of a reply, so a reply drawn block by block while it
streams (ui/live.py) is as safe as the whole.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from gateway.blocks import settled_length

PLACEHOLDER = "🖼 image from {host} — not loaded"
GROWING = 4000  # characters from which a text without reference definitions is made safe block by block
_DEFINITION = re.compile(r"^ {0,3}\[(?:[^\]\\\n]|\\.)+\]:", re.MULTILINE)  # `[label]: url`
_heads: OrderedDict[tuple[str, frozenset[str]], str] = OrderedDict()
_heads_lock = threading.Lock()
_CODE = re.compile(r"(```.*?(?:```|$)|~~~.*?(?:~~~|$)|`[^`\n]*`)", re.DOTALL)
_BANG = re.compile(r"(?<!\\)((?:\\\\)*)!(?=\[)")  # a `!` before `[` that no backslash escapes already
# control characters, line and paragraph separators, and the bidi controls that could reverse the text after them
_INVISIBLE = re.compile("[\x00-\x1f\x7f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:])")
# What makes plain text markup: emphasis, code, links and images (`[`), HTML and autolinks (`<`), LaTeX (`$`),
# Streamlit's directives (`:red[…]`, `:material/…:`), tables, headings, entities (`&copy;`); at the start, a list.
_PLAIN_SPECIAL = re.compile(r"([\\`*_\[\]<>$:|~&#])")
_PLAIN_LIST = re.compile(r"^(\d{0,9})([-+=.)])")
_RECORDED = {"image": "image", "link": "link_close", "backticks": "code_inline", "autolink": "link_close",
             "html_inline": "html_inline"}


def displayable(text: str, image_hosts: Iterable[str] = ()) -> str:
    """Model or prompt text for `st.markdown`: images only from `image_hosts`, links showing their host, `$` as `$`."""
    return escape_dollars(_safe_growing(_normalized(text), frozenset(image_hosts)))


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
    with _heads_lock:
        if (found := _heads.get((head, image_hosts))) is not None:
            return found
        base, safe = "", ""
        for (known, hosts), known_safe in _heads.items():
            if hosts == image_hosts and len(known) > len(base) and head.startswith(known):
                base, safe = known, known_safe
    safe += safe_markdown(head[len(base):], image_hosts)  # whole blocks: both ends are settled cuts
    with _heads_lock:
        _heads[(head, image_hosts)] = safe
        while len(_heads) > 32:
            _heads.popitem(last=False)
    return safe


def _normalized(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")  # as every renderer reads it


def escape_dollars(text: str) -> str:
    """Dollar signs outside code escaped, so `$5 or $10` is not LaTeX."""
    parts = _CODE.split(text)
    return "".join(part if index % 2 else part.replace("$", r"\$") for index, part in enumerate(parts))


@functools.lru_cache(maxsize=512)
def safe_markdown(text: str, image_hosts: frozenset[str] = frozenset()) -> str:
    """The Markdown with every image not from `image_hosts` replaced by a placeholder and every link's host shown."""
    text = _normalized(text)
    if "[" not in text:
        return text  # no image, link or reference: nothing to do
    parsers = _PARSERS if "<" in text else _PARSERS[:1]  # without `<` there is no raw HTML to read two ways
    for md in parsers:  # raw HTML read as Streamlit's renderer reads it (a block it drops), then as plain text
        edits = _edits(text, image_hosts, md)
        text = _apply(text, edits, md) if edits is not None else _escape_bangs(text, md)
    if _images(text, image_hosts, parsers):  # never expected: a construct the rewrite did not place
        for md in parsers:
            text = _escape_bangs(text, md)
    return text


def plain(text: object) -> str:
    """Untrusted text that is not Markdown (a title, a file name, a model name, an error message from the proxy) as
    Markdown that shows exactly that text: the characters that make markup escaped, so nothing becomes an image, a
    link, raw HTML, a colour or an icon (`:red[…]`, `:material/…:`), and invisible control characters shown as
    escapes. For every label, caption, alert and toast that holds such text."""
    shown = _INVISIBLE.sub(lambda m: " " if m.group() in "\n\t" else repr(m.group())[1:-1]
                           if m.group() < " " else f"\\u{ord(m.group()):04x}", str(text))
    escaped = _PLAIN_SPECIAL.sub(r"\\\1", shown.lstrip())  # leading spaces would make a code block
    return _PLAIN_LIST.sub(r"\1\\\2", escaped)  # `- x`, `1. x`: a list, `=`: a heading underline


def inline_code(text: str, limit: int = 80) -> str:
    """Any text (a link's parameter, a name) as one Markdown code span that nothing in it can break out of: control
    characters and line breaks shown as `\\n`-style escapes, cut at `limit` characters, fenced by more backticks
    than it holds."""
    shown = _INVISIBLE.sub(lambda m: repr(m.group())[1:-1] if m.group() < " " else f"\\u{ord(m.group()):04x}", text)
    if len(shown) > limit:
        shown = shown[:limit] + f"… ({len(text):,} characters)"
    fence = "`" * (max((len(run) for run in re.findall(r"`+", shown)), default=0) + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") or not shown.strip(" ") else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def escape_punctuation(text: str) -> str:
    """Every Markdown punctuation character backslash-escaped: `text` is drawn as written, never as emphasis, a
    link, code or a colour."""
    return _PUNCTUATION.sub(r"\\\1", text)


def image_placeholder(src: str) -> str:
    """What an image that is not loaded shows instead: where it would have come from."""
    if src.lower().startswith("data:"):
        return "🖼 embedded image (data: URL) — not loaded"
    host = _host(src)
    if host is None:
        return "🖼 image (relative link) — not loaded"
    return PLACEHOLDER.format(host=escape_punctuation(host))


def host_allowed(src: str, image_hosts: frozenset[str]) -> bool:
    """An http(s) image whose host is on the allow-list (`*.example.com` allows its subdomains)."""
    parts = _split(src)
    if not image_hosts or parts is None or parts.scheme.lower() not in ("http", "https"):
        return False
    host = _host(src)
    return host is not None and any(host == allowed or allowed.startswith("*.") and host.endswith(allowed[1:])
                                    for allowed in image_hosts)


# --- The parser, with where each image, link and code span starts and ends -------------------------------------------

def _recording(rule, produces: str):
    """`rule`, also noting on the token it produced where in the inline source it started and ended."""
    def wrapped(state: StateInline, silent: bool) -> bool:
        start, count = state.pos, len(state.tokens)
        if not rule(state, silent):
            return False
        if not silent and len(state.tokens) > count and state.tokens[-1].type == produces:
            state.tokens[-1].meta["span"] = (start, state.pos)
        return True
    return wrapped


def _parser(html: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": html}).enable(["table", "strikethrough"])
    for rule in md.inline.ruler.__rules__:
        if rule.name in _RECORDED:
            md.inline.ruler.at(rule.name, _recording(rule.fn, _RECORDED[rule.name]))
    return md


_PARSERS = (_parser(html=True), _parser(html=False))


def _images(text: str, image_hosts: frozenset[str], parsers: tuple[MarkdownIt, ...] = ()) -> list[str]:
    """The sources of the images a CommonMark renderer would load from `text` (those not allowed), with raw HTML
    read either way."""
    found = []
    for token in (token for md in parsers or _PARSERS for token in md.parse(text)):
        for child in token.children or ():
            if child.type == "image" and not host_allowed(str(child.attrs.get("src", "")), image_hosts):
                found.append(str(child.attrs.get("src", "")))
    return found


# --- Rewriting ------------------------------------------------------------------------------------------------------

Edit = tuple[int, int, str, str]  # replace text[start:end] (which shows as the last string) with the third


def _edits(text: str, image_hosts: frozenset[str], md: MarkdownIt) -> list[Edit] | None:
    """Every change to make, at its place in `text`; None when an image could not be placed exactly."""
    lines = text.split("\n")  # as the parser splits them (not str.splitlines: \u2028 and friends are no line end)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    edits: list[Edit] = []
    cursors: dict[int, int] = {}  # per source line: where the next table cell is looked for
    previous: Token | None = None
    for token in md.parse(text):
        if token.type == "inline" and token.children and token.map:
            place = _placer(token, lines, starts, cursors if previous and previous.type in ("td_open", "th_open")
                            else None)
            found = _inline_edits(token, place, image_hosts)
            if found is None:
                return None
            edits += found
        previous = token
    return edits


def _inline_edits(token: Token, place, image_hosts: frozenset[str]) -> list[Edit] | None:
    content = token.content
    edits: list[Edit] = []
    covered: list[tuple[int, int]] = []  # images, code spans, autolinks, HTML: no `![` is escaped inside them
    links: list[tuple[str, list[str]]] = []  # open links: href, the text shown so far
    for child in token.children or ():
        span = child.meta.get("span")
        if child.type == "image":
            if span is None:
                return None
            covered.append(span)
            if links:
                links[-1][1].append(child.content)
            if not host_allowed(str(child.attrs.get("src", "")), image_hosts):
                edit = _placed(place, content, span, image_placeholder(str(child.attrs.get("src", ""))))
                if edit is None:
                    return None
                edits.append(edit)
        elif child.type == "link_open":
            links.append((str(child.attrs.get("href", "")), []))
        elif child.type == "link_close" and links:
            href, shown = links.pop()
            if child.markup == "autolink":
                covered.append(span or (0, 0))
                continue
            suffix = _host_suffix(href, "".join(shown))
            if suffix and span is not None and not content.startswith(suffix, span[1]):  # not shown already
                edit = _placed(place, content, (span[1], span[1]), suffix)
                if edit is not None:
                    edits.append(edit)
        elif child.type in ("code_inline", "html_inline"):
            if span is not None:
                covered.append(span)
            if links:
                links[-1][1].append(child.content)
        elif links and child.type == "text":
            links[-1][1].append(child.content)
    for match in _BANG.finditer(content):  # a `![` left as text: never an image anywhere
        bang = match.end(1)
        if not any(start <= bang < end for start, end in covered):
            edit = _placed(place, content, (bang, bang), "\\")
            if edit is None:
                return None
            edits.append(edit)
    return edits


def _placer(token: Token, lines: list[str], starts: list[int], cursors: dict[int, int] | None):
    """A function from an offset in the token's content to the offset in the source (None when unsure).

    The content's lines are the source lines with their block markers (`> `, list indents) taken off the front;
    a table cell is found on its row left to right."""
    offsets: list[int | None] = []
    first = token.map[0] if token.map else 0
    for number, part in enumerate(token.content.split("\n")):
        index = first + number
        if index >= len(lines):
            offsets.append(None)
            continue
        source = lines[index]
        if cursors is not None:
            at = source.find(part, cursors.get(index, 0))
            if at >= 0:
                cursors[index] = at + len(part)
        elif source.rstrip().endswith(part.rstrip()):
            at = len(source.rstrip()) - len(part.rstrip())
        else:
            at = source.find(part)
        offsets.append(starts[index] + at if at >= 0 else None)
    line_starts = [0]
    for part in token.content.split("\n")[:-1]:
        line_starts.append(line_starts[-1] + len(part) + 1)

    def place(offset: int) -> int | None:
        number = max(i for i, s in enumerate(line_starts) if s <= offset)
        base = offsets[number]
        return None if base is None else base + offset - line_starts[number]
    return place


def _placed(place, content: str, span: tuple[int, int], replacement: str) -> Edit | None:
    """The edit at its place in the source, checked against the content it replaces."""
    start, end = span
    source_start = place(start)
    source_end = place(end - 1) + 1 if end > start and place(end - 1) is not None else source_start
    if source_start is None or source_end is None:
        return None
    return source_start, source_end, replacement, content[start:end]


def _apply(text: str, edits: list[Edit], md: MarkdownIt) -> str:
    """The edits applied from the end; each is checked against the text it replaces first."""
    result = text
    last = len(text) + 1
    # From the end; at one place, a `\\` goes in first so that a link's host, put in next, lands before it.
    for start, end, replacement, original in sorted(edits, key=lambda e: (e[0], e[1], e[2] == "\\"), reverse=True):
        if end > last or not _same(text[start:end], original):
            return _escape_bangs(text, md)
        result = result[:start] + replacement + result[end:]
        last = start
    return result


def _same(source: str, content: str) -> bool:
    """The source of a span and its content agree (block markers at line starts aside)."""
    if "\n" not in content:
        return source == content
    return source.startswith(content.split("\n")[0]) and source.endswith(content.split("\n")[-1])


def _escape_bangs(text: str, md: MarkdownIt) -> str:
    """The safe fallback: every `![` outside fenced and indented code blocks escaped, so nothing is an image."""
    code_lines: set[int] = set()
    for token in md.parse(text):
        if token.type in ("fence", "code_block") and token.map:
            code_lines.update(range(*token.map))
    return "\n".join(line if number in code_lines else _BANG.sub(r"\1\\!", line)
                     for number, line in enumerate(text.split("\n")))


def _host_suffix(href: str, shown: str) -> str:
    """` (host)` after a link whose text does not already say where it goes; "" when it does (or is not web)."""
    parts = _split(href)
    host = _host(href)
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host:
        return ""
    text = shown.strip().lower().rstrip("/")
    bare = re.sub(r"^[a-z]+://", "", text).removeprefix("www.")
    if bare == host.removeprefix("www.") or bare.split("/", 1)[0] == host.removeprefix("www.") and "/" in bare:
        return ""
    return f" ({escape_punctuation(host)})"


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url.strip())
        parts.hostname, parts.port  # noqa: B018  (both raise on a malformed address)
    except ValueError:
        return None
    return parts


def _host(src: str) -> str | None:
    parts = _split(src)
    if parts is None:
        return "an unreadable address"
    return parts.hostname.lower() if parts.hostname else None
