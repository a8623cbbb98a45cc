"""A word diff between two replies (gateway/diff.py) drawn in Streamlit Markdown: removed words struck through on red,
added words on green, the words themselves escaped so a reply's Markdown shows as text."""

from __future__ import annotations

from gateway.diff import WordDiff
from ui.markdown import escape_punctuation


def diff_markdown(diff: WordDiff) -> str:
    """The diff as one line of Markdown, the words in order."""
    parts = []
    for op, text in diff.ops:
        escaped = escape_punctuation(text)
        if op == "delete":
            parts.append(f":red-background[~~{escaped}~~]")
        elif op == "insert":
            parts.append(f":green-background[{escaped}]")
        else:
            parts.append(escaped)
    return " ".join(parts)
