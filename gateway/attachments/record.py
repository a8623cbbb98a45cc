"""An attachment: what a file became (its kind, size, what is sent) and the limits it was prepared under."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal

Kind = Literal["image", "table", "document", "text"]
MB = 1024 * 1024

IMAGE_TYPES = ("png", "jpg", "jpeg", "webp", "gif")
TABLE_TYPES = ("csv", "tsv", "xlsx")
DOCUMENT_TYPES = ("pdf",)
TEXT_TYPES = ("txt", "md", "markdown", "json", "py", "js", "ts", "sql", "yaml", "yml", "toml", "html", "css",
              "xml", "sh", "r", "java", "go", "rs", "c", "h", "cpp", "ipynb", "log", "ini", "cfg")
FILE_TYPES = IMAGE_TYPES + TABLE_TYPES + DOCUMENT_TYPES + TEXT_TYPES  # what the prompt box accepts

IMAGE_TOKENS_BASE, IMAGE_TOKENS_PER_TILE, IMAGE_TILE = 85, 170, 512  # OpenAI's published image cost ("high" detail)
CHARS_PER_TOKEN = 4  # as gateway.tokens' estimate
XLSX_MAX_RATIO = 100  # a zip member that expands more than this much is treated as a zip bomb
JPEG_QUALITY = 85
DRAFT_SLACK = 0.9  # a JPEG may be decoded down to 90 % of the longest side allowed (much faster than full size)


@dataclass(frozen=True)
class Limits:
    """What an analyst may attach (settings MAX_ATTACHMENT_MB, MAX_ATTACHMENTS, MAX_CONVERSATION_ATTACHMENTS_MB)."""

    max_file_bytes: int = 20 * MB
    max_files: int = 5  # per message
    max_conversation_bytes: int = 100 * MB  # stored bytes of every attachment in one conversation
    max_image_side: int = 2048
    max_text_chars: int = 60_000  # a table or document's text is cut to this much (about 15,000 tokens)
    max_unzipped_bytes: int = 200 * MB  # an XLSX's members, uncompressed

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(max_file_bytes=int(settings.max_attachment_mb * MB), max_files=int(settings.max_attachments),
                   max_conversation_bytes=int(settings.max_conversation_attachments_mb * MB))


@dataclass(frozen=True)
class Attachment:
    """One file as it will be sent: an image's re-encoded bytes, or a table's/document's text, and what to show."""

    name: str
    kind: Kind
    mime: str = ""
    size: int = 0  # bytes as uploaded
    data: bytes = field(default=b"", repr=False)  # images: the re-encoded bytes that are sent (and saved)
    text: str = field(default="", repr=False)  # tables (CSV text), documents, text files: what is sent
    width: int | None = None  # images, after downscaling
    height: int | None = None
    original_width: int | None = None
    original_height: int | None = None
    rows: int | None = None  # tables: rows and columns in the file
    cols: int | None = None
    rows_sent: int | None = None  # rows included in `text`
    pages: int | None = None  # PDFs
    truncated: bool = False  # documents/text: `text` is cut short
    counted_tokens: int | None = None  # what the proxy's token counter says it costs the model it went to
    refusal: str | None = None  # why this file cannot be sent (then nothing else is set)

    @property
    def ok(self) -> bool:
        return self.refusal is None

    @property
    def stored_bytes(self) -> int:
        """What saving it takes."""
        return len(self.data) + len(self.text.encode())

    @property
    def facts(self) -> str:
        """A short line: what it is and how big (`chart.png · 1,024×768 px`, `sales.csv · 50,000 rows × 6 columns`)."""
        if self.refusal:
            return f"{self.name}: {self.refusal}"
        if self.kind == "image":
            scaled = (f" (from {self.original_width:,}×{self.original_height:,})"
                      if (self.original_width, self.original_height) != (self.width, self.height) else "")
            return f"{self.name} · {self.width:,}×{self.height:,} px{scaled}"
        if self.kind == "table":
            return f"{self.name} · {self.shape}{self.note and f' · {self.note}'}"
        if self.kind == "document":
            return f"{self.name} · {self.pages:,} page{'s' if self.pages != 1 else ''}{self.note and f' · {self.note}'}"
        return f"{self.name} · {len(self.text):,} characters{self.note and f' · {self.note}'}"

    @property
    def shape(self) -> str:
        """A table's size in words: `2 rows × 1 column`."""
        return f"{_count(self.rows or 0, 'row')} × {_count(self.cols or 0, 'column')}"

    @property
    def note(self) -> str:
        """What was left out, in words ("" when nothing was)."""
        if self.kind == "table" and self.rows_sent is not None and self.rows is not None and self.rows_sent < self.rows:
            return f"first {self.rows_sent:,} of {self.rows:,} rows"
        if self.truncated:
            return f"first {len(self.text):,} characters"
        return ""

    @property
    def tokens(self) -> int:
        """What it costs to send: the proxy's count when there is one (`counted_tokens`), else an estimate (images:
        OpenAI's tile formula; text: about 4 characters a token)."""
        if not self.ok:
            return 0
        if self.counted_tokens is not None:
            return self.counted_tokens
        if self.kind == "image":
            return image_tokens(self.width or 0, self.height or 0)
        return math.ceil(len(self.message_text()) / CHARS_PER_TOKEN)

    @property
    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode()}"

    def message_text(self) -> str:
        """A text attachment as the model reads it: a line naming it, then its content."""
        kind = {"table": "table (CSV)", "document": "document", "text": "file"}.get(self.kind, self.kind)
        note = f"; {self.note}" if self.note else ""
        if self.kind == "table":
            note = f"; {self.shape}{note}"
        elif self.kind == "document":
            note = f"; {self.pages:,} pages{note}"
        return f"Attached {kind} `{self.name}`{note}:\n\n{self.text}"

    def content_part(self) -> dict[str, Any]:
        """The OpenAI content part that carries it."""
        if self.kind == "image":
            return {"type": "image_url", "image_url": {"url": self.data_url}}
        return {"type": "text", "text": self.message_text()}

    def to_dict(self) -> dict[str, Any]:
        """For JSON (exports, the store): bytes as base64."""
        data = {k: v for k, v in self.__dict__.items() if v is not None and k not in ("data", "refusal")}
        data["data"] = base64.b64encode(self.data).decode() if self.data else ""
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attachment:
        names = set(cls.__dataclass_fields__) - {"data", "refusal"}
        values = {k: v for k, v in data.items() if k in names}
        return cls(**values, data=base64.b64decode(data.get("data") or ""))


def image_tokens(width: int, height: int) -> int:
    """OpenAI's cost of an image in "high" detail: fit in 2048², shortest side to 768, then 170 per 512-px tile."""
    if not width or not height:
        return IMAGE_TOKENS_BASE
    scale = min(1.0, 2048 / max(width, height))
    fitted = (width * scale, height * scale)
    scale = min(1.0, 768 / min(fitted))
    tiles = math.ceil(fitted[0] * scale / IMAGE_TILE) * math.ceil(fitted[1] * scale / IMAGE_TILE)
    return IMAGE_TOKENS_BASE + IMAGE_TOKENS_PER_TILE * tiles


def kind_of(name: str) -> Kind | None:
    """The kind a file name says it is (None: a type the app does not take)."""
    ext = PurePath(name).suffix.lower().lstrip(".")
    if ext in IMAGE_TYPES:
        return "image"
    if ext in TABLE_TYPES:
        return "table"
    if ext in DOCUMENT_TYPES:
        return "document"
    if ext in TEXT_TYPES:
        return "text"
    return None


def refused(name: str, message: str, size: int = 0) -> Attachment:
    return Attachment(name=name, kind=kind_of(name) or "text", size=size, refusal=message)


def _count(number: int, word: str) -> str:
    return f"{number:,} {word}{'' if number == 1 else 's'}"


def megabytes(size: float) -> str:
    return f"{size / MB:.3g} MB"


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
