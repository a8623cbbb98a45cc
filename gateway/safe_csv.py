"""CSV that a spreadsheet opens as data: the one writer of every CSV file the dashboard hands out.

Excel, LibreOffice Calc and Google Sheets read a cell that begins with `=`, `+`, `-` or `@` as a formula — a
`=HYPERLINK(…)` that carries other cells to an address, an `=IMPORTXML(…)` or `=IMAGE(…)` that fetches by itself, a
DDE command. Replies, prompts, model names, tags and analysts' names are chosen by someone else, so every text cell
this module writes is made inert the OWASP way ("CSV Injection"): when it begins — after any leading blanks or
invisible characters — with a formula character, it gets a leading apostrophe, which every spreadsheet shows as the
start of plain text. The formula characters are OWASP's and ASVS's (`=`, `+`, `-`, `@`, tab, carriage return, line
feed, NUL) and their full-width and small forms (`＝`, `＋`, `－`, `＠`, `﹦`, `﹢`, `﹣`, `﹫`) and the minus sign
(`−`), which some spreadsheets fold into the ASCII ones.

Numbers the dashboard computed stay numbers (a cost difference of -0.5 is written `-0.5`): only `str` cells are
touched, in the values, the header and the index alike. Every text cell is quoted as well (RFC 4180), so what is
text and what is a number reads plainly, and a line break, comma or quote inside a text stays inside its cell.

The guarantee is for the file as written: comma-separated, as Excel, LibreOffice and Google Sheets split a `.csv`
by default. A spreadsheet told to split it on another character (`;`, tab) reads different cells from it; nothing
in a text is changed but its first character, so the text stays exactly what the model or the analyst wrote.
"""

from __future__ import annotations

import csv

import pandas as pd

FORMULA_STARTS = frozenset("=+-@\t\r\n\0" "＝＋－＠" "﹦﹢﹣﹫" "−")
# What a spreadsheet may skip before it looks for a formula: blanks, and characters that show as nothing.
_LEADING = " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000" \
           "\u200b\u200c\u200d\u2060\ufeff\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029"


def is_formula(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula (or a command)."""
    stripped = text.lstrip(_LEADING)
    return bool(stripped) and stripped[0] in FORMULA_STARTS


def inert(value: object) -> object:
    """A cell as written: text that could be a formula behind an apostrophe; numbers, dates, booleans and blanks as
    they are."""
    if isinstance(value, str) and is_formula(value):
        return "'" + value
    return value


def frame_csv(frame: pd.DataFrame, *, index: bool = False) -> str:
    """A table as CSV, every text cell (header and index included) inert and quoted, numbers as numbers."""
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]) and not pd.api.types.is_bool_dtype(safe[column]):
            safe[column] = safe[column].map(inert)
    safe = safe.rename(columns=inert, index=inert if index else None)
    if index:
        safe.index.names = [inert(name) for name in safe.index.names]
    return safe.to_csv(index=index, quoting=csv.QUOTE_NONNUMERIC)
