"""Model and analyst text as Streamlit Markdown."""

from __future__ import annotations

import re

from gateway.diff import WordDiff

_CODE = re.compile(r"(```.*?(?:```|$)|~~~.*?(?:~~~|$)|`[^`\n]*`)", re.DOTALL)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:])")


def displayable(text: str) -> str:
    """Model text for `st.markdown`: dollar signs outside code are escaped, so prices do not turn into LaTeX."""
    parts = _CODE.split(text)
    return "".join(part if index % 2 else part.replace("$", r"\$") for index, part in enumerate(parts))


def diff_markdown(diff: WordDiff) -> str:
    """A word diff: removed words struck through on red, added words on green, the text itself escaped."""
    parts = []
    for op, text in diff.ops:
        escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
        if op == "delete":
            parts.append(f":red-background[~~{escaped}~~]")
        elif op == "insert":
            parts.append(f":green-background[{escaped}]")
        else:
            parts.append(escaped)
    return " ".join(parts)
