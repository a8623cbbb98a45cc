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

from __future__ import annotations

import base64
import io
import math
import zipfile
from collections.abc import Iterable, Mapping, Sequence
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
        """An estimate of what it costs to send (images: OpenAI's tile formula; text: about 4 characters a token)."""
        if not self.ok:
            return 0
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


def prepare(name: str, data: bytes, limits: Limits | None = None) -> Attachment:
    """The file made ready to send, or refused with a plain message. Never raises for a bad file."""
    limits = limits or Limits()
    name = PurePath(name or "file").name or "file"
    size = len(data)
    if size > limits.max_file_bytes:
        return refused(name, f"it is {_mb(size)}; files may be at most {_mb(limits.max_file_bytes)} "
                             "(MAX_ATTACHMENT_MB).", size)
    if size == 0:
        return refused(name, "the file is empty.", size)
    kind = kind_of(name)
    if kind is None:
        return refused(name, f"this type of file cannot be attached (accepted: {', '.join(FILE_TYPES)}).", size)
    try:
        if kind == "image":
            return _image(name, data, limits)
        if kind == "table":
            return _table(name, data, limits)
        if kind == "document":
            return _pdf(name, data, limits)
        return _text(name, data, limits)
    except Exception as error:  # noqa: BLE001 - a library's surprise about a bad file is still just a bad file
        return refused(name, f"the file could not be read ({type(error).__name__}).", size)


def check_message(attachments: Sequence[Attachment], limits: Limits, conversation_bytes: int = 0) -> str | None:
    """Why this set of files cannot go with one message (too many, or the conversation's total too big), or None."""
    if len(attachments) > limits.max_files:
        return (f"{len(attachments)} files attached; a message may carry at most {limits.max_files} "
                "(MAX_ATTACHMENTS).")
    total = conversation_bytes + sum(a.stored_bytes for a in attachments if a.ok)
    if total > limits.max_conversation_bytes:
        return (f"These files would bring this conversation's attachments to {_mb(total)}; the limit is "
                f"{_mb(limits.max_conversation_bytes)} (MAX_CONVERSATION_ATTACHMENTS_MB). Start a new chat.")
    return None


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


# --- by kind ----------------------------------------------------------------------------------------------------------

def _image(name: str, data: bytes, limits: Limits) -> Attachment:
    from PIL import Image, ImageOps, UnidentifiedImageError

    size = len(data)
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG", "WEBP", "GIF", "MPO"):
                return refused(name, f"it is a {image.format} image; attach PNG, JPEG, WebP or GIF.", size)
            original = image.size
            image.seek(0)  # a GIF's (or animated WebP's) first frame
            if image.format in ("JPEG", "MPO"):  # decode at 1/2, 1/4 or 1/8 scale when that stays near the limit
                scale = 1
                while max(original) / (scale * 2) >= limits.max_image_side * DRAFT_SLACK:
                    scale *= 2
                if scale > 1:
                    image.draft("RGB", (math.ceil(original[0] / scale), math.ceil(original[1] / scale)))
            image.load()
            frame = ImageOps.exif_transpose(image) if image.getexif().get(0x0112, 1) != 1 else image
    except (UnidentifiedImageError, Image.DecompressionBombError):
        return refused(name, "this is not an image that can be read (the file may be damaged or not really "
                             f"{PurePath(name).suffix.lstrip('.').upper() or 'an image'}).", size)
    except (OSError, SyntaxError, ValueError):
        return refused(name, "the image could not be decoded (the file may be damaged or cut short).", size)
    if frame is not image and image.getexif().get(0x0112, 1) in (5, 6, 7, 8):
        original = original[::-1]  # turned upright by its EXIF orientation
    frame.thumbnail((limits.max_image_side, limits.max_image_side))
    alpha = frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info)
    out = io.BytesIO()
    if alpha or image.format in ("PNG", "GIF"):  # keep lossless images lossless (charts, screenshots)
        frame.save(out, "PNG", optimize=False)
        mime = "image/png"
    else:
        (frame if frame.mode == "RGB" else frame.convert("RGB")).save(out, "JPEG", quality=JPEG_QUALITY)
        mime = "image/jpeg"
    return Attachment(name=name, kind="image", mime=mime, size=size, data=out.getvalue(), width=frame.width,
                      height=frame.height, original_width=original[0], original_height=original[1])


def _table(name: str, data: bytes, limits: Limits) -> Attachment:
    import pandas as pd

    ext = PurePath(name).suffix.lower()
    size = len(data)
    if ext == ".xlsx":
        problem = _zip_problem(data, limits)
        if problem:
            return refused(name, problem, size)
        frame = pd.read_excel(io.BytesIO(data), engine="openpyxl")
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        if b"\0" in data[:8192]:
            return refused(name, f"this is not a {ext.lstrip('.').upper()} file (it holds binary data).", size)
        try:
            frame = pd.read_csv(io.BytesIO(data), sep="\t" if ext == ".tsv" else ",", encoding_errors="replace",
                                low_memory=False)
        except pd.errors.EmptyDataError:
            return refused(name, "the file has no rows or columns.", size)
        except pd.errors.ParserError as error:
            return refused(name, f"this is not a well-formed {ext.lstrip('.').upper()} file ({_first_line(error)}).",
                           size)
        mime = "text/tab-separated-values" if ext == ".tsv" else "text/csv"
    text, rows_sent = _csv_within(frame, limits.max_text_chars)
    return Attachment(name=name, kind="table", mime=mime, size=size, text=text, rows=len(frame),
                      cols=len(frame.columns), rows_sent=rows_sent)


def _csv_within(frame: Any, budget: int) -> tuple[str, int]:
    """The table as CSV text of at most `budget` characters: as many leading rows as fit. Rendered twice at most: a
    sample gives the row length, then a few more rows than should fit are rendered and cut at a line's end."""
    total = len(frame)
    sample = frame.head(100).to_csv(index=False, lineterminator="\n")
    header_len = len(sample.split("\n", 1)[0]) + 1
    per_row = max(1.0, (len(sample) - header_len) / max(1, min(total, 100)))
    rows = min(total, int((budget - header_len) / per_row * 1.3) + 10)
    text = sample if rows <= 100 and total <= 100 else frame.head(rows).to_csv(index=False, lineterminator="\n")
    if len(text) <= budget:
        return text, rows
    if '"' not in text:  # no quoted fields: one line per row, so cutting at a line's end is exact
        cut = text[:budget]
        text = cut[:cut.rfind("\n") + 1]
        return text, max(0, text.count("\n") - 1)
    while len(text) > budget and rows > 0:  # quoted fields may hold line breaks: render until it fits
        rows = int(rows * budget / len(text) * 0.95)
        text = frame.head(rows).to_csv(index=False, lineterminator="\n")
    return text, rows


def _zip_problem(data: bytes, limits: Limits) -> str | None:
    """Why an XLSX (a zip) should not be opened: not a zip, or expanding to far more than it is (a zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return "this is not an Excel workbook (.xlsx files are zip archives; this one is not)."
    unzipped = sum(m.file_size for m in members)
    if unzipped > limits.max_unzipped_bytes or any(
            m.file_size > XLSX_MAX_RATIO * max(m.compress_size, 1) and m.file_size > MB for m in members):
        return (f"the workbook would expand to {unzipped / MB:,.0f} MB from {len(data) / MB:.1f} MB; it looks like a "
                "zip bomb and was not opened.")
    if not any(m.filename == "[Content_Types].xml" for m in members):
        return "this is a zip archive, not an Excel workbook."
    return None


def _pdf(name: str, data: bytes, limits: Limits) -> Attachment:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    size = len(data)
    if data.lstrip()[:5] != b"%PDF-":
        return refused(name, "this is not a PDF (it does not start like one).", size)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return refused(name, "the PDF is password-protected; its text cannot be read.", size)
        pages = len(reader.pages)
        texts: list[str] = []
        length = 0
        for page in reader.pages:
            texts.append(page.extract_text() or "")
            length += len(texts[-1]) + 2
            if length > limits.max_text_chars:
                break
    except PdfReadError as error:
        return refused(name, f"the PDF is damaged and could not be read ({_first_line(error)}).", size)
    text = "\n\n".join(texts).strip()
    if not text:
        return refused(name, f"the PDF's {pages} page{'s' if pages != 1 else ''} hold no text (a scan?); attach "
                             "the pages as images instead.", size)
    truncated = len(text) > limits.max_text_chars
    return Attachment(name=name, kind="document", mime="application/pdf", size=size,
                      text=text[:limits.max_text_chars], pages=pages, truncated=truncated)


def _text(name: str, data: bytes, limits: Limits) -> Attachment:
    size = len(data)
    if b"\0" in data[:8192]:
        return refused(name, "this is not a text file (it holds binary data).", size)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    truncated = len(text) > limits.max_text_chars
    mime = {"json": "application/json", "md": "text/markdown", "markdown": "text/markdown"}.get(
        PurePath(name).suffix.lower().lstrip("."), "text/plain")
    return Attachment(name=name, kind="text", mime=mime, size=size, text=text[:limits.max_text_chars],
                      truncated=truncated)


def _data_url_tokens(url: str) -> int:
    """An image's token estimate from the header of the bytes in its data URL (only the header is decoded)."""
    from PIL import Image

    try:
        head = base64.b64decode(url.split(",", 1)[1][:1_000_000])
        with Image.open(io.BytesIO(head)) as image:
            return image_tokens(*image.size)
    except Exception:  # noqa: BLE001 - an estimate: an unreadable image costs what a small one does
        return IMAGE_TOKENS_BASE


def _count(number: int, word: str) -> str:
    return f"{number:,} {word}{'' if number == 1 else 's'}"


def _mb(size: float) -> str:
    return f"{size / MB:.3g} MB"


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]



def prepare_message(files: Iterable[tuple[str, bytes]], limits: Limits,
                    conversation_bytes: int = 0) -> tuple[list[Attachment], list[str]]:
    """Every file of one message prepared, and the problems that keep the message from being sent (a file refused,
    too many files, the conversation's total too big): when there are problems, nothing should be sent."""
    attachments = [prepare(name, data, limits) for name, data in files]
    problems = [a.facts for a in attachments if not a.ok]
    if (problem := check_message(attachments, limits, conversation_bytes)) is not None:
        problems.append(problem)
    return attachments, problems


def table_preview(attachment: Attachment, rows: int = 50) -> Any:
    """A table's first rows as a DataFrame (from the CSV text that is sent), for a preview."""
    import pandas as pd

    return pd.read_csv(io.StringIO(attachment.text), nrows=rows)
