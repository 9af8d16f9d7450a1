"""FEEL the language (DMN 1.5, 10.3): decimal numbers, literals, names, functions, iteration and types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from legato.errors import ExpressionInvalid
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
