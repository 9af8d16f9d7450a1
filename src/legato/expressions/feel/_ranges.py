"""FEEL's range built-ins (DMN 1.5, 10.3.4.9 and 10.3.4.8): `before`, `overlaps`, `range()`...

Each function is written as the spec's table defines it, for points and ranges alike. A
range's missing endpoint (`< 10` is `(null..10)`, `[1..null]`) is unbounded: below or above
every value. Endpoints of different kinds, or a point that cannot be ordered against the
range, make the result null, as any comparison of different kinds does in FEEL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from legato.expressions.feel._values import _order, _Range


class _Incomparable(Exception):
    """Two endpoints FEEL cannot order: the function gives null."""


class _Infinity:
    __slots__ = ("sign",)

    def __init__(self, sign: int) -> None:
        self.sign = sign


_BELOW: Final = _Infinity(-1)
_ABOVE: Final = _Infinity(1)


def _compare(left: Any, right: Any) -> int:
    if isinstance(left, _Infinity) or isinstance(right, _Infinity):
        a = left.sign if isinstance(left, _Infinity) else 0
        b = right.sign if isinstance(right, _Infinity) else 0
        if a == b and a != 0:
            return 0
        return -1 if a < b else 1
    ordering = _order(left, right)
    if ordering is None:
        raise _Incomparable
    return ordering


class _Span:
    """A range or a point, seen by its endpoints (a point is `[p..p]`)."""

    __slots__ = ("end", "end_included", "point", "start", "start_included")

    def __init__(self, value: Any) -> None:
        if isinstance(value, _Range):
            self.point = False
            self.start = _BELOW if value.low is None else value.low
            self.end = _ABOVE if value.high is None else value.high
            self.start_included = value.low_closed and value.low is not None
            self.end_included = value.high_closed and value.high is not None
        else:
            self.point = True
            self.start = self.end = value
            self.start_included = self.end_included = True


def _lt(a: Any, b: Any) -> bool:
    return _compare(a, b) < 0


def _eq(a: Any, b: Any) -> bool:
    return _compare(a, b) == 0


def _before(a: _Span, b: _Span) -> bool:
    return _lt(a.end, b.start) or ((not a.end_included or not b.start_included) and _eq(a.end, b.start))


def _meets(a: _Span, b: _Span) -> bool:
    return a.end_included and b.start_included and _eq(a.end, b.start)


def _overlaps(a: _Span, b: _Span) -> bool:
    ends_after_start = _lt(b.start, a.end) or (_eq(a.end, b.start) and a.end_included and b.start_included)
    starts_before_end = _lt(a.start, b.end) or (_eq(a.start, b.end) and a.start_included and b.end_included)
    return ends_after_start and starts_before_end


def _overlaps_before(a: _Span, b: _Span) -> bool:
    starts_first = _lt(a.start, b.start) or (_eq(a.start, b.start) and a.start_included and not b.start_included)
    reaches = _lt(b.start, a.end) or (_eq(a.end, b.start) and a.end_included and b.start_included)
    ends_first = _lt(a.end, b.end) or (_eq(a.end, b.end) and (not a.end_included or b.end_included))
    return starts_first and reaches and ends_first


def _finishes(a: _Span, b: _Span) -> bool:
    if a.point:
        return b.end_included and _eq(b.end, a.end)
    later = _lt(b.start, a.start) or (_eq(a.start, b.start) and (not a.start_included or b.start_included))
    return a.end_included == b.end_included and _eq(a.end, b.end) and later


def _includes(a: _Span, b: _Span) -> bool:
    if b.point:
        inside = _lt(a.start, b.start) and _lt(b.start, a.end)
        return inside or (_eq(a.start, b.start) and a.start_included) or (_eq(a.end, b.start) and a.end_included)
    starts = _lt(a.start, b.start) or (_eq(a.start, b.start) and (a.start_included or not b.start_included))
    ends = _lt(b.end, a.end) or (_eq(a.end, b.end) and (a.end_included or not b.end_included))
    return starts and ends


def _starts(a: _Span, b: _Span) -> bool:
    if a.point:
        return _eq(b.start, a.start) and b.start_included
    sooner = _lt(a.end, b.end) or (_eq(a.end, b.end) and (not a.end_included or b.end_included))
    return _eq(a.start, b.start) and a.start_included == b.start_included and sooner


def _coincides(a: _Span, b: _Span) -> bool:
    if a.point != b.point:
        raise _Incomparable
    same_start = _eq(a.start, b.start) and a.start_included == b.start_included
    return same_start and _eq(a.end, b.end) and a.end_included == b.end_included


def _relation(
    test: Callable[[_Span, _Span], bool], *, swap: bool = False, ranges_only: bool = False
) -> Callable[[list[int], Any, Any], Any]:
    def apply(work: list[int], first: Any, second: Any) -> Any:
        if first is None or second is None:
            return None
        if ranges_only and not (isinstance(first, _Range) and isinstance(second, _Range)):
            return None
        a, b = (_Span(second), _Span(first)) if swap else (_Span(first), _Span(second))
        try:
            return test(a, b)
        except _Incomparable:
            return None

    return apply


RANGE_FUNCTIONS: Final[dict[str, Callable[[list[int], Any, Any], Any]]] = {
    "before": _relation(_before),
    "after": _relation(_before, swap=True),
    "meets": _relation(_meets, ranges_only=True),
    "met by": _relation(_meets, swap=True, ranges_only=True),
    "overlaps": _relation(_overlaps, ranges_only=True),
    "overlaps before": _relation(_overlaps_before, ranges_only=True),
    "overlaps after": _relation(_overlaps_before, swap=True, ranges_only=True),
    "finishes": _relation(_finishes),
    "finished by": _relation(_finishes, swap=True),
    "includes": _relation(_includes),
    "during": _relation(_includes, swap=True),
    "starts": _relation(_starts),
    "started by": _relation(_starts, swap=True),
    "coincides": _relation(_coincides),
}
"""The spec's fourteen relations between points and ranges (DMN 1.5, 10.3.4.9)."""
