"""Where a growing Markdown reply can be cut so that the part before the cut never changes as more text arrives.

A page that streams a long reply would otherwise re-send (and the browser re-parse) the whole text on every update.
With `settled_length()` it draws the settled blocks once and re-sends only the unfinished tail.

A cut is made only at a blank line that is outside a fenced code block and is followed by the start of a new
top-level block: not an indented line (a list item's continuation, an indented code block), and not a list item
following a list (a list stays one block). Nothing is cut after a line that may start raw HTML (`<` at the start):
an HTML block holds lines that look like fences without being ones, and where it ends depends on its kind. When in
doubt it does not cut; the page draws the whole reply as one block at the end anyway.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"([-*+]|\d{1,9}[.)])(\s|$)")
_HTML = re.compile(r" {0,3}<")  # a line that may start an HTML block (CommonMark's seven kinds all begin so)
_DECIDE = 3  # characters of the next block needed to tell a list item from a paragraph ("1. " vs "10 ")


def settled_length(text: str, start: int = 0) -> int:
    """The length of the longest prefix of `text` made of whole top-level blocks that later text cannot change.

    `start` must be 0 or a length this function returned for an earlier (shorter) state of the same text.
    """
    settled = start
    fence: str | None = None  # the opening marker of the code block we are in
    block_start = start  # where the current block's first line starts
    blank = False  # the previous complete line was blank
    position = start
    while True:
        newline = text.find("\n", position)
        line = text[position:] if newline < 0 else text[position:newline]
        complete = newline >= 0
        if fence is None and blank and line.strip():
            if not complete and len(line) < _DECIDE:
                break  # too little of the next block to judge
            if _starts_block(text[block_start:position], line):
                settled = block_start = position
        if fence is None and _HTML.match(line):
            break  # raw HTML from here on: the text before it may settle, nothing after it
        if not complete:
            break
        if fence is not None:
            if _closes(line, fence):
                fence = None
        elif (match := _FENCE.match(line)) is not None and not ("`" in line[match.end():] and match.group(1)[0] == "`"):
            fence = match.group(1)
        blank = fence is None and not line.strip()
        position = newline + 1
    return settled


def _starts_block(previous: str, line: str) -> bool:
    """Whether `line`, after a blank line, begins a new block that leaves `previous` as it is."""
    if line[:1] in (" ", "\t"):
        return False  # a continuation of the previous block, or indented code
    if not _LIST_ITEM.match(line):
        return True
    # A list item after a blank line continues any list the previous block has, even one that began after a
    # paragraph line ("text\n- a\n\n- b" is one loose list): only cut when the previous block holds no list item.
    return not any(_LIST_ITEM.match(row.lstrip()) for row in previous.splitlines())


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return (len(line) - len(line.lstrip(" ")) <= 3 and stripped.startswith(fence[0] * len(fence))
            and set(stripped) == {fence[0]})
