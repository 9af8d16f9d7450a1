"""FEEL the language (DMN 1.5, 10.3): decimal numbers, literals, names, functions, iteration and types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from legato.errors import EvaluationError, ExpressionInvalid
from legato.expressions.feel import compile_feel


def feel(source: str, **variables: Any) -> Any:
    return compile_feel(source).evaluate_feel(variables)


def stored(source: str, **variables: Any) -> Any:
    return compile_feel(source).evaluate(variables)


# --- numbers are decimal128 (10.3.2.3.1) ----------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("0.1 + 0.2 = 0.3", True),
        ("0.1 + 0.2", Decimal("0.3")),
        ("1 / 3", Decimal("0.3333333333333333333333333333333333")),
        ("2 / 3", Decimal("0.6666666666666666666666666666666667")),  # 34 digits, half even
        ("10 / 4", Decimal("2.5")),
        ("10 / 2", 5),
        ("1.2e3", Decimal("1.2E+3")),
        ("1.2e3 = 1200", True),
        ("5E-2 * 2 = 0.1", True),
        ("2 ** -1", Decimal("0.5")),
        ("2 ** 0.5 > 1.414", True),
        ("(-8) ** 0.5", None),  # undefined
        ("9.99e6144 * 10", None),  # beyond decimal128
        ("1 / 0", None),
        ("0 / 0", None),
        ("123456789012345678901234567890.5 + 1", Decimal("123456789012345678901234567891.5")),
        ("string(1.10)", "1.1"),
        ("string(1.0)", "1"),
        ("string(1 / 4)", "0.25"),
        ("string(1e-7)", "0.0000001"),
        ('number("1.5") + 1', Decimal("2.5")),
        ("sum([0.1, 0.2]) = 0.3", True),
        ("mean([1, 2])", Decimal("1.5")),
        ("sqrt(16)", 4),
        ("sqrt(2) * sqrt(2) = 2", True),  # 34 digits, rounded half even: exact again
        ("exp(100000)", None),
        ("decimal(1 / 3, 2)", Decimal("0.33")),
        ("1 = 1.0", True),
        ("1.0 < 1.5", True),
        ("-0.5 < 0", True),
    ],
)
def test_numbers_are_decimal(source: str, expected: Any) -> None:
    assert feel(source) == expected


def test_json_inputs_are_read_as_the_decimals_they_are_written_as() -> None:
    assert feel("x + 0.2 = 0.3", x=0.1) is True
    assert feel("x = 0.1", x=0.1) is True
    assert feel("x < 0.1", x=0.1) is False
    assert feel("x * 3", x=0.1) == Decimal("0.3")
    assert feel("sum(prices)", prices=[0.1, 0.2]) == Decimal("0.3")
    assert feel("x in [0.1..0.2]", x=0.1) is True
    assert feel("x > 1000", x=1000.5) is True


def test_results_are_stored_as_json_numbers() -> None:
    assert stored("0.1 + 0.2") == 0.3
    assert stored("1.5 * 2") == 3 and isinstance(stored("1.5 * 2"), int)
    assert stored("[1 / 4, 2.0]") == [0.25, 2]
    assert stored("{a: 1.25}") == {"a": 1.25}


def test_a_number_beyond_decimal128_is_refused() -> None:
    with pytest.raises(ExpressionInvalid, match="beyond decimal128"):
        compile_feel("1e9999")


# --- user functions, named arguments (10.3.2.13) --------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("(function(a, b) a + b)(1, 2)", 3),
        ("{add: function(a, b) a + b, r: add(1, 2)}.r", 3),
        ("{f: function(a, b) a - b, r: f(b: 1, a: 5)}.r", 4),
        ("{fact: function(n) if n <= 1 then 1 else n * fact(n - 1), r: fact(10)}.r", 3628800),
        ("{double: function(x: number) x * 2, r: for x in [1, 2] return double(x)}.r", [2, 4]),
        ("{k: 10, f: function(x) x + k, r: f(1)}.r", 11),  # the scope it was defined in
        ("(function(a, b) a + b)(1)", None),  # the wrong number of arguments is null
        ("(function(a) a)(b: 1)", None),  # an unknown parameter name too
        ("{x: 5, r: x(1)}.r", None),  # not a function
        ("sort([3, 1, 2], function(x, y) x > y)", [3, 2, 1]),
        ('sort(list: ["b", "c", "a"], precedes: function(x, y) x < y)', ["a", "b", "c"]),
        ("list replace([2, 4, 7, 8], function(item, newItem) item < newItem, 5)", [5, 5, 7, 8]),
        ("abs(n: -1)", 1),
        ('substring(string: "abcdef", start position: 2, length: 3)', "bcd"),
        ('substring(start position: 2, string: "abcdef")', "bcdef"),
        ('number(from: "1.000,5", grouping separator: ".", decimal separator: ",")', Decimal("1000.5")),
        ("before(point1: 1, point2: 10)", True),
        ("decimal(n: 1.25, scale: 1)", Decimal("1.2")),
        ('date(year: 2024, month: 2, day: 29) = @"2024-02-29"', True),
    ],
)
def test_user_functions_and_named_arguments(source: str, expected: Any) -> None:
    assert feel(source) == expected


def test_named_arguments_a_built_in_does_not_have_are_null_with_a_warning() -> None:
    expression = compile_feel("abs(number: -1)")
    assert expression.evaluate({}) is None
    assert expression.warnings[0].startswith("abs() has no parameters named number")


def test_a_function_cannot_be_a_result_and_an_unknown_function_is_still_a_typo() -> None:
    with pytest.raises(EvaluationError, match="the result is a function"):
        compile_feel("function(x) x").evaluate({})
    with pytest.raises(ExpressionInvalid, match=r"string lenght\(\) is not a FEEL function here"):
        compile_feel('string lenght("x")')
    with pytest.raises(ExpressionInvalid, match="external functions"):
        compile_feel('function(x) external {java: {class: "java.lang.Math"}}')


# --- names (10.3.1.2 and 10.3.2.11) ---------------------------------------------------------


def test_names_with_spaces_apostrophes_and_other_scripts() -> None:
    assert feel("Monthly payment * 12", **{"Monthly payment": 100}) == 1200
    assert compile_feel("Monthly payment > 100 and Applicant's age >= 18").names == {
        "Monthly payment",
        "Applicant's age",
    }
    assert feel("applicant.monthly income", applicant={"monthly income": 5}) == 5
    assert feel("Straße + 1", Straße=1) == 2
    assert feel('名前 = "x"', 名前="x") is True
    assert feel("Größe in [1..2]", Größe=1.5) is True


# --- iteration, tests and types (10.3.2.14, 10.3.2.9.4) --------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("for i in 0..4 return if i = 0 then 1 else i * partial[-1]", [1, 1, 2, 6, 24]),
        ("for i in 1..3 return count(partial)", [0, 1, 2]),
        ('for d in @"2024-02-27"..@"2024-03-01" return day of week(d)', ["Tuesday", "Wednesday", "Thursday", "Friday"]),
        ('for d in @"2024-01-03"..@"2024-01-01" return d.day', [3, 2, 1]),
        ('count(for d in [@"2024-01-01"..@"2024-01-31") return d)', 30),
        ("5 in [[1..3], [4..6]]", True),
        ("10 in [[1..3], [4..6]]", False),
        ("5 in ([1..3], [4..6])", True),
        ("1000 in [1..null]", True),  # an open endpoint
        ("-5 in (null..0)", True),
        ("[1, 2] instance of list<number>", True),
        ('[1, "a"] instance of list<number>', False),
        ("[[1], [2]] instance of list<list<number>>", True),
        ('{name: "a", age: 3} instance of context<name: string, age: number>', True),
        ('{name: "a"} instance of context<name: string, age: number>', False),
        ("[1..5] instance of range<number>", True),
        ("(function(a, b) a + b) instance of function<number, number> -> number", True),
        ("5 instance of function<number> -> number", False),
        ("(function(x) x) instance of function", True),
    ],
)
def test_iteration_tests_and_types(source: str, expected: Any) -> None:
    assert feel(source) == expected


# --- strings (grammar rules 65-66) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('"\\u00e9"', "é"),
        ('"\\U01F40E"', "🐎"),
        ('string length("\\uD83D\\uDC0E")', 1),  # a surrogate pair is one character
        ('"a\\"b"', 'a"b'),
        ('"a\\\'b"', "a'b"),
        ('"a\\tb\\nc"', "a\tb\nc"),
        ('"\\d+"', "\\d+"),  # any other backslash stays: regular expressions read as written
        ('matches("a1", "\\d$")', True),
    ],
)
def test_string_escapes(source: str, expected: Any) -> None:
    assert feel(source) == expected


# --- dates and times (10.3.2.3.6, 10.3.4.1) ---------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('@"2024-01-01T10:00:00@Europe/Paris".timezone', "Europe/Paris"),
        ('string(@"2024-07-01T10:00:00@Europe/Paris")', "2024-07-01T10:00:00@Europe/Paris"),  # the zone id kept
        ('@"2024-01-01T10:00:00@Europe/Paris" = @"2024-01-01T09:00:00Z"', True),
        ('@"2024-07-01T10:00:00@Europe/Paris" = @"2024-07-01T08:00:00Z"', True),  # summer time from tzdata
        ('@"PT0.S" = @"PT0S"', True),
        ('@"P1DT2H3M4.5S".seconds', 4),
        ('@"2024-01-02T10:00:00" - @"2024-01-01" = @"P1DT10H"', True),  # a date is its midnight
        ('@"2024-01-01" - @"2024-01-02T10:00:00" = @"-P1DT10H"', True),
    ],
)
def test_dates_and_times(source: str, expected: Any) -> None:
    assert feel(source) == expected
