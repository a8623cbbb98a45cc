"""The demo models' calculator: exact arithmetic parsed with ast, nothing else accepted, every value bounded; and the
calculations and unit conversions it finds in a sentence."""

from __future__ import annotations

import builtins
from fractions import Fraction

import pytest

from demo.arithmetic import CalculationError, NotArithmetic, evaluate, find_calculation, format_number
from demo.units import find_conversion


@pytest.mark.parametrize(("expression", "value"), [
    ("17 * 23", 391), ("2 + 3 * 4", 14), ("(2 + 3) * 4", 20), ("-3 * -4", 12), ("+5 - -5", 10),
    ("7 // 2", 3), ("7 % 3", 1), ("2 ** 10", 1024), ("2 ** -2", Fraction(1, 4)), ("0.1 + 0.2", Fraction(3, 10)),
    ("1 / 3", Fraction(1, 3)), ("sqrt(144)", 12), ("sqrt(9 / 4)", Fraction(3, 2)), ("abs(-7)", 7),
])
def test_arithmetic_is_exact(expression, value):
    assert evaluate(expression) == value


def test_irrational_results_are_floats():
    assert evaluate("sqrt(2)") == pytest.approx(1.41421356)
    assert evaluate("2 ** 0.5") == pytest.approx(1.41421356)


@pytest.mark.parametrize("expression", [
    "__import__('os').system('echo hacked')", "().__class__.__bases__", "open('/etc/passwd')", "x + 1",
    "'a' * 3", "[1, 2]", "True + 1", "1 if 2 else 3", "lambda: 1", "sqrt(4, 5)", "sqrt(x=4)", "2j", "",
    "1 +", "(1 + 2", "1" * 250,
])
def test_anything_but_arithmetic_is_refused(expression):
    with pytest.raises(NotArithmetic):
        evaluate(expression)


def test_the_calculator_never_evaluates_code(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    assert evaluate("(48 + 52) * 7") == 700
    with pytest.raises(NotArithmetic):
        evaluate("__import__('os').getcwd()")


@pytest.mark.parametrize(("expression", "reason"), [
    ("1 / 0", "division by zero"), ("5 % 0", "division by zero"), ("0 ** -1", "division by zero"),
    ("9 ** 9 ** 9", "too large"), ("10 ** 61", "too large"), ("10 ** 30 * 10 ** 31", "too large"),
    ("2.0 ** 5000", "too large"), ("sqrt(-1)", "not a real number"), ("(-8) ** (1 / 3)", "not a real number"),
])
def test_values_out_of_range_are_refused_with_the_reason(expression, reason):
    with pytest.raises(CalculationError, match=reason):
        evaluate(expression)


def test_huge_exponents_with_harmless_bases_stay_cheap():
    assert evaluate("1 ** 10 ** 50") == 1
    assert evaluate("(-1) ** (10 ** 50)") == 1
    assert evaluate("0.5 ** 10 ** 9") == 0


@pytest.mark.parametrize(("value", "text"), [
    (Fraction(391), "391"), (Fraction(1, 8), "0.125"), (Fraction(1, 3), "0.3333333333"), (Fraction(-7), "-7"),
    (Fraction(0), "0"), (1.5e20, "1.5e+20"), (Fraction(81, 4), "20.25"),
])
def test_numbers_are_written_as_a_person_would(value, text):
    assert format_number(value) == text


@pytest.mark.parametrize(("sentence", "shown", "answer"), [
    ("What is 17 * 23?", "17 × 23", "391"),
    ("what is 2+2.", "2 + 2", "4"),
    ("Compute (3 + 4) * 5.", "(3 + 4) × 5", "35"),
    ("What is 35% of 640?", "35 / 100 × 640", "224"),
    ("What is the square root of 2025?", "sqrt(2025)", "45"),
    ("What is 7 times 8?", "7 × 8", "56"),
    ("And 100 divided by 8?", "100 / 8", "12.5"),
    ("What is 12 squared?", "12 ^ 2", "144"),
    ("2^10 please", "2 ^ 10", "1024"),
    ("Add 1,234 + 1", "1234 + 1", "1235"),
    ("What is 6 × 7?", "6 × 7", "42"),
])
def test_calculations_are_found_in_sentences(sentence, shown, answer):
    found = find_calculation(sentence)
    assert found is not None and (found.shown, found.answer) == (shown, answer)


@pytest.mark.parametrize("sentence", [
    "Hello there", "I have 5 apples", "Meet me on 2024-05-01", "Convert 5 miles to km", "What's -5?",
    "Tell me about 1984",
])
def test_sentences_without_a_calculation(sentence):
    assert find_calculation(sentence) is None


def test_a_calculation_without_a_value_comes_back_with_its_reason():
    found = find_calculation("What is 10 / 0?")
    assert found.value is None and found.answer == "" and found.error == "division by zero"


@pytest.mark.parametrize(("sentence", "question", "answer"), [
    ("Convert 5 miles to km", "5 mi", "8.04672 km"),
    ("What is 100 °F in Celsius?", "100 °F", "37.7778 °C"),
    ("boil water at 212F to C", "212 °F", "100 °C"),
    ("-40 C to F", "-40 °C", "-40 °F"),
    ("Convert 0 K to °C", "0 K", "-273.15 °C"),
    ("what is 37 degrees celsius in fahrenheit", "37 °C", "98.6 °F"),
    ("How many feet in a mile?", "1 mi", "5280 ft"),
    ("how many seconds are in 3 hours", "3 h", "10800 s"),
    ("how many cm are there in an inch?", "1 in", "2.54 cm"),
    ("Convert 2 kg to pounds", "2 kg", "4.40925 lb"),
    ("convert 1,000 miles to kilometres", "1000 mi", "1609.34 km"),
    ("1 GB in MiB", "1 GB", "953.674 MiB"),
    ("60 mph to km/h", "60 mph", "96.5606 km/h"),
    ("3 days in hours", "3 days", "72 h"),
])
def test_unit_conversions_are_found_and_right(sentence, question, answer):
    found = find_conversion(sentence)
    assert found is not None and (found.question, found.answer) == (question, answer)


def test_a_conversion_formula_gives_its_own_result():
    for sentence in ("Convert 5 miles to km", "100 F in C", "0 K to F", "212 F to K", "37 C to F", "2 kg in lb"):
        found = find_conversion(sentence)
        assert float(evaluate(found.formula)) == pytest.approx(float(found.result)), sentence


@pytest.mark.parametrize("sentence", ["5 miles in kg", "I live in London", "Convert 5 to km", "10 km in km"])
def test_no_conversion_between_kinds_or_without_units(sentence):
    assert find_conversion(sentence) is None
