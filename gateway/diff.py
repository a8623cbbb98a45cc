"""Word-level differences between two replies (difflib). `ui.diff.diff_markdown` draws them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

Op = Literal["equal", "delete", "insert"]


@dataclass(frozen=True)
class WordDiff:
    """The words two texts share, and those only one of them has, in order."""

    ops: tuple[tuple[Op, str], ...]
    ratio: float  # 0 (nothing in common) to 1 (the same words)

    @property
    def identical(self) -> bool:
        """The same words in the same order (spacing aside)."""
        return all(op == "equal" for op, _ in self.ops)

    @property
    def counts(self) -> dict[Op, int]:
        """How many words are shared, only in the first text, and only in the second."""
        totals: dict[Op, int] = {"equal": 0, "delete": 0, "insert": 0}
        for op, text in self.ops:
            totals[op] += len(text.split())
        return totals


def word_diff(first: str, second: str) -> WordDiff:
    """Compare two texts word by word: `delete` is only in `first`, `insert` only in `second`."""
    a, b = first.split(), second.split()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    ops: list[tuple[Op, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append(("equal", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            ops.append(("delete", " ".join(a[i1:i2])))
        if j2 > j1:
            ops.append(("insert", " ".join(b[j1:j2])))
    return WordDiff(tuple(ops), matcher.ratio() if a or b else 1.0)
