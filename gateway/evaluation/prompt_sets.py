"""Prompt sets: named lists of prompts to run against several models, each with an optional check of the reply.

A row has a `prompt`, an optional `system_prompt`, an optional `expected`, an optional `tag` and an optional `rubric`
(what a judge model scores the reply against: gateway/evaluation/judge_scores.py). `expected` is
either text the reply must contain (case and surrounding spaces ignored) or, written between slashes, a regular
expression the reply must match somewhere (`/\\b42\\b/`, `/tokyo/i` for case-insensitive).

Sets come from a CSV file (a header row naming the columns), a JSONL file (one JSON object a line), or pasted text
in either format, or plain lines (one prompt a line). `parse` raises `SetError` with the line to fix.

A prompt from the team library (gateway/prompt_library.py) can be the set's prompt: `parse(..., template=text)` makes
each row's `prompt` by filling the template's `{{variables}}` from the row's columns of the same names (case ignored;
a `prompt` column is then not needed, and plain lines fill a template's one variable). A row without a value for a
variable is refused, naming its line. `system_prompt=` (e.g. a library system prompt) is the system prompt of every
row that has none of its own. The set keeps the filled prompts: changing the library prompt later changes no set.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from gateway.prompt_library import MissingValues, fill, variables

MAX_ROWS = 1_000
MAX_PROMPT_CHARS = 100_000
NAME_LENGTH = 120
COLUMNS = ("prompt", "system_prompt", "expected", "tag", "rubric")
_REGEX = re.compile(r"^/(.*)/([a-z]*)$", re.DOTALL)


class SetError(ValueError):
    """A prompt set that cannot be read, in words that say what to fix."""


@dataclass(frozen=True)
class PromptRow:
    prompt: str
    system_prompt: str = ""
    expected: str = ""
    tag: str = ""
    rubric: str = ""  # for a judge's rubric pass; "" uses the pass's own rubric text

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PromptRow:
        return cls(**{k: str(data.get(k) or "") for k in COLUMNS})


@dataclass(frozen=True)
class PromptSet:
    """A named set of prompts, owned by the analyst who saved it."""

    name: str
    rows: tuple[PromptRow, ...]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    owner: str = ""
    created_at: float = field(default_factory=time.time)

    @property
    def checked(self) -> int:
        """Rows with an expected answer."""
        return sum(bool(row.expected) for row in self.rows)


# --- Checks ----------------------------------------------------------------------------------------------------------

def expectation(expected: str) -> re.Pattern[str] | str | None:
    """What a reply is checked against: a compiled pattern for `/…/`, else the text to find; None for no check.
    Raises SetError for a pattern that does not compile."""
    expected = expected.strip()
    if not expected:
        return None
    match = _REGEX.match(expected)
    if match and len(expected) > 2:
        pattern, flags = match.groups()
        unknown = set(flags) - {"i", "m", "s"}
        if unknown:
            raise SetError(f"unknown regular expression flag {''.join(sorted(unknown))!r} in {expected!r} "
                           "(use i, m or s)")
        try:
            return re.compile(pattern, sum(getattr(re, f.upper()) for f in flags))
        except re.error as problem:
            raise SetError(f"{expected!r} is not a valid regular expression: {problem}") from None
    return expected


def passes(expected: str, reply: str) -> bool | None:
    """Whether the reply meets the row's expectation; None when the row has none (or it cannot be compiled)."""
    try:
        wanted = expectation(expected)
    except SetError:
        return None
    if wanted is None:
        return None
    if isinstance(wanted, str):
        return wanted.casefold() in reply.casefold()
    return wanted.search(reply) is not None


# --- Reading sets ----------------------------------------------------------------------------------------------------

def parse(data: bytes | str, filename: str = "", *, template: str | None = None,
          system_prompt: str = "") -> tuple[PromptRow, ...]:
    """The rows of a CSV or JSONL upload (by its extension, else by its first character) or pasted text; with a
    `template`, each row's prompt is the template filled from its columns (see the module's docstring)."""
    names = [name.lower() for name in variables(template)] if template is not None else []
    text = data.decode("utf-8-sig", errors="strict") if isinstance(data, bytes) else data.lstrip("\ufeff")
    stripped = text.strip()
    if not stripped:
        raise SetError("the set is empty: give at least one prompt")
    name = filename.lower()
    if name.endswith((".jsonl", ".ndjson", ".json")) or (not name.endswith(".csv") and stripped.startswith("{")):
        rows = _jsonl(stripped)
    elif name.endswith(".csv") or _looks_like_csv(stripped, names):
        rows = _csv(stripped, needed="prompt" if template is None else None)
    else:
        column = names[0] if template is not None and len(names) == 1 else "prompt"
        rows = [(n, {column: line}) for n, line in enumerate(stripped.splitlines(), 1) if line.strip()]
    if template is not None:
        rows = [(number, _filled(number, row, template)) for number, row in rows]
    found = _validated(rows)
    if system_prompt.strip():
        found = tuple(r if r.system_prompt else PromptRow(r.prompt, system_prompt.strip(), r.expected, r.tag)
                      for r in found)
    return found


def _filled(number: int, row: Mapping[str, Any], template: str) -> dict[str, Any]:
    """The row with its `prompt` made from the template and the row's columns named like its variables."""
    if not any(str(v or "").strip() for v in row.values()):
        return dict(row)  # a blank line stays blank (skipped)
    values = {name: "" if row.get(name.lower()) is None else str(row.get(name.lower())) for name in variables(template)}
    try:
        return {**row, "prompt": fill(template, values)}
    except MissingValues as missing:
        columns = ", ".join(f"`{n.lower()}`" for n in missing.names)
        raise SetError(f"line {number} has no value for {columns}, a variable of the library prompt") from None


def _looks_like_csv(text: str, names: list[str] | None = None) -> bool:
    header = [h.strip().lower() for h in next(csv.reader(io.StringIO(text.splitlines()[0])), [])]
    return "prompt" in header or any(name in header for name in names or ())


def _csv(text: str, needed: str | None = "prompt") -> list[tuple[int, dict[str, Any]]]:
    """The rows, each with the line it starts on. Strict: a quote never closed would otherwise swallow every line
    after it into one garbled prompt, so the set is refused, naming the line where that quote opens."""
    reader = csv.DictReader(io.StringIO(text), strict=True)
    try:
        fieldnames = reader.fieldnames
    except csv.Error as problem:
        raise SetError(f"line 1 (the column names): {_csv_problem(problem)}") from None
    header = [(h or "").strip().lower() for h in fieldnames or ()]
    if needed is not None and needed not in header:
        raise SetError("the CSV has no `prompt` column: its first line must name the columns "
                       f"({', '.join(COLUMNS)})")
    reader.fieldnames = header
    rows, ended = [], reader.line_num  # the last line of the last row read
    try:
        for row in reader:  # a row starts as many lines before its last as its fields hold line breaks
            rows.append((reader.line_num - sum(v.count("\n") for v in row.values() if isinstance(v, str)), row))
            ended = reader.line_num
    except csv.Error as problem:
        lines = text.splitlines()
        start = next((n for n in range(ended + 1, len(lines) + 1) if lines[n - 1].strip()), ended + 1)
        raise SetError(f"line {start}: {_csv_problem(problem)}") from None
    return rows


def _csv_problem(problem: csv.Error) -> str:
    if "unexpected end of data" in str(problem):
        return 'a quoted field is never closed (a " without its pair): nothing was saved'
    return f"{problem} (nothing was saved)"


def _jsonl(text: str) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as problem:
            raise SetError(f"line {number} is not JSON: {problem}") from None
        if not isinstance(value, dict):
            raise SetError(f"line {number} is not a JSON object with a `prompt`")
        rows.append((number, {str(k).lower(): v for k, v in value.items()}))
    return rows


def _validated(rows: Iterable[tuple[int, Mapping[str, Any]]]) -> tuple[PromptRow, ...]:
    found: list[PromptRow] = []
    for number, row in rows:
        values = {k: "" if row.get(k) is None else str(row.get(k)) for k in COLUMNS}
        if not any(v.strip() for v in values.values()):
            continue  # a blank line
        if not values["prompt"].strip():
            raise SetError(f"line {number} has no prompt")
        if len(values["prompt"]) > MAX_PROMPT_CHARS:
            raise SetError(f"line {number}: the prompt is longer than {MAX_PROMPT_CHARS:,} characters")
        try:
            expectation(values["expected"])
        except SetError as problem:
            raise SetError(f"line {number}: {problem}") from None
        found.append(PromptRow(values["prompt"].strip(), values["system_prompt"].strip(), values["expected"].strip(),
                               values["tag"].strip()))
        if len(found) > MAX_ROWS:
            raise SetError(f"a set holds at most {MAX_ROWS:,} prompts: split this one")
    if not found:
        raise SetError("the set has no prompts")
    return tuple(found)


def clean_name(name: str) -> str:
    return " ".join(name.split())[:NAME_LENGTH]
