"""Each kind of file read and made ready to send: images (Pillow), tables (pandas; zip bombs refused before an
XLSX is opened), PDFs (pypdf) and text. Each returns an `Attachment` or raises for a file it cannot read."""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import PurePath
from typing import Any

from gateway.attachments.record import (
    DRAFT_SLACK,
    JPEG_QUALITY,
    MB,
    XLSX_MAX_RATIO,
    Attachment,
    Limits,
    first_line,
    refused,
)


def read_image(name: str, data: bytes, limits: Limits) -> Attachment:
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


def read_table(name: str, data: bytes, limits: Limits) -> Attachment:
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
            return refused(name, f"this is not a well-formed {ext.lstrip('.').upper()} file ({first_line(error)}).",
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


def read_pdf(name: str, data: bytes, limits: Limits) -> Attachment:
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
        return refused(name, f"the PDF is damaged and could not be read ({first_line(error)}).", size)
    text = "\n\n".join(texts).strip()
    if not text:
        return refused(name, f"the PDF's {pages} page{'s' if pages != 1 else ''} hold no text (a scan?); attach "
                             "the pages as images instead.", size)
    truncated = len(text) > limits.max_text_chars
    return Attachment(name=name, kind="document", mime="application/pdf", size=size,
                      text=text[:limits.max_text_chars], pages=pages, truncated=truncated)


def read_text(name: str, data: bytes, limits: Limits) -> Attachment:
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
