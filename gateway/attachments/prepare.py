"""Files made ready to send, one by one and as one message's set: never raises for a bad file."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any

from gateway.attachments.kinds import read_image, read_pdf, read_table, read_text
from gateway.attachments.record import FILE_TYPES, Attachment, Limits, kind_of, megabytes, refused


def prepare(name: str, data: bytes, limits: Limits | None = None) -> Attachment:
    """The file made ready to send, or refused with a plain message. Never raises for a bad file."""
    limits = limits or Limits()
    name = PurePath(name or "file").name or "file"
    size = len(data)
    if size > limits.max_file_bytes:
        return refused(name, f"it is {megabytes(size)}; files may be at most {megabytes(limits.max_file_bytes)} "
                             "(MAX_ATTACHMENT_MB).", size)
    if size == 0:
        return refused(name, "the file is empty.", size)
    kind = kind_of(name)
    if kind is None:
        return refused(name, f"this type of file cannot be attached (accepted: {', '.join(FILE_TYPES)}).", size)
    try:
        if kind == "image":
            return read_image(name, data, limits)
        if kind == "table":
            return read_table(name, data, limits)
        if kind == "document":
            return read_pdf(name, data, limits)
        return read_text(name, data, limits)
    except Exception as error:  # noqa: BLE001 - a library's surprise about a bad file is still just a bad file
        return refused(name, f"the file could not be read ({type(error).__name__}).", size)


def check_message(attachments: Sequence[Attachment], limits: Limits, conversation_bytes: int = 0) -> str | None:
    """Why this set of files cannot go with one message (too many, or the conversation's total too big), or None."""
    if len(attachments) > limits.max_files:
        return (f"{len(attachments)} files attached; a message may carry at most {limits.max_files} "
                "(MAX_ATTACHMENTS).")
    total = conversation_bytes + sum(a.stored_bytes for a in attachments if a.ok)
    if total > limits.max_conversation_bytes:
        return (f"These files would bring this conversation's attachments to {megabytes(total)}; the limit is "
                f"{megabytes(limits.max_conversation_bytes)} (MAX_CONVERSATION_ATTACHMENTS_MB). Start a new chat.")
    return None


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
