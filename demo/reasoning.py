"""demo-reasoning's visible thinking: the working a careful person writes down before answering, longer the harder
it is asked to think (the request's `reasoning_effort`: "none" thinks not at all, "low" once through, "medium" (the
default) checks the result, "high" also works it out a second way and checks again)."""

from __future__ import annotations

from fractions import Fraction

from demo.arithmetic import Calculation, format_number
from demo.prompt import Prompt
from demo.writers import Findings, said

EFFORTS = ("none", "minimal", "low", "medium", "high")
DEFAULT_EFFORT = "medium"


def effort_of(value: object) -> str:
    """The request's reasoning_effort as this model reads it (unknown or missing: the default)."""
    return value if isinstance(value, str) and value in EFFORTS else DEFAULT_EFFORT


def think(prompt: Prompt, found: Findings, effort: str) -> str:
    """The thinking shown before the answer (empty for effort "none")."""
    if effort == "none":
        return ""
    lines = [f"The question: {said(prompt.text, 100)}"]
    calc = found.calculation
    if calc is not None and calc.value is not None:
        lines += _working(calc)
        if effort in ("medium", "high"):
            lines += _check(calc)
        if effort == "high":
            lines += _second_way(calc)
    elif calc is not None:
        lines.append(f"There is a calculation, `{calc.shown}`, but it has no value: {calc.error}.")
    elif found.conversion:
        c = found.conversion
        lines += [f"A conversion of {c.source.kind}, from {c.source.symbol} to {c.target.symbol}.",
                  "Exact factor first, rounding only at the end."]
        if effort in ("medium", "high"):
            lines.append("Check: converting the result back should give the number asked about.")
    elif found.capital:
        lines += [f"They ask for the capital of {found.capital[0]}.", f"That is {found.capital[1]}."]
        if effort in ("medium", "high"):
            lines.append("Sure of it: it is in the table I know.")
    else:
        terms = ", ".join(prompt.key_terms) or "nothing I can pick out"
        lines += [f"Key terms: {terms}.", "No arithmetic, no conversion, no country: a short plain answer."]
        if effort == "high":
            lines.append("Is there a hidden question? Reading it once more… no: answer plainly.")
    return "\n\n".join(lines) + "\n\n"  # a paragraph a step: Markdown keeps them apart


def _working(calc: Calculation) -> list[str]:
    """Long multiplication by the second number's digits when it is a product of two whole numbers; else the
    expression evaluated."""
    parts = calc.expression.split("*")
    if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
        a, b = (int(p) for p in parts)
        digits = [int(d) * 10 ** i for i, d in enumerate(reversed(str(b))) if d != "0"]
        products = [a * d for d in digits]
        lines = [f"{a} × {b}: split {b} into " + " + ".join(str(d) for d in reversed(digits)) + "."]
        lines += [f"{a} × {d} = {p}" for d, p in zip(reversed(digits), reversed(products), strict=True)]
        lines.append(" + ".join(str(p) for p in reversed(products)) + f" = {sum(products)}")
        return lines
    return [f"Evaluate `{calc.shown}` step by step, exactly.", f"It comes to {calc.answer}."]


def _check(calc: Calculation) -> list[str]:
    parts = calc.expression.split("*")
    if len(parts) == 2 and all(p.strip().isdigit() for p in parts) and int(parts[1]) != 0:
        a, b = (int(p) for p in parts)
        return [f"Check: {calc.answer} ÷ {b} = {format_number(Fraction(a * b, b))}, the first number again. ✓"]
    return [f"Check: evaluate `{calc.shown}` again: {calc.answer} again. ✓"]


def _second_way(calc: Calculation) -> list[str]:
    parts = calc.expression.split("*")
    if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
        a, b = (int(p) for p in parts)
        round_up = -(-b // 10) * 10
        return [f"A second way: {a} × {round_up} = {a * round_up}, less {a} × {round_up - b} = {a * (round_up - b)}, "
                f"gives {a * round_up - a * (round_up - b)}. Same. ✓"]
    return ["A second way: estimate the size of the result first; the exact value is in that range. ✓"]
