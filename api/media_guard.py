"""Streamlit's `/media/…` files, for their owner only, while the download lasts.

Streamlit serves what `st.image`, `st.download_button` and the like hand the browser from its media file manager at
`/media/<hash of the content>.<ext>`, to anyone who has the link, for as long as a session refers to it. This app
draws images inline (gateway/attachments/thumbnail.py) and builds every download when it is clicked
(ui/downloads.py), handing it to the analyst who clicked (gateway/handouts.py). `MediaGuard`, a Starlette
middleware in front of Streamlit's routes, answers a `/media/` request only when it fetches such a handout and comes
from that analyst's browser (api/browser.py: their identity cookie or proxy header, under the session rules), and
only for the download itself (gateway/handouts.py: the page's two fetches, within two minutes): any other `/media/`
request, a fetch after those, another analyst's browser, a signed-out copy of their cookie or a request with no
cookie gets 404, like a link that never existed.
"""

from __future__ import annotations

import logging
import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.browser import browser_analyst
from api.http import current_settings
from gateway.handouts import HANDOUTS

log = logging.getLogger(__name__)
MEDIA = re.compile(r"/media/(?P<name>[^/]+)")  # after server.baseUrlPath (not /static/media/: the page's fonts)
NOT_FOUND = PlainTextResponse("Not found", status_code=404, headers={"Cache-Control": "no-store"})


class MediaGuard:
    """ASGI middleware: every `/media/` request is checked (see the module); every other request passes untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (found := MEDIA.fullmatch(_below_base(scope.get("path", "")))) is None:
            await self.app(scope, receive, send)
            return
        if await run_in_threadpool(_handed_out, Request(scope), found["name"]):
            await self.app(scope, receive, send)  # Streamlit serves it (its headers, ranges)
            return
        await NOT_FOUND(scope, receive, send)


def _below_base(path: str) -> str:
    """The path without `server.baseUrlPath` ("" when it is not below it)."""
    from streamlit import config

    base = "/" + (config.get_option("server.baseUrlPath") or "").strip("/")
    if base == "/":
        return path
    return path[len(base):] if path.startswith(base + "/") else ""


def _handed_out(request: Request, name: str) -> bool:
    """The file `name` is a handout to the analyst whose browser sent `request` (which claims it)."""
    content = _media_content(name)
    if content is None:
        return False
    settings = current_settings()
    who = browser_analyst(request, settings)
    if who is None:
        return False
    claimed = HANDOUTS.claim(content, who.owner())
    if not claimed:
        log.info("media: a request for a file that is not a handout to its browser's analyst was refused")
    return claimed


def _media_content(name: str) -> bytes | None:
    """The bytes Streamlit keeps under `name` (`<id>.<ext>`), or None."""
    from streamlit import runtime

    if not runtime.exists():
        return None
    manager = runtime.get_instance().media_file_mgr
    if not manager.can_read_files:
        return None
    found = manager.read_file(name)
    return None if found is None else found.content
