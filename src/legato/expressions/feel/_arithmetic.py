"""FEEL arithmetic and comparison (DMN 1.5, 10.3.2.3): numbers, text, dates and durations, null on a kind mismatch.

Numbers are decimal (DMN's decimal128: 34 digits, `CONTEXT`): whole numbers stay Python
ints, which is exact and the fast common case, and anything with a fraction is a `Decimal`.
A float can only come from a JSON input and is read as its shortest decimal text. An
overflow or an undefined result (`0 / 0`, `(-8) ** 0.5`) is null, as FEEL has it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import DecimalException
from typing import Any, Final

from legato.expressions._budget import MAX_INT_BITS
from legato.expressions.feel._values import (
    CONTEXT,
    _add_months,
    _Fault,
    _is_number,
    _kind,
    _spend,
    _YearsMonths,
    as_decimal,
    from_decimal,
)

# --- arithmetic ---------------------------------------------------------------------------


def _decimal(operation: Any, left: Any, right: Any) -> Any:
    """`operation` in decimal128; a JSON float operand is read as its decimal text first."""
    try:
        if type(left) is float or type(right) is float:
            return operation(as_decimal(left), as_decimal(right))
        return operation(left, right)  # int and Decimal: the context takes both as they are
    except DecimalException:
        return None


def _add(work: list[int], left: Any, right: Any) -> Any:
    if type(left) is int and type(right) is int:
        return left + right
    if _is_number(left) and _is_number(right):
        return _decimal(CONTEXT.add, left, right)
    if isinstance(left, str) and isinstance(right, str):
        _spend(work, len(left) + len(right), "joining this text")
        return left + right
    if isinstance(right, date | time) and not isinstance(left, date | time):
        left, right = right, left
    if isinstance(left, datetime | date) and isinstance(right, timedelta):
        return left + right
    if isinstance(left, date | datetime) and isinstance(right, _YearsMonths):
        return _add_months(left, right.months)
    if isinstance(left, time) and isinstance(right, timedelta):
        moved = datetime.combine(date(2000, 1, 1), left) + right
        return moved.timetz()
    if isinstance(left, timedelta) and isinstance(right, timedelta):
        return left + right
    if isinstance(left, _YearsMonths) and isinstance(right, _YearsMonths):
        return _YearsMonths(left.months + right.months)
    return None


def _subtract(work: list[int], left: Any, right: Any) -> Any:
    if type(left) is int and type(right) is int:
        return left - right
    if _is_number(left) and _is_number(right):
        return _decimal(CONTEXT.subtract, left, right)
    if isinstance(right, timedelta | _YearsMonths) and isinstance(left, date | time | timedelta | _YearsMonths):
        negated = -right if isinstance(right, timedelta) else _YearsMonths(-right.months)
        return _add(work, left, negated)
    if isinstance(left, date) and isinstance(right, date) and isinstance(left, datetime) != isinstance(right, datetime):
        # DMN 1.5, 10.3.2.3.6: a date with a date and time is its midnight, in the other's zone
        left, right = (
            (_midnight(left, right), right) if not isinstance(left, datetime) else (left, _midnight(right, left))
        )
    if _kind(left) == _kind(right) and isinstance(left, date):
        try:
            return left - right
        except TypeError:
            return None
    if isinstance(left, time) and isinstance(right, time):
        try:
            return datetime.combine(date(2000, 1, 1), left) - datetime.combine(date(2000, 1, 1), right)
        except TypeError:
            return None
    return None


def _midnight(day: date, other: Any) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=other.tzinfo)


def _multiply(work: list[int], left: Any, right: Any) -> Any:
    if type(left) is int and type(right) is int:
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _Fault(f"the product would have more than {MAX_INT_BITS:,} bits")
        return left * right
    if _is_number(left) and _is_number(right):
        return _decimal(CONTEXT.multiply, left, right)
    if _is_number(left) and isinstance(right, timedelta | _YearsMonths):
        left, right = right, left
    if isinstance(left, timedelta) and _is_number(right):
        return left * float(right)
    if isinstance(left, _YearsMonths) and _is_number(right):
        return _YearsMonths(int(left.months * right))
    return None


def _ratio(left: timedelta, right: timedelta) -> Any:
    """Two durations divided, exactly: in microseconds, as decimals."""
    whole = timedelta(microseconds=1)
    return _decimal(CONTEXT.divide, left // whole, right // whole)


def _divide(work: list[int], left: Any, right: Any) -> Any:
    if _is_number(left) and _is_number(right):
        if right == 0:
            return None
        if type(left) is int and type(right) is int and left % right == 0:
            return left // right
        return _decimal(CONTEXT.divide, left, right)
    if isinstance(left, timedelta) and _is_number(right) and right != 0:
        return left / float(right)
    if isinstance(left, timedelta) and isinstance(right, timedelta) and right:
        return _ratio(left, right)
    if isinstance(left, _YearsMonths) and isinstance(right, _YearsMonths) and right.months:
        return _divide(work, left.months, right.months)
    if isinstance(left, _YearsMonths) and _is_number(right) and right != 0:
        return _YearsMonths(int(left.months / right))
    return None


def _power(work: list[int], base: Any, exponent: Any) -> Any:
    if not _is_number(base) or not _is_number(exponent):
        return None
    if type(base) is int and type(exponent) is int and exponent >= 0:
        if abs(base) > 1 and exponent > MAX_INT_BITS / math.log2(abs(base)):
            raise _Fault(f"the power would have more than {MAX_INT_BITS:,} bits")
        return base**exponent
    result = _decimal(CONTEXT.power, base, exponent)
    return None if result is None else from_decimal(result)


_ARITHMETIC: Final[dict[str, Callable[[list[int], Any, Any], Any]]] = {
    "+": _add,
    "-": _subtract,
    "*": _multiply,
    "/": _divide,
    "**": _power,
}
_COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
