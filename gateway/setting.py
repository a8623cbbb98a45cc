"""What a setting is: its name, default, parser (with its bounds), doc and how it is shown, declared once as a field.

`setting(...)` is a dataclass field that carries a `Setting` in its metadata; `declared(cls)` reads them back, named
after their fields (`max_prompt_chars` is `MAX_PROMPT_CHARS`). A parser turns the text of a variable into the value
or raises `Invalid` with the words a page shows and the value used instead. gateway/config.py declares every setting
with these; scripts/settings_doc.py writes README's table and `.env.example` from the same declaration.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

_SETTING = "setting"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Invalid(ValueError):
    """A value a parser refuses: `reason` in plain words, and what is used instead."""

    def __init__(self, reason: str, instead: object) -> None:
        super().__init__(reason)
        self.reason, self.instead = reason, instead


class Parser:
    """Text → value. `accepts` says what it takes, for the docs."""

    accepts = "text"

    def __call__(self, text: str, default: Any) -> Any:
        return text


class Text(Parser):
    pass


class Key(Parser):
    accepts = "a key"


class Flag(Parser):
    accepts = "true / false"

    def __call__(self, text: str, default: Any) -> bool:
        value = text.strip().lower()
        if value in _TRUE:
            return True
        if value not in _FALSE:
            raise Invalid(f"{text!r} is not true/false (use true, 1, yes or on)", default)
        return False


@dataclass(frozen=True)
class Number(Parser):
    """A finite number ≥ `minimum` (and ≤ `maximum`); `whole`: rounded down to an integer."""

    minimum: float
    maximum: float | None = None
    whole: bool = False

    @property
    def accepts(self) -> str:  # type: ignore[override]
        kind = "whole number" if self.whole else "number"
        if self.maximum is not None:
            return f"{kind} {self.minimum:g}–{self.maximum:g}"
        return f"{kind} ≥ {self.minimum:g}"

    def __call__(self, text: str, default: Any) -> float | int:
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        too_big = self.maximum is not None and number > self.maximum
        if not (number >= self.minimum and math.isfinite(number)) or too_big:  # also catches NaN and infinity
            instead = "" if default is None else f"; using {default:g}"
            raise Invalid(f"{text!r} is not a {self.accepts}{instead}", default)
        return int(number) if self.whole else number


@dataclass(frozen=True)
class Choice(Parser):
    """One of `options` (compared lower-cased); anything else gives `otherwise` and `why`."""

    options: tuple[str, ...]
    otherwise: object = None
    why: str = ""

    @property
    def accepts(self) -> str:  # type: ignore[override]
        return " / ".join(f"`{o}`" for o in self.options)

    def __call__(self, text: str, default: Any) -> str:
        value = text.strip().lower()
        if value not in self.options:
            raise Invalid(f"{text!r} is not one of {', '.join(self.options)}{self.why}", self.otherwise)
        return value


@dataclass(frozen=True)
class Custom(Parser):
    """A function of the text (and the default) that raises `Invalid` itself."""

    function: Callable[[str, Any], Any]
    accepts: str = "text"

    def __call__(self, text: str, default: Any) -> Any:
        return self.function(text, default)


@dataclass(frozen=True)
class Setting:
    """One variable: read from the environment, secrets.toml or .env (see gateway/config.py)."""

    name: str
    default: object
    parse: Parser
    doc: str  # what it means: README's table and the comment in .env.example
    label: str = ""  # how the health page's configuration table names it (app settings)
    secret: bool = False  # shown masked, and redacted from every message
    read_by: tuple[str, ...] = ("app",)  # app, `make run`, proxy
    shown_default: str = ""  # README's Default column when the default alone does not say it
    section: str = "app"  # its block in .env.example (config.SECTIONS)
    example: str | None = None  # its value in .env.example (None: the default; commented out when `commented`)
    commented: bool = False

    @property
    def field(self) -> str:
        return self.name.lower()

    def read(self, raw: str | None) -> Any:
        """The value for this text (None or empty: the default); raises Invalid."""
        if raw is None or raw == "":
            return self.default
        return self.parse(raw, self.default)

    @property
    def default_text(self) -> str:
        """The default as the docs show it."""
        if self.shown_default:
            return self.shown_default
        if self.default in (None, "", (), frozenset()):
            return "none"
        return f"`{_spelled(self.default)}`"

    @property
    def example_value(self) -> str:
        """Its value in .env.example: `example`, else the default as a variable would spell it."""
        if self.example is not None:
            return self.example
        return _spelled(self.default)


def _spelled(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (tuple, frozenset)):
        return ",".join(sorted(str(v) for v in value))
    return str(value)


def setting(label: str, parse: Parser, default: Any, doc: str, *, secret: bool = False, repr: bool = True,
            **more: Any) -> Any:
    """A dataclass field declaring a setting (its name: the field's, upper-cased)."""
    declared = Setting("", default, parse, doc, label=label, secret=secret, **more)
    return dataclasses.field(default=default, repr=repr and not secret, metadata={_SETTING: declared})


def declared(cls: type) -> tuple[Setting, ...]:
    """The settings a dataclass declares with `setting()`, in field order, named after their fields."""
    return tuple(dataclasses.replace(f.metadata[_SETTING], name=f.name.upper())
                 for f in dataclasses.fields(cls) if _SETTING in f.metadata)


def names(settings: Iterable[Setting]) -> tuple[str, ...]:
    return tuple(s.name for s in settings)
