"""The `?models=` of a compare link: which models it names."""

from __future__ import annotations


def parse_models_param(value: str | None) -> list[str]:
    """`?models=a,b,,a` → `["a", "b"]`: order kept, blanks and repeats dropped."""
    return list(dict.fromkeys(part.strip() for part in (value or "").split(",") if part.strip()))  # linear: any length
