"""An attached image's thumbnail as a `data:` URL: drawn inline in the page, so no link to the analyst's image exists
that another browser (or anyone without their session) could open. Streamlit's `st.image(bytes)` would put it in the
media file manager, served at `/media/<hash of the content>` to whoever has that link.

Small on purpose (it travels in the page on every redraw of the conversation): at most `2 × width` pixels wide, for
sharp thumbnails on high-density screens, WebP. Made once per image per process (`MAX_KEPT` remembered).
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from collections import OrderedDict

from PIL import Image

MAX_KEPT = 256  # thumbnails remembered (a few MB at most)
QUALITY = 80
_kept: OrderedDict[tuple[str, int], str] = OrderedDict()
_lock = threading.Lock()


def thumbnail_url(data: bytes, width: int) -> str | None:
    """A `data:image/webp;base64,…` URL of the image in `data`, at most `2 × width` pixels wide (and as tall), or
    None when `data` is not an image Pillow can read."""
    key = (hashlib.sha256(data).hexdigest(), width)
    with _lock:
        if (found := _kept.get(key)) is not None:
            _kept.move_to_end(key)
            return found
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((2 * width, 4 * width))
            frame = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
            out = io.BytesIO()
            frame.save(out, "WEBP", quality=QUALITY)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    url = "data:image/webp;base64," + base64.b64encode(out.getvalue()).decode("ascii")
    with _lock:
        _kept[key] = url
        while len(_kept) > MAX_KEPT:
            _kept.popitem(last=False)
    return url
