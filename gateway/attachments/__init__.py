"""Attachments: files an analyst adds to a prompt, made ready to send (no drawing here).

`prepare(name, data, limits)` turns an uploaded file into an `Attachment` and never raises: a file it cannot use
comes back as an attachment with a `refusal` (plain words), so the prompt is kept and nothing is sent.

- Images (PNG, JPEG, WebP, GIF's first frame) are decoded with Pillow, turned upright, downscaled to at most
  `Limits.max_image_side` on the longest side and re-encoded (JPEG, or PNG when they have transparency); they are
  sent as OpenAI `image_url` content parts holding a base64 data URL.
- Tables (CSV, TSV, XLSX) are read with pandas and sent as a compact CSV text, cut to fit `max_text_chars` with a
  note saying how many rows were included. An XLSX is a zip: its uncompressed size is checked before it is read.
- PDFs give their text (pypdf) and page count; plain text, Markdown, JSON and source code are sent as they are.
"""

from gateway.attachments.content import content_tokens, has_images, user_content
from gateway.attachments.prepare import check_message, prepare, prepare_message, table_preview
from gateway.attachments.record import (
    DOCUMENT_TYPES,
    FILE_TYPES,
    IMAGE_TYPES,
    MB,
    TABLE_TYPES,
    TEXT_TYPES,
    Attachment,
    Kind,
    Limits,
    image_tokens,
    kind_of,
    refused,
)

__all__ = ["DOCUMENT_TYPES", "FILE_TYPES", "IMAGE_TYPES", "MB", "TABLE_TYPES", "TEXT_TYPES", "Attachment", "Kind",
           "Limits", "check_message", "content_tokens", "has_images", "image_tokens", "kind_of", "prepare",
           "prepare_message", "refused", "table_preview", "user_content"]
