"""`range(from)`: a range written as text, read with the FEEL parser itself (DMN 1.5, 10.3.4.8)."""

from __future__ import annotations

from typing import Any, Final

from legato.errors import ExpressionInvalid
from legato.expressions._budget import MAX_WORK
from legato.expressions.feel._evaluator import _compile, _Scope
from legato.expressions.feel._lexer import _Source
from legato.expressions.feel._parser import _COMPARISON_POWER, _Parser
from legato.expressions.feel._values import _Fault, _order, _Range

_OPEN_ENDED: Final = {
    "<": (False, False, True),  # (the value is the high end, low closed, ...)
    "<=": (False, True, True),
    ">": (False, False, False),
    ">=": (True, False, False),
}


def range_literal(text: str) -> Any:
    """The range `text` writes, or null if it is not one whose endpoints are literals of one kind."""
    start, end = 0, len(text)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    try:
        parser = _Parser(_Source(text, start, end))
        comparison = None
        if parser.peek().kind == "op" and parser.peek().text in ("<", "<=", ">", ">=", "="):
            comparison = parser.advance().text
            tree = parser.expression(_COMPARISON_POWER)
        else:
            tree = parser.expression()
        if parser.peek().kind != "end" or parser.names or parser.input_uses:
            return None  # names or `?`: not a literal
        value = _compile(tree)(_Scope({}, None, [MAX_WORK]))
    except (ExpressionInvalid, _Fault, RecursionError):
        return None
    if comparison == "=":
        return None if value is None else _Range(value, value, True, True)
    if comparison is not None:
        if value is None:
            return None
        low_closed, high_closed, value_is_high = _OPEN_ENDED[comparison]
        if value_is_high:
            return _Range(None, value, False, high_closed)
        return _Range(value, None, low_closed, False)
    if not isinstance(value, _Range) or (value.low is None and value.high is None):
        return None
    if value.low is not None and value.high is not None:
        ordering = _order(value.low, value.high)
        if ordering is None or ordering > 0:
            return None
    return value
