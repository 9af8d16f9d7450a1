"""FEEL's numeric built-ins that round or summarise (DMN 1.5, 10.3.4.5 and 10.3.4.4).

Rounding is done in decimal arithmetic with 34 significant digits (DMN's decimal128), so
`round half up(1.005, 2)` is `1.01` as written, not `1.0` as a binary float would have it.
The six rounding modes are those of the spec's table: `decimal` rounds half to even,
`round up` away from zero, `round down` towards zero, `round half up` half away from zero,
`round half down` half towards zero, `floor` and `ceiling` towards the infinities. A scale
outside -6111..6176 (decimal128's exponent range) or not a whole number gives null.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from legato.expressions.feel._values import (
    CONTEXT,
    _Callable,
    _equal,
    _is_number,
    _order,
    _spend,
    as_decimal,
    from_decimal,
)

_SMALLEST_SCALE: Final = -6111
_LARGEST_SCALE: Final = 6176


def _scale(scale: Any) -> int | None:
    if scale is None:
        return 0
    if not _is_number(scale) or as_decimal(scale) != as_decimal(scale).to_integral_value():
        return None
    whole = int(scale)
    return whole if _SMALLEST_SCALE <= whole <= _LARGEST_SCALE else None


def _rounding(mode: str, *, scale_needed: bool) -> Callable[..., Any]:
    """A rounding built-in: `f(n)` or `f(n, scale)`, `scale` digits after the point."""

    def rounded(work: list[int], number: Any, scale: Any = None) -> Any:
        digits = _scale(scale)
        if not _is_number(number) or digits is None or (scale_needed and scale is None):
            return None
        exact = as_decimal(number)
        quantum = Decimal(1).scaleb(-digits)
        try:
            result = exact.quantize(quantum, rounding=mode, context=CONTEXT)
        except decimal.InvalidOperation:  # more digits than 34: the number is kept as it is
            result = exact
        return from_decimal(result)

    return rounded


ROUNDING: Final[dict[str, Callable[..., Any]]] = {
    "decimal": _rounding(decimal.ROUND_HALF_EVEN, scale_needed=True),
    "floor": _rounding(decimal.ROUND_FLOOR, scale_needed=False),
    "ceiling": _rounding(decimal.ROUND_CEILING, scale_needed=False),
    "round up": _rounding(decimal.ROUND_UP, scale_needed=False),
    "round down": _rounding(decimal.ROUND_DOWN, scale_needed=False),
    "round half up": _rounding(decimal.ROUND_HALF_UP, scale_needed=False),
    "round half down": _rounding(decimal.ROUND_HALF_DOWN, scale_needed=False),
}


def modulo(work: list[int], dividend: Any, divisor: Any) -> Any:
    """`modulo(a, b)`: a - b * floor(a / b), so the result has the sign of the divisor (10.3.4.5)."""
    if not _is_number(dividend) or not _is_number(divisor) or divisor == 0:
        return None
    if isinstance(dividend, int) and isinstance(divisor, int):
        return dividend % divisor
    a, b = as_decimal(dividend), as_decimal(divisor)
    try:
        quotient = CONTEXT.divide(a, b).to_integral_value(rounding=decimal.ROUND_FLOOR)
        return from_decimal(CONTEXT.subtract(a, CONTEXT.multiply(b, quotient)))
    except decimal.DecimalException:
        return None


def _items(arguments: tuple[Any, ...], work: list[int]) -> list[Any]:
    items = arguments[0] if len(arguments) == 1 and isinstance(arguments[0], list | tuple) else arguments
    _spend(work, len(items), "going through this list")
    return list(items)


def stddev(work: list[int], *arguments: Any) -> Any:
    """`stddev(list)`: the sample standard deviation; null for fewer than two numbers."""
    items = _items(arguments, work)
    if len(items) < 2 or not all(_is_number(item) for item in items):
        return None
    values = [as_decimal(item) for item in items]
    count = Decimal(len(values))
    try:
        mean = CONTEXT.divide(sum(values, Decimal(0)), count)
        squares = sum((CONTEXT.power(value - mean, 2) for value in values), Decimal(0))
        return from_decimal(CONTEXT.sqrt(CONTEXT.divide(squares, count - 1)))
    except decimal.DecimalException:
        return None


def mode(work: list[int], *arguments: Any) -> Any:
    """`mode(list)`: the most frequent items, ascending; `[]` for an empty list (10.3.4.4)."""
    items = _items(arguments, work)
    if not all(_is_number(item) for item in items):
        return None
    counts: list[tuple[Any, int]] = []
    for item in items:
        _spend(work, len(counts), "counting list items")
        for index, (seen, times) in enumerate(counts):
            if _equal(seen, item, work):
                counts[index] = (seen, times + 1)
                break
        else:
            counts.append((item, 1))
    if not counts:
        return []
    most = max(times for _, times in counts)
    return sorted((item for item, times in counts if times == most), key=as_decimal)


def median(work: list[int], *arguments: Any) -> Any:
    """`median(list)`: the middle number, or the mean of the two middle ones; null for `[]`."""
    items = _items(arguments, work)
    if not items or not all(_is_number(item) for item in items):
        return None
    items.sort(key=as_decimal)
    middle = len(items) // 2
    if len(items) % 2:
        return items[middle]
    return from_decimal(CONTEXT.divide(as_decimal(items[middle - 1]) + as_decimal(items[middle]), Decimal(2)))


def sort(work: list[int], items: Any, precedes: Any = None) -> Any:
    """`sort(list, precedes)`: ordered by the function (true when its first argument comes first);
    without one, ascending, for numbers, strings, dates, times or durations of one kind."""
    if not isinstance(items, list | tuple):
        return None
    values = list(items)
    _spend(work, len(values) * max(1, len(values).bit_length()), "sorting this list")
    if precedes is not None:
        if not isinstance(precedes, _Callable) or len(precedes.parameters) != 2:
            return None
        first = functools.cmp_to_key(lambda a, b: -1 if precedes.call([a, b]) is True else 1)
        return sorted(values, key=first)
    if values and any(_order(values[0], item) is None for item in values):
        return None
    return sorted(values, key=as_decimal) if all(_is_number(item) for item in values) else sorted(values)
