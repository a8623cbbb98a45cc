"""A safe calculator: arithmetic parsed with `ast` and evaluated node by node, never with `eval`; and the search for a
calculation inside a sentence ("What is 17 × 23?", "15% of 80", "the square root of 144", "7 times 8").

Only numbers, + - * / // % ** (or ^), parentheses, sqrt() and abs() are accepted. Values stay exact (fractions) where
they can, and the size of every intermediate value is bounded, so `9 ** 9 ** 9` is refused instead of hanging.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

MAX_LENGTH = 200  # characters of an expression
MAX_DIGITS = 60  # digits of any value, before or after the decimal point

Number = Fraction | float


class CalculationError(ValueError):
    """Arithmetic whose value cannot be given: too large, division by zero, not a real number…"""


class NotArithmetic(CalculationError):
    """Not arithmetic this calculator accepts (a name, a string, a syntax error…)."""


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression: a Fraction when exact, else a float. Raises CalculationError."""
    if len(expression) > MAX_LENGTH:
        raise NotArithmetic(f"longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError):
        raise NotArithmetic(f"not an arithmetic expression: {expression.strip()[:40]!r}") from None
    return _evaluate(tree.body)


def format_number(value: Number) -> str:
    """A value as a person would write it: `391`, `0.125`, `0.3333333333`, `1.5e+20`, `-7`."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return str(value.numerator)
    number = float(value)
    if number == 0:
        return "0"
    if abs(number) >= 1e15 or abs(number) < 1e-6:
        return f"{number:.6g}"
    return f"{number:.10g}"


def is_whole(value: Number) -> bool:
    """The value is an integer (exactly)."""
    return isinstance(value, Fraction) and value.denominator == 1


@dataclass(frozen=True)
class Calculation:
    """A calculation found in a sentence."""

    expression: str  # normalised Python syntax: `17 * 23`
    value: Number | None  # None when it has no value (see error)
    error: str | None = None  # why not: "division by zero", "the result is too large"…

    @property
    def shown(self) -> str:
        """The expression as a person writes it: `17 × 23`, `2^10`, `sqrt(2)`."""
        return self.expression.replace("**", "^").replace("*", "×")

    @property
    def answer(self) -> str:
        """The value as a person writes it (empty when there is none)."""
        return "" if self.value is None else format_number(self.value)


def find_calculation(text: str) -> Calculation | None:
    """The first calculation in a sentence, or None. Words (plus, times, divided by, squared, % of, square root of)
    are read as operators; a bare number is not a calculation. A calculation without a value (10 / 0) comes back
    with its error."""
    normalised = _normalise(text)
    for run in _CANDIDATE.finditer(normalised):
        candidate = _trim(run.group())
        if not candidate or not re.search(r"\d", candidate) or not _OPERATION.search(candidate):
            continue
        try:
            value, error = evaluate(candidate), None
        except NotArithmetic:
            continue
        except CalculationError as problem:
            value, error = None, str(problem)
        return Calculation(ast.unparse(ast.parse(candidate, mode="eval")), value, error)
    return None


# --- evaluation -----------------------------------------------------------------------------------------------------

def _check(value: Number | complex) -> Number:
    """Refuse complex, infinite and oversized values; keep fractions with huge denominators as floats."""
    if isinstance(value, complex):
        raise CalculationError("the result is not a real number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CalculationError("the result is too large")
        if abs(value) >= 10 ** MAX_DIGITS:
            raise CalculationError("the result is too large")
        return value
    if abs(value) >= 10 ** MAX_DIGITS:
        raise CalculationError("the result is too large")
    if value.denominator >= 10 ** MAX_DIGITS:
        return float(value)
    return value


def _power(base: Number, exponent: Number) -> Number:
    if base != 0 and abs(base) != 1 and float(exponent) * math.log10(abs(float(base))) > MAX_DIGITS:
        raise CalculationError("the result is too large")
    if isinstance(exponent, Fraction) and exponent.denominator == 1:
        if exponent < 0 and base == 0:
            raise CalculationError("division by zero")
        if abs(exponent) > 10 * MAX_DIGITS:  # 1 ** 10**9 is fine but slow with fractions; 0.5 ** 10**9 underflows
            return _check(float(base) ** float(exponent))
        return base ** int(exponent)
    if base < 0:
        raise CalculationError("the result is not a real number")
    return float(base) ** float(exponent)


def _sqrt(value: Number) -> Number:
    if value < 0:
        raise CalculationError("the square root of a negative number is not a real number")
    if isinstance(value, Fraction):
        top, bottom = math.isqrt(value.numerator), math.isqrt(value.denominator)
        if top * top == value.numerator and bottom * bottom == value.denominator:
            return Fraction(top, bottom)
    return math.sqrt(float(value))


_BINARY: dict[type, Callable[[Number, Number], Number]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: _power}
_UNARY: dict[type, Callable[[Number], Number]] = {ast.UAdd: lambda value: value, ast.USub: lambda value: -value}
_FUNCTIONS: dict[str, Callable[[Number], Number]] = {"sqrt": _sqrt, "abs": lambda value: -value if value < 0 else value}


def _evaluate(node: ast.AST) -> Number:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):  # not bool, str, complex
        return _check(Fraction(node.value) if isinstance(node.value, int) else Fraction(repr(node.value)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        try:
            return _check(_BINARY[type(node.op)](left, right))
        except ZeroDivisionError:
            raise CalculationError("division by zero") from None
        except OverflowError:
            raise CalculationError("the result is too large") from None
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS
            and len(node.args) == 1 and not node.keywords):
        return _check(_FUNCTIONS[node.func.id](_evaluate(node.args[0])))
    raise NotArithmetic(f"not arithmetic: {ast.unparse(node)[:40]!r}")


# --- finding a calculation in a sentence ----------------------------------------------------------------------------

_WORDS = [  # (pattern, operator), applied in order to the lower-cased sentence
    (r"(?:the\s+)?square\s+root\s+of\s+(\d+(?:\.\d+)?)", r" sqrt(\1) "),
    (r"(\d+(?:\.\d+)?)\s*(?:%|percent)\s+of\s+", r" (\1/100)*"),
    (r"\bmultiplied\s+by\b|\btimes\b", " * "),
    (r"\bdivided\s+by\b|\bover\b", " / "),
    (r"\bplus\b|\badded\s+to\b", " + "),
    (r"\bminus\b", " - "),
    (r"\bto\s+the\s+power\s+of\b|\braised\s+to\b", " ** "),
    (r"\bsquared\b", " ** 2 "),
    (r"\bcubed\b", " ** 3 "),
    (r"\bmod(?:ulo)?\b", " % "),
    (r"[×✕·]", " * "),
    (r"÷", " / "),
    (r"[−–]", " - "),
    (r"\^", " ** "),
    (r"(?<=\d)\s*x\s*(?=[\d(])", " * "),
    (r"(?<=\d),(?=\d{3}(?!\d))", ""),  # thousands separators: 1,234 → 1234
    (r"\b\d{4}-\d{2}-\d{2}\b", " "),  # a date is not a subtraction
]
_CANDIDATE = re.compile(r"(?:\b(?:sqrt|abs)\b|[\d.()+\-*/%\s])+")
_OPERATION = re.compile(r"[\d)]\s*(?:\*\*|[-+*/%])\s*[-\d(.]|sqrt|abs")


def _normalise(text: str) -> str:
    text = text.lower()
    for pattern, replacement in _WORDS:
        text = re.sub(pattern, replacement, text)
    return text


def _trim(run: str) -> str:
    """A run of calculator characters without what cannot belong to it: dangling operators, unmatched parentheses,
    a sentence's full stop."""
    run = run.strip()
    previous = None
    while run != previous:
        previous = run
        run = run.strip().rstrip("+-*/%.(").lstrip("+*/%)").strip()
        while run.count("(") > run.count(")") and run.startswith("("):
            run = run[1:]
        while run.count(")") > run.count("(") and run.endswith(")"):
            run = run[:-1]
    return run
