"""Download buttons whose file is built when clicked and handed to the analyst who clicked, for that download only.

Every download in the app goes through `download_button`: Streamlit runs `build` only on a click (not on every page
run), and the bytes are handed out (gateway/handouts.py) to this session's analyst. Streamlit then serves them at a
`/media/` link that api/media_guard.py answers only for that download and that analyst's browser; a copied link,
another analyst's browser, or a request without the analyst's cookie gets nothing, whether sign-in is on or off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.handouts import HANDOUTS


def download_button(where: Any, label: str, build: Callable[[], str | bytes], file_name: str, mime: str, *,
                    key: str | None = None, **options: Any) -> None:
    """`where.download_button(...)` (`where`: `st` or a column) for `build()`'s bytes, built on click, for this
    session's analyst. `options` go to Streamlit (icon, width, help); the click does not rerun the page."""
    from ui.analyst import owner

    options.setdefault("icon", ":material/download:")
    where.download_button(label, handed_out(build, owner()), file_name, mime, key=key, on_click="ignore", **options)


def handed_out(build: Callable[[], str | bytes], owner: str) -> Callable[[], bytes]:
    """`build`, as a download's data: its bytes (UTF-8 for text), handed out to `owner` when it runs."""

    def data() -> bytes:
        built = build()
        content = built.encode("utf-8") if isinstance(built, str) else bytes(built)
        HANDOUTS.hand_out(content, owner)
        return content

    return data
