"""The team prompt library: saved prompts and system prompts, their `{{variables}}`, and who may see and change them.

A saved prompt has a name, a text, tags, a kind (`prompt`: what goes in the input; `system`: a system prompt) and is
either private (its owner's alone) or shared with the team. Everyone signed in sees their own and the team's shared
ones; only the owner edits or deletes one; anyone who can see one can use it or copy it into their own library.

`{{name}}` in a text is a variable (letters, digits and `_`, starting with a letter or `_`; spaces inside the braces
are allowed). `fill(text, values)` replaces every variable in one pass: a value is literal text and is never
expanded again (a value holding `{{other}}` stays as typed). A variable with no value, or only spaces, is refused
with `MissingValues`, naming each one.

Storage is `gateway/store/prompts.py` (the `prompt_library` table); this module has no database and no Streamlit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

Kind = Literal["prompt", "system"]
KINDS: tuple[Kind, ...] = ("prompt", "system")
KIND_LABELS: dict[str, str] = {"prompt": "Prompt", "system": "System prompt"}
MAX_NAME = 100
MAX_TEXT = 100_000
MAX_TAGS = 10
MAX_TAG = 40
MAX_VARIABLES = 20

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class PromptInvalid(ValueError):
    """A prompt that cannot be saved as given, in words that say what to fix."""


class MissingValues(ValueError):
    """Variables left without a value; `names` in the order they appear."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        listed = ", ".join(f"{{{{{n}}}}}" for n in names)
        super().__init__(f"Give a value for {listed}: {'it is' if len(names) == 1 else 'they are'} "
                         "still empty, so nothing was filled in.")


@dataclass(frozen=True)
class SavedPrompt:
    """One prompt of the library, as a reader sees it (`owner` is the analyst id of whoever saved it)."""

    id: int
    owner: str
    name: str
    text: str
    kind: Kind
    tags: tuple[str, ...]
    shared: bool
    created_at: float
    updated_at: float

    @property
    def variables(self) -> list[str]:
        return variables(self.text)

    def mine(self, analyst: str) -> bool:
        return self.owner == analyst

    def to_dict(self) -> dict[str, Any]:
        """The record as the API and the JSON export write it."""
        return {"id": self.id, "name": self.name, "text": self.text, "kind": self.kind, "tags": list(self.tags),
                "shared": self.shared, "owner": self.owner, "variables": self.variables,
                "createdAt": _iso(self.created_at), "updatedAt": _iso(self.updated_at)}


@dataclass(frozen=True)
class Draft:
    """What an analyst asks to save: checked and cleaned by `draft()`."""

    name: str
    text: str
    kind: Kind
    tags: tuple[str, ...]
    shared: bool


def variables(text: str) -> list[str]:
    """The variables of a text, each once, in the order they first appear."""
    return list(dict.fromkeys(m.group(1) for m in _VARIABLE.finditer(text)))


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with every `{{variable}}` replaced by its value, in one pass (values are never expanded again).
    Raises MissingValues for each variable without a value (absent, or only spaces)."""
    missing = [name for name in variables(text) if not str(values.get(name) or "").strip()]
    if missing:
        raise MissingValues(missing)
    return _VARIABLE.sub(lambda m: str(values[m.group(1)]), text)


def clean_tags(tags: Iterable[str] | str) -> tuple[str, ...]:
    """Tags from a list or a comma-separated text: trimmed, lower-case, each once, empty ones dropped."""
    pieces = tags.split(",") if isinstance(tags, str) else tags
    return tuple(dict.fromkeys(t for t in (" ".join(str(p).split()).lower() for p in pieces) if t))


def draft(name: str, text: str, *, kind: str = "prompt", tags: Iterable[str] | str = (),
          shared: bool = False) -> Draft:
    """A prompt ready to save, or PromptInvalid saying what to fix."""
    name = " ".join(name.split())
    if not name:
        raise PromptInvalid("Give the prompt a name.")
    if len(name) > MAX_NAME:
        raise PromptInvalid(f"The name is {len(name)} characters long: at most {MAX_NAME}.")
    if not text.strip():
        raise PromptInvalid("The prompt's text is empty.")
    if len(text) > MAX_TEXT:
        raise PromptInvalid(f"The text is {len(text):,} characters long: at most {MAX_TEXT:,}.")
    if kind not in KINDS:
        raise PromptInvalid(f"The kind is {kind[:20]!r}: it is prompt or system.")
    if len(variables(text)) > MAX_VARIABLES:
        raise PromptInvalid(f"The text has {len(variables(text))} variables: at most {MAX_VARIABLES}.")
    cleaned = clean_tags(tags)
    if len(cleaned) > MAX_TAGS:
        raise PromptInvalid(f"{len(cleaned)} tags: at most {MAX_TAGS}.")
    if (long := next((t for t in cleaned if len(t) > MAX_TAG), None)) is not None:
        raise PromptInvalid(f"The tag {long[:50]!r}… is longer than {MAX_TAG} characters.")
    return Draft(name, text, cast(Kind, kind), cleaned, bool(shared))


def matches(prompt: SavedPrompt, search: str) -> bool:
    """Whether every word of `search` is in the prompt's name, tags or text (case ignored)."""
    haystack = " ".join((prompt.name, " ".join(prompt.tags), prompt.text)).lower()
    return all(word in haystack for word in search.lower().split())


def export_json(prompts: Iterable[SavedPrompt], owner: str) -> str:
    """The owner's own prompts (shared and private) as a JSON document, for their export."""
    mine = [p.to_dict() for p in prompts if p.owner == owner]
    return json.dumps({"kind": "prompt_library", "owner": owner, "exported_at": _iso(datetime.now(UTC).timestamp()),
                       "prompts": mine}, indent=2, ensure_ascii=False)


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")
