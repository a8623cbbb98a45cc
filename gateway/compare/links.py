"""The `?models=` of a compare link: which models it names."""

from __future__ import annotations


def parse_models_param(value: str | None) -> list[str]:
    """`?models=a,b,,a` → `["a", "b"]`: order kept, blanks and repeats dropped."""
    seen: list[str] = []
    for part in (value or "").split(","):
        part = part.strip()
        if part and part not in seen:
            seen.append(part)
    return seen
