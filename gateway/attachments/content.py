"""A user message's content with its files (OpenAI content parts), and its token estimate."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterable, Mapping
from typing import Any

from gateway.attachments.record import CHARS_PER_TOKEN, IMAGE_TOKENS_BASE, Attachment, image_tokens


def user_content(prompt: str, attachments: Iterable[Attachment], *, images: bool = True) -> str | list[dict[str, Any]]:
    """A user message's content: the prompt alone, or content parts (the prompt, then each file).
    Without `images`, an image becomes a line naming it (for models without vision)."""
    attachments = [a for a in attachments if a.ok]
    if not attachments:
        return prompt
    parts: list[dict[str, Any]] = [{"type": "text", "text": prompt}]
    for attachment in attachments:
        if attachment.kind == "image" and not images:
            parts.append({"type": "text", "text": f"[An image, {attachment.name}, was attached but not sent: "
                                                  "this model cannot see images.]"})
        else:
            parts.append(attachment.content_part())
    return parts


def content_tokens(content: Any) -> int:
    """An estimate for a message's content, string or content parts (images from the size in their data URL)."""
    if isinstance(content, str):
        return math.ceil(len(content) / CHARS_PER_TOKEN)
    total = 0
    for part in content or ():
        if part.get("type") == "image_url":
            total += _data_url_tokens(str((part.get("image_url") or {}).get("url") or ""))
        else:
            total += math.ceil(len(str(part.get("text") or "")) / CHARS_PER_TOKEN)
    return total


def has_images(messages: Iterable[Mapping[str, Any]]) -> bool:
    return any(isinstance(m.get("content"), list) and any(p.get("type") == "image_url" for p in m["content"])
               for m in messages)


def _data_url_tokens(url: str) -> int:
    """An image's token estimate from the header of the bytes in its data URL (only the header is decoded)."""
    from PIL import Image

    try:
        head = base64.b64decode(url.split(",", 1)[1][:1_000_000])
        with Image.open(io.BytesIO(head)) as image:
            return image_tokens(*image.size)
    except Exception:  # noqa: BLE001 - an estimate: an unreadable image costs what a small one does
        return IMAGE_TOKENS_BASE
