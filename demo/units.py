"""Unit conversions found in a sentence: "Convert 5 miles to km", "100 °F in Celsius", "How many feet in a mile?",
"how many seconds are in 2 hours". Length, mass, volume, time, speed, data and temperature."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from demo.arithmetic import format_number


@dataclass(frozen=True)
class Unit:
    symbol: str  # what the reply writes
    kind: str  # only units of one kind convert into each other
    factor: Fraction  # how many of the kind's base unit one of these is (temperature: see _to_kelvin)
    names: tuple[str, ...]  # what a sentence may call it (lower case)


def _unit(symbol: str, kind: str, factor: str | int | Fraction, *names: str) -> Unit:
    return Unit(symbol, kind, Fraction(factor), (symbol.lower(), *names))


UNITS = (
    _unit("m", "length", 1, "metre", "metres", "meter", "meters"),
    _unit("km", "length", 1000, "kilometre", "kilometres", "kilometer", "kilometers", "kms"),
    _unit("cm", "length", "0.01", "centimetre", "centimetres", "centimeter", "centimeters"),
    _unit("mm", "length", "0.001", "millimetre", "millimetres", "millimeter", "millimeters"),
    _unit("mi", "length", "1609.344", "mile", "miles"),
    _unit("yd", "length", "0.9144", "yard", "yards"),
    _unit("ft", "length", "0.3048", "foot", "feet"),
    _unit("in", "length", "0.0254", "inch", "inches"),
    _unit("kg", "mass", 1, "kilogram", "kilograms", "kilo", "kilos", "kgs"),
    _unit("g", "mass", "0.001", "gram", "grams"),
    _unit("lb", "mass", "0.45359237", "pound", "pounds", "lbs"),
    _unit("oz", "mass", "0.028349523125", "ounce", "ounces"),
    _unit("t", "mass", 1000, "tonne", "tonnes", "metric ton", "metric tons"),
    _unit("L", "volume", 1, "litre", "litres", "liter", "liters"),
    _unit("mL", "volume", "0.001", "millilitre", "millilitres", "milliliter", "milliliters", "ml"),
    _unit("gal", "volume", "3.785411784", "gallon", "gallons", "us gallon", "us gallons"),
    _unit("s", "time", 1, "second", "seconds", "sec", "secs"),
    _unit("min", "time", 60, "minute", "minutes", "mins"),
    _unit("h", "time", 3600, "hour", "hours", "hr", "hrs"),
    _unit("day", "time", 86400, "days"),
    _unit("week", "time", 604800, "weeks"),
    _unit("km/h", "speed", Fraction(1000, 3600), "kph", "kmh", "kilometres per hour", "kilometers per hour"),
    _unit("mph", "speed", Fraction(1609344, 3600000), "miles per hour"),
    _unit("m/s", "speed", 1, "metres per second", "meters per second"),
    _unit("B", "data", 1, "byte", "bytes"),
    _unit("KB", "data", 1000, "kilobyte", "kilobytes"),
    _unit("MB", "data", 1000 ** 2, "megabyte", "megabytes"),
    _unit("GB", "data", 1000 ** 3, "gigabyte", "gigabytes"),
    _unit("TB", "data", 1000 ** 4, "terabyte", "terabytes"),
    _unit("KiB", "data", 1024, "kibibyte", "kibibytes"),
    _unit("MiB", "data", 1024 ** 2, "mebibyte", "mebibytes"),
    _unit("GiB", "data", 1024 ** 3, "gibibyte", "gibibytes"),
    _unit("°C", "temperature", 1, "c", "celsius", "degrees celsius", "degrees c", "centigrade"),
    _unit("°F", "temperature", 1, "f", "fahrenheit", "degrees fahrenheit", "degrees f"),
    _unit("K", "temperature", 1, "kelvin", "kelvins"),
)

_BY_NAME = {name: unit for unit in UNITS for name in unit.names}
_BY_NAME.update({"°c": _BY_NAME["c"], "°f": _BY_NAME["f"], "º c": _BY_NAME["c"], "º f": _BY_NAME["f"]})
_NAME = "|".join(re.escape(name) for name in sorted(_BY_NAME, key=len, reverse=True))
_NUMBER = r"-?\d+(?:,\d{3})*(?:\.\d+)?"
_UNIT = rf"(?:°\s*)?(?:{_NAME})"
_FORWARD = re.compile(rf"(?P<value>{_NUMBER})\s*(?P<source>{_UNIT})\b\s+(?:to|in|into|as|in terms of)\s+"
                      rf"(?P<target>{_UNIT})(?![\w/])", re.I)
_HOW_MANY = re.compile(rf"how\s+many\s+(?P<target>{_UNIT})\s+(?:are\s+|is\s+|make\s+|in\s+|equal\s+|would\s+)*"
                       rf"(?:there\s+)?(?:in|is|are|make|equal|to)?\s*(?:a|an|one|(?P<value>{_NUMBER}))?\s*"
                       rf"(?P<source>{_UNIT})(?![\w/])", re.I)


@dataclass(frozen=True)
class Conversion:
    value: Fraction
    source: Unit
    target: Unit
    result: Fraction

    @property
    def question(self) -> str:
        """What was asked: `5 mi`, `3 days`."""
        return _amount(format_number(self.value), self.source)

    @property
    def answer(self) -> str:
        """The result to six significant digits: `8.04672 km`, `100 °C`."""
        return self.to_digits(6)

    def to_digits(self, digits: int) -> str:
        """The result to `digits` significant digits: `8.05 km`."""
        return _amount(rounded(self.result, digits), self.target)

    @property
    def formula(self) -> str:
        """The conversion as a Python expression: `5 * 1.609344`, `(100 - 32) * 5 / 9`."""
        value = format_number(self.value)
        if self.source.kind != "temperature":
            return f"{value} * {rounded(self.source.factor / self.target.factor, 10)}"
        to_celsius = {"°C": value, "°F": f"({value} - 32) * 5 / 9", "K": f"{value} - 273.15"}[self.source.symbol]
        if self.target.symbol == "°C":
            return to_celsius
        if self.target.symbol == "K":
            return f"{to_celsius} + 273.15"
        inner = to_celsius if self.source.symbol == "°C" else f"({to_celsius})"
        return f"{inner} * 9 / 5 + 32"


def _amount(number: str, unit: Unit) -> str:
    plural = unit.symbol in ("day", "week") and number not in ("1", "-1")
    return f"{number} {unit.symbol}{'s' if plural else ''}"


def rounded(value: Fraction, digits: int = 6) -> str:
    """A value to `digits` significant digits, without trailing zeros: 8.04672, 100, 0.000621371."""
    if value.denominator == 1 and abs(value) < 10 ** 15:
        return str(value.numerator)
    text = f"{float(value):.{digits}g}"
    return text if "e" in text else format_number(Fraction(text))


def find_conversion(text: str) -> Conversion | None:
    """The first unit conversion asked for in a sentence, or None (also when the units are of different kinds)."""
    for pattern in (_FORWARD, _HOW_MANY):
        for match in pattern.finditer(text):
            source, target = _lookup(match.group("source")), _lookup(match.group("target"))
            if source is None or target is None or source.kind != target.kind or source == target:
                continue
            value = Fraction((match.group("value") or "1").replace(",", ""))
            return Conversion(value, source, target, convert(value, source, target))
    return None


def convert(value: Fraction, source: Unit, target: Unit) -> Fraction:
    """value in `source` expressed in `target` (same kind)."""
    if source.kind == "temperature":
        return _from_kelvin(_to_kelvin(value, source.symbol), target.symbol)
    return value * source.factor / target.factor


def _lookup(name: str) -> Unit | None:
    key = re.sub(r"\s+", " ", name.strip().lower())
    return _BY_NAME.get(key) or _BY_NAME.get(key.lstrip("° ").strip())


def _to_kelvin(value: Fraction, symbol: str) -> Fraction:
    if symbol == "°C":
        return value + Fraction("273.15")
    if symbol == "°F":
        return (value - 32) * Fraction(5, 9) + Fraction("273.15")
    return value


def _from_kelvin(value: Fraction, symbol: str) -> Fraction:
    if symbol == "°C":
        return value - Fraction("273.15")
    if symbol == "°F":
        return (value - Fraction("273.15")) * Fraction(9, 5) + 32
    return value
