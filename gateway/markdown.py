"""Untrusted Markdown (model replies, prompts) made inert: nothing in it loads by itself, wherever it is rendered.

The images and links are found with a CommonMark parser (markdown-it-py) and rewritten at their exact place in the
source, so code blocks and inline code are left untouched; raw HTML is read both ways (as a renderer that renders it
reads it, and as one that shows it as text). The result is parsed again: if any image were left, every `![` outside
code blocks is escaped instead.

- `safe_markdown`: for the pages (ui/markdown.py draws with it). Every image not from the allow-list becomes a
  visible placeholder naming its host ("🖼 image from attacker.example — not loaded"); a link stays clickable, but
  when its text does not already show where it goes, its real host follows it; a `![` that is not an image here is
  escaped, so no renderer can ever turn it into one.
- `inert_markdown`: for the Markdown files we export, which any viewer may render (an IDE preview, a wiki, a
  repository page), with or without raw HTML. Every image becomes the text `[image: alt](address)` in a code span
  (readable, never fetched), and all raw HTML is escaped, so it shows as the text it is and no tag (`<img>`,
  `<iframe>`, `<script>`, `<link>`, `<style>`, a `style=` or `background=` attribute, `<meta http-equiv=refresh>`…)
  can load or run anything. The pages never render raw HTML either (Streamlit draws Markdown without it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

PLACEHOLDER = "🖼 image from {host} — not loaded"
_BANG = re.compile(r"(?<!\\)((?:\\\\)*)!(?=\[)")  # a `!` before `[` that no backslash escapes already
# control characters, line and paragraph separators, and the bidi controls that could reverse the text after them
INVISIBLE = re.compile("[\x00-\x1f\x7f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:])")
_RECORDED = {"image": "image", "link": "link_close", "backticks": "code_inline", "autolink": "link_close",
             "html_inline": "html_inline"}


def normalized(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")  # as every renderer reads it


Image = Callable[[str, str], str]  # an image's address and alt text -> the Markdown shown instead


def shown_placeholder(src: str, alt: str) -> str:
    """The pages' stand-in for an image: where it would have come from (`image_placeholder`)."""
    return image_placeholder(src)


def shown_as_text(src: str, alt: str) -> str:
    """The exports' stand-in for an image: `[image: alt](address)` as a code span, readable and never fetched."""
    return code_span(f"[image: {alt}]({src})" if alt.strip() else f"[image]({src})")


@functools.lru_cache(maxsize=512)
def safe_markdown(text: str, image_hosts: frozenset[str] = frozenset(), image: Image = shown_placeholder) -> str:
    """The Markdown with every image not from `image_hosts` replaced by `image(src, alt)` (a placeholder) and every
    link's host shown. Cached: a page draws the same replies on every rerun."""
    return _rewritten(text, image_hosts, image)


def _rewritten(text: str, image_hosts: frozenset[str], image: Image) -> str:
    text = normalized(text)
    if "[" not in text:
        return text  # no image, link or reference: nothing to do
    parsers = _PARSERS if "<" in text else _PARSERS[:1]  # without `<` there is no raw HTML to read two ways
    for md in parsers:  # raw HTML read as Streamlit's renderer reads it (a block it drops), then as plain text
        edits = _edits(text, md, lambda token, place: _inline_edits(token, place, image_hosts, image))
        text = _apply(text, edits, md) if edits is not None else _escape_bangs(text, md)
    if _images(text, image_hosts, parsers):  # never expected: a construct the rewrite did not place
        for md in parsers:
            text = _escape_bangs(text, md)
    return text


def inert_markdown(text: str) -> str:
    """Markdown for a file any viewer may render: raw HTML escaped (shown as text), every image as the text
    `[image: alt](address)`; links keep working and show their host. Nothing in the result loads by itself."""
    text = _without_html(normalized(text))
    text = _rewritten(text, frozenset(), shown_as_text)  # not cached: a whole export is made once, when clicked
    if _html(text):  # never expected: an image's stand-in is a code span, and nothing else adds a `<`
        text = _escape_all_html(text)
    return text


def live_content(text: str) -> list[str]:
    """What a CommonMark renderer would load or run from `text`, read with raw HTML on and off: each image's
    address and each raw HTML tag. Empty for an `inert_markdown` result."""
    return _images(text, frozenset()) + _html(text)


def code_span(text: str, limit: int | None = None) -> str:
    """Any text as one Markdown code span that nothing in it can break out of: control characters and line breaks
    shown as `\\n`-style escapes, cut at `limit` characters when given, fenced by more backticks than it holds."""
    shown = INVISIBLE.sub(lambda m: repr(m.group())[1:-1] if m.group() < " " else f"\\u{ord(m.group()):04x}", text)
    if limit is not None and len(shown) > limit:
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


InlineEdits = Callable[[Token, Callable[[int], int | None]], list[Edit] | None]


def _edits(text: str, md: MarkdownIt, inline_edits: InlineEdits,
           tokens: list[Token] | None = None) -> list[Edit] | None:
    """Every change `inline_edits` makes to an inline token, at its place in `text` (parsed by `md`, or already as
    `tokens`); None when one could not be placed exactly."""
    lines = text.split("\n")  # as the parser splits them (not str.splitlines: \u2028 and friends are no line end)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    edits: list[Edit] = []
    cursors: dict[int, int] = {}  # per source line: where the next table cell is looked for
    previous: Token | None = None
    for token in md.parse(text) if tokens is None else tokens:
        if token.type == "inline" and token.children and token.map:
            place = _placer(token, lines, starts, cursors if previous and previous.type in ("td_open", "th_open")
                            else None)
            found = inline_edits(token, place)
            if found is None:
                return None
            edits += found
        previous = token
    return edits


def _inline_edits(token: Token, place, image_hosts: frozenset[str], image: Image) -> list[Edit] | None:
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
                edit = _placed(place, content, span, image(str(child.attrs.get("src", "")), child.content))
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


# --- Raw HTML -----------------------------------------------------------------------------------------------------

def _html(text: str) -> list[str]:
    """The raw HTML a renderer with HTML on would pass through: each HTML block and inline tag."""
    if "<" not in text:
        return []
    found = []
    for token in _PARSERS[0].parse(text):
        if token.type == "html_block":
            found.append(token.content)
        found += [child.content for child in token.children or () if child.type == "html_inline"]
    return found


def _without_html(text: str) -> str:
    """Every raw HTML block and inline tag escaped (`<` as `&lt;`), so it shows as the text it is; code spans, code
    blocks and autolinks untouched. Escaping a block's `<` could let the lines after it read differently, so each
    pass is checked by the next."""
    for _ in range(3):
        escaped = _escape_html_once(text) if "<" in text else None
        if escaped is None:
            return text  # no raw HTML left
        text = escaped
    return text if not _html(text) else _escape_all_html(text)


def _escape_html_once(text: str) -> str | None:
    """The raw HTML found in one parse escaped; None when there is none."""
    md = _PARSERS[0]
    tokens = md.parse(text)
    if not any(token.type == "html_block" or any(child.type == "html_inline" for child in token.children or ())
               for token in tokens):
        return None
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    edits: list[Edit] = [(starts[number] + at, starts[number] + at + 1, "&lt;", "<")
                         for token in tokens if token.type == "html_block" and token.map
                         for number in range(*token.map) if number < len(lines)
                         for at in (m.start() for m in re.finditer("<", lines[number]))]

    def inline(token: Token, place) -> list[Edit] | None:
        found = []
        for child in token.children or ():
            if child.type == "html_inline":
                span = child.meta.get("span")
                edit = _placed(place, token.content, (span[0], span[0] + 1), "&lt;") if span else None
                if edit is None:
                    return None
                found.append(edit)
        return found

    inline_edits = _edits(text, md, inline, tokens)
    if inline_edits is None:
        return _escape_all_html(text)
    result = text
    for start, end, replacement, original in sorted(set(edits + inline_edits), reverse=True):
        if text[start:end] != original:
            return _escape_all_html(text)
        result = result[:start] + replacement + result[end:]
    return result


def _escape_all_html(text: str) -> str:
    """The safe fallback: every `<` outside fenced and indented code blocks escaped (inline code may then show
    `&lt;`), so no renderer finds raw HTML."""
    code_lines: set[int] = set()
    for token in _PARSERS[0].parse(text):
        if token.type in ("fence", "code_block") and token.map:
            code_lines.update(range(*token.map))
    return "\n".join(line if number in code_lines else line.replace("<", "&lt;")
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
