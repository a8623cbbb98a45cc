"""What a reader sees of a Markdown string the app sent: Streamlit draws `\\:` as `:` and `\\*` as `*`.

Untrusted text (error messages, names, titles) reaches the page through `ui.markdown.plain()`, which escapes what
would turn it into markup; tests that look for words in an element's Markdown compare what is shown.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: a backslash before ASCII punctuation


def shown(markdown: str) -> str:
    return _ESCAPE.sub(r"\1", markdown)
