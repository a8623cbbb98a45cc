"""What the store hands to pages besides the conversation records themselves: a history entry, its status, and the
value a read returns when the database cannot answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NEW_TITLE = "New conversation"


@dataclass(frozen=True)
class Summary:
    """One entry of the history list."""

    id: str
    kind: Literal["chat", "compare"]
    title: str  # the analyst's title, else from the first prompt
    models: tuple[str, ...]
    created_at: float  # epoch seconds
    updated_at: float
    cost: float  # USD, every run of every reply (unknown costs count as 0)
    pinned: bool
    turns: int  # rounds saved


@dataclass(frozen=True)
class Unavailable:
    """A read the database could not answer (down, locked, unreadable). `message` is safe to show (redacted)."""

    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class StoreStatus:
    """Whether work is being saved, for a banner. `message` is empty when all is well, else safe to show."""

    ok: bool
    message: str = ""
    pending: int = 0  # conversations (and probe batches) with changes not yet written
    lost: int = 0  # changes dropped since the process started (the database refused them, or too many waited)
    database: str = ""  # the URL without its password
    since: float | None = None  # when saving started to fail (epoch seconds)
